"""proxmox_guests: many guests in one task against fakepve."""

import pytest


def batch(run_module, pve, check=False, diff=False, spec=None, **args):
    return run_module('proxmox_guests', dict(pve, **dict(spec or {}, **args)), check=check, diff=diff)


@pytest.fixture
def template_vm(fakepve):
    return fakepve.add_vm(9000, 'debian-12-cloud', template=True, config={
        'scsi0': 'local-lvm:base-9000-disk-0,size=8G', 'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
        'memory': 2048})


def test_clone_many_then_idempotent_then_remove(run_module, pve, fakepve, template_vm, seed_template):
    fakepve.add_vm(105, 'squatter')   # an id in the middle of the range is skipped
    ostemplate = seed_template()
    guests = [{'name': 'student-%02d' % n, 'clone': 'debian-12-cloud', 'state': 'started', 'cores': 2}
              for n in range(20)]
    guests.append({'type': 'lxc', 'name': 'teacher', 'ostemplate': ostemplate, 'storage': 'local-lvm',
                   'memory': 1024, 'state': 'started'})

    predicted = batch(run_module, pve, check=True, guests=guests)
    assert predicted['changed'] is True and predicted['summary'] == {'total': 21, 'changed': 21, 'failed': 0}
    assert len(fakepve.vms) == 2 and fakepve.cts == []

    done = batch(run_module, pve, diff=True, guests=guests, parallel=8)
    assert done['summary'] == {'total': 21, 'changed': 21, 'failed': 0}, done
    vmids = [g['vmid'] for g in done['guests']]
    assert len(set(vmids)) == 21 and 105 not in vmids and 9000 not in vmids
    for spec, outcome in zip(guests, done['guests']):
        guest = fakepve.guest(outcome['vmid'])
        assert guest.name == spec['name'] and guest.status == 'running'
    assert all(str(fakepve.vm(v).config['cores']) == '2' for v in vmids[:20])
    assert set(done['diff']['after']) == {'qemu/student-%02d' % n for n in range(20)} | {'lxc/teacher'}

    again = batch(run_module, pve, guests=guests)
    assert again['changed'] is False and again['summary']['changed'] == 0
    assert len([t for t in fakepve.tasklog if t['type'] == 'qmclone']) == 20

    removal = [{'name': g['name'], 'type': g.get('type', 'qemu'), 'state': 'absent'} for g in guests]
    gone = batch(run_module, pve, guests=removal)
    assert gone['summary'] == {'total': 21, 'changed': 21, 'failed': 0}
    assert sorted(v.vmid for v in fakepve.vms) == [105, 9000] and fakepve.cts == []


def test_one_failure_is_reported_the_rest_done(run_module, pve, fakepve, template_vm):
    fakepve.add_vm(400, 'plain', config={'scsi0': 'local-lvm:vm-400-disk-0,size=8G'})
    guests = [{'name': 'ok-1', 'clone': 'debian-12-cloud'}, {'name': 'bad-1', 'clone': 'plain', 'full': False},
              {'name': 'ok-2', 'clone': 'debian-12-cloud'}]
    result = batch(run_module, pve, guests=guests)
    assert result.get('failed') and '1 of 3 guests failed' in result['msg'] and 'qemu/bad-1' in result['msg']
    assert result['summary'] == {'total': 3, 'changed': 2, 'failed': 1}
    assert sorted(v.name for v in fakepve.vms) == ['debian-12-cloud', 'ok-1', 'ok-2', 'plain']


@pytest.mark.parametrize('guests, option', [
    ([{'clone': 'x'}], 'guests[0]'),
    ([{'name': 'a1'}, {'name': 'a1'}], 'guests[1].name'),
    ([{'name': 'a1', 'ostemplate': 'local:vztmpl/x.tar.zst'}], 'guests[0]'),
    ([{'name': 'a1', 'type': 'lxc', 'ostemplate': 'nonsense'}], 'guests[0]'),
])
def test_bad_input_touches_nothing(run_module, pve, fakepve, guests, option):
    result = batch(run_module, pve, guests=guests)
    assert result.get('failed') and option in result['msg'], result
    assert [r for r in fakepve.requests if r[0] != 'GET'] == []
