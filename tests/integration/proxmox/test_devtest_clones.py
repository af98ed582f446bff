"""proxmox_devtest_clones against fakepve: linked clones of frozen version templates of a golden guest.

Checked for a container golden (running: frozen through a snapshot) and a VM golden (a template with
cloud-init): the version template, linked clones made with the right parameters (full=0 from the
version, tags, metadata line, address in net0/ipconfig0), check mode, idempotence, refresh with an
opt-out, reset, metadata update, expire, split (a new vmid), teardown leaving the golden and foreign
guests, foreign names refused, bad input naming the option. fakepve's storages report no used bytes,
so the report must say the savings are unknown.
"""

import json

import pytest

META = 'virtlab-devtest:'


def _run(run_module, pve, check=False, diff=False, **args):
    params = dict(pve, set_name='qa', golden_version='1')
    params.update(args)
    return run_module('proxmox_devtest_clones', params, check=check, diff=diff)


def _ok(result):
    assert not result.get('failed'), result.get('msg')
    assert 'Traceback' not in result.get('module_stderr', ''), result
    return result


def _writes(fakepve):
    return [r for r in fakepve.requests if r[0] != 'GET']


def _metadata(guest):
    for line in str(guest.config.get('description') or '').splitlines():
        if line.startswith(META):
            return json.loads(line[len(META):])
    return None


def _guests(fakepve):
    return {g.vmid: g for g in list(fakepve.vms) + list(fakepve.cts)}


def _clone_posts(fakepve, source):
    return [r for r in fakepve.requests if r[0] == 'POST' and r[1].endswith('/{0}/clone'.format(source))]


@pytest.fixture
def golden_ct(fakepve):
    """A running golden database container and an unrelated container that must never be touched."""
    fakepve.add_ct(801, 'unrelated', config={'cores': 1})
    return fakepve.add_ct(800, 'golden-db', status='running', config={
        'net0': 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:08:00,ip=dhcp', 'cores': 2,
        'rootfs': 'local-lvm:vm-800-disk-0,size=8G', 'description': 'the production copy'})


@pytest.fixture
def golden_vm(fakepve):
    return fakepve.add_vm(9000, 'golden-app', template=True, config={
        'scsi0': 'local-lvm:base-9000-disk-0,size=16G', 'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
        'memory': 2048, 'cores': 1, 'ide2': 'local-lvm:vm-9000-cloudinit,media=cdrom', 'boot': 'order=scsi0'})


def test_lxc_clone_set_lifecycle(run_module, pve, fakepve, golden_ct):
    users = [{'user': 'alice'}, {'user': 'bob', 'refresh': False}, {'user': 'carol'}]
    base = {'golden': 'golden-db', 'address_pool': '10.30.0.0/24', 'gateway': '10.30.0.254'}
    common = {**base, 'clones': users}
    golden_config = dict(golden_ct.config)

    predicted = _ok(_run(run_module, pve, check=True, diff=True, **common))
    assert predicted['changed'] is True and [c['action'] for c in predicted['clones']] == ['created'] * 3
    assert _writes(fakepve) == [] and sorted(_guests(fakepve)) == [800, 801], 'check mode changed something'

    created = _ok(_run(run_module, pve, diff=True, **common))
    assert created['changed'] is True
    version = created['versions'][0]
    template = fakepve.ct(version['vmid'])
    assert template.template and _metadata(template)['role'] == 'version' and template.name == 'golden-db-qa-v-1'
    assert 'virtlab-devtest' in template.config['tags'].split(';')
    assert str(template.config.get('protection')) == '1', 'the version is protected while it exists'
    assert 'full=1' in str(_clone_posts(fakepve, 800)[0][2]) and 'snapname=virtlab-devtest-freeze' in str(
        _clone_posts(fakepve, 800)[0][2]), 'a running container is frozen from a snapshot'
    assert golden_ct.snapshots == {} and golden_ct.status == 'running' and golden_ct.config == golden_config

    posts = _clone_posts(fakepve, version['vmid'])
    assert len(posts) == 3 and all('full=0' in str(p[2]) for p in posts)
    by_user = {c['user']: c for c in created['clones']}
    for user, index in (('alice', 1), ('bob', 2), ('carol', 3)):
        record = by_user[user]
        ct = fakepve.ct(record['vmid'])
        assert ct.name == record['name'] == 'golden-db-qa-' + user and ct.status == 'running'
        assert set(ct.config['tags'].split(';')) >= {'virtlab-devtest', 'devtest-set-qa', 'devtest-owner-' + user,
                                                     'devtest-version-1', 'devtest-clone'}
        meta = _metadata(ct)
        assert meta['user'] == user and meta['set'] == 'qa' and meta['version'] == '1' and meta['created']
        assert meta['address'] == record['address'] == '10.30.0.%d' % index
        assert 'ip=10.30.0.%d/24' % index in ct.config['net0'] and 'gw=10.30.0.254' in ct.config['net0']
        assert 'BC:24:11:00:08:00' not in ct.config['net0'] and not int(ct.config.get('protection') or 0)
        assert record['logical_size'] == 8 * 1024 ** 3 and record['added_bytes'] is None
    report = created['report']
    assert report['savings_known'] is False and report['saved_bytes'] is None and report['full_copy_bytes'] is None
    assert 'savings unknown' in created['report_table']

    count = len(_writes(fakepve))
    again = _ok(_run(run_module, pve, diff=True, **common))
    assert again['changed'] is False and {c['action'] for c in again['clones']} == {'kept'}
    assert len(_writes(fakepve)) == count

    # a new golden version: refresh replaces alice's and carol's clones, bob opted out
    golden_ct.config['cores'] = 4
    refreshed = _ok(_run(run_module, pve, golden_version='2', action='refresh', **common))
    actions = {c['user']: c['action'] for c in refreshed['clones']}
    assert actions == {'alice': 'refreshed', 'bob': 'kept', 'carol': 'refreshed'}
    versions = {v['version']: v['vmid'] for v in refreshed['versions']}
    assert sorted(versions) == ['1', '2'], 'version 1 stays while bob uses it'
    fresh = {c['user']: c for c in refreshed['clones']}
    # delete then clone: PVE hands the freed vmid out again, so the clone is told apart by its version
    assert fakepve.ct(fresh['alice']['vmid']).config['cores'] == 4
    assert _metadata(fakepve.ct(fresh['alice']['vmid']))['version'] == '2'
    assert len([g for g in _guests(fakepve).values() if (_metadata(g) or {}).get('role') == 'clone']) == 3
    assert fakepve.ct(fresh['bob']['vmid']).config['cores'] == 2 and fresh['bob']['vmid'] == by_user['bob']['vmid']
    assert fresh['alice']['address'] == '10.30.0.1' and fresh['alice']['version_vmid'] == versions['2']
    assert _ok(_run(run_module, pve, golden_version='2', action='refresh', **common))['changed'] is False

    # reset: a new linked clone of the version carol uses (her change is gone), same address
    fakepve.ct(fresh['carol']['vmid']).config['cores'] = 7
    reset = _ok(_run(run_module, pve, golden_version='2', action='reset', targets=['carol'], **common))
    carol = {c['user']: c for c in reset['clones']}['carol']
    assert carol['action'] == 'reset' and carol['address'] == '10.30.0.3'
    assert fakepve.ct(carol['vmid']).config['cores'] == 4 and _metadata(fakepve.ct(carol['vmid']))['version'] == '2'

    # a fixed expiry is metadata only: updated in place, then expire removes the clone
    expiring = {**base, 'clones': [dict(u, expires='2020-01-01') if u['user'] == 'carol' else u for u in users]}
    updated = _ok(_run(run_module, pve, golden_version='2', **expiring))
    assert {c['user']: c['action'] for c in updated['clones']}['carol'] == 'updated'
    assert _metadata(fakepve.ct(carol['vmid']))['expires'].startswith('2020-01-01')
    expired = _ok(_run(run_module, pve, golden_version='2', action='expire', **expiring))
    assert {c['user']: c['action'] for c in expired['clones']} == {'alice': 'kept', 'bob': 'kept', 'carol': 'expired'}
    assert fakepve.ct(carol['vmid']) is None

    # split: a full clone under a new vmid replaces alice's linked clone
    without_carol = {**base, 'clones': users[:2]}
    split = _ok(_run(run_module, pve, golden_version='2', action='split', targets=['alice'], **without_carol))
    alice = {c['user']: c for c in split['clones']}['alice']
    assert alice['action'] == 'split' and alice['split'] is True and alice['previous_vmid'] == fresh['alice']['vmid']
    assert fakepve.ct(fresh['alice']['vmid']) is None and fakepve.ct(alice['vmid']).name == 'golden-db-qa-alice'
    assert 'full=1' in str(_clone_posts(fakepve, fresh['alice']['vmid'])[0][2])
    assert _metadata(fakepve.ct(alice['vmid']))['split'] is True

    # teardown: the set's clones and versions go; the golden and the unrelated container stay
    check = _ok(_run(run_module, pve, check=True, golden_version='2', action='teardown', **common))
    assert check['changed'] is True
    gone = _ok(_run(run_module, pve, golden_version='2', action='teardown', **common))
    assert gone['changed'] is True and sorted(c['action'] for c in gone['clones']) == ['removed', 'removed']
    assert sorted(_guests(fakepve)) == [800, 801] and gone['versions'] == []
    assert golden_ct.status == 'running' and golden_ct.config['cores'] == 4
    assert _ok(_run(run_module, pve, golden_version='2', action='teardown', **common))['changed'] is False


def test_vm_golden_template_linked_clones(run_module, pve, fakepve, golden_vm):
    common = dict(golden='9000', address_pool='192.0.2.0/28', gateway='192.0.2.14', start=False,
                  clones=[{'user': 'dev1'}, {'user': 'dev2', 'address': '192.0.2.9'}])
    created = _ok(_run(run_module, pve, **common))
    version = created['versions'][0]
    assert fakepve.vm(version['vmid']).template and fakepve.vm(version['vmid']).name == 'golden-app-qa-v-1'
    assert 'base-{0}-disk'.format(version['vmid']) in fakepve.vm(version['vmid']).config['scsi0']
    posts = _clone_posts(fakepve, version['vmid'])
    assert len(posts) == 2 and all('full=0' in str(p[2]) for p in posts)
    by_user = {c['user']: c for c in created['clones']}
    for user, address in (('dev1', '192.0.2.1'), ('dev2', '192.0.2.9')):
        vm = fakepve.vm(by_user[user]['vmid'])
        assert vm.name == 'golden-app-qa-' + user and vm.status == 'stopped' and not vm.template
        assert vm.config['ipconfig0'] == 'ip={0}/28,gw=192.0.2.14'.format(address)
        assert vm.config['scsi0'].startswith('local-lvm:vm-{0}-disk'.format(vm.vmid))
        assert by_user[user]['logical_size'] == 16 * 1024 ** 3
    assert fakepve.vm(9000).template and fakepve.vm(9000).config['cores'] == 1
    assert _ok(_run(run_module, pve, **common))['changed'] is False

    gone = _ok(_run(run_module, pve, action='teardown', **common))
    assert gone['changed'] is True and sorted(_guests(fakepve)) == [9000]


def test_foreign_names_and_bad_input(run_module, pve, fakepve, golden_ct, fingerprint):
    fakepve.add_ct(802, 'golden-db-qa-mallory', status='running', config={'description': 'someone else'})
    before = {vmid: fingerprint(vmid) for vmid in (800, 801, 802)}
    for check in (True, False):
        result = _run(run_module, pve, check=check, golden='golden-db', clones=[{'user': 'mallory'}])
        assert result.get('failed') and 'clones[0].name' in result['msg'], result
        assert 'golden-db-qa-mallory' in result['msg'] and '802' in result['msg'], result['msg']
    # the foreign guest (and the golden) exactly as they were: config, status, snapshots, lock; nothing written
    assert {vmid: fingerprint(vmid) for vmid in before} == before
    assert sorted(_guests(fakepve)) == [800, 801, 802] and _writes(fakepve) == []

    for extra, option in (({'golden': 'nosuch'}, 'golden'),
                          ({'golden': 'golden-db', 'address_pool': '10.1.0.0/24', 'gateway': '10.2.0.1'}, 'gateway'),
                          ({'golden': 'golden-db', 'clones': [{'user': 'x', 'address': '10.1.0.5'}]}, 'address_pool'),
                          ({'golden': 'golden-db', 'clones': [{'user': 'x', 'name': 'bad_name'}]}, 'clones'),
                          ({'golden': 'golden-db', 'bridge': 'br 0'}, 'bridge')):
        failed = _run(run_module, pve, **extra)
        assert failed.get('failed') and option in failed['msg'], (extra, failed)
        assert 'Traceback' not in failed.get('module_stderr', ''), failed
    assert sorted(_guests(fakepve)) == [800, 801, 802] and _writes(fakepve) == []
