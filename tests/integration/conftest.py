"""Fixtures of the smoke integration tests: the real engines started by `scripts/services.sh start`.

Every coordinate comes from the environment that `scripts/lib.sh`'s `virtlab_env` exports; nothing
is hard-coded. A missing variable or a service that does not answer FAILS the test with a message
saying what to run: these tests never skip.

    cd /work/main && . scripts/lib.sh && virtlab_env
    PYTHONPATH=$VIRTLAB_STATE/collections python -m pytest -p no:cacheprovider --import-mode=importlib tests/integration
"""

import dataclasses
import os
import secrets

import pytest

NAME_PREFIX = 'vlt-test-'
SETUP_HINT = 'start the services with `sudo scripts/services.sh start`'
ENV_HINT = 'run the tests in the project environment: `. scripts/lib.sh && virtlab_env`'


def require_env(name):
    """The value of an environment variable of virtlab_env; fails the test when it is unset or empty."""
    value = os.environ.get(name)
    if not value:
        pytest.fail('environment variable {0} is not set: {1}'.format(name, ENV_HINT), pytrace=False)
    return value


# ------------------------------------------------------------------ names


def new_unique_name():
    """vlt-test- and a short random suffix (lowercase hex: valid for Docker, registry and libvirt names)."""
    return NAME_PREFIX + secrets.token_hex(4)


@pytest.fixture(scope='session')
def unique_name_factory():
    """A callable returning a fresh vlt-test-XXXXXXXX name at each call (for module- or session-scoped fixtures)."""
    return new_unique_name


@pytest.fixture
def unique_name():
    """A fresh vlt-test-XXXXXXXX name for this test, so tests and concurrent runs never collide."""
    return new_unique_name()


# ------------------------------------------------------------------ docker and registry


@pytest.fixture(scope='session')
def docker_client(tmp_path_factory):
    """docker.DockerClient of our own dockerd ($DOCKER_HOST), with an empty client configuration.

    DOCKER_CONFIG points to an empty directory for the whole session: the SDK reloads the config file
    whenever it holds no credentials in memory, so a login stored in ~/.docker/config.json could
    otherwise authenticate a push that a test means to make without credentials.
    """
    import docker

    base_url = require_env('DOCKER_HOST')
    config_dir = tmp_path_factory.mktemp('docker-config')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('DOCKER_CONFIG', str(config_dir))
        try:
            client = docker.DockerClient(base_url=base_url)
            client.ping()
        except Exception as exc:  # docker.errors.DockerException, requests' ConnectionError, ...
            pytest.fail('the Docker engine at {0} does not answer ({1}): {2}'.format(base_url, exc, SETUP_HINT),
                        pytrace=False)
        assert client.api._auth_configs.auths == {}, 'the Docker client configuration must hold no login'
        try:
            yield client
        finally:
            client.close()


@pytest.fixture(scope='session')
def debian_image(docker_client):
    """Name of the local Debian base image (made by scripts/base_images.sh; no public registry is reachable)."""
    import docker

    name = 'virtlab/debian:bookworm'
    try:
        docker_client.images.get(name)
    except docker.errors.ImageNotFound:
        pytest.fail('base image {0} is missing: run `sudo scripts/base_images.sh`'.format(name), pytrace=False)
    return name


@dataclasses.dataclass(frozen=True)
class Registry(object):
    """The local registry: address host:port (plain HTTP) and the credentials of its htpasswd user."""
    address: str
    username: str
    password: str = dataclasses.field(repr=False)

    @property
    def url(self):
        return 'http://' + self.address

    @property
    def auth(self):
        return (self.username, self.password)

    def auth_config(self, password=None):
        """The auth_config of a docker push to this registry (with another password if given)."""
        return {'username': self.username, 'password': self.password if password is None else password,
                'serveraddress': self.address}


def _read_credentials(path):
    values = {}
    try:
        with open(path) as handle:
            for line in handle:
                key, sep, value = line.strip().partition('=')
                if sep and not key.startswith('#'):
                    values[key.strip()] = value.strip()
    except OSError as exc:
        pytest.fail('cannot read the registry credentials {0} ({1}): {2}'.format(path, exc, SETUP_HINT),
                    pytrace=False)
    missing = {'VIRTLAB_REGISTRY_USERNAME', 'VIRTLAB_REGISTRY_PASSWORD'} - set(k for k, v in values.items() if v)
    if missing:
        pytest.fail('{0} lacks {1}: {2}'.format(path, ', '.join(sorted(missing)), SETUP_HINT), pytrace=False)
    return values['VIRTLAB_REGISTRY_USERNAME'], values['VIRTLAB_REGISTRY_PASSWORD']


@pytest.fixture(scope='session')
def registry():
    """Registry(address, username, password) of the local docker-registry, which answers /v2/ with 401."""
    import requests

    address = require_env('VIRTLAB_REGISTRY')
    username, password = _read_credentials(require_env('VIRTLAB_REGISTRY_CREDENTIALS'))
    found = Registry(address=address, username=username, password=password)
    try:
        requests.get(found.url + '/v2/', timeout=10)
    except requests.RequestException as exc:
        pytest.fail('the registry at {0} does not answer ({1}): {2}'.format(address, exc, SETUP_HINT), pytrace=False)
    return found


# ------------------------------------------------------------------ libvirt


@pytest.fixture(scope='session')
def libvirt_conn():
    """libvirt.virConnect to $LIBVIRT_DEFAULT_URI (qemu:///system)."""
    import libvirt

    uri = require_env('LIBVIRT_DEFAULT_URI')
    # libvirt prints every error on stderr by default; the exceptions carry them already
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        pytest.fail('cannot connect to libvirt at {0} ({1}): {2}'.format(uri, exc, SETUP_HINT), pytrace=False)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope='session')
def storage_pool(libvirt_conn):
    """The running storage pool $VIRTLAB_POOL_NAME (refreshed)."""
    import libvirt

    name = require_env('VIRTLAB_POOL_NAME')
    try:
        pool = libvirt_conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        pytest.fail('libvirt storage pool {0} not found ({1}): {2}'.format(name, exc, SETUP_HINT), pytrace=False)
    if not pool.isActive():
        pytest.fail('libvirt storage pool {0} is not running: {1}'.format(name, SETUP_HINT), pytrace=False)
    pool.refresh(0)
    return pool


@pytest.fixture(scope='session')
def virt_type():
    """The libvirt domain type that boots on this host, 'kvm' or 'qemu' (TCG), from $VIRTLAB_VIRT_TYPE_FILE."""
    path = require_env('VIRTLAB_VIRT_TYPE_FILE')
    try:
        with open(path) as handle:
            value = handle.read().strip()
    except OSError as exc:
        pytest.fail('cannot read {0} ({1}): {2} (it runs scripts/kvm_probe.sh)'.format(path, exc, SETUP_HINT),
                    pytrace=False)
    if value not in ('kvm', 'qemu'):
        pytest.fail('{0} holds {1!r}, not kvm or qemu: rerun scripts/kvm_probe.sh'.format(path, value),
                    pytrace=False)
    return value
