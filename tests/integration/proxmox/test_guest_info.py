"""proxmox_guest_info against a seeded fakepve."""


def info(run_module, pve, check=False, spec=None, **args):
    return run_module('proxmox_guest_info', dict(pve, **dict(spec or {}, **args)), check=check)


def seed(fakepve):
    fakepve.add_vm(100, 'web', status='running', config={'tags': 'lab;web', 'cores': 2})
    fakepve.add_vm(101, 'golden', template=True, config={'cores': 1})
    fakepve.add_ct(102, 'db', status='stopped', config={'tags': 'lab', 'cores': 4})
    fakepve.add_ct(103, 'far', node='pve2', status='running')


def test_filters_and_configs(run_module, pve, fakepve):
    seed(fakepve)
    everything = info(run_module, pve)
    assert everything['changed'] is False
    assert [g['vmid'] for g in everything['guests']] == [100, 101, 102, 103]
    web = everything['guests'][0]
    assert web['type'] == 'qemu' and web['status'] == 'running' and web['tags'] == ['lab', 'web']
    assert web['config']['cores'] == 2 and 'digest' not in web['config']
    assert [g['vmid'] for g in info(run_module, pve, type='lxc')['guests']] == [102, 103]
    assert [g['vmid'] for g in info(run_module, pve, tags=['lab'])['guests']] == [100, 102]
    assert [g['vmid'] for g in info(run_module, pve, tags=['lab', 'web'])['guests']] == [100]
    assert [g['vmid'] for g in info(run_module, pve, template=True)['guests']] == [101]
    assert [g['vmid'] for g in info(run_module, pve, status='running', node='pve2')['guests']] == [103]
    assert [g['vmid'] for g in info(run_module, pve, name='db', check=True)['guests']] == [102]
    bare = info(run_module, pve, config=False)
    assert all('config' not in g for g in bare['guests'])
    # one GET for the resources, one per guest config, nothing else
    assert all(r[0] == 'GET' for r in fakepve.requests)


def test_offline_node_degrades_only_its_guests(run_module, pve, fakepve):
    seed(fakepve)
    fakepve.set_node_offline('pve2')
    result = info(run_module, pve)
    assert not result.get('failed'), result
    far = [g for g in result['guests'] if g['vmid'] == 103][0]
    assert far['config'] == {} and 'No route to host' in far['config_error']
    assert all('config_error' not in g for g in result['guests'] if g['vmid'] != 103)


def test_module_defaults_group_carries_the_connection(pve, fakepve, tmp_path):
    """`module_defaults: group/virtlab.infra.proxmox` sets the connection once for every module of the group."""
    import json
    import os
    import subprocess
    import sys

    seed(fakepve)
    play = [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/virtlab.infra.proxmox': pve},
             'tasks': [{'virtlab.infra.proxmox_guest_info': {'type': 'lxc', 'config': False}, 'register': 'found'},
                       {'virtlab.infra.proxmox_snapshot': {'vmid': 102, 'snapname': 'viagroup'}},
                       {'ansible.builtin.assert': {'that': ["found.guests | map(attribute='vmid') | list == [102, 103]"]}}]}]
    path = tmp_path / 'play.json'
    path.write_text(json.dumps(play))
    done = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '-e',
                           'ansible_python_interpreter=' + sys.executable, str(path)],
                          capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR='1'), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'viagroup' in fakepve.ct(102).snapshots
