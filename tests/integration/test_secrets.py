"""Secrets stay secret: one playbook at -vvv, every output scanned (issue #11).

The playbook logs in to fakepve with a password and with an API token, creates a container with a root
password and a VM with a cloud-init password, fails a login with a wrong password, pushes an image to
the local registry with its credentials, and renders the moodle role's config.php (the entry point the
moodle_stack role uses for its containers) with a database password. It runs at -vvv with
ANSIBLE_LOG_PATH set, HOME, DOCKER_CONFIG and Ansible's temporary directories inside the test's own
directory. Then no secret may appear in stdout, stderr, the log, or any file written under that
directory -- except config.php, the intended target of the database password, whose owner, group and
mode are asserted (root:www-data 0640).

Not covered here: the mysql role writes no credential file (root keeps unix_socket authentication, see
roles/mysql/tasks/secure.yml), so there is no file of it to assert; the moodle_stack role's generated
passwords are its own helper's (in progress) and are checked by its molecule scenario.
"""

import grp
import io
import json
import os
import secrets
import subprocess
import sys

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PVE_PASSWORD = 'vlt-pve-' + secrets.token_hex(8)


def _find(secret_values, text):
    return sorted(name for name, value in secret_values.items() if value in text)


@pytest.fixture
def pushed_image(docker_client, debian_image, registry, unique_name):
    repository = '{0}/vlt-test/{1}'.format(registry.address, unique_name)
    image, _log = docker_client.images.build(
        fileobj=io.BytesIO('FROM {0}\nLABEL test={1}\n'.format(debian_image, unique_name).encode()), rm=True)
    image.tag(repository, '1')
    yield repository
    head = requests.head('{0}/v2/vlt-test/{1}/manifests/1'.format(registry.url, unique_name), auth=registry.auth,
                         headers={'Accept': 'application/vnd.docker.distribution.manifest.v2+json'}, timeout=10)
    digest = head.headers.get('Docker-Content-Digest')
    if digest:
        requests.delete('{0}/v2/vlt-test/{1}/manifests/{2}'.format(registry.url, unique_name, digest),
                        auth=registry.auth, timeout=10)
    docker_client.images.remove(image.id, force=True)


@pytest.mark.fakepve(password=PVE_PASSWORD)
def test_no_secret_in_output_logs_or_files(fakepve, fakepve_cafile, registry, pushed_image, tmp_path):
    # a token registered through fakepve's Python API, a template seeded the same way (its aplinfo is stateless)
    pve_token = ('root@pam!vltsecret', 'vlt-token-' + secrets.token_hex(12))
    fakepve.apitokens[pve_token[0]] = pve_token[1]
    fakepve.store_file('local', 'debian-12-standard_12.7-1_amd64.tar.zst', 1024 ** 2, content='vztmpl')
    template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'
    values = {
        'pve password': PVE_PASSWORD,
        'pve token secret': pve_token[1],
        'container root password': 'vlt-ct-' + secrets.token_hex(8),
        'cloud-init password': 'vlt-ci-' + secrets.token_hex(8),
        'wrong password': 'vlt-wrong-' + secrets.token_hex(8),
        'registry password': registry.password,
        'database password': 'vlt-db-' + secrets.token_hex(8),
    }
    work = tmp_path / 'work'
    for sub in ('home', 'docker-config', 'local-tmp', 'remote-tmp', 'context'):
        (work / sub).mkdir(parents=True)
    config_php = work / 'config.php'
    conn = {'api_host': fakepve.host, 'api_port': fakepve.port, 'ca_path': fakepve_cafile}
    playbook = work / 'secrets.yml'
    playbook.write_text('''
- name: Secrets at -vvv
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/virtlab.infra.proxmox: {conn}
  tasks:
    - name: Password login
      virtlab.infra.proxmox_guest_info:
        api_user: root@pam
        api_password: "{{{{ vlt_pve_password }}}}"
    - name: Wrong password
      virtlab.infra.proxmox_guest_info:
        api_user: root@pam
        api_password: "{{{{ vlt_wrong_password }}}}"
      ignore_errors: true
    - name: Container with a root password, token login
      virtlab.infra.proxmox_lxc:
        api_token_id: "{token_id}"
        api_token_secret: "{{{{ vlt_token_secret }}}}"
        hostname: secret-ct
        ostemplate: "{template}"
        storage: local-lvm
        password: "{{{{ vlt_ct_password }}}}"
    - name: VM with a cloud-init password
      virtlab.infra.proxmox_vm:
        api_token_id: "{token_id}"
        api_token_secret: "{{{{ vlt_token_secret }}}}"
        name: secret-vm
        memory: 512
        cloudinit_storage: local-lvm
        ciuser: debian
        cipassword: "{{{{ vlt_ci_password }}}}"
    - name: Push with registry credentials
      virtlab.infra.docker_image_push:
        docker_host: "{docker_host}"
        name: "{repository}"
        tags: ["1"]
        username: "{registry_user}"
        password: "{{{{ vlt_registry_password }}}}"
    - name: The config.php the moodle role renders for a container
      ansible.builtin.include_role:
        name: virtlab.infra.moodle
        tasks_from: image_context.yml
      vars:
        moodle_image_context_dir: "{context}"
        moodle_image_config_path: "{config_php}"
        moodle_image_config_group: www-data
        moodle_db_host: db
        moodle_db_password: "{{{{ vlt_db_password }}}}"
'''.format(conn=conn, token_id=pve_token[0], template=template, docker_host=os.environ['DOCKER_HOST'],
           repository=pushed_image, registry_user=registry.username, context=work / 'context',
           config_php=config_php))
    # the secrets come in as extra vars from a file, as from a vault: the playbook itself holds none
    # (Ansible shows the playbook's lines around a failed task)
    secrets_file = work / 'secrets.json'
    secrets_file.write_text(json.dumps({
        'vlt_pve_password': values['pve password'], 'vlt_wrong_password': values['wrong password'],
        'vlt_token_secret': values['pve token secret'], 'vlt_ct_password': values['container root password'],
        'vlt_ci_password': values['cloud-init password'], 'vlt_registry_password': values['registry password'],
        'vlt_db_password': values['database password']}))
    log = tmp_path / 'ansible.log'
    env = dict(os.environ, ANSIBLE_LOG_PATH=str(log), HOME=str(work / 'home'),
               DOCKER_CONFIG=str(work / 'docker-config'), ANSIBLE_LOCAL_TEMP=str(work / 'local-tmp'),
               ANSIBLE_REMOTE_TEMP=str(work / 'remote-tmp'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    env.pop('ANSIBLE_STDOUT_CALLBACK', None)
    completed = subprocess.run(
        ['ansible-playbook', '-vvv', '-i', 'localhost,', '-c', 'local', '-e',
         'ansible_python_interpreter=' + sys.executable, '-e', '@' + str(secrets_file), str(playbook)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    # the input, not an output
    secrets_file.unlink()
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert 'failed=0' in completed.stdout and 'ignored=1' in completed.stdout, completed.stdout[-2000:]
    assert [c.name for c in fakepve.cts] == ['secret-ct'] and [v.name for v in fakepve.vms] == ['secret-vm']

    leaks = {}
    for name, text in (('stdout', completed.stdout), ('stderr', completed.stderr), ('log', log.read_text())):
        found = _find(values, text)
        if found:
            leaks[name] = found
    scanned = 0
    for directory, _dirs, files in os.walk(tmp_path):
        for filename in files:
            path = os.path.join(directory, filename)
            if path == str(config_php) or path == str(log):
                continue
            with open(path, 'rb') as handle:
                found = _find(values, handle.read().decode('utf-8', 'replace'))
            scanned += 1
            if found:
                leaks[path] = found
    contexts = [completed.stdout[max(0, i - 300):i + 100] for v in values.values()
                for i in [completed.stdout.find(v)] if i >= 0]
    assert leaks == {}, 'secrets leaked: %r\n%s' % (leaks, '\n---\n'.join(contexts))
    assert scanned >= 3, 'the context files, at least, were scanned'
    # -vvv really was verbose (the scan looked at something), and the values were hidden, not dropped
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in completed.stdout or '********' in completed.stdout

    # the intended target holds its secret, readable by root and the web server's group only
    text = config_php.read_text()
    assert values['database password'] in text
    info = config_php.stat()
    assert (info.st_mode & 0o777, info.st_uid, info.st_gid) == (0o640, 0, grp.getgrnam('www-data').gr_gid)
