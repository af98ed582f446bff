"""site.yml's Proxmox part on the example cluster inventory, against fakepve.

The inventory `inventories/proxmox-example` is used as shipped: its inventory plugin source and its group
vars read the connection from the PROXMOX_* environment (what an AWX credential injects). The play puts the
appliance template on the storage (download-url), creates the containers of `virtlab_proxmox_guests`, and
the summary names them; a second run changes nothing and the inventory plugin then lists the new guests.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INVENTORY = os.path.join(ROOT, 'inventories', 'proxmox-example')


@pytest.fixture
def cluster_env(fakepve, fakepve_cafile, pve_token):
    env = dict(os.environ, PROXMOX_HOST=fakepve.host, PROXMOX_PORT=str(fakepve.port),
               PROXMOX_TOKEN_ID=pve_token[0], PROXMOX_TOKEN_SECRET=pve_token[1], PROXMOX_CA_PATH=fakepve_cafile,
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_NOCOLOR='1')
    return env


def run_site(env, *args):
    command = ['ansible-playbook', '-i', INVENTORY, '-e', 'ansible_python_interpreter=' + sys.executable,
               os.path.join(ROOT, 'playbooks', 'site.yml')] + list(args)
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    report = json.loads(completed.stdout[completed.stdout.index('{'):])
    return completed, report


def summary_of(report):
    for play in report['plays']:
        for task in play['tasks']:
            if task['task']['name'] == 'Show what runs where':
                return task['hosts']['localhost']['msg']
    raise AssertionError('no summary task in the run')


def test_site_creates_the_example_guests_once(fakepve, cluster_env, pve_token):
    # the example inventory's golden template for the dev/test clone set
    fakepve.add_ct(9000, 'golden-db', node='pve1', status='stopped', template=True,
                   config={'rootfs': 'local-lvm:base-9000-disk-0,size=8G', 'net0': 'name=eth0,bridge=vmbr0,ip=dhcp'})
    completed, report = run_site(cluster_env)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    # the template, the containers, the clone set
    assert report['stats']['localhost']['changed'] == 3, report['stats']

    volumes = fakepve.storages['local'].get('volumes', {})
    assert 'vztmpl/debian-12-standard_12.7-1_amd64.tar.zst' in volumes, sorted(volumes)
    guests = {ct.name: ct for ct in fakepve.cts}
    assert {'virtlab-web1', 'virtlab-db1', 'golden-db'} <= set(guests), sorted(guests)
    clones = sorted(name for name in guests if 'alice' in name or 'bob' in name)
    assert len(clones) == 2, sorted(guests)
    for name in clones:
        assert 'team-a' in str(guests[name].config.get('tags', '')), guests[name].config
    web, db = guests['virtlab-web1'], guests['virtlab-db1']
    assert (web.config['cores'], web.config['memory']) == (2, 1024) or \
        (str(web.config['cores']), str(web.config['memory'])) == ('2', '1024'), web.config
    assert str(db.config['memory']) == '2048' and 'size=16G' in db.config['rootfs'], db.config
    assert 'local-lvm:' in db.config['rootfs'] and 'ip=dhcp' in db.config['net0'], db.config
    assert set(str(web.config.get('tags', '')).replace(',', ';').split(';')) == {'virtlab', 'web'}, web.config
    assert web.status == 'running' and db.status == 'running'

    lines = summary_of(report)
    created = [line for line in lines if line.startswith('proxmox: lxc ')]
    assert [line.split()[2] for line in created] == ['virtlab-web1', 'virtlab-db1'], lines
    assert 'proxmox devtest set team-a: 2 linked clones of 9000' in lines, lines

    second, report2 = run_site(cluster_env)
    assert second.returncode == 0, second.stdout[-4000:]
    assert report2['stats']['localhost']['changed'] == 0, report2['stats']
    assert [line for line in summary_of(report2) if line.startswith('proxmox')] == \
        [line for line in lines if line.startswith('proxmox')]

    # the example inventory's plugin source lists the new guests (templates excluded, pve_ groups)
    listed = subprocess.run(['ansible-inventory', '-i', INVENTORY, '--list'], capture_output=True, text=True,
                            env=cluster_env, cwd=ROOT, check=False)
    assert listed.returncode == 0, listed.stderr
    inventory = json.loads(listed.stdout)
    hosts = set(inventory['_meta']['hostvars'])
    assert {'virtlab-web1', 'virtlab-db1', 'localhost'} | set(clones) <= hosts, sorted(hosts)

    # the token secret is never printed, even though it came through the environment
    assert pve_token[1] not in completed.stdout + completed.stderr + second.stdout + second.stderr
