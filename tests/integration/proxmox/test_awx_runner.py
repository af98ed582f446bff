"""site.yml run the way AWX runs a job template: ansible-runner over AWX's private data directory.

AWX does two things, reproduced here with ansible-runner (the library AWX itself drives):
1. an inventory update: `ansible-inventory --list` over the inventory source file (here the shipped
   `inventories/proxmox-example/proxmox.virtlab.infra.proxmox.yml`, our plugin) with the credential's
   environment, against fakepve; AWX stores the result and hands it to jobs as an executable
   `inventory/hosts` script printing JSON;
2. the job: `private_data_dir/{project,inventory,env/extravars,env/envvars,env/settings}` and
   `ansible_runner.run(playbook='playbooks/site.yml')` with the job template's extra vars (survey answers).
The job must succeed, create the guests, put no credential in the job's events or stdout, and a second
job must change nothing.
"""

import json
import os
import shutil
import stat
import sys

import ansible_runner
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SOURCE = os.path.join(ROOT, 'inventories', 'proxmox-example', 'proxmox.virtlab.infra.proxmox.yml')

SURVEY_ANSWERS = {
    'virtlab_proxmox_template_url': 'http://download.proxmox.com/images/system/debian-12-standard_12.7-1_amd64.tar.zst',
    'virtlab_proxmox_guest_storage': 'local-lvm',
    'virtlab_proxmox_guests': [{'hostname': 'awx-app1', 'cores': 1, 'memory': 512,
                                'networks': [{'bridge': 'vmbr0', 'ip': 'dhcp'}], 'tags': ['awx']}],
}


@pytest.fixture
def credential_env(fakepve, fakepve_cafile, pve_token):
    """What an AWX credential of a 'Proxmox VE' custom type injects: PROXMOX_* environment variables."""
    return {'PROXMOX_HOST': fakepve.host, 'PROXMOX_PORT': str(fakepve.port), 'PROXMOX_TOKEN_ID': pve_token[0],
            'PROXMOX_TOKEN_SECRET': pve_token[1], 'PROXMOX_CA_PATH': fakepve_cafile}


def passthrough_env():
    """The parts of our environment a job needs to find ansible and the collection (AWX's EE has them built in)."""
    keep = ('PATH', 'PYTHONPATH', 'ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_CONFIG', 'HOME', 'REQUESTS_CA_BUNDLE',
            'CURL_CA_BUNDLE', 'SSL_CERT_FILE')
    return {name: os.environ[name] for name in keep if name in os.environ}


def inventory_update(tmp_path, credential_env):
    """AWX's inventory update: list the source with the credential's environment, as a runner job."""
    listed, error = ansible_runner.get_inventory(
        action='list', inventories=[SOURCE], response_format='json', quiet=True,
        envvars=dict(passthrough_env(), **credential_env), private_data_dir=str(tmp_path / 'inventory-update'))
    assert listed, error
    return listed


def write_private_data_dir(path, inventory, credential_env):
    shutil.copytree(ROOT, path / 'project', symlinks=True,
                    ignore=shutil.ignore_patterns('.state', '.git', 'tests', 'benchmarks', 'docs'))
    (path / 'inventory').mkdir()
    script = path / 'inventory' / 'hosts'
    # AWX writes the stored inventory as an executable script printing it as JSON
    script.write_text('#!{0}\nimport json\nprint(json.dumps({1!r}))\n'.format(sys.executable, inventory))
    script.chmod(stat.S_IRWXU)
    (path / 'env').mkdir()
    extravars = dict(SURVEY_ANSWERS, ansible_python_interpreter=sys.executable)
    (path / 'env' / 'extravars').write_text(json.dumps(extravars))
    (path / 'env' / 'envvars').write_text(json.dumps(dict(passthrough_env(), **credential_env)))
    (path / 'env' / 'settings').write_text(json.dumps({'job_timeout': 600, 'suppress_ansible_output': True}))


def run_job(path):
    runner = ansible_runner.run(private_data_dir=str(path), playbook='playbooks/site.yml', quiet=True)
    events = list(runner.events)
    stdout = runner.stdout.read()
    return runner, events, stdout


def test_site_runs_as_an_awx_job_template(tmp_path, fakepve, credential_env, pve_token):
    fakepve.add_ct(150, 'already-there', node='pve1', status='running', config={'tags': 'legacy'})
    inventory = inventory_update(tmp_path, credential_env)
    assert 'already-there' in inventory['_meta']['hostvars'], inventory

    private = tmp_path / 'job'
    write_private_data_dir(private, inventory, credential_env)
    runner, events, stdout = run_job(private)
    assert runner.status == 'successful' and runner.rc == 0, stdout[-4000:]

    created = [ct for ct in fakepve.cts if ct.name == 'awx-app1']
    assert len(created) == 1 and created[0].status == 'running', [ct.name for ct in fakepve.cts]
    assert str(created[0].config['memory']) == '512'
    summary = [event['event_data']['res']['msg'] for event in events
               if event.get('event') == 'runner_on_ok' and event['event_data'].get('task') == 'Show what runs where']
    assert summary and any(line.startswith('proxmox: lxc awx-app1 ') for line in summary[0]), summary

    # the credential never reaches the job's output, its events or its artifacts (except runner's own
    # `command` record of the environment the job was given, which is the credential's intended target)
    everything = stdout + json.dumps(events) + ''.join(
        p.read_text(errors='replace') for p in (private / 'artifacts').rglob('*') if p.is_file()
        and p.name != 'command')
    where = everything.find(pve_token[1])
    assert where < 0, everything[max(0, where - 600):where + 100]

    second = tmp_path / 'job2'
    write_private_data_dir(second, inventory_update(tmp_path, credential_env), credential_env)
    runner2, events2, stdout2 = run_job(second)
    assert runner2.status == 'successful', stdout2[-4000:]
    stats = [event['event_data'] for event in events2 if event.get('event') == 'playbook_on_stats'][0]
    assert stats['changed'] == {}, stats['changed']
    assert len([ct for ct in fakepve.cts if ct.name == 'awx-app1']) == 1
