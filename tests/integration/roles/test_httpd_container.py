"""The httpd_container role end to end on the real engine and the real authenticated registry.

converge -> every mapped port serves the content -> idempotence -> content change rolled out
replica by replica while a poller records no failed request -> scale 3 -> 1 -> archive save,
image removed, load on an "offline" run -> absent leaves nothing of ours behind.
"""

import socket
import threading
import time

import pytest
import requests

PLAYBOOK = "tests/integration/roles/httpd_container.yml"


def _free_ports(count):
    sockets = [socket.socket() for _index in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _serves(port, text):
    try:
        response = requests.get("http://127.0.0.1:%d/" % port, timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200 and text in response.text


class Poller(threading.Thread):
    """Asks every replica ten times a second; a round fails when no replica answers 200."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports = ports
        self.rounds = 0
        self.failed_rounds = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            answered = False
            for port in self.ports:
                try:
                    answered = requests.get("http://127.0.0.1:%d/" % port, timeout=1).status_code == 200
                except requests.RequestException:
                    answered = False
                if answered:
                    break
            self.rounds += 1
            self.failed_rounds += not answered
            time.sleep(0.1)


@pytest.fixture
def stack(run_playbook, docker_client, registry, unique_name, tmp_path):
    ports = _free_ports(3)
    base_vars = {
        "httpd_container_name": unique_name,
        "httpd_container_image": "%s/vlt-test/%s" % (registry.address, unique_name),
        "httpd_container_tag": "1",
        "httpd_container_host_ports": ports,
        "httpd_container_replicas": 3,
        "httpd_container_push": True,
        "httpd_container_registry_username": registry.username,
        "httpd_container_registry_password": registry.password,
        "httpd_container_build_root": str(tmp_path / "build"),
        "httpd_container_content_files": {"index.html": "version one\n"},
        "httpd_container_memory": "128m",
    }

    def converge(**overrides):
        return run_playbook(PLAYBOOK, dict(base_vars, **overrides))

    yield {"vars": base_vars, "ports": ports, "converge": converge, "name": unique_name}
    run_playbook(PLAYBOOK, dict(base_vars, httpd_container_state="absent"))


def _ours(docker_client, name):
    containers = docker_client.containers.list(all=True, filters={"label": "io.virtlab.httpd=" + name})
    networks = docker_client.networks.list(names=[name + "-net"])
    return containers, networks


def test_httpd_stack_lifecycle(stack, docker_client, registry, tmp_path):
    first = stack["converge"]()
    assert first["rc"] == 0, first["stdout"][-3000:]
    assert all(_serves(port, "version one") for port in stack["ports"])
    tag = stack["vars"]["httpd_container_image"] + ":1"
    pushed = requests.head("%s/v2/vlt-test/%s/manifests/1" % (registry.url, stack["name"]), auth=registry.auth,
                           headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, timeout=10)
    assert pushed.status_code == 200, "the image was not pushed"

    again = stack["converge"]()
    assert again["rc"] == 0 and again["stats"]["changed"] == 0, [
        task["task"]["name"] for task in again["tasks"] if task["hosts"].get("localhost", {}).get("changed")]

    old_image = docker_client.images.get(tag).id
    poller = Poller(stack["ports"])
    poller.start()
    try:
        rolled = stack["converge"](httpd_container_content_files={"index.html": "version two\n"})
    finally:
        poller.stopping.set()
        poller.join()
    assert rolled["rc"] == 0, rolled["stdout"][-3000:]
    assert docker_client.images.get(tag).id != old_image
    assert all(_serves(port, "version two") for port in stack["ports"])
    assert poller.rounds > 10 and poller.failed_rounds == 0, (poller.rounds, poller.failed_rounds)

    scaled = stack["converge"](httpd_container_content_files={"index.html": "version two\n"}, httpd_container_replicas=1)
    assert scaled["rc"] == 0
    containers, _networks = _ours(docker_client, stack["name"])
    assert [container.name for container in containers] == [stack["name"] + "-0"]
    assert _serves(stack["ports"][0], "version two") and not _serves(stack["ports"][1], "version")

    archive = str(tmp_path / "httpd.tar")
    saved = stack["converge"](httpd_container_content_files={"index.html": "version two\n"}, httpd_container_replicas=1,
                              httpd_container_archive_path=archive)
    assert saved["rc"] == 0
    image_id = docker_client.images.get(tag).id
    stack["converge"](httpd_container_state="absent")
    assert not any(tag in image.tags for image in docker_client.images.list())
    offline = stack["converge"](httpd_container_image_source="archive", httpd_container_archive_path=archive,
                                httpd_container_push=False, httpd_container_replicas=1)
    assert offline["rc"] == 0, offline["stdout"][-3000:]
    assert docker_client.images.get(tag).id == image_id
    assert _serves(stack["ports"][0], "version two")

    gone = stack["converge"](httpd_container_state="absent")
    assert gone["rc"] == 0
    containers, networks = _ours(docker_client, stack["name"])
    assert containers == [] and networks == []
    assert not any(tag in image.tags for image in docker_client.images.list())
    assert not (tmp_path / "build" / stack["name"]).exists()


def test_bad_input_is_refused_before_anything_is_made(stack, docker_client):
    result = stack["converge"](httpd_container_replicas=4)
    assert result["rc"] != 0
    assert "httpd_container_host_ports" in result["stdout"]
    containers, networks = _ours(docker_client, stack["name"])
    assert containers == [] and networks == []
