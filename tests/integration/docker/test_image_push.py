"""docker_image_push against the real engine and the real authenticated local registry."""

import base64
import http.server
import json
import threading

import pytest
import requests

MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def local_image(docker_client, debian_image, registry, unique_name):
    """An image tagged into the local registry's namespace; removed (locally and remotely) afterwards."""
    import io
    repository = "{0}/vlt-test/{1}".format(registry.address, unique_name)
    image, _log = docker_client.images.build(
        fileobj=io.BytesIO("FROM {0}\nLABEL test={1}\n".format(debian_image, unique_name).encode()), rm=True)
    image.tag(repository, "1")
    yield {"repository": repository, "path": "vlt-test/" + unique_name, "image": image}
    for tag in ("1", "2"):
        digest = _registry_digest(registry, "vlt-test/" + unique_name, tag)
        if digest:
            requests.delete("{0}/v2/vlt-test/{1}/manifests/{2}".format(registry.url, unique_name, digest),
                            auth=registry.auth, timeout=10)
    docker_client.images.remove(image.id, force=True)


def _registry_digest(registry, path, tag, auth=True):
    response = requests.head("{0}/v2/{1}/manifests/{2}".format(registry.url, path, tag),
                             headers={"Accept": MANIFEST_ACCEPT}, auth=registry.auth if auth else None, timeout=10)
    return response.headers.get("Docker-Content-Digest") if response.status_code == 200 else None


def _push_args(local_image, registry, **extra):
    args = {"name": local_image["repository"], "tags": ["1"], "username": registry.username, "password": registry.password}
    args.update(extra)
    return args


def test_push_then_no_change_with_accurate_check_mode(run_module, registry, local_image):
    predicted = run_module("docker_image_push", _push_args(local_image, registry), check=True, diff=True)
    assert predicted["changed"] is True
    assert _registry_digest(registry, local_image["path"], "1") is None, "check mode pushed"

    pushed = run_module("docker_image_push", _push_args(local_image, registry), diff=True)
    assert pushed["changed"] is True
    remote = _registry_digest(registry, local_image["path"], "1")
    assert remote and pushed["digests"][local_image["repository"] + ":1"] == remote
    assert pushed["diff"]["before"]["digests"][local_image["repository"] + ":1"] is None
    assert pushed["images"][0]["image_id"] == local_image["image"].id

    for check in (True, False):
        again = run_module("docker_image_push", _push_args(local_image, registry), check=check)
        assert again["changed"] is False and again["digests"][local_image["repository"] + ":1"] == remote


def test_only_the_missing_tag_is_pushed(run_module, registry, local_image):
    run_module("docker_image_push", _push_args(local_image, registry))
    local_image["image"].tag(local_image["repository"], "2")
    result = run_module("docker_image_push", _push_args(local_image, registry, tags=["1", "2"]))
    assert result["changed"] is True
    assert [item["changed"] for item in result["images"]] == [False, True]
    assert _registry_digest(registry, local_image["path"], "2") == _registry_digest(registry, local_image["path"], "1")


def test_credentials_from_an_existing_docker_config(run_module, registry, local_image, tmp_path):
    token = base64.b64encode("{0}:{1}".format(registry.username, registry.password).encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {registry.address: {"auth": token}}}))
    result = run_module("docker_image_push", {"name": local_image["repository"] + ":1", "docker_config": str(tmp_path)})
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and _registry_digest(registry, local_image["path"], "1")


def test_wrong_password_is_a_clean_error_naming_the_registry(run_module, registry, local_image):
    wrong = registry.password + "-wrong"
    result = run_module("docker_image_push", _push_args(local_image, registry, password=wrong), verbosity=3)
    assert result["failed"] and registry.address in result["msg"] and "401" in result["msg"]
    output = result["_stdout"] + result["_stderr"]
    assert "Traceback" not in output
    assert wrong not in output, "the password leaked into the output"
    assert _registry_digest(registry, local_image["path"], "1") is None


def test_password_never_appears_in_verbose_output(run_module, registry, local_image):
    result = run_module("docker_image_push", _push_args(local_image, registry), verbosity=3)
    assert result["changed"] is True
    assert registry.password not in result["_stdout"] + result["_stderr"]


class _AlwaysUnavailable(http.server.BaseHTTPRequestHandler):
    requests_seen = 0

    def _answer(self):
        type(self).requests_seen += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer

    def log_message(self, *args):  # keep pytest's output clean
        pass


def test_registry_errors_are_retried_then_reported(run_module, docker_client, local_image):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysUnavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = "127.0.0.1:%d" % server.server_address[1]
    local_image["image"].tag(address + "/broken", "1")
    try:
        result = run_module("docker_image_push", {"name": address + "/broken:1", "retries": 2})
    finally:
        server.shutdown()
        docker_client.images.remove(address + "/broken:1")
    assert result["failed"] and "503" in result["msg"] and "3 attempts" in result["msg"]
    # plain HTTP after the failed TLS attempt: one HEAD per attempt reached the registry
    assert _AlwaysUnavailable.requests_seen == 3


def test_registry_down_is_a_clean_error(run_module, docker_client, local_image):
    local_image["image"].tag("127.0.0.1:9/nowhere", "1")
    try:
        result = run_module("docker_image_push", {"name": "127.0.0.1:9/nowhere:1", "retries": 1})
    finally:
        docker_client.images.remove("127.0.0.1:9/nowhere:1")
    assert result["failed"] and "cannot reach registry 127.0.0.1:9" in result["msg"]
    assert "Traceback" not in result["_stdout"] + result["_stderr"]


@pytest.mark.parametrize("args, option", [
    ({"name": "127.0.0.1:5000/Bad Name"}, "name"),
    ({"tags": ["no spaces allowed"]}, "tags"),
    ({"retries": -1}, "retries"),
])
def test_bad_input_fails_naming_the_option(run_module, registry, local_image, args, option):
    result = run_module("docker_image_push", _push_args(local_image, registry, **args))
    assert result["failed"] and option in result["msg"]
    assert "Traceback" not in result["_stdout"] + result["_stderr"]


def test_missing_local_image_is_a_clean_error(run_module, registry, local_image):
    result = run_module("docker_image_push", _push_args(local_image, registry, tags=["absent"]))
    assert result["failed"] and local_image["repository"] + ":absent" in result["msg"]
