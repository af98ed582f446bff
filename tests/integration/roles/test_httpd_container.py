"""The httpd_container role end to end on the real engine and the real authenticated registry.

converge -> the one address (haproxy) serves, no replica is published -> idempotence -> check mode
changes nothing -> content change rolled out replica by replica (drain, replace, ready) while a
poller on the one address sees no failed request and only the old or the new page -> a replica
killed under the poller -> per-replica ports (for a balancer of one's own) -> scale 3 -> 1 under the
poller -> archive save, images removed, load on an "offline" run -> absent leaves nothing of ours.
"""

import collections
import socket
import threading
import time

import pytest
import requests

PLAYBOOK = "tests/integration/roles/httpd_container.yml"
OLD_PAGE = "version one\n"
NEW_PAGE = "version two\n"
RATE = 25  # requests per second the poller aims at; the tests require at least 20


def _free_ports(count):
    sockets = [socket.socket() for _index in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _get(port):
    """(status, body) of one GET on 127.0.0.1:port, (None, error) when no HTTP answer came."""
    try:
        response = requests.get("http://127.0.0.1:%d/" % port, timeout=2)
    except requests.RequestException as exc:
        return None, repr(exc)
    return response.status_code, response.text


def _serves(port, text):
    status, body = _get(port)
    return status == 200 and body == text


class Poller(threading.Thread):
    """GETs one address RATE times a second, each on a new connection; counts every answer.

    A request fails when it gets no HTTP answer, a status other than 200, or a body that is none of
    `pages`. `bodies` counts the 200 bodies; `failures` keeps the first 20 failures for the report.
    """

    def __init__(self, port, pages):
        super().__init__(daemon=True)
        self.port = port
        self.pages = set(pages)
        self.requests = 0
        self.failed = 0
        self.failures = []
        self.bodies = collections.Counter()
        self.duration = 0.0
        self.stopping = threading.Event()

    def run(self):
        started = time.monotonic()
        while not self.stopping.is_set():
            due = started + (self.requests + 1) / RATE
            status, body = _get(self.port)
            self.requests += 1
            if status == 200:
                self.bodies[body] += 1
            if status != 200 or body not in self.pages:
                self.failed += 1
                if len(self.failures) < 20:
                    self.failures.append((round(time.monotonic() - started, 2), status, body[:200]))
            time.sleep(max(0.0, due - time.monotonic()))
        self.duration = time.monotonic() - started

    @property
    def rate(self):
        return self.requests / self.duration if self.duration else 0.0

    def report(self):
        return {"requests": self.requests, "failed": self.failed, "seconds": round(self.duration, 1),
                "rate": round(self.rate, 1), "bodies": dict(self.bodies), "failures": self.failures}


def _polled(port, pages, action):
    """Runs action() while a Poller asks port; returns (action's result, poller)."""
    poller = Poller(port, pages)
    poller.start()
    try:
        time.sleep(1)  # some requests before the action starts
        result = action()
        time.sleep(1)
    finally:
        poller.stopping.set()
        poller.join()
    return result, poller


def _assert_no_failed_request(poller):
    assert poller.requests > 50 and poller.rate >= 20, poller.report()
    assert poller.failed == 0, poller.report()


def _task_name(task):
    """The task's name as written (untemplated), without the "role : " prefix."""
    return task["task"]["name"].split(" : ", 1)[-1]


def _changed(result, prefix):
    """Names of the changed tasks that start with prefix."""
    return [_task_name(task) for task in result["tasks"]
            if _task_name(task).startswith(prefix) and task["hosts"].get("localhost", {}).get("changed")]


@pytest.fixture
def stack(run_playbook, docker_client, registry, unique_name, tmp_path):
    port, *host_ports = _free_ports(4)
    base_vars = {
        "httpd_container_name": unique_name,
        "httpd_container_image": "%s/vlt-test/%s" % (registry.address, unique_name),
        "httpd_container_tag": "1",
        "httpd_container_port": port,
        "httpd_container_host_ports": host_ports,
        "httpd_container_replicas": 3,
        "httpd_container_push": True,
        "httpd_container_registry_username": registry.username,
        "httpd_container_registry_password": registry.password,
        "httpd_container_build_root": str(tmp_path / "build"),
        "httpd_container_content_files": {"index.html": OLD_PAGE},
        "httpd_container_memory": "128m",
    }

    def converge(check=False, **overrides):
        return run_playbook(PLAYBOOK, dict(base_vars, **overrides), check=check)

    yield {"vars": base_vars, "port": port, "host_ports": host_ports, "converge": converge, "name": unique_name}
    run_playbook(PLAYBOOK, dict(base_vars, httpd_container_state="absent"))


def _ours(docker_client, name):
    containers = docker_client.containers.list(all=True, filters={"label": "io.virtlab.httpd=" + name})
    networks = docker_client.networks.list(names=[name + "-net"])
    return containers, networks


def _published(container):
    container.reload()
    return {key: value for key, value in (container.attrs["NetworkSettings"]["Ports"] or {}).items() if value}


def _tags(docker_client):
    return {tag for image in docker_client.images.list() for tag in image.tags}


def test_httpd_stack_lifecycle(stack, docker_client, registry, tmp_path):
    name, port = stack["name"], stack["port"]
    tag = stack["vars"]["httpd_container_image"] + ":1"
    balancer_tag = stack["vars"]["httpd_container_image"] + "-balancer:1"

    first = stack["converge"]()
    assert first["rc"] == 0, first["stdout"][-3000:]
    assert all(_serves(port, OLD_PAGE) for _index in range(10))
    containers, _networks = _ours(docker_client, name)
    by_name = {container.name: container for container in containers}
    assert sorted(by_name) == sorted([name + "-0", name + "-1", name + "-2", name + "-lb"])
    assert list(_published(by_name[name + "-lb"]).values()) == [[{"HostIp": "127.0.0.1", "HostPort": str(port)}]]
    assert not any(_published(by_name[name + "-%d" % index]) for index in range(3)), "replicas must not be published"
    assert not any(_get(host_port)[0] for host_port in stack["host_ports"])
    pushed = requests.head("%s/v2/vlt-test/%s/manifests/1" % (registry.url, name), auth=registry.auth,
                           headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, timeout=10)
    assert pushed.status_code == 200, "the image was not pushed"

    again = stack["converge"]()
    assert again["rc"] == 0 and again["stats"]["changed"] == 0, _changed(again, "")

    old_image = docker_client.images.get(tag).id
    old_ids = sorted(container.id for container in _ours(docker_client, name)[0])
    checked = stack["converge"](check=True, httpd_container_content_files={"index.html": NEW_PAGE})
    assert checked["rc"] == 0, checked["stdout"][-3000:]
    assert docker_client.images.get(tag).id == old_image
    assert sorted(container.id for container in _ours(docker_client, name)[0]) == old_ids
    assert all(_serves(port, OLD_PAGE) for _index in range(10))

    # the rollout: one address, at least 20 requests a second, not one failure, only old or new page
    rolled, poller = _polled(port, [OLD_PAGE, NEW_PAGE],
                             lambda: stack["converge"](httpd_container_content_files={"index.html": NEW_PAGE}))
    assert rolled["rc"] == 0, rolled["stdout"][-3000:]
    print("rollout poller:", poller.report())
    _assert_no_failed_request(poller)
    assert poller.bodies[OLD_PAGE] > 0 and poller.bodies[NEW_PAGE] > 0, poller.report()
    assert docker_client.images.get(tag).id != old_image
    assert len(_changed(rolled, "Drain ")) == 3, "each replica is drained before it is replaced"
    assert len(_changed(rolled, "Put it back to ready")) == 3
    assert all(_serves(port, NEW_PAGE) for _index in range(40))

    # a replica dies: the balancer's health check and retries keep the one address answering
    _result, poller = _polled(port, [NEW_PAGE], lambda: (docker_client.containers.get(name + "-1").kill(), time.sleep(4)))
    print("replica killed, poller:", poller.report())
    _assert_no_failed_request(poller)
    healed = stack["converge"](httpd_container_content_files={"index.html": NEW_PAGE})
    assert healed["rc"] == 0, healed["stdout"][-3000:]
    assert docker_client.containers.get(name + "-1").status == "running"

    # per-replica ports, for a balancer of one's own: a rollout too (the port maps change), under the poller
    published, poller = _polled(port, [NEW_PAGE], lambda: stack["converge"](
        httpd_container_content_files={"index.html": NEW_PAGE}, httpd_container_publish_replicas=True))
    assert published["rc"] == 0, published["stdout"][-3000:]
    print("publishing the replicas, poller:", poller.report())
    _assert_no_failed_request(poller)
    assert all(_serves(host_port, NEW_PAGE) for host_port in stack["host_ports"])

    scaled, poller = _polled(port, [NEW_PAGE], lambda: stack["converge"](
        httpd_container_content_files={"index.html": NEW_PAGE}, httpd_container_publish_replicas=True,
        httpd_container_replicas=1))
    assert scaled["rc"] == 0, scaled["stdout"][-3000:]
    print("scale 3 -> 1, poller:", poller.report())
    _assert_no_failed_request(poller)
    containers, _networks = _ours(docker_client, name)
    assert sorted(container.name for container in containers) == [name + "-0", name + "-lb"]
    assert _serves(stack["host_ports"][0], NEW_PAGE)
    assert not any(_get(host_port)[0] for host_port in stack["host_ports"][1:])
    assert all(_serves(port, NEW_PAGE) for _index in range(10))

    archive = str(tmp_path / "httpd.tar")
    saved = stack["converge"](httpd_container_content_files={"index.html": NEW_PAGE}, httpd_container_replicas=1,
                              httpd_container_archive_path=archive)
    assert saved["rc"] == 0, saved["stdout"][-3000:]
    image_ids = {reference: docker_client.images.get(reference).id for reference in (tag, balancer_tag)}
    stack["converge"](httpd_container_state="absent")
    assert not {tag, balancer_tag} & _tags(docker_client)
    offline = stack["converge"](httpd_container_image_source="archive", httpd_container_archive_path=archive,
                                httpd_container_push=False, httpd_container_replicas=1)
    assert offline["rc"] == 0, offline["stdout"][-3000:]
    assert {reference: docker_client.images.get(reference).id for reference in (tag, balancer_tag)} == image_ids
    assert _serves(port, NEW_PAGE)

    gone = stack["converge"](httpd_container_state="absent")
    assert gone["rc"] == 0
    containers, networks = _ours(docker_client, name)
    assert containers == [] and networks == []
    assert not {tag, balancer_tag} & _tags(docker_client)
    assert not (tmp_path / "build" / name).exists() and not (tmp_path / "build" / (name + "-balancer")).exists()
    assert _get(port)[0] is None


@pytest.mark.parametrize("overrides", [
    {"httpd_container_publish_replicas": True, "httpd_container_replicas": 4},  # 3 host ports for 4 replicas
    {"httpd_container_publish_replicas": True, "httpd_container_port": "first host port"},  # one port twice
    {"httpd_container_publish_replicas": False, "httpd_container_balancer": False},  # no way in
], ids=["too-few-ports", "port-twice", "no-way-in"])
def test_bad_input_is_refused_before_anything_is_made(stack, docker_client, overrides):
    if overrides.get("httpd_container_port") == "first host port":
        overrides = dict(overrides, httpd_container_port=stack["host_ports"][0])
    result = stack["converge"](**overrides)
    assert result["rc"] != 0
    assert "httpd_container_host_ports" in result["stdout"] and "httpd_container_balancer" in result["stdout"]
    assert [_task_name(task) for task in result["tasks"]][-1] == "Check the inputs"
    containers, networks = _ours(docker_client, stack["name"])
    assert containers == [] and networks == []
