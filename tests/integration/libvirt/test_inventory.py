"""The virtlab.infra.libvirt inventory plugin against the real libvirtd: a guest on an isolated libvirt network
gets an address by DHCP, and the inventory lists it with that address, its state and label groups."""

import json
import os
import random
import re
import subprocess

NETWORK_XML = '''<network>
  <name>{name}</name>
  <bridge name='{bridge}'/>
  <ip address='10.{b}.{c}.1' netmask='255.255.255.0'>
    <dhcp><range start='10.{b}.{c}.10' end='10.{b}.{c}.100'/></dhcp>
  </ip>
</network>'''


def _free_subnet():
    used = subprocess.run(['ip', '-4', '-o', 'addr'], capture_output=True, text=True, check=True).stdout
    while True:
        b, c = random.randint(200, 250), random.randint(0, 255)
        if ' 10.{0}.{1}.'.format(b, c) not in used:
            return b, c


def _inventory(tmp_path, text):
    path = tmp_path / 'test.libvirt.yml'
    path.write_text(text)
    completed = subprocess.run(['ansible-inventory', '-i', str(path), '--list'], capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    # values that come from an inventory source are marked unsafe (never templated)
    return json.loads(completed.stdout, object_hook=lambda d: d.get('__ansible_unsafe', d) if len(d) == 1 else d)


def test_inventory_lists_domains_with_addresses(run_module, libvirt_conn, pool_name, golden, cleanup, boot_files,
                                                wait_for, tmp_path):
    b, c = _free_subnet()
    network = cleanup + '-net'
    libvirt_conn.networkCreateXML(NETWORK_XML.format(name=network, bridge='vlt' + cleanup[-8:], b=b, c=c))

    console = os.path.join(boot_files['dir'], cleanup + '.log')
    name = cleanup + '-inv'
    started = run_module('libvirt_domain', {
        'name': name, 'memory': '160M', 'kernel': boot_files['kernel'], 'initrd': boot_files['initrd'],
        'cmdline': 'console=ttyS0 quiet', 'serial': {'type': 'file', 'path': console},
        'networks': [{'type': 'network', 'source': network, 'model': 'e1000'}],
        'labels': {'team': 'db', 'env': 'dev'}, 'state': 'running'})
    assert started['changed'] is True and started['domain']['labels'] == {'team': 'db', 'env': 'dev'}, started
    # a second, shut off domain: listed, without address
    idle = cleanup + '-idle'
    run_module('libvirt_domain', {'name': idle, 'memory': '64M', 'labels': {'team': 'web'}})
    assert run_module('libvirt_domain', {'name': idle, 'labels': {'team': 'web'}})['changed'] is False
    relabel = run_module('libvirt_domain', {'name': idle, 'labels': {'team': 'web', 'tier': 'front'}}, check=True)
    assert relabel['changed'] is True and relabel['changes'] == ['labels']

    guest_ip = re.search(r'VIRTLAB-IP (\S+)', wait_for(console, 'VIRTLAB-IP')).group(1)
    assert guest_ip.startswith('10.{0}.{1}.'.format(b, c))

    listed = _inventory(tmp_path, 'plugin: virtlab.infra.libvirt\n'
                                  'keyed_groups:\n  - key: libvirt_labels.team\n    prefix: team\n')
    hostvars = listed['_meta']['hostvars']
    assert hostvars[name]['ansible_host'] == guest_ip, hostvars[name]
    assert hostvars[name]['libvirt_address_source'] == 'lease'
    assert hostvars[name]['libvirt_state'] == 'running' and hostvars[name]['libvirt_memory_mib'] == 160
    assert 'ansible_host' not in hostvars[idle] and hostvars[idle]['libvirt_state'] == 'shutdown'
    assert name in listed['libvirt_running']['hosts'] and idle in listed['libvirt_shutdown']['hosts']
    assert name in listed['label_team_db']['hosts'] and name in listed['label_env_dev']['hosts']
    assert name in listed['team_db']['hosts'] and idle in listed['team_web']['hosts']

    running_only = _inventory(tmp_path, 'plugin: virtlab.infra.libvirt\nstates: [running]\n')
    assert name in running_only['_meta']['hostvars'] and idle not in running_only['_meta']['hostvars']
