"""proxmox_lxc through `ansible localhost -m`, against a fresh fakepve per test (no mocks of proxmoxer)."""

import concurrent.futures
import threading
import time

import pytest


def lxc(run_module, pve, check=False, diff=False, env=None, spec=None, **args):
    return run_module('proxmox_lxc', dict(pve, **dict(spec or {}, **args)), check=check, diff=diff, env=env)


def ct_posts(fakepve):
    """Writes the fake saw (anything but GET)."""
    return [r for r in fakepve.requests if r[0] != 'GET']


def assert_failed(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'], result
    for word in words:
        assert word in result['msg'], result['msg']


# ----------------------------------------------------------------------------- the seed flow


def test_seed_flow_download_create_start(run_module, pve, fakepve, fakepve_url, fakepve_cafile, pve_token):
    """Download a TurnKey template with download-url, then the container of the issue: 8 cores, 2048 MiB memory
    and swap, 200 GiB rootfs on local-lvm, bridge vmbr1 with DHCP, started."""
    volid = 'local:vztmpl/debian-12-turnkey-moodle_18.0-1_amd64.tar.gz'
    args = dict(hostname='moodle01', ostemplate=volid, storage='local-lvm', rootfs_size='200G', cores=8,
                memory=2048, swap=2048, networks=[{'bridge': 'vmbr1', 'ip': 'dhcp'}], state='started')

    # before the download the module refuses, naming the option, and creates nothing
    missing = lxc(run_module, pve, spec=args)
    assert_failed(missing, 'ostemplate', 'proxmox_template')
    assert fakepve.cts == []

    download = run_module('proxmox_template', dict(
        pve, node='pve1', storage='local', content='vztmpl', filename=volid.split('/', 1)[1],
        url='http://download.example.org/turnkey/debian-12-turnkey-moodle_18.0-1_amd64.tar.gz'))
    assert download['changed'] is True and download['volid'] == volid, download

    created = lxc(run_module, pve, diff=True, spec=args)
    assert created['changed'] is True, created
    ct = fakepve.ct(created['vmid'])
    assert ct.status == 'running' and ct.node == 'pve1'
    assert ct.config['cores'] == 8 and ct.config['memory'] == 2048 and ct.config['swap'] == 2048
    assert ct.config['rootfs'].startswith('local-lvm:') and 'size=200G' in ct.config['rootfs']
    assert 'bridge=vmbr1' in ct.config['net0'] and 'ip=dhcp' in ct.config['net0']
    assert created['diff']['before'] == {} and created['diff']['after']['status'] == 'running'

    again = lxc(run_module, pve, diff=True, spec=args)
    assert again['changed'] is False, again
    assert again['vmid'] == created['vmid']


# ----------------------------------------------------------------------------- lifecycle


@pytest.fixture
def template(seed_template):
    return seed_template()


def test_lifecycle_check_create_idempotent_drift_absent(run_module, pve, fakepve, template):
    args = dict(hostname='web01', ostemplate=template, storage='local-lvm', rootfs_size=8, cores=2, memory=1024,
                networks=[{'bridge': 'vmbr0', 'ip': '192.0.2.10/24', 'gw': '192.0.2.1', 'tag': 20,
                           'firewall': True}],
                nameservers=['192.0.2.53'], searchdomain='lab.example', tags=['Web', 'lab'],
                features={'nesting': True}, onboot=True, description='web server')

    # check mode: predicted change, no write at all
    predicted = lxc(run_module, pve, check=True, diff=True, spec=args)
    assert predicted['changed'] is True and predicted['vmid'] is None, predicted
    assert predicted['diff']['after']['cores'] == 2
    assert fakepve.cts == [] and ct_posts(fakepve) == []

    created = lxc(run_module, pve, spec=args)
    assert created['changed'] is True and created['status'] == 'stopped', created
    vmid = created['vmid']
    config = fakepve.ct(vmid).config
    assert config['net0'].startswith('name=eth0,bridge=vmbr0')
    assert 'ip=192.0.2.10/24' in config['net0'] and 'tag=20' in config['net0'] and 'firewall=1' in config['net0']
    assert config['tags'] == 'lab;web' and config['features'] == 'nesting=1' and config['nameserver'] == '192.0.2.53'

    writes = len(ct_posts(fakepve))
    again = lxc(run_module, pve, diff=True, spec=args)
    assert again['changed'] is False, again
    assert again['diff']['before'] == again['diff']['after']
    assert len(ct_posts(fakepve)) == writes, 'an idempotent run wrote to the cluster'

    # drift made behind our back is found and reported
    mac = config['net0'].split('hwaddr=')[1].split(',')[0]
    drift = dict(args, cores=4, memory=2048, networks=[{'bridge': 'vmbr0', 'ip': '192.0.2.11/24',
                                                        'gw': '192.0.2.1', 'tag': 20, 'firewall': True}])
    check = lxc(run_module, pve, check=True, diff=True, spec=drift)
    assert check['changed'] is True
    assert check['diff']['before']['cores'] == 2 and check['diff']['after']['cores'] == 4
    assert 'ip=192.0.2.11/24' in check['diff']['after']['net0']
    assert fakepve.ct(vmid).config['cores'] == 2 and len(ct_posts(fakepve)) == writes

    updated = lxc(run_module, pve, diff=True, spec=drift)
    assert updated['changed'] is True and updated['vmid'] == vmid
    config = fakepve.ct(vmid).config
    assert config['cores'] == 4 and config['memory'] == 2048 and 'ip=192.0.2.11/24' in config['net0']
    assert 'hwaddr=' + mac in config['net0'], 'the MAC address chosen at creation must be kept'
    assert set(updated['diff']['before']) >= {'cores', 'memory', 'net0'}
    assert lxc(run_module, pve, spec=drift)['changed'] is False

    # power states
    started = lxc(run_module, pve, spec=dict(drift, state='started'))
    assert started['changed'] is True and fakepve.ct(vmid).status == 'running'
    assert lxc(run_module, pve, spec=dict(drift, state='started'))['changed'] is False
    stopped = lxc(run_module, pve, spec=dict(drift, state='stopped'))
    assert stopped['changed'] is True and fakepve.ct(vmid).status == 'stopped'
    assert lxc(run_module, pve, spec=dict(drift, state='stopped'))['changed'] is False
    assert lxc(run_module, pve, state='restarted', vmid=vmid)['changed'] is True
    assert fakepve.ct(vmid).status == 'running'

    # absent: check mode keeps it, then it goes (running: stopped first), then nothing to do
    assert lxc(run_module, pve, check=True, state='absent', hostname='web01')['changed'] is True
    assert fakepve.ct(vmid) is not None
    gone = lxc(run_module, pve, state='absent', hostname='web01')
    assert gone['changed'] is True and fakepve.ct(vmid) is None
    assert lxc(run_module, pve, state='absent', hostname='web01')['changed'] is False


def test_rootfs_grows_never_shrinks(run_module, pve, fakepve, template):
    args = dict(hostname='disk01', ostemplate=template, storage='local-lvm', rootfs_size='8G')
    vmid = lxc(run_module, pve, spec=args)['vmid']
    grown = lxc(run_module, pve, diff=True, spec=dict(args, rootfs_size='12G'))
    assert grown['changed'] is True, grown
    assert 'size=12G' in fakepve.ct(vmid).config['rootfs']
    assert 'size=8G' in grown['diff']['before']['rootfs'] and 'size=12G' in grown['diff']['after']['rootfs']
    smaller = lxc(run_module, pve, spec=dict(args, rootfs_size='4G'))
    assert smaller['changed'] is False
    assert 'size=12G' in fakepve.ct(vmid).config['rootfs']
    assert any('never shrunk' in w for w in smaller.get('warnings', [])), smaller


def test_mount_points_added_and_grown(run_module, pve, fakepve, template):
    args = dict(hostname='data01', ostemplate=template, storage='local-lvm', rootfs_size=4)
    vmid = lxc(run_module, pve, spec=args)['vmid']
    with_mount = dict(args, mounts=[{'size': '2G', 'path': '/srv/data', 'backup': True}])
    added = lxc(run_module, pve, spec=with_mount)
    assert added['changed'] is True
    assert 'mp=/srv/data' in fakepve.ct(vmid).config['mp0'] and 'size=2G' in fakepve.ct(vmid).config['mp0']
    assert lxc(run_module, pve, spec=with_mount)['changed'] is False
    bigger = dict(args, mounts=[{'size': '3G', 'path': '/srv/data', 'backup': True}])
    assert lxc(run_module, pve, spec=bigger)['changed'] is True
    assert 'size=3G' in fakepve.ct(vmid).config['mp0']


# ----------------------------------------------------------------------------- clones


@pytest.fixture
def template_ct(fakepve):
    return fakepve.add_ct(900, 'tpl-web', template=True,
                          config={'rootfs': 'local-lvm:base-900-disk-0,size=8G', 'cores': 1,
                                  'net0': 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth'})


@pytest.mark.parametrize('full', [False, True])
def test_clone_linked_and_full(run_module, pve, fakepve, template_ct, full):
    args = dict(hostname='clone01', clone='tpl-web', full=full, cores=2, state='started')
    if full:
        args['storage'] = 'local-lvm'
    result = lxc(run_module, pve, spec=args)
    assert result['changed'] is True and result['clone_of'] == 900, result
    ct = fakepve.ct(result['vmid'])
    assert ct.name == 'clone01' and ct.config['cores'] == 2 and ct.status == 'running'
    assert ct.config['rootfs'].startswith('local-lvm:vm-{0}-disk'.format(result['vmid']))
    assert 'BC:24:11:00:00:01' not in ct.config['net0'], 'a clone gets its own MAC address'
    clone_task = [t for t in fakepve.tasklog if t['type'] == 'vzclone']
    assert len(clone_task) == 1
    assert lxc(run_module, pve, spec=args)['changed'] is False
    assert len([t for t in fakepve.tasklog if t['type'] == 'vzclone']) == 1


def test_linked_clone_needs_a_template(run_module, pve, fakepve):
    fakepve.add_ct(901, 'plain')
    result = lxc(run_module, pve, hostname='clone02', clone='901', full=False)
    assert_failed(result, 'full')
    assert [c.vmid for c in fakepve.cts] == [901]


# ----------------------------------------------------------------------------- auth and TLS


def test_password_auth_and_env_fallbacks(run_module, pve_password, fakepve, template, fakepve_cafile):
    created = lxc(run_module, pve_password, hostname='pw01', ostemplate=template, storage='local-lvm')
    assert created['changed'] is True, created
    assert any(r[1].endswith('/access/ticket') for r in fakepve.requests)
    # the same through the environment only
    env = {'PROXMOX_HOST': fakepve.host, 'PROXMOX_PORT': str(fakepve.port), 'PROXMOX_USER': 'root@pam',
           'PROXMOX_PASSWORD': 'secret', 'PROXMOX_CA_PATH': fakepve_cafile}
    again = run_module('proxmox_lxc', {'hostname': 'pw01', 'ostemplate': template, 'storage': 'local-lvm'}, env=env)
    assert again['changed'] is False and again['vmid'] == created['vmid'], again
    # secrets never appear in the output
    assert 'secret' not in again['_stdout'].replace('api_token_secret', '')


def test_wrong_credentials_and_tls(run_module, pve, pve_password, fakepve):
    wrong = lxc(run_module, dict(pve_password, api_password='nope'), hostname='x1', state='absent')
    assert_failed(wrong, "authenticate")
    token = lxc(run_module, dict(pve, api_token_secret='0' * 32), hostname='x1', state='absent')
    assert_failed(token, 'authentication failure')
    assert token['status'] == 401
    # without ca_path the fake's self-signed certificate is not trusted (REQUESTS_CA_BUNDLE or not)
    no_ca = dict(pve)
    del no_ca['ca_path']
    tls = lxc(run_module, no_ca, hostname='x1', state='absent')
    assert_failed(tls, 'validate_certs')
    tls_env = lxc(run_module, no_ca, hostname='x1', state='absent', env={'REQUESTS_CA_BUNDLE': '', 'CURL_CA_BUNDLE': ''})
    assert_failed(tls_env, 'validate_certs')
    missing = run_module('proxmox_lxc', {'api_host': fakepve.host, 'hostname': 'x1'},
                         env={'PROXMOX_USER': '', 'PROXMOX_PASSWORD': '', 'PROXMOX_TOKEN_ID': ''})
    assert_failed(missing, 'api_')


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize('bad, option', [
    ({'networks': [{'bridge': 'vmbr0', 'ip': '192.0.2.300/24'}]}, 'networks[0].ip'),
    ({'networks': [{'bridge': 'vmbr0', 'ip': '192.0.2.10'}]}, 'networks[0].ip'),
    ({'networks': [{'bridge': 'vmbr0', 'ip': '192.0.2.10/24', 'gw': '198.51.100.1'}]}, 'networks[0].gw'),
    ({'networks': [{'bridge': 'vmbr0', 'ip6': '2001:db8::10/64', 'gw6': '192.0.2.1'}]}, 'networks[0].gw6'),
    ({'networks': [{'bridge': 'vmbr0', 'tag': 5000}]}, 'networks[0].tag'),
    ({'networks': [{'bridge': 'vmbr0', 'hwaddr': '01:00:5E:00:00:01'}]}, 'networks[0].hwaddr'),
    ({'nameservers': ['dns.example']}, 'nameservers[0]'),
    ({'rootfs_size': 'ten gigs'}, 'rootfs_size'),
    ({'hostname': 'bad_host!'}, 'hostname'),
    ({'ostemplate': 'debian.tar.zst'}, 'ostemplate'),
    ({'ostemplate': 'local:iso/debian.iso'}, 'ostemplate'),
    ({'features': {'warp': True}}, 'features'),
    ({'node': 'pve9'}, 'node'),
    ({'storage': 'nfs-missing'}, 'storage'),
])
def test_bad_input_names_the_option(run_module, pve, fakepve, template, bad, option):
    args = dict(hostname='bad01', ostemplate=template, storage='local-lvm')
    args.update(bad)
    result = lxc(run_module, pve, spec=args)
    assert_failed(result, option)
    assert fakepve.cts == [] and ct_posts(fakepve) == []


def test_template_must_be_on_the_storage(run_module, pve, fakepve, seed_template):
    seed_template('other-template.tar.zst')
    result = lxc(run_module, pve, hostname='t1', ostemplate='local:vztmpl/missing.tar.zst')
    assert_failed(result, 'ostemplate', 'not on storage local')
    assert fakepve.cts == []


def test_vmid_of_a_vm_is_refused(run_module, pve, fakepve, template):
    fakepve.add_vm(150, 'a-vm')
    result = lxc(run_module, pve, vmid=150, hostname='ct150', ostemplate=template)
    assert_failed(result, '150', 'qemu')
    assert fakepve.cts == []


# ----------------------------------------------------------------------------- placement


def test_placement_by_storage_and_online_nodes(run_module, pve, fakepve, template):
    fakepve.add_node('pve2', online=False)
    fakepve.add_node('pve3')
    fakepve.storages['local-lvm']['nodes'] = 'pve2,pve3'
    result = lxc(run_module, pve, hostname='placed', ostemplate=template, storage='local-lvm')
    assert result['changed'] is True and result['node'] == 'pve3', result
    assert fakepve.ct(result['vmid']).node == 'pve3'
    offline = lxc(run_module, pve, hostname='placed2', ostemplate=template, storage='local-lvm', node='pve2')
    assert_failed(offline, 'node', 'offline')


# ----------------------------------------------------------------------------- faults


@pytest.mark.fakepve(time_scale=0.05)
def test_locked_container_is_retried(run_module, pve, fakepve):
    fakepve.add_ct(200, 'busy', config={'cores': 1})
    fakepve.snapshot_lock(200, 'backup')
    timer = threading.Timer(2.0, fakepve.unlock, args=(200,))
    timer.start()
    try:
        began = time.monotonic()
        result = lxc(run_module, pve, vmid=200, cores=3)
        elapsed = time.monotonic() - began
    finally:
        timer.cancel()
    assert result['changed'] is True, result
    assert fakepve.ct(200).config['cores'] == 3
    assert elapsed >= 2.0


def test_lock_that_never_goes_fails_after_lock_timeout(run_module, pve, fakepve):
    fakepve.add_ct(201, 'stuck', config={'cores': 1})
    fakepve.snapshot_lock(201, 'backup')
    began = time.monotonic()
    result = lxc(run_module, pve, vmid=201, cores=3, lock_timeout=3)
    assert_failed(result, 'locked', 'backup')
    assert time.monotonic() - began < 30
    assert fakepve.ct(201).config['cores'] == 1


def test_failing_task_is_reported_with_its_log(run_module, pve, fakepve):
    ct = fakepve.add_ct(202, 'broken')
    ct.start_error = 'startup for container 202 failed'
    result = lxc(run_module, pve, vmid=202, state='started')
    assert_failed(result, 'startup for container 202 failed')
    assert result['exit_status'] == 'startup for container 202 failed'
    assert result['log_tail'][-1] == 'TASK ERROR: startup for container 202 failed'
    assert result['upid'].startswith('UPID:pve1:')


def test_failed_create_leaves_nothing_behind(run_module, pve, fakepve, template):
    fakepve.fail('POST', '/status/start', error='missing_rootfs_configuration')
    result = lxc(run_module, pve, hostname='half', ostemplate=template, storage='local-lvm', state='started')
    assert_failed(result, "missing 'rootfs' configuration")
    assert result['cleanup'].startswith('removed guest')
    assert fakepve.cts == [], 'the container whose start failed must be removed'
    assert [t['type'] for t in fakepve.tasklog] == ['vzcreate', 'vzstart', 'vzdestroy']


# ----------------------------------------------------------------------------- concurrency


def test_concurrent_vmid_allocation_from_several_processes(run_module, pve, fakepve, template):
    names = ['par%02d' % n for n in range(8)]
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(lambda name: lxc(run_module, pve, hostname=name, ostemplate=template,
                                                 storage='local-lvm'), names))
    assert all(r['changed'] and not r.get('failed') for r in results), results
    vmids = [r['vmid'] for r in results]
    assert len(set(vmids)) == len(names)
    # every run returned its own container, never someone else's
    for name, result in zip(names, results):
        assert fakepve.ct(result['vmid']).name == name
    assert sorted(c.name for c in fakepve.cts) == names


def test_template_state_and_no_start_of_a_template(run_module, pve, fakepve, template):
    args = dict(hostname='golden', ostemplate=template, storage='local-lvm', state='started')
    vmid = lxc(run_module, pve, spec=args)['vmid']
    assert fakepve.ct(vmid).status == 'running'
    check = lxc(run_module, pve, check=True, spec=dict(args, state='template'))
    assert check['changed'] is True and not fakepve.ct(vmid).template
    made = lxc(run_module, pve, spec=dict(args, state='template'))
    assert made['changed'] is True and made['template'] is True
    assert fakepve.ct(vmid).template and fakepve.ct(vmid).status == 'stopped'
    assert 'base-{0}-disk'.format(vmid) in fakepve.ct(vmid).config['rootfs']
    assert lxc(run_module, pve, spec=dict(args, state='template'))['changed'] is False
    assert_failed(lxc(run_module, pve, spec=args), 'template')
