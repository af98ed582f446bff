"""libvirt_pool against the real libvirtd: a dir pool defined, built, started, stopped, removed."""


def test_dir_pool_lifecycle(run_module, cleanup, libvirt_conn, tmp_path):
    name = cleanup + '-pool'
    path = str(tmp_path / 'pool')
    args = {'name': name, 'path': path}

    def lookup():
        return [p for p in libvirt_conn.listAllStoragePools() if p.name() == name]

    predicted = run_module('libvirt_pool', args, check=True, diff=True)
    assert predicted['changed'] is True and predicted['diff']['after']['active'] is True, predicted
    assert lookup() == [] and not (tmp_path / 'pool').exists()

    made = run_module('libvirt_pool', args, diff=True)
    assert made['changed'] is True, made
    assert made['pool']['active'] is True and made['pool']['path'] == path and made['pool']['capacity'] > 0
    assert (tmp_path / 'pool').is_dir()
    assert lookup()[0].isActive()
    assert run_module('libvirt_pool', args)['changed'] is False

    auto = dict(args, autostart=True)
    assert run_module('libvirt_pool', auto, check=True)['changed'] is True
    assert not lookup()[0].autostart()
    assert run_module('libvirt_pool', auto)['changed'] is True and lookup()[0].autostart()
    assert run_module('libvirt_pool', auto)['changed'] is False

    # a different path on an active pool is refused, naming the option
    moved = run_module('libvirt_pool', dict(args, path=path + '2'))
    assert moved.get('failed') and moved['msg'].startswith('path:'), moved
    # stopped, it can be redefined
    stopped = run_module('libvirt_pool', dict(args, active=False))
    assert stopped['changed'] is True and not lookup()[0].isActive()
    redefined = run_module('libvirt_pool', dict(args, active=False, path=path + '2'), diff=True)
    assert redefined['changed'] is True and redefined['diff']['after']['path'] == path + '2', redefined
    assert run_module('libvirt_pool', dict(args, active=False, path=path + '2'))['changed'] is False

    bad = run_module('libvirt_pool', {'name': cleanup + '-nfs', 'type': 'netfs', 'path': path})
    assert bad.get('failed') and bad['msg'].startswith('source_host:'), bad

    assert run_module('libvirt_pool', {'name': name, 'state': 'absent'}, check=True)['changed'] is True
    assert lookup()
    assert run_module('libvirt_pool', {'name': name, 'state': 'absent'})['changed'] is True
    assert lookup() == []
    assert run_module('libvirt_pool', {'name': name, 'state': 'absent'})['changed'] is False
