"""Docker faults (issue #11): the engine restarted during a build, a full disk under an archive.

A registry answering 5xx is tested in test_image_push.py (retried, then a clear error naming the
attempts). The restart test never touches the shared dockerd: it starts a PRIVATE dockerd (own
data-root, exec-root, pidfile and unix socket under the test's directory, no bridge, no iptables) and
builds an image of busybox-static on `scratch`, so no base image has to be copied into it.
"""

import os
import secrets
import shutil
import subprocess
import threading
import time

import pytest

BUSYBOX = shutil.which('busybox') or '/bin/busybox'


def assert_clean_failure(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'] + str(result.get('exception', '')), \
        result
    for word in words:
        assert word in result['msg'], result['msg']


# ----------------------------------------------------------------------------------------- disk full


@pytest.fixture
def tiny_dir(tmp_path):
    mount = tmp_path / 'tiny'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(['umount', str(mount)], check=False)


def test_disk_full_under_an_archive_is_a_clean_error_and_leaves_no_file(run_module, debian_image, tiny_dir):
    result = run_module('docker_image_archive', {'path': str(tiny_dir / 'debian.tar'), 'images': [debian_image],
                                                 'docker_host': os.environ['DOCKER_HOST']})
    assert_clean_failure(result)
    assert 'space' in result['msg'].lower(), result['msg']
    assert os.listdir(tiny_dir) == [], 'no partial archive or temporary file may stay'


# ----------------------------------------------------------------------------------------- engine restart


class PrivateDockerd(object):
    """A dockerd of the test's own: start(), stop() (SIGTERM, waits), socket URL in .host, its own bridge."""

    def __init__(self, root):
        self.root = root
        self.host = 'unix://%s/docker.sock' % root
        self.process = None
        # its own bridge: with --bridge=none dockerd deletes the host's docker0, the shared engine's bridge
        self.bridge = 'vltdk%s' % secrets.token_hex(4)

    def start(self):
        if subprocess.run(['ip', 'link', 'show', self.bridge], capture_output=True, check=False).returncode:
            subprocess.run(['ip', 'link', 'add', self.bridge, 'type', 'bridge'], check=True)
            subprocess.run(['ip', 'addr', 'add', '10.254.%d.1/24' % secrets.randbelow(250), 'dev', self.bridge],
                           check=True)
        argv = ['dockerd', '--data-root', '%s/data' % self.root, '--exec-root', '%s/exec' % self.root,
                '--pidfile', '%s/dockerd.pid' % self.root, '-H', self.host, '--bridge', self.bridge,
                '--iptables=false', '--ip6tables=false', '--ip-masq=false']
        with open('%s/dockerd.log' % self.root, 'ab') as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        import docker
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, 'the private dockerd exited: see %s/dockerd.log' % self.root
            try:
                client = docker.DockerClient(base_url=self.host)
                client.ping()
                return client
            except Exception:  # pylint: disable=broad-except  # not up yet
                time.sleep(0.3)
        raise AssertionError('the private dockerd did not answer within 60 s: see %s/dockerd.log' % self.root)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def remove_bridge(self):
        subprocess.run(['ip', 'link', 'delete', self.bridge], capture_output=True, check=False)


@pytest.fixture
def private_dockerd(tmp_path_factory):
    # a short path: unix socket paths are limited to 108 bytes
    root = tmp_path_factory.mktemp('dk')
    engine = PrivateDockerd(str(root))
    shared_bridge_before = os.path.exists('/sys/class/net/docker0')
    try:
        yield engine
        # the shared engine's default bridge must survive a private engine
        assert os.path.exists('/sys/class/net/docker0') == shared_bridge_before, 'the private dockerd removed docker0'
    finally:
        engine.stop()
        engine.remove_bridge()
        subprocess.run(['umount', '-R', '%s/exec' % root], capture_output=True, check=False)
        shutil.rmtree(str(root), ignore_errors=True)


def test_engine_restarted_during_a_build_is_a_clean_error_and_moves_no_tag(
        run_module, private_dockerd, tmp_path, unique_name):
    client = private_dockerd.start()
    context = tmp_path / 'context'
    context.mkdir()
    shutil.copy(BUSYBOX, str(context / 'busybox'))
    (context / 'Dockerfile').write_text('FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "true"]\n')
    args = {'docker_host': private_dockerd.host, 'name': unique_name, 'tags': ['1'], 'path': str(context)}
    first = run_module('docker_image_build', args)
    assert first['changed'] is True and not first.get('failed'), first
    before = client.images.get(unique_name + ':1').id

    # a second version whose build takes a while: the engine goes away in the middle of it
    (context / 'Dockerfile').write_text('FROM scratch\nCOPY busybox /bin/busybox\n'
                                        'RUN ["/bin/busybox", "sleep", "120"]\nCMD ["/bin/busybox", "true"]\n')
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=run_module('docker_image_build', args)))
    worker.start()
    deadline = time.monotonic() + 90
    while not client.containers.list(all=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.containers.list(all=True), 'the slow build step never started'
    client.close()
    private_dockerd.stop()
    worker.join(120)
    assert not worker.is_alive(), 'the module hung after the engine went away'
    client = private_dockerd.start()

    assert_clean_failure(outcome['result'])
    assert client.images.get(unique_name + ':1').id == before, 'the tag moved'
    # and the engine, back, builds a new version (a quick one)
    (context / 'Dockerfile').write_text('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "true"]\n'
                                        'CMD ["/bin/busybox", "true"]\n')
    again = run_module('docker_image_build', args)
    assert again['changed'] is True and not again.get('failed'), again
    assert client.images.get(unique_name + ':1').id != before
    client.close()
