"""libvirt faults (issue #11): a pool that fills up during a full clone, libvirtd restarted between tasks.

The full pool is a dir pool on an 8 MiB tmpfs the test mounts (and unmounts); the source is a raw
volume of 24 MiB of random data in the project's pool, so the copy cannot fit.

The restart test stops the libvirtd this project runs (`libvirtd -d`, no systemd here) and starts it
again at once, the way scripts/services.sh starts it; it ends by checking that the service answers. It
briefly interrupts other users of the daemon: it is one test, kept short.
"""

import os
import secrets
import subprocess
import time

import libvirt
import pytest

MiB = 1024 ** 2


def assert_clean_failure(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'] + str(result.get('exception', '')), \
        result
    for word in words:
        assert word in result['msg'], result['msg']


@pytest.fixture
def tiny_pool(libvirt_conn, unique_name, tmp_path):
    mount = tmp_path / 'tiny'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'tmpfs', str(mount)], check=True)
    pool = None
    try:
        pool = libvirt_conn.storagePoolDefineXML(
            "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (unique_name, mount), 0)
        pool.create(0)
        yield pool, mount
    finally:
        if pool is not None:
            if pool.isActive():
                pool.refresh(0)
                for vol in pool.listAllVolumes():
                    vol.delete(0)
                pool.destroy()
            pool.undefine()
        subprocess.run(['umount', str(mount)], check=False)


@pytest.fixture
def big_source(storage_pool, unique_name):
    name = unique_name + '-src.raw'
    vol = storage_pool.createXML("<volume><name>%s</name><capacity>%d</capacity><target><format type='raw'/>"
                                 "</target></volume>" % (name, 24 * MiB), 0)
    with open(vol.path(), 'r+b') as handle:
        for _chunk in range(24):
            handle.write(os.urandom(MiB))
    try:
        yield name
    finally:
        vol.delete(0)


def test_pool_full_during_a_full_clone_is_clean_and_leaves_nothing(
        run_module, tiny_pool, big_source, storage_pool, unique_name):
    pool, mount = tiny_pool
    result = run_module('libvirt_volume_clone', {
        'name': unique_name + '-copy.raw', 'pool': pool.name(), 'source': big_source,
        'source_pool': storage_pool.name(), 'mode': 'full', 'format': 'raw'})
    assert_clean_failure(result)
    assert 'space' in result['msg'].lower(), result['msg']
    pool.refresh(0)
    assert pool.listAllVolumes() == [], 'the partial volume must be removed'
    assert os.listdir(mount) == [], os.listdir(mount)


def _libvirtd_pid():
    out = subprocess.run(['pidof', 'libvirtd'], capture_output=True, text=True, check=False).stdout.split()
    assert len(out) == 1, 'expected one libvirtd, found %r' % out
    return int(out[0])


def _answers(uri):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return False
    conn.close()
    return True


@pytest.mark.restarts_libvirtd
def test_libvirtd_restarted_between_tasks_the_next_task_reconnects(run_playbook, storage_pool, tmp_path):
    uri = os.environ['LIBVIRT_DEFAULT_URI']
    name = 'vlt-test-%s.qcow2' % secrets.token_hex(4)
    playbook = tmp_path / 'restart.yml'
    playbook.write_text('''
- name: libvirtd restarted between two tasks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Before the restart
      virtlab.infra.libvirt_volume: {{name: "{name}", pool: "{pool}", capacity: 1M, format: qcow2}}
    - name: Restart libvirtd as the project runs it (no systemd here)
      # a daemon restart is the fault under test; nothing else does it
      ansible.builtin.shell: kill {pid} && while kill -0 {pid} 2>/dev/null; do sleep 0.1; done && libvirtd -d
      changed_when: true
    - name: After the restart
      virtlab.infra.libvirt_volume: {{name: "{name}", pool: "{pool}", state: absent}}
'''.format(name=name, pool=storage_pool.name(), pid=_libvirtd_pid()))
    try:
        outcome = run_playbook(str(playbook))
    finally:
        deadline = time.monotonic() + 60
        while not _answers(uri) and time.monotonic() < deadline:
            time.sleep(0.5)
        if not _answers(uri):
            subprocess.run(['libvirtd', '-d'], check=False)
    assert _answers(uri), 'libvirtd must answer again after the test'
    assert outcome['rc'] == 0, outcome['stdout'][-3000:]
    assert [t['hosts']['localhost'].get('changed') for t in outcome['tasks']] == [True, True, True]
    conn = libvirt.open(uri)
    try:
        pool = conn.storagePoolLookupByName(storage_pool.name())
        pool.refresh(0)
        assert name not in pool.listVolumes()
    finally:
        conn.close()
