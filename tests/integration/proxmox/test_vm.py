"""proxmox_vm through `ansible localhost -m`, against a fresh fakepve per test (no mocks of proxmoxer).

fakepve gaps: its qemu migrate and resize endpoints are answered from the schema only (stateless), so
online migration and disk growth of VMs are not exercised here.
"""

import pytest

KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvlt4ZnSgGa2q3X2J0nq5d8d3uT0wXy2m5q7r8s9t0u alice@laptop'


def vm(run_module, pve, check=False, diff=False, spec=None, **args):
    return run_module('proxmox_vm', dict(pve, **dict(spec or {}, **args)), check=check, diff=diff)


def writes(fakepve):
    return [r for r in fakepve.requests if r[0] != 'GET']


def assert_failed(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'], result
    for word in words:
        assert word in result['msg'], result['msg']


@pytest.fixture
def template_vm(fakepve):
    return fakepve.add_vm(9000, 'debian-12-cloud', template=True, config={
        'scsi0': 'local-lvm:base-9000-disk-0,size=8G', 'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
        'memory': 2048, 'cores': 1, 'scsihw': 'virtio-scsi-single', 'ide2': 'local-lvm:vm-9000-cloudinit,media=cdrom',
        'boot': 'order=scsi0'})


def test_create_idempotent_update_power_absent(run_module, pve, fakepve):
    args = dict(name='build01', cores=2, memory=2048, scsihw='virtio-scsi-single', agent=True,
                disks=[{'slot': 'scsi0', 'storage': 'local-lvm', 'size': '32G', 'discard': 'on', 'iothread': True}],
                nics=[{'bridge': 'vmbr0', 'tag': 30, 'firewall': True}], boot=['scsi0'], tags=['Build', 'ci'],
                onboot=True, description='builder')
    predicted = vm(run_module, pve, check=True, diff=True, spec=args)
    assert predicted['changed'] is True and predicted['vmid'] is None, predicted
    assert fakepve.vms == [] and writes(fakepve) == []

    created = vm(run_module, pve, diff=True, spec=args)
    assert created['changed'] is True and created['status'] == 'stopped', created
    vmid = created['vmid']
    config = fakepve.vm(vmid).config
    assert config['scsi0'].startswith('local-lvm:vm-{0}-disk-0'.format(vmid)) and 'size=32G' in config['scsi0']
    assert 'discard=on' in config['scsi0'] and 'iothread=1' in config['scsi0']
    assert config['net0'].startswith('virtio=') and 'bridge=vmbr0' in config['net0'] and 'tag=30' in config['net0']
    assert config['boot'] == 'order=scsi0' and config['agent'] == '1' and config['tags'] == 'build;ci'

    count = len(writes(fakepve))
    again = vm(run_module, pve, diff=True, spec=args)
    assert again['changed'] is False, again['diff']
    assert len(writes(fakepve)) == count

    mac = config['net0'].split(',')[0].split('=')[1]
    drift = dict(args, cores=4, memory=4096, nics=[{'bridge': 'vmbr1', 'tag': 30, 'firewall': True}])
    check = vm(run_module, pve, check=True, diff=True, spec=drift)
    assert check['changed'] is True
    assert check['diff']['before']['cores'] == 2 and check['diff']['after']['cores'] == 4
    assert fakepve.vm(vmid).config['cores'] == 2
    updated = vm(run_module, pve, diff=True, spec=drift)
    assert updated['changed'] is True
    config = fakepve.vm(vmid).config
    assert str(config['cores']) == '4' and str(config['memory']) == '4096'
    assert config['net0'] == 'virtio={0},bridge=vmbr1,firewall=1,tag=30'.format(mac), 'the MAC must be kept'
    assert vm(run_module, pve, spec=drift)['changed'] is False

    started = vm(run_module, pve, spec=dict(drift, state='started'))
    assert started['changed'] is True and fakepve.vm(vmid).status == 'running'
    assert vm(run_module, pve, spec=dict(drift, state='started'))['changed'] is False
    # a running VM takes most changes at its next start: pending values count as done
    pending = vm(run_module, pve, spec=dict(drift, cores=6, state='started'))
    assert pending['changed'] is True and fakepve.vm(vmid).pending == {'cores': '6'}
    assert vm(run_module, pve, spec=dict(drift, cores=6, state='started'))['changed'] is False

    gone = vm(run_module, pve, state='absent', name='build01')
    assert gone['changed'] is True and fakepve.vm(vmid) is None
    assert vm(run_module, pve, state='absent', name='build01')['changed'] is False


@pytest.mark.fakepve(time_scale=0.01)
def test_graceful_shutdown_then_stop(run_module, pve, fakepve):
    calm = fakepve.add_vm(300, 'calm', status='running')
    calm.shutdown_secs = 30
    result = vm(run_module, pve, vmid=300, state='stopped', shutdown_timeout=60)
    assert result['changed'] is True and calm.status == 'stopped'
    shutdown = [t for t in fakepve.tasklog if t['type'] == 'qmshutdown']
    assert len(shutdown) == 1 and shutdown[0]['exitstatus'] == 'OK'

    deaf = fakepve.add_vm(301, 'deaf', status='running')
    deaf.acpi = False
    forced = vm(run_module, pve, vmid=301, state='stopped', shutdown_timeout=10)
    assert forced['changed'] is True and deaf.status == 'stopped'
    refused = fakepve.add_vm(302, 'refused', status='running')
    refused.acpi = False
    failed = vm(run_module, pve, vmid=302, state='stopped', shutdown_timeout=10, force_stop=False)
    assert_failed(failed, 'got timeout')
    assert refused.status == 'running'
    assert failed['log_tail'][-1].startswith('TASK ERROR')


@pytest.mark.parametrize('full', [False, True])
def test_clone_with_cloud_init(run_module, pve, fakepve, template_vm, full):
    args = dict(name='dev-alice', clone='debian-12-cloud', full=full, ciuser='alice', cipassword='s3cret-pw',
                sshkeys=[KEY], ipconfig=[{'ip': '192.0.2.31/24', 'gw': '192.0.2.1'}], nameservers=['192.0.2.53'],
                cores=2, memory=4096, state='started')
    if full:
        args['storage'] = 'local-lvm'
    result = vm(run_module, pve, spec=args)
    assert result['changed'] is True and result['clone_of'] == 9000, result
    clone = fakepve.vm(result['vmid'])
    assert clone.name == 'dev-alice' and clone.status == 'running' and not clone.template
    assert clone.config['ciuser'] == 'alice' and clone.config['ipconfig0'] == 'ip=192.0.2.31/24,gw=192.0.2.1'
    assert clone.config['sshkeys'].startswith('ssh-ed25519%20AAAA')
    assert clone.config['cipassword'] == 's3cret-pw'
    assert 's3cret-pw' not in result['_stdout']
    assert clone.config['scsi0'].startswith('local-lvm:vm-{0}-disk'.format(result['vmid']))
    clone_posts = [r for r in fakepve.requests if r[0] == 'POST' and r[1].endswith('/qemu/9000/clone')]
    assert len(clone_posts) == 1 and 'full={0}'.format(int(full)) in str(clone_posts[0][2])
    assert template_vm.config['cores'] == 1, 'the template is untouched'
    again = vm(run_module, pve, spec=args)
    assert again['changed'] is False and again['vmid'] == result['vmid']
    assert len([t for t in fakepve.tasklog if t['type'] == 'qmclone']) == 1


def test_clone_target_id_with_other_content_fails(run_module, pve, fakepve, template_vm):
    fakepve.add_vm(500, 'someone-else')
    result = vm(run_module, pve, vmid=500, name='dev-bob', clone='9000')
    assert_failed(result, '500', 'someone-else', 'dev-bob')
    assert result.get('vmid') != 9000
    assert fakepve.vm(500).name == 'someone-else'
    assert [t for t in fakepve.tasklog if t['type'] == 'qmclone'] == []
    # an id taken by a container is refused as well
    fakepve.add_ct(501, 'a-ct')
    assert_failed(vm(run_module, pve, vmid=501, name='dev-bob', clone='9000'), '501', 'lxc')


def test_linked_clone_of_a_plain_vm_fails(run_module, pve, fakepve):
    fakepve.add_vm(600, 'plain', config={'scsi0': 'local-lvm:vm-600-disk-0,size=8G'})
    assert_failed(vm(run_module, pve, name='c1', clone='plain', full=False), 'full')
    assert_failed(vm(run_module, pve, name='c1', clone='nosuch'), 'clone')
    assert len(fakepve.vms) == 1


def test_template_state(run_module, pve, fakepve):
    fakepve.add_vm(700, 'golden', status='running', config={'scsi0': 'local-lvm:vm-700-disk-0,size=8G'})
    assert vm(run_module, pve, check=True, vmid=700, state='template')['changed'] is True
    assert not fakepve.vm(700).template
    result = vm(run_module, pve, vmid=700, state='template')
    assert result['changed'] is True and result['template'] is True
    assert fakepve.vm(700).template and 'base-700-disk-0' in fakepve.vm(700).config['scsi0']
    assert vm(run_module, pve, vmid=700, state='template')['changed'] is False
    assert_failed(vm(run_module, pve, vmid=700, state='started'), 'template')


@pytest.mark.parametrize('bad, option', [
    ({'ipconfig': [{'ip': '192.0.2.31'}]}, 'ipconfig[0].ip'),
    ({'ipconfig': [{'ip': 'dhcp', 'gw': '192.0.2.1'}]}, 'ipconfig[0].gw'),
    ({'nics': [{'bridge': 'vmbr0', 'model': 'rtl9999'}]}, 'nics[0].model'),
    ({'nics': [{'bridge': 'vmbr0', 'macaddr': 'zz:zz'}]}, 'nics[0].macaddr'),
    ({'disks': [{'slot': 'scsi99', 'size': 8, 'storage': 'local-lvm'}]}, 'disks[0].slot'),
    ({'disks': [{'slot': 'scsi0', 'size': 8}]}, 'disks[0].storage'),
    ({'disks': [{'slot': 'scsi0', 'size': 8, 'storage': 'nope'}]}, 'disks'),
    ({'balloon': 8192, 'memory': 1024}, 'balloon'),
    ({'boot': ['scsi3']}, 'boot'),
    ({'name': 'bad name'}, 'name'),
])
def test_bad_input_names_the_option(run_module, pve, fakepve, bad, option):
    args = dict(name='bad01', memory=1024)
    args.update(bad)
    assert_failed(vm(run_module, pve, spec=args), option)
    assert fakepve.vms == [] and writes(fakepve) == []


def test_failed_clone_leaves_nothing(run_module, pve, fakepve, template_vm):
    fakepve.fail('POST', '/status/start', 500, 'start failed: QEMU exited with code 1')
    result = vm(run_module, pve, name='dev-carol', clone='9000', state='started')
    assert_failed(result, 'QEMU exited')
    assert [v.vmid for v in fakepve.vms] == [9000]
    assert result['cleanup'].startswith('removed guest')


def test_concurrent_clones_get_distinct_ids(run_module, pve, fakepve, template_vm):
    import concurrent.futures
    names = ['lab%02d' % n for n in range(6)]
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(lambda n: vm(run_module, pve, name=n, clone='debian-12-cloud'), names))
    assert all(r['changed'] and not r.get('failed') for r in results), results
    assert len({r['vmid'] for r in results}) == len(names)
    for name, result in zip(names, results):
        assert result['vmid'] != 9000 and fakepve.vm(result['vmid']).name == name


def test_vm_on_another_node_is_migrated_online(run_module, pve, fakepve):
    """fakepve answers qemu migrate from the schema only (a task that ends OK, nothing moves), so this checks
    the request: check mode sends none, a run sends one online migration to the requested node."""
    fakepve.add_vm(800, 'mover', status='running')
    fakepve.add_node('pve2')
    check = vm(run_module, pve, check=True, diff=True, vmid=800, node='pve2')
    assert check['changed'] is True and check['diff']['after']['node'] == 'pve2'
    assert not [r for r in fakepve.requests if r[1].endswith('/migrate')]
    moved = vm(run_module, pve, vmid=800, node='pve2')
    assert moved['changed'] is True, moved
    migrations = [r for r in fakepve.requests if r[0] == 'POST' and r[1].endswith('/qemu/800/migrate')]
    assert len(migrations) == 1
    body = str(migrations[0][2])
    assert 'target=pve2' in body and 'online=1' in body
    kept = vm(run_module, pve, vmid=800, node='pve2', migrate=False)
    assert kept['changed'] is False and any('migrate=false' in w for w in kept.get('warnings', []))
    offline = vm(run_module, pve, vmid=800, node='pve3')
    assert offline.get('failed') and 'node' in offline['msg']
