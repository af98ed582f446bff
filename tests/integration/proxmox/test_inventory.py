"""The virtlab.infra.proxmox inventory plugin against fakepve, run for real through `ansible-inventory`.

The fake cluster: three nodes (pve3 offline), QEMU VMs and LXC containers, a template, pools (one nested),
tags, two guests sharing a name, stopped and running guests, the guest agent on and off. Requests are counted
through fakepve's request log; TLS is verified against the fake's certificate (`ca_path`), never disabled.
"""

import json
import os
import subprocess
import time

import pytest

RESOURCES = '/api2/json/cluster/resources'
STATUS = '/api2/json/cluster/status'


def seed(fakepve, stuck_agent=False):
    fakepve.add_node('pve2')
    fakepve.add_node('pve3')
    web = fakepve.add_vm(100, 'web1', node='pve1', status='running', pool='prod',
                         config={'agent': '1', 'tags': 'web;prod', 'net0': 'virtio=BC:24:11:00:01:00,bridge=vmbr0'})
    web.agent = {'interfaces': [
        {'name': 'lo', 'hardware-address': '00:00:00:00:00:00',
         'ip-addresses': [{'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', 'prefix': 8}]},
        {'name': 'eth0', 'hardware-address': 'bc:24:11:00:01:00',
         'ip-addresses': [{'ip-address': 'fe80::1', 'ip-address-type': 'ipv6', 'prefix': 64},
                          {'ip-address': '198.51.100.100', 'ip-address-type': 'ipv4', 'prefix': 24}]}]}
    # same name, no agent: the address comes from its cloud-init static configuration
    fakepve.add_vm(101, 'web1', node='pve2', status='running', config={'tags': 'web', 'ipconfig0': 'ip=198.51.100.101/24,gw=198.51.100.1'})
    fakepve.add_vm(102, 'tmpl-debian', node='pve1', status='stopped', template=True, config={'agent': '1'})
    # agent enabled in the config but the agent itself never answers
    stuck = fakepve.add_vm(103, 'stuck', node='pve2', status='running', config={'agent': 'enabled=1,fstrim_cloned_disks=1'})
    stuck.agent = {}
    stuck.agent_hangs = stuck_agent
    fakepve.add_ct(200, 'db1', node='pve1', status='running', pool='prod/db',
                   config={'tags': 'db', 'net0': 'name=eth0,bridge=vmbr0,ip=198.51.100.200/24,hwaddr=BC:24:11:00:02:00'})
    fakepve.add_ct(201, 'db2', node='pve2', status='stopped',
                   config={'net0': 'name=eth0,bridge=vmbr0,ip=198.51.100.201/24,hwaddr=BC:24:11:00:02:01'})
    fakepve.add_vm(300, 'lost', node='pve3', status='running', config={'agent': '1'})
    fakepve.set_node_offline('pve3')


@pytest.fixture
def source(tmp_path, fakepve, fakepve_cafile):
    """Write an inventory file (connection + extra lines) and return a runner of ansible-inventory over it."""
    tokenid, secret = 'root@pam!inventory', 'c0ffee00c0ffee00c0ffee00c0ffee00'
    fakepve.apitokens[tokenid] = secret

    def run(extra='', args=('--list',), name='test.proxmox.yml', connection=True, check=True, env=None):
        path = tmp_path / name
        head = ('plugin: virtlab.infra.proxmox\napi_host: {0}\napi_port: {1}\napi_token_id: "{2}"\n'
                'api_token_secret: {3}\nca_path: {4}\n').format(fakepve.host, fakepve.port, tokenid, secret, fakepve_cafile)
        path.write_text((head if connection else 'plugin: virtlab.infra.proxmox\n') + extra)
        env = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED='true', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='true',
                   **(env or {}))
        started = time.monotonic()
        completed = subprocess.run(['ansible-inventory', '-i', str(path)] + list(args), capture_output=True,
                                   text=True, check=False, env=env)
        run.elapsed = time.monotonic() - started
        if check:
            assert completed.returncode == 0, completed.stderr
        else:
            return completed
        if '--list' in args:
            # values that come from an inventory source are marked unsafe (never templated)
            return json.loads(completed.stdout,
                              object_hook=lambda d: d.get('__ansible_unsafe', d) if len(d) == 1 else d)
        return completed.stdout
    run.token = (tokenid, secret)
    return run


def hosts_of(listed, group):
    return sorted(listed.get(group, {}).get('hosts', []))


def api_requests(fakepve):
    return [path for _method, path, _body in fakepve.requests]


def test_without_lookups_two_requests_groups_and_hostvars(fakepve, source):
    seed(fakepve)
    listed = source()
    assert api_requests(fakepve) == [RESOURCES, STATUS]
    hostvars = listed['_meta']['hostvars']
    assert sorted(hostvars) == ['db1', 'db2', 'lost', 'stuck', 'tmpl-debian', 'web1', 'web1-101']
    assert hosts_of(listed, 'proxmox_node_pve1') == ['db1', 'tmpl-debian', 'web1']
    assert hosts_of(listed, 'proxmox_node_pve2') == ['db2', 'stuck', 'web1-101']
    assert hosts_of(listed, 'proxmox_node_pve3') == ['lost']
    assert hosts_of(listed, 'proxmox_qemu') == ['lost', 'stuck', 'tmpl-debian', 'web1', 'web1-101']
    assert hosts_of(listed, 'proxmox_lxc') == ['db1', 'db2']
    assert hosts_of(listed, 'proxmox_running') == ['db1', 'stuck', 'web1', 'web1-101']
    assert hosts_of(listed, 'proxmox_stopped') == ['db2', 'tmpl-debian']
    assert hosts_of(listed, 'proxmox_unknown') == ['lost']
    assert hosts_of(listed, 'proxmox_template') == ['tmpl-debian']
    assert hosts_of(listed, 'proxmox_tag_web') == ['web1', 'web1-101']
    assert hosts_of(listed, 'proxmox_tag_prod') == ['web1']
    assert hosts_of(listed, 'proxmox_tag_db') == ['db1']
    assert hosts_of(listed, 'proxmox_pool_prod') == ['web1']
    assert listed['proxmox_pool_prod']['children'] == ['proxmox_pool_prod_db']
    assert hosts_of(listed, 'proxmox_pool_prod_db') == ['db1']
    web = hostvars['web1']
    assert {k: web[k] for k in ('proxmox_vmid', 'proxmox_name', 'proxmox_node', 'proxmox_type', 'proxmox_status',
                                'proxmox_template', 'proxmox_tags', 'proxmox_pool', 'proxmox_cluster',
                                'proxmox_node_ip')} == {
        'proxmox_vmid': 100, 'proxmox_name': 'web1', 'proxmox_node': 'pve1', 'proxmox_type': 'qemu',
        'proxmox_status': 'running', 'proxmox_template': False, 'proxmox_tags': ['web', 'prod'],
        'proxmox_pool': 'prod', 'proxmox_cluster': 'fakecluster', 'proxmox_node_ip': '192.0.2.11'}
    assert hostvars['web1-101']['proxmox_vmid'] == 101
    # no look-ups: nothing to take an address from
    assert not any('ansible_host' in v or 'proxmox_config' in v for v in hostvars.values())


def test_lookups_addresses_and_a_degraded_host(fakepve, source):
    seed(fakepve)
    listed = source('lookups: [config, interfaces, agent]\n')
    hostvars = listed['_meta']['hostvars']
    assert hostvars['web1']['ansible_host'] == '198.51.100.100'
    assert hostvars['web1']['proxmox_address_source'] == 'interfaces'
    assert [i['name'] for i in hostvars['web1']['proxmox_interfaces']] == ['lo', 'eth0']
    assert hostvars['web1-101']['ansible_host'] == '198.51.100.101'
    assert hostvars['web1-101']['proxmox_address_source'] == 'static'
    assert hostvars['db1']['ansible_host'] == '198.51.100.200'
    assert hostvars['db1']['proxmox_address_source'] == 'interfaces'
    # stopped: no interfaces asked, the static address of its config
    assert hostvars['db2']['ansible_host'] == '198.51.100.201'
    assert hostvars['db2']['proxmox_config']['hostname'] == 'db2'
    assert 'proxmox_interfaces' not in hostvars['db2']
    # the offline node: the host stays, with the errors of its look-ups
    assert set(hostvars['lost']['proxmox_lookup_errors']) == {'config'}
    assert 'ansible_host' not in hostvars['lost']
    assert all('proxmox_lookup_errors' not in v for h, v in hostvars.items() if h != 'lost')
    paths = api_requests(fakepve)
    agent = [p for p in paths if '/agent/' in p]
    # only running VMs whose agent is enabled: 100 and 103 (101 has no agent, 102 is a stopped template)
    assert sorted(agent) == ['/api2/json/nodes/pve1/qemu/100/agent/network-get-interfaces',
                             '/api2/json/nodes/pve2/qemu/103/agent/network-get-interfaces']
    assert [p for p in paths if p.endswith('/interfaces') and '/lxc/' in p] == [
        '/api2/json/nodes/pve1/lxc/200/interfaces']
    assert paths.count(RESOURCES) == 1 and paths.count(STATUS) == 1


@pytest.mark.fakepve(time_scale=1)
def test_stuck_agent_degrades_only_its_host_within_the_timeout(fakepve, source):
    seed(fakepve, stuck_agent=True)
    listed = source('lookups: [agent]\nlookup_timeout: 2\n')
    hostvars = listed['_meta']['hostvars']
    # fakepve's agent hangs 10 s; the look-up gives up after 2 s, the others are not held up
    assert source.elapsed < 8, source.elapsed
    assert 'interfaces' in hostvars['stuck']['proxmox_lookup_errors']
    assert 'ansible_host' not in hostvars['stuck']
    assert hostvars['web1']['ansible_host'] == '198.51.100.100'


def test_filters_and_name_order(fakepve, source):
    seed(fakepve)
    listed = source('statuses: [running]\ntypes: [qemu]\ntags: [web]\naddress_order: [name]\n')
    hostvars = listed['_meta']['hostvars']
    assert sorted(hostvars) == ['web1', 'web1-101']
    assert hostvars['web1-101']['ansible_host'] == 'web1-101'
    listed = source('pools: [prod]\nexclude_templates: true\n')
    assert sorted(listed['_meta']['hostvars']) == ['db1', 'web1']
    listed = source('nodes: [pve2]\ngroup_prefix: pve_\n')
    assert sorted(listed['_meta']['hostvars']) == ['db2', 'stuck', 'web1-101']
    assert hosts_of(listed, 'pve_lxc') == ['db2']


def test_constructed_options(fakepve, source):
    seed(fakepve)
    listed = source('lookups: [config]\nstrict: true\n'
                    'compose:\n  ansible_user: "\'root\' if proxmox_type == \'lxc\' else \'debian\'"\n'
                    'groups:\n  databases: "\'db\' in proxmox_tags"\n'
                    'keyed_groups:\n  - key: proxmox_config.ostype | default("none")\n    prefix: os\n'
                    'nodes: [pve1, pve2]\n')
    hostvars = listed['_meta']['hostvars']
    assert hostvars['db1']['ansible_user'] == 'root' and hostvars['web1']['ansible_user'] == 'debian'
    assert hosts_of(listed, 'databases') == ['db1']
    assert hosts_of(listed, 'os_debian') == ['db1', 'db2']


def test_cache_run_makes_no_request(fakepve, source, tmp_path):
    seed(fakepve)
    cache = ('lookups: [config, interfaces, agent]\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n'
             'cache_connection: {0}\ncache_timeout: 3600\n').format(tmp_path / 'cache')
    first = source(cache)
    assert api_requests(fakepve).count(RESOURCES) == 1
    fakepve.requests.clear()
    second = source(cache)
    assert api_requests(fakepve) == []
    assert second == first
    # the failure of the offline node's guest is cached too
    assert 'proxmox_lookup_errors' in second['_meta']['hostvars']['lost']
    # --flush-cache reads the cluster again
    source(cache, args=('--list', '--flush-cache'))
    assert api_requests(fakepve).count(RESOURCES) == 1


def test_several_clusters_and_password_login(fakepve, source, fakepve_cafile):
    seed(fakepve)
    extra = ('clusters:\n'
             '  - name: one\n'
             '  - name: two\n    api_token_id: null\n    api_user: root@pam\n    api_password: secret\n')
    listed = source(extra)
    hostvars = listed['_meta']['hostvars']
    # the same fake twice: the first cluster's guests keep their names
    assert hosts_of(listed, 'proxmox_cluster_one') == ['db1', 'db2', 'lost', 'stuck', 'tmpl-debian', 'web1', 'web1-101']
    # the same guests again: <name>-<vmid>, and the cluster's name too where that clashes as well
    assert hosts_of(listed, 'proxmox_cluster_two') == [
        'db1-200', 'db2-201', 'lost-300', 'stuck-103', 'tmpl-debian-102', 'web1-100', 'web1-two-101']
    assert hostvars['web1-100']['proxmox_cluster'] == 'two'
    assert hostvars['web1-two-101']['proxmox_vmid'] == 101
    assert api_requests(fakepve).count('/api2/json/access/ticket') == 1


def test_graph_and_playbook(fakepve, source, tmp_path):
    seed(fakepve)
    graph = source('statuses: [running]\n', args=('--graph',))
    assert '@proxmox_running:' in graph and '|--web1-101' in graph
    source('statuses: [running]\n', args=('--list',))
    playbook = tmp_path / 'play.yml'
    playbook.write_text('- hosts: proxmox_tag_web\n  gather_facts: false\n  tasks:\n'
                        '    - ansible.builtin.debug:\n        msg: "{{ inventory_hostname }} {{ proxmox_vmid }}"\n')
    completed = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'test.proxmox.yml'), str(playbook)],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert 'web1 100' in completed.stdout and 'web1-101 101' in completed.stdout
    assert 'ok=1' in completed.stdout and 'failed=0' in completed.stdout


def test_bad_credentials_and_missing_host_fail_clearly(fakepve, source, fakepve_cafile):
    seed(fakepve)
    failed = source('api_token_secret: wrong\n', connection=False, check=False)
    assert failed.returncode != 0 and 'api_host is required' in failed.stderr
    connection = 'api_host: {0}\napi_port: {1}\napi_token_id: "{2}"\n'.format(fakepve.host, fakepve.port, source.token[0])
    failed = source(connection + 'api_token_secret: wrong\nca_path: {0}\n'.format(fakepve_cafile),
                    connection=False, check=False)
    assert failed.returncode != 0
    assert 'virtlab.infra.proxmox inventory ({0}): '.format(fakepve.host) in failed.stderr, failed.stderr
    failed = source(connection + 'api_token_secret: {0}\nca_path: /nonexistent\n'.format(source.token[1]),
                    connection=False, check=False)
    assert failed.returncode != 0 and 'ca_path: no such file /nonexistent' in failed.stderr, failed.stderr


def test_templated_secret_and_environment_fallbacks(fakepve, source, fakepve_cafile):
    seed(fakepve)
    listed = source('api_host: {0}\napi_port: {1}\napi_token_id: "{2}"\nca_path: {3}\n'
                    'api_token_secret: "{{{{ lookup(\'ansible.builtin.env\', \'VLT_SECRET\') }}}}"\n'.format(
                        fakepve.host, fakepve.port, source.token[0], fakepve_cafile),
                    connection=False, env={'VLT_SECRET': source.token[1]})
    assert len(listed['_meta']['hostvars']) == 7
    # the modules' environment variables
    listed = source('', connection=False, env={
        'PROXMOX_HOST': fakepve.host, 'PROXMOX_PORT': str(fakepve.port), 'PROXMOX_TOKEN_ID': source.token[0],
        'PROXMOX_TOKEN_SECRET': source.token[1], 'PROXMOX_CA_PATH': fakepve_cafile})
    assert len(listed['_meta']['hostvars']) == 7


def test_other_file_names_are_not_ours(source):
    completed = source('', name='test.libvirt.yml', check=False)
    assert completed.returncode != 0
