"""Smoke test of the Docker engine and the local registry: build, run, push with and without credentials."""

import json

import docker
import pytest
import requests

MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
MARKER_PATH = '/etc/virtlab-smoke'
LABEL = 'org.virtlab.smoke'
# one repository for every run (the registry API cannot delete repositories), a tag per run
REPOSITORY = 'vlt-test/smoke'

DOCKERFILE = '''\
FROM {base}
LABEL {label}="{name}"
RUN printf '%s\\n' 'built {name}' > {marker}
'''


def _remove_image(client, ref):
    try:
        client.images.remove(ref, force=True)
    except docker.errors.ImageNotFound:
        pass


def _push(client, repository, tag, auth_config):
    """Push through the daemon; returns (status lines, error messages). An APIError counts as an error."""
    statuses, errors = [], []
    try:
        for chunk in client.api.push(repository, tag=tag, auth_config=auth_config, stream=True, decode=True):
            if 'error' in chunk or 'errorDetail' in chunk:
                errors.append(chunk.get('error') or json.dumps(chunk['errorDetail']))
            else:
                statuses.append(chunk)
    except docker.errors.APIError as exc:
        errors.append(str(exc))
    return statuses, errors


def _manifest(registry, repo, reference, auth, method='GET'):
    return requests.request(method, '{0}/v2/{1}/manifests/{2}'.format(registry.url, repo, reference),
                            headers={'Accept': MANIFEST_V2}, auth=auth, timeout=30)


@pytest.fixture(scope='module')
def smoke_image(docker_client, debian_image, registry, unique_name_factory, tmp_path_factory):
    """An image built FROM virtlab/debian:bookworm, tagged <registry>/vlt-test/smoke:<vlt-test-name>; removed after."""
    name = unique_name_factory()
    repository = '{0}/{1}'.format(registry.address, REPOSITORY)
    context = tmp_path_factory.mktemp('docker-context')
    (context / 'Dockerfile').write_text(DOCKERFILE.format(base=debian_image, label=LABEL, name=name,
                                                          marker=MARKER_PATH))
    ref = '{0}:{1}'.format(repository, name)
    image = None
    try:
        # the classic builder of the engine API (docker.io 20.10 has no buildx); the base image is local
        image, logs = docker_client.images.build(path=str(context), tag=ref, pull=False, rm=True, forcerm=True)
        yield {'name': name, 'repository': repository, 'repo': REPOSITORY, 'tag': name, 'ref': ref, 'image': image,
               'logs': list(logs)}
    finally:
        _remove_image(docker_client, ref)
        if image is not None:
            _remove_image(docker_client, image.id)


def test_registry_requires_authentication(registry):
    anonymous = requests.get(registry.url + '/v2/', timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers.get('WWW-Authenticate', '').lower().startswith('basic')
    wrong = requests.get(registry.url + '/v2/', auth=(registry.username, registry.password + 'x'), timeout=10)
    assert wrong.status_code == 401
    authenticated = requests.get(registry.url + '/v2/', auth=registry.auth, timeout=10)
    assert authenticated.status_code == 200


def test_build_and_run(docker_client, smoke_image):
    image = smoke_image['image']
    assert smoke_image['ref'] in image.tags
    assert image.labels.get(LABEL) == smoke_image['name']
    # the RUN step happened: a container of the image reads the file it wrote
    container = docker_client.containers.create(image.id, command=['cat', MARKER_PATH],
                                                name=smoke_image['name'] + '-run')
    try:
        container.start()
        result = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=True).decode()
        assert result['StatusCode'] == 0, output
        assert output == 'built {0}\n'.format(smoke_image['name'])
    finally:
        container.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container.id)


def test_push_refused_without_valid_credentials(docker_client, registry, smoke_image):
    # a tag of its own, so that the result does not depend on the order of the tests
    repository, repo, tag = smoke_image['repository'], smoke_image['repo'], smoke_image['tag'] + '-refused'
    ref = '{0}:{1}'.format(repository, tag)
    assert smoke_image['image'].tag(repository, tag)
    try:
        _digest, errors = _push(docker_client, repository, tag, registry.auth_config(password=registry.password + '-wrong'))
        assert errors, 'a push with a wrong password must fail'
        assert any('auth' in error.lower() for error in errors), errors
        # no auth_config at all: the client's (empty, see docker_client) configuration gives no login
        _digest, errors = _push(docker_client, repository, tag, None)
        assert errors, 'a push without credentials must fail'
        assert any('auth' in error.lower() for error in errors), errors
    finally:
        _remove_image(docker_client, ref)
    # nothing reached the registry
    assert _manifest(registry, repo, tag, registry.auth).status_code == 404


def test_push_with_credentials(docker_client, registry, smoke_image):
    repository, tag, repo = smoke_image['repository'], smoke_image['tag'], smoke_image['repo']
    digest = None
    deleted = None
    try:
        statuses, errors = _push(docker_client, repository, tag, registry.auth_config())
        assert errors == []
        digests = [s['aux']['Digest'] for s in statuses if 'Digest' in s.get('aux', {})]
        assert len(digests) == 1, statuses
        digest = digests[0]

        manifest = _manifest(registry, repo, tag, registry.auth)
        assert manifest.status_code == 200, manifest.text
        assert manifest.headers['Content-Type'] == MANIFEST_V2
        assert manifest.headers['Docker-Content-Digest'] == digest
        assert manifest.json()['config']['digest'] == smoke_image['image'].id
        assert _manifest(registry, repo, tag, None).status_code == 401
        assert _manifest(registry, repo, tag, (registry.username, 'wrong')).status_code == 401
    finally:
        # the registry allows deletes: take the manifest (and so the tag) away again, even after a failure
        if digest is None:
            head = _manifest(registry, repo, tag, registry.auth, method='HEAD')
            digest = head.headers.get('Docker-Content-Digest') if head.status_code == 200 else None
        if digest is not None:
            deleted = _manifest(registry, repo, digest, registry.auth, method='DELETE')
    assert deleted is not None and deleted.status_code == 202, deleted and deleted.text
    assert _manifest(registry, repo, tag, registry.auth).status_code == 404
