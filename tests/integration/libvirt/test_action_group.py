"""module_defaults: group/virtlab.infra.libvirt sets the connection URI of every libvirt module once."""

import json
import os
import subprocess
import sys

PLAYBOOK = [{
    'hosts': 'localhost', 'gather_facts': False,
    # test:///default is libvirt's in-memory driver: its domain "test" runs, its pool is "default-pool".
    # Without the group defaults the modules would talk to $LIBVIRT_DEFAULT_URI, where neither exists.
    'module_defaults': {'group/virtlab.infra.libvirt': {'uri': 'test:///default'}},
    'tasks': [
        {'name': 'domain', 'virtlab.infra.libvirt_domain': {'name': 'test', 'state': 'running'}},
        {'name': 'pool', 'virtlab.infra.libvirt_pool': {'name': 'default-pool', 'path': '/default-pool'}},
    ],
}]


def test_group_module_defaults_set_the_uri(tmp_path):
    path = tmp_path / 'play.yml'
    path.write_text(json.dumps(PLAYBOOK))
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    completed = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-c', 'local', '-e',
                                'ansible_python_interpreter=' + sys.executable, str(path)],
                               capture_output=True, text=True, env=env, check=False)
    report = json.loads(completed.stdout[completed.stdout.index('{'):])
    results = {t['task']['name']: t['hosts']['localhost'] for t in report['plays'][0]['tasks']}
    assert results['domain'].get('failed') is not True, results['domain']
    assert results['domain']['changed'] is False and results['domain']['domain']['state'] == 'running'
    assert results['pool'].get('failed') is not True and results['pool']['changed'] is False, results['pool']
