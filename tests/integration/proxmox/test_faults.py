"""Faults of a Proxmox VE cluster, injected with fakepve's own tools, against the modules (issue #11).

Covered elsewhere and not repeated here: a locked guest retried with backoff then done, and a lock that
never goes (test_lxc.py); a failing start task reported with its log and the half-made guest removed
(test_lxc.py, test_vm.py); placement away from an offline node and a clean error when it is named, for
containers (test_lxc.py); several ansible processes creating different guests at once, distinct vmids
(test_lxc.py, test_vm.py). Here: two playbooks creating the SAME guests at once, each made once.
"""

import pytest


def assert_clean_failure(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'] + result.get('exception', ''), result
    for word in words:
        assert word in result['msg'], result['msg']


def writes(fakepve):
    """Every request that could change something (a ticket login changes nothing)."""
    return [r[:2] for r in fakepve.requests if r[0] != 'GET' and not r[1].endswith('/access/ticket')]


def volumes(fakepve):
    return sorted(name for store in fakepve.storages.values() for name in store.get('volumes', {}))


@pytest.fixture
def ceph_template(fakepve):
    """A VM template whose disk lives on an RBD (Ceph) storage, so fakepve's Ceph faults reach its clones."""
    fakepve.add_ceph_storage('ceph-pool')
    return fakepve.add_vm(9100, 'golden-ceph', template=True, config={
        'scsi0': 'ceph-pool:base-9100-disk-0,size=8G', 'memory': 1024, 'cores': 1, 'scsihw': 'virtio-scsi-single'})


def test_clone_task_failing_midway_reports_its_log_and_leaves_nothing(run_module, pve, fakepve, ceph_template):
    """Ceph goes away: the clone task has allocated the new disks when its I/O fails."""
    before = volumes(fakepve)
    fakepve.ceph_down()
    result = run_module('proxmox_vm', dict(pve, name='dev-ceph', clone='golden-ceph', full=True))
    assert_clean_failure(result, 'clone failed', 'ceph-pool')
    assert result['log_tail'][-1].startswith('TASK ERROR: clone failed'), result
    assert result['upid'].startswith('UPID:pve1:'), result
    assert [v.vmid for v in fakepve.vms] == [9100], 'no orphan guest'
    assert volumes(fakepve) == before, 'no orphan disk'
    fakepve.ceph_recover()
    again = run_module('proxmox_vm', dict(pve, name='dev-ceph', clone='golden-ceph', full=True))
    assert again['changed'] is True and not again.get('failed'), again
    assert sorted(v.name for v in fakepve.vms) == ['dev-ceph', 'golden-ceph']


def test_lost_quorum_fails_cleanly_and_writes_nothing(run_module, pve, fakepve, seed_template):
    template = seed_template()
    fakepve.add_ct(300, 'quorate', config={'cores': 1})
    fakepve.lose_quorum()
    created = run_module('proxmox_lxc', dict(pve, hostname='noquorum', ostemplate=template, storage='local-lvm'))
    assert_clean_failure(created, 'quorum')
    changed = run_module('proxmox_lxc', dict(pve, vmid=300, cores=4))
    assert_clean_failure(changed, 'quorum')
    assert [c.name for c in fakepve.cts] == ['quorate'] and fakepve.ct(300).config['cores'] == 1
    assert fakepve.tasklog == [], 'no task may have run without quorum'
    fakepve.regain_quorum()
    assert run_module('proxmox_lxc', dict(pve, vmid=300, cores=4))['changed'] is True


def test_vm_placement_avoids_an_offline_node_and_refuses_it_by_name(run_module, pve, fakepve):
    fakepve.add_node('pve2')
    fakepve.add_node('pve3')
    fakepve.set_node_offline('pve1')
    fakepve.set_node_offline('pve2')
    fakepve.storages['local-lvm']['nodes'] = 'pve1,pve2,pve3'
    placed = run_module('proxmox_vm', dict(pve, name='placed', memory=512, storage='local-lvm'))
    assert placed['changed'] is True and placed['node'] == 'pve3', placed
    named = run_module('proxmox_vm', dict(pve, name='named', memory=512, node='pve2'))
    assert_clean_failure(named, 'node', 'pve2')
    assert named.get('option') == 'node', named
    assert [v.name for v in fakepve.vms] == ['placed']


def test_dropped_connections_are_retried_and_create_exactly_once(run_module, pve, fakepve, seed_template):
    template = seed_template()
    fakepve.flaky_network(drop_rate=0.3, seed=11)
    for attempt in range(2):
        result = run_module('proxmox_lxc', dict(pve, hostname='flaky', ostemplate=template, storage='local-lvm',
                                                state='started'))
        assert not result.get('failed'), (attempt, result.get('msg'))
        assert result['changed'] is (attempt == 0), result
    fakepve.flaky_network()
    assert [(c.name, c.status) for c in fakepve.cts] == [('flaky', 'running')], 'created once, never twice'
    creates = [w for w in writes(fakepve) if w == ('POST', '/api2/json/nodes/pve1/lxc')]
    assert len(creates) == 1, creates


def test_every_answer_dropped_is_a_clean_error(run_module, pve, fakepve):
    fakepve.flaky_network(drop_rate=1.0, seed=3)
    result = run_module('proxmox_guest_info', pve)
    fakepve.flaky_network()
    assert_clean_failure(result, 'cannot reach the Proxmox VE API')


@pytest.mark.fakepve(time_scale=1)
def test_slow_api_honours_api_timeout(run_module, pve, fakepve):
    fakepve.add_vm(400, 'slowpoke')
    fakepve.slow_network(4.0)
    result = run_module('proxmox_guest_info', dict(pve, api_timeout=1))
    fakepve.slow_network(0.0)
    assert_clean_failure(result, 'did not answer', 'api_timeout')


@pytest.mark.fakepve(time_scale=1)
def test_slow_task_honours_task_timeout(run_module, pve, fakepve, ceph_template):
    """A clone slowed by Ceph recovery outlasts task_timeout: a clean error that says the task goes on."""
    fakepve.ceph_slow(30)
    result = run_module('proxmox_vm', dict(pve, name='dev-slow', clone='golden-ceph', full=True, task_timeout=2))
    assert_clean_failure(result, 'task_timeout', 'goes on')
    assert result.get('upid', '').startswith('UPID:'), result
    # the clone still runs: it is not raced with a removal, and the message says what is left
    assert 'still being made' in result.get('cleanup', ''), result


def test_two_playbooks_creating_the_same_guests_at_once_make_each_once(run_playbook, pve, fakepve, seed_template,
                                                                       tmp_path):
    """Two ansible-playbook runs want the same three containers at the same moment: no vmid is used twice and
    no container is made twice; both runs end without error, and a third run changes nothing."""
    import concurrent.futures
    import json
    template = seed_template()
    playbook = tmp_path / 'guests.yml'
    playbook.write_text(json.dumps([{
        'name': 'Same guests', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Containers', 'virtlab.infra.proxmox_lxc': dict(
            pve, hostname='{{ item }}', ostemplate=template, storage='local-lvm'),
            'loop': ['same01', 'same02', 'same03']}]}]))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _n: run_playbook(str(playbook)), range(2)))
    assert [r['rc'] for r in runs] == [0, 0], [r['stdout'][-2000:] for r in runs]
    names = sorted(c.name for c in fakepve.cts)
    assert names == ['same01', 'same02', 'same03'], names
    assert len({c.vmid for c in fakepve.cts}) == 3
    third = run_playbook(str(playbook))
    assert third['rc'] == 0 and third['stats'].get('changed', 0) == 0, third['stdout'][-2000:]
