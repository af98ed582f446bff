# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Proxmox client's pure logic, with a small in-memory API stand-in (no HTTP).

The behaviour against a real HTTPS API is covered by tests/integration/proxmox (fakepve).
"""

from __future__ import annotations

import threading

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    LockedError,
    NotFoundError,
    PermissionDeniedError,
    TaskFailedError,
    TransientError,
    ValidationError,
    WaitTimeoutError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import (
    ConnectionSettings,
    ProxmoxClient,
    VmidAllocator,
    classify_status,
    upid_node,
)

BASE = {"api_host": "pve.example", "api_port": 8006, "validate_certs": True, "ca_path": None,
        "api_timeout": 30, "task_timeout": 60, "lock_timeout": 10}


class StubApi:
    """Answers ``api(path).get/post/...`` from a dict of handlers keyed by (method, path)."""

    def __init__(self, handlers):
        self.handlers = handlers
        self.calls = []

    def __call__(self, path):
        stub = self

        class Resource:
            def __getattr__(self, method):
                def call(**params):
                    stub.calls.append((method, path, params))
                    handler = stub.handlers[(method, path)]
                    return handler(**params) if callable(handler) else handler
                return call
        return Resource()


def client(handlers, **settings):
    params = dict(BASE, api_token_id="root@pam!ci", api_token_secret="s")
    params.update(settings)
    clock = {"now": 1000.0}
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    made = ProxmoxClient(ConnectionSettings.from_params(params), api=StubApi(handlers), sleep=sleep,
                         clock=lambda: clock["now"])
    made.slept = slept
    return made


# ----------------------------------------------------------------------------- settings


def test_token_id_carries_its_user():
    settings = ConnectionSettings.from_params(dict(BASE, api_token_id="automation@pve!ansible", api_token_secret="x"))
    assert settings.user == "automation@pve" and settings.token_id == "ansible"


def test_short_token_id_with_api_user():
    settings = ConnectionSettings.from_params(dict(BASE, api_user="root@pam", api_token_id="ci", api_token_secret="x"))
    assert settings.user == "root@pam" and settings.token_id == "ci"


@pytest.mark.parametrize("params, option", [
    ({"api_token_id": "root@pam!ci"}, "api_token_secret"),
    ({"api_user": "root@pam"}, "api_password"),
    ({"api_password": "x"}, "api_user"),
    ({"api_user": "root", "api_password": "x"}, "api_user"),
    ({"api_user": "bob@pve", "api_token_id": "root@pam!ci", "api_token_secret": "x"}, "api_token_id"),
    ({"api_user": "root@pam", "api_password": "x", "task_timeout": -1}, "task_timeout"),
])
def test_bad_connection_options_name_the_option(params, option):
    with pytest.raises(ValidationError) as error:
        ConnectionSettings.from_params(dict(BASE, **params))
    assert error.value.option == option


@pytest.mark.parametrize("validate, ca_path, verify", [(True, None, True), (True, "/ca.pem", "/ca.pem"),
                                                       (False, "/ca.pem", False)])
def test_verify_is_per_request_value(validate, ca_path, verify):
    settings = ConnectionSettings.from_params(dict(BASE, api_user="root@pam", api_password="x",
                                                   validate_certs=validate, ca_path=ca_path))
    assert settings.verify == verify


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("status, kind", [(400, ValidationError), (401, AuthenticationError),
                                          (403, PermissionDeniedError), (404, NotFoundError),
                                          (500, BackendError), (501, BackendError), (502, TransientError),
                                          (503, TransientError), (595, TransientError), (596, TransientError)])
def test_errors_are_classified_by_status_only(status, kind):
    # the same message text whatever the status: only the status decides
    error = classify_status(status, "VM is locked (backup)")
    assert isinstance(error, kind)
    assert not isinstance(error, TransientError) or kind is TransientError


def test_upid_node():
    assert upid_node("UPID:pve2:0000:0000:0000:qmclone:100:root@pam:") == "pve2"
    with pytest.raises(BackendError):
        upid_node("nonsense")


# ----------------------------------------------------------------------------- tasks

UPID = "UPID:pve1:000003E8:00001B58:65000000:vzstart:100:root@pam:"


def test_wait_task_polls_until_stopped():
    states = iter([{"status": "running"}, {"status": "running"}, {"status": "stopped", "exitstatus": "OK"}])
    api = client({("get", "nodes/pve1/tasks/%s/status" % UPID): lambda: next(states)})
    assert api.wait_task(UPID)["exitstatus"] == "OK"
    assert len(api.slept) == 2


def test_warnings_are_success():
    api = client({("get", "nodes/pve1/tasks/%s/status" % UPID): {"status": "stopped", "exitstatus": "WARNINGS: 2"}})
    assert api.wait_task(UPID)["exitstatus"] == "WARNINGS: 2"


def test_failed_task_carries_exit_status_and_log_tail():
    log = [{"n": n + 1, "t": "line %d" % n} for n in range(30)] + [{"n": 31, "t": "TASK ERROR: boom"}]
    api = client({("get", "nodes/pve1/tasks/%s/status" % UPID): {"status": "stopped", "exitstatus": "boom"},
                  ("get", "nodes/pve1/tasks/%s/log" % UPID): lambda start, limit: log[start:start + limit]})
    with pytest.raises(TaskFailedError) as error:
        api.wait_task(UPID, label="start CT 100")
    assert error.value.exit_status == "boom"
    assert error.value.log_tail[-1] == "TASK ERROR: boom" and len(error.value.log_tail) == 20
    assert "start CT 100" in error.value.message and error.value.details["upid"] == UPID


def test_task_wait_times_out():
    api = client({("get", "nodes/pve1/tasks/%s/status" % UPID): {"status": "running"}}, task_timeout=5)
    with pytest.raises(WaitTimeoutError):
        api.wait_task(UPID)


# ----------------------------------------------------------------------------- locks


def _guest_resources(lock=None):
    item = {"type": "lxc", "vmid": 100, "node": "pve1", "name": "ct", "status": "stopped"}
    if lock:
        item["lock"] = lock
    return [item]


def test_locked_call_waits_for_the_lock_to_go():
    locks = iter(["backup", "backup", None, None])
    api = client({("get", "nodes/pve1/lxc/100/status/current"): lambda: {"lock": next(locks)},
                  ("get", "cluster/resources"): _guest_resources()})
    guest = api.guest(100)
    assert api.locked_call(guest, lambda: "done") == "done"
    assert len(api.slept) == 2


def test_locked_call_gives_up_after_lock_timeout():
    api = client({("get", "nodes/pve1/lxc/100/status/current"): {"lock": "snapshot"},
                  ("get", "cluster/resources"): _guest_resources()}, lock_timeout=3)
    with pytest.raises(LockedError) as error:
        api.locked_call(api.guest(100), lambda: "never")
    assert error.value.details["lock"] == "snapshot"
    assert sum(api.slept) <= 3.0 + 1e-9


def test_other_backend_errors_are_not_retried():
    api = client({("get", "nodes/pve1/lxc/100/status/current"): {},
                  ("get", "cluster/resources"): _guest_resources()})

    def fail():
        raise BackendError("storage full", status=500)
    with pytest.raises(BackendError):
        api.locked_call(api.guest(100), fail)
    assert api.slept == []


# ----------------------------------------------------------------------------- vmids


def test_create_with_vmid_retries_when_another_client_took_the_id():
    taken = set()
    ids = iter([105, 105, 106])

    def resources(type=None):
        return [{"type": "qemu", "vmid": v, "node": "pve1", "name": "other", "status": "stopped"} for v in taken]

    api = client({("get", "cluster/nextid"): lambda: str(next(ids)), ("get", "cluster/resources"): resources})
    attempts = []

    def create(vmid):
        attempts.append(vmid)
        if vmid == 105:
            taken.add(105)   # someone else's create won the race
            raise BackendError("VM 105 already exists", status=500)

    assert api.create_with_vmid(None, create) == 106
    assert attempts == [105, 105, 106]


def test_create_with_given_vmid_is_never_swapped():
    api = client({("get", "cluster/resources"): []})

    def create(vmid):
        raise BackendError("exists", status=500)
    with pytest.raises(BackendError):
        api.create_with_vmid(120, create)


def test_create_failure_without_conflict_is_not_retried():
    api = client({("get", "cluster/nextid"): "100", ("get", "cluster/resources"): []})
    calls = []

    def create(vmid):
        calls.append(vmid)
        raise BackendError("bad parameter", status=500)
    with pytest.raises(BackendError):
        api.create_with_vmid(None, create)
    assert calls == [100]


def test_allocator_hands_out_each_free_id_once_across_threads():
    allocator = VmidAllocator(100, {101, 103})
    got = []
    lock = threading.Lock()

    def take():
        for _attempt in range(50):
            vmid = allocator.next()
            with lock:
                got.append(vmid)
    threads = [threading.Thread(target=take) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == len(set(got)) == 400
    assert 101 not in got and 103 not in got and min(got) == 100


# ----------------------------------------------------------------------------- placement


def _cluster(nodes, storages):
    return lambda type=None: nodes if type == "node" else storages


def test_place_by_free_memory_among_online_nodes_with_the_storage():
    gib = 1024 ** 3
    nodes = [{"node": "pve1", "status": "online", "maxmem": 64 * gib, "mem": 60 * gib},
             {"node": "pve2", "status": "online", "maxmem": 64 * gib, "mem": 10 * gib},
             {"node": "pve3", "status": "offline"},
             {"node": "pve4", "status": "online", "maxmem": 128 * gib, "mem": 1 * gib}]
    storages = [{"node": n, "storage": "local-lvm", "status": "available"} for n in ("pve1", "pve2", "pve3")]
    storages.append({"node": "pve4", "storage": "local-lvm", "status": "unknown"})
    api = client({("get", "cluster/resources"): _cluster(nodes, storages)})
    assert api.place(storages={"local-lvm": "storage"}) == "pve2"
    assert api.place() == "pve4"
    with pytest.raises(ValidationError) as error:
        api.place(storages={"ceph": "storage"})
    assert error.value.option == "storage"
    with pytest.raises(ValidationError) as error:
        api.place(storages={"local-lvm": "storage"}, memory_mib=100 * 1024)
    assert error.value.option == "node"
