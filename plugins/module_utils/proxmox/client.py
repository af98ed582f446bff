# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one Proxmox VE client of the collection: options, connection, errors, tasks, placement.

``PROXMOX_COMMON_ARGS`` is documented by the doc fragment ``virtlab.infra.proxmox`` (same name,
side by side). proxmoxer errors are translated once, by type and HTTP status, into the typed
errors of ``common.errors``. Nothing here knows about ``AnsibleModule``: modules build the
client through ``proxmox.module`` and inventory plugins can build it from a plain dict of the
same option names (``ProxmoxClient.from_params``).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

from ansible.module_utils.basic import env_fallback

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    ConnectionDroppedError,
    LockedError,
    NotFoundError,
    PermissionDeniedError,
    TaskFailedError,
    TransientError,
    ValidationError,
    VirtlabError,
    WaitTimeoutError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.retry import RetryPolicy, call_with_retry
from ansible_collections.virtlab.infra.plugins.module_utils.common.waiter import wait_until

try:
    import proxmoxer
    import proxmoxer.core
    import requests.adapters
    import requests.exceptions
except ImportError:
    HAS_PROXMOXER = False
else:
    HAS_PROXMOXER = True

T = TypeVar("T")

PROXMOX_COMMON_ARGS: dict[str, dict[str, Any]] = {
    "api_host": {"type": "str", "required": True, "fallback": (env_fallback, ["PROXMOX_HOST"])},
    "api_port": {"type": "int", "default": 8006, "fallback": (env_fallback, ["PROXMOX_PORT"])},
    "api_user": {"type": "str", "fallback": (env_fallback, ["PROXMOX_USER"])},
    "api_password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["PROXMOX_PASSWORD"])},
    "api_token_id": {"type": "str", "no_log": False, "fallback": (env_fallback, ["PROXMOX_TOKEN_ID"])},
    "api_token_secret": {"type": "str", "no_log": True, "fallback": (env_fallback, ["PROXMOX_TOKEN_SECRET"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["PROXMOX_VALIDATE_CERTS"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["PROXMOX_CA_PATH"])},
    "api_timeout": {"type": "int", "default": 30},
    "task_timeout": {"type": "int", "default": 900},
    "lock_timeout": {"type": "int", "default": 120},
}

# A dropped connection (reset, refused) is tried again this often; a timeout is not (api_timeout holds).
# Eight attempts: at 30 % loss one call fails with odds 0.3^8 (1 in 15,000), not 0.3^5 (1 in 400, which a
# run of 60 calls meets one time in seven); at most about 10 s of backoff.
_DROP_RETRY = RetryPolicy(attempts=8, base_delay=0.2, max_delay=2.0, retry_on=(ConnectionDroppedError,))

# Statuses that mean "try again later": gateway/proxy trouble and PVE's own 595/596 (node unreachable).
_TRANSIENT_STATUSES = frozenset((502, 503, 504, 595, 596))

# PVE waits 10 s for a guest's config lock file, then answers 500 (or ends the task) with this text and
# nothing structured: ``can't lock file '/run/lock/lxc/pve-config-150.lock' - got timeout`` (containers),
# ``... '/var/lock/qemu-server/lock-150.conf' - got timeout`` (VMs). The one place that reads it.
_CONFIG_LOCK_TIMEOUT = re.compile(r"can't lock file '[^']*(pve-config-|lock-)\d+\.(lock|conf)' - got timeout")


def config_lock_error(status: Optional[int], message: str) -> Optional[LockedError]:
    """A LockedError when PVE gave up waiting for a guest's config lock (another task holds it), else None."""
    if status in (None, 500) and _CONFIG_LOCK_TIMEOUT.search(message or ""):
        return LockedError("%s (another task holds the guest's configuration)" % message,
                           details={"lock": "config", "status": status})
    return None


def proxmox_argument_spec(spec: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A module's own options merged with the shared connection options."""
    merged = dict(PROXMOX_COMMON_ARGS)
    merged.update(spec)
    return merged


def classify_status(status: Optional[int], message: str, errors: Any = None) -> VirtlabError:
    """The typed error of a PVE answer, decided by its HTTP status (and, for a 500, by whether it is the
    config-lock timeout, which PVE reports with no other mark than its fixed text)."""
    details: dict[str, Any] = {"status": status}
    if errors:
        details["errors"] = errors
    if status == 400:
        return ValidationError(message, details=details)
    if status == 401:
        return AuthenticationError(message, details=details)
    if status == 403:
        return PermissionDeniedError(message, details=details)
    if status == 404:
        return NotFoundError(message, details=details)
    if status in _TRANSIENT_STATUSES:
        return TransientError(message, details=details)
    locked = config_lock_error(status, message)
    if locked is not None:
        return locked
    return BackendError(message, status=status, details={"errors": errors} if errors else None)


def translate_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator: proxmoxer and transport errors become typed errors, classified by type and status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except proxmoxer.core.ResourceException as error:
            message = "%s: %s" % (error.status_message, error.content) if error.content else str(error.status_message)
            if error.errors:
                message += " (%s)" % error.errors
            raise classify_status(error.status_code, message, error.errors) from error
        except proxmoxer.core.AuthenticationError as error:
            raise AuthenticationError(str(error)) from error
        except requests.exceptions.SSLError as error:
            raise ValidationError(
                "TLS verification of the API failed (give ca_path, or validate_certs=false at your own risk): %s"
                % error, option="validate_certs") from error
        except requests.exceptions.Timeout as error:
            raise TransientError("the Proxmox VE API did not answer within api_timeout: %s" % error) from error
        except requests.exceptions.ConnectionError as error:
            raise ConnectionDroppedError("cannot reach the Proxmox VE API: %s" % error) from error
        except requests.exceptions.RequestException as error:
            raise ValidationError("cannot call the Proxmox VE API: %s" % error, option="api_host") from error

    return wrapper


def _form(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters as PVE wants them: booleans as 0/1, None dropped."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = int(value) if isinstance(value, bool) else value
    return out


def upid_node(upid: str) -> str:
    """The node a task runs on, from its UPID (``UPID:node:...``)."""
    parts = str(upid).split(":")
    if len(parts) < 3 or parts[0] != "UPID":
        raise BackendError("not a task id: %r" % (upid,))
    return parts[1]


def task_ok(exitstatus: Any) -> bool:
    """PVE ends a good task with ``OK`` or ``WARNINGS: n``."""
    text = str(exitstatus or "")
    return text == "OK" or text.startswith("WARNINGS")


@dataclass(frozen=True)
class Guest:
    """A guest as ``/cluster/resources`` lists it."""

    vmid: int
    kind: str  # "lxc" or "qemu"
    node: str
    name: str
    status: str
    template: bool
    lock: Optional[str] = None
    pool: Optional[str] = None

    @classmethod
    def from_resource(cls, item: Mapping[str, Any]) -> "Guest":
        return cls(vmid=int(item["vmid"]), kind=str(item["type"]), node=str(item["node"]),
                   name=str(item.get("name") or ""), status=str(item.get("status") or "unknown"),
                   template=bool(item.get("template")), lock=item.get("lock") or None, pool=item.get("pool"))

    @property
    def path(self) -> str:
        return "nodes/%s/%s/%d" % (self.node, self.kind, self.vmid)


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int = 8006
    user: Optional[str] = None
    password: Optional[str] = None
    token_id: Optional[str] = None
    token_secret: Optional[str] = None
    validate_certs: bool = True
    ca_path: Optional[str] = None
    api_timeout: int = 30
    task_timeout: int = 900
    lock_timeout: int = 120

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ConnectionSettings":
        token_id = params.get("api_token_id")
        user = params.get("api_user")
        if token_id and "!" in token_id:
            token_user, token_id = token_id.split("!", 1)
            if user and user != token_user:
                raise ValidationError("the token belongs to %s, not to api_user %s" % (token_user, user),
                                      option="api_token_id")
            user = token_user
        if token_id and not params.get("api_token_secret"):
            raise ValidationError("api_token_secret is required with api_token_id", option="api_token_secret")
        if not token_id and not params.get("api_password"):
            raise ValidationError("give api_token_id + api_token_secret, or api_user + api_password",
                                  option="api_password")
        if not user:
            raise ValidationError("the user is unknown: give api_user or a token id user@realm!name",
                                  option="api_user")
        if "@" not in user:
            raise ValidationError("%r lacks its realm (root@pam)" % user, option="api_user")
        port = params.get("api_port")
        if port is not None and not 0 < port < 65536:
            raise ValidationError("%r is not a TCP port (1-65535)" % (port,), option="api_port")
        for option in ("api_timeout", "task_timeout", "lock_timeout"):
            if params.get(option) is not None and params[option] < 0:
                raise ValidationError("must not be negative", option=option)
        return cls(host=params["api_host"], port=params.get("api_port") or 8006, user=user,
                   password=params.get("api_password"), token_id=token_id or None,
                   token_secret=params.get("api_token_secret"),
                   validate_certs=params.get("validate_certs", True) is not False, ca_path=params.get("ca_path"),
                   api_timeout=params.get("api_timeout") or 30, task_timeout=params.get("task_timeout") or 900,
                   lock_timeout=params.get("lock_timeout") if params.get("lock_timeout") is not None else 120)

    @property
    def verify(self) -> Any:
        """What requests gets per request as ``verify`` (a session-level value would lose to REQUESTS_CA_BUNDLE)."""
        if not self.validate_certs:
            return False
        return self.ca_path or True


class VmidAllocator:
    """Free vmids for the creates of one run, handed out once each, thread-safe.

    Starts at /cluster/nextid and skips the ids the cluster already uses; an id that another client
    takes meanwhile only makes that create fail and ask for the next one (see ``create_with_vmid``).
    """

    def __init__(self, first: int, used: set[int]) -> None:
        self._next = first
        self._used = set(used)
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            while self._next in self._used:
                self._next += 1
            vmid = self._next
            self._used.add(vmid)
            return vmid


class ProxmoxClient:
    """Proxmox VE API access over proxmoxer: calls, tasks, lock retries, guest lookup, vmid and node choice."""

    def __init__(self, settings: ConnectionSettings, *, api: Any = None, sleep: Callable[[float], Any] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        # connected on first use, so building a client validates options without any network traffic
        self._api_handle = api
        self._connect_lock = threading.Lock()
        # hands out vmids to the creates of one batch; None: ask /cluster/nextid each time
        self.allocator: Optional[VmidAllocator] = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ProxmoxClient":
        return cls(ConnectionSettings.from_params(params))

    @translate_errors
    def _connect(self) -> Any:
        s = self.settings
        common = {"port": s.port, "user": s.user, "verify_ssl": s.verify, "timeout": s.api_timeout}
        if s.token_id:
            return proxmoxer.ProxmoxAPI(s.host, token_name=s.token_id, token_value=s.token_secret, **common)
        # a ticket login (+ CSRF token); proxmoxer renews the ticket before it expires
        return proxmoxer.ProxmoxAPI(s.host, password=s.password, **common)

    # ------------------------------------------------------------------ raw calls

    @property
    def _api(self) -> Any:
        if self._api_handle is None:
            with self._connect_lock:
                if self._api_handle is None:
                    self._api_handle = self._connect()
        return self._api_handle

    @translate_errors
    def _raw_call(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        resource = self._api(path.strip("/"))
        return getattr(resource, method)(**_form(params))

    def _call(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        """One API call; a dropped connection is retried with backoff (a few times, then the error stands).

        fakepve and a real cluster behind a flaky network both drop requests. A POST repeated after a drop
        may have run the first time: its error then carries ``retried_after_drop`` so that
        ``create_with_vmid`` adopts a guest its own lost request made instead of creating another one.
        """
        dropped = []

        def once() -> Any:
            try:
                return self._call_once(method, path, params)
            except ConnectionDroppedError:
                dropped.append(True)
                raise

        try:
            return call_with_retry(once, _DROP_RETRY, sleep=self._sleep, clock=self._clock)
        except VirtlabError as error:
            if dropped and method == "post" and not isinstance(error, ConnectionDroppedError):
                error.details["retried_after_drop"] = True
            raise

    def _call_once(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        logged_in = self._api_handle is not None
        try:
            return self._raw_call(method, path, params)
        except AuthenticationError:
            if self.settings.token_id or not logged_in:
                raise
            # a ticket that expired or was revoked: log in once more and repeat the request
            with self._connect_lock:
                self._api_handle = self._connect()
            return self._raw_call(method, path, params)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, params)

    def share_connections(self, threads: int) -> None:
        """Let ``threads`` threads each keep a connection to the API (requests keeps 10 per host by default).

        Connects (and logs in) now if not done yet. Without it, more than 10 concurrent callers keep
        opening and dropping TLS connections.
        """
        store = getattr(self._api, "_store", None)
        session = store.get("session") if isinstance(store, dict) else None
        if session is not None and threads > requests.adapters.DEFAULT_POOLSIZE:
            session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=threads))

    def post(self, path: str, **params: Any) -> Any:
        return self._call("post", path, params)

    def put(self, path: str, **params: Any) -> Any:
        return self._call("put", path, params)

    def delete(self, path: str, **params: Any) -> Any:
        return self._call("delete", path, params)

    def upload(self, node: str, storage: str, content: str, handle: Any) -> str:
        """Upload an open file (ISO or container template) under its base name; returns the task id."""
        # not repeated after a re-login: the file would already be consumed
        return self._raw_call("post", "nodes/%s/storage/%s/upload" % (node, storage),
                              {"content": content, "filename": handle})

    # ------------------------------------------------------------------ tasks

    def task_status(self, upid: str) -> dict[str, Any]:
        return self.get("nodes/%s/tasks/%s/status" % (upid_node(upid), upid))

    def task_log_tail(self, upid: str, lines: int = 20) -> list[str]:
        """The last ``lines`` lines of a task's log."""
        path = "nodes/%s/tasks/%s/log" % (upid_node(upid), upid)
        log: list[str] = []
        start = 0
        while True:
            chunk = self.get(path, start=start, limit=500) or []
            log.extend(str(entry.get("t", "")) for entry in chunk)
            if len(chunk) < 500:
                break
            start += len(chunk)
        return log[-lines:]

    def wait_task(self, upid: Any, *, timeout: Optional[float] = None, label: str = "") -> dict[str, Any]:
        """Wait for a task through the one waiter; TaskFailedError (exit status + log tail) unless it ended OK."""
        if not upid:
            return {}
        upid = str(upid)
        transient = RetryPolicy(attempts=5, base_delay=0.5, max_delay=5.0)

        def fetch() -> dict[str, Any]:
            return call_with_retry(lambda: self.task_status(upid), transient, sleep=self._sleep, clock=self._clock)

        def finished(status: dict[str, Any]) -> bool:
            if status.get("status") != "stopped":
                return False
            if task_ok(status.get("exitstatus")):
                return True
            locked = config_lock_error(None, str(status.get("exitstatus")))
            if locked is not None:
                # the task gave up before doing anything: retried like a visible lock by locked_call
                locked.details["upid"] = upid
                raise locked
            tail = self.task_log_tail(upid)
            raise TaskFailedError(
                "task %s%s failed: %s" % (upid, " (%s)" % label if label else "", status.get("exitstatus")),
                exit_status=status.get("exitstatus"), log_tail=tail, details={"upid": upid})

        limit = self.settings.task_timeout if timeout is None else timeout
        try:
            return wait_until(fetch, finished, timeout=limit,
                              interval=0.1, backoff=1.5, max_interval=2.0, description="task %s" % upid,
                              describe=lambda s: {"status": s.get("status"), "upid": upid}, sleep=self._sleep,
                              clock=self._clock)
        except WaitTimeoutError as error:
            raise WaitTimeoutError(
                "task %s%s still runs after %gs (task_timeout); it goes on in the cluster" % (
                    upid, " (%s)" % label if label else "", limit),
                last_state=error.last_state, details={"upid": upid, "still_running": True}) from error

    def run_task(self, method: str, path: str, *, label: str = "", **params: Any) -> dict[str, Any]:
        """Start an asynchronous call and wait for its task."""
        upid = self._call(method, path, params)
        return self.wait_task(upid, label=label or "%s %s" % (method.upper(), path))

    # ------------------------------------------------------------------ guests

    def resources(self, kind: Optional[str] = None) -> list[dict[str, Any]]:
        return self.get("cluster/resources", **({"type": kind} if kind else {})) or []

    def guests(self) -> list[Guest]:
        return [Guest.from_resource(r) for r in self.resources("vm") if r.get("type") in ("lxc", "qemu")]

    def guest(self, vmid: int) -> Optional[Guest]:
        for guest in self.guests():
            if guest.vmid == int(vmid):
                return guest
        return None

    def find_guest(self, *, vmid: Optional[int] = None, name: Optional[str] = None, kind: Optional[str] = None,
                   option: str = "name") -> Optional[Guest]:
        """The guest with this vmid, else the only guest of this kind with this name; None when there is none."""
        if vmid is not None:
            found = self.guest(vmid)
            if found is not None and kind and found.kind != kind:
                raise ConflictError("vmid %d is a %s guest, not %s" % (vmid, found.kind, kind),
                                    details={"vmid": vmid})
            return found
        if not name:
            return None
        matches = [g for g in self.guests() if g.name == name and (kind is None or g.kind == kind)]
        if len(matches) > 1:
            raise ValidationError("%d guests are named %r (vmids %s); give vmid" % (
                len(matches), name, ", ".join(str(g.vmid) for g in matches)), option=option)
        return matches[0] if matches else None

    def guest_config(self, guest: Guest) -> dict[str, Any]:
        return self.get(guest.path + "/config") or {}

    def guest_status(self, guest: Guest) -> dict[str, Any]:
        return self.get(guest.path + "/status/current") or {}

    def refresh(self, guest: Guest) -> Guest:
        found = self.guest(guest.vmid)
        if found is None:
            raise NotFoundError("guest %d disappeared" % guest.vmid)
        return found

    def current_lock(self, guest: Guest) -> Optional[str]:
        """The guest's config lock (backup, snapshot, clone, migrate...), read from its status, or None."""
        try:
            return self.guest_status(guest).get("lock") or None
        except BackendError:
            return None

    def locked_call(self, guest: Guest, action: Callable[[], T]) -> T:
        """Run ``action`` on a guest, waiting with backoff while the guest is locked (up to lock_timeout).

        Whether the guest is locked is read from its status (structured), before the action and after
        a failure, never from an error message.
        """
        def attempt() -> T:
            lock = self.current_lock(guest)
            if lock:
                raise LockedError("guest %d is locked (%s)" % (guest.vmid, lock), details={"lock": lock})
            try:
                return action()
            except (BackendError, TaskFailedError) as error:
                lock = self.current_lock(guest)
                if lock:
                    raise LockedError("guest %d is locked (%s)" % (guest.vmid, lock),
                                      details={"lock": lock}) from error
                raise

        policy = RetryPolicy(attempts=None, timeout=self.settings.lock_timeout, base_delay=0.5, max_delay=5.0,
                             retry_on=(LockedError,))
        return call_with_retry(attempt, policy, sleep=self._sleep, clock=self._clock)

    # ------------------------------------------------------------------ vmid allocation

    def create_with_vmid(self, vmid: Optional[int], create: Callable[[int], Any], *, attempts: int = 25,
                         name: Optional[str] = None, kind: Optional[str] = None) -> int:
        """Create a guest with the given vmid or with one allocated from /cluster/nextid; returns the vmid.

        ``create(vmid)`` makes the creating request (and waits for its task). Concurrent runs may
        get the same free id: when our request fails and the id now belongs to a guest, that guest
        is someone else's, so a new id is taken (with jittered backoff). A given vmid is never
        swapped for another one.

        With ``name`` and ``kind`` (a guest wanted by name), concurrent runs that want the same guest
        make it once: a twin that appeared since the caller looked is adopted instead of creating, the
        guest that took our id is adopted when it is that twin, and after our create the guest with the
        lowest vmid of that name wins -- a higher one of ours is removed again.
        """
        if vmid is not None:
            create(vmid)
            return vmid
        allocator = self.allocator
        policy = RetryPolicy(attempts=attempts, base_delay=0.05, max_delay=1.0, retry_on=(ConflictError,))

        def twins() -> list[Guest]:
            return sorted((g for g in self.guests() if g.name == name and g.kind == kind), key=lambda g: g.vmid)

        def attempt() -> int:
            candidate = allocator.next() if allocator is not None else int(self.get("cluster/nextid"))
            if name and allocator is None:
                found = twins()
                if found:
                    return found[0].vmid
            try:
                create(candidate)
            except (BackendError, ValidationError) as error:
                holder = self.guest(candidate)
                if holder is not None:
                    if error.details.get("retried_after_drop"):
                        # our first request made it; only its answer was lost
                        return candidate
                    if name and holder.name == name and holder.kind == kind:
                        # a concurrent run made the very guest we want under this id
                        return candidate
                    raise ConflictError("vmid %d was taken by another client" % candidate) from error
                raise
            if name and allocator is None:
                found = twins()
                if found and found[0].vmid != candidate:
                    ours = self.guest(candidate)
                    if ours is not None:
                        self.run_task("delete", ours.path, purge=1, label="remove a twin of guest %d" % found[0].vmid,
                                      **{"destroy-unreferenced-disks": 1})
                    return found[0].vmid
            return candidate

        return call_with_retry(attempt, policy, sleep=self._sleep, clock=self._clock)

    def new_allocator(self) -> VmidAllocator:
        """An allocator for many creates at once (one nextid call, no id handed out twice)."""
        return VmidAllocator(int(self.get("cluster/nextid")), {g.vmid for g in self.guests()})

    # ------------------------------------------------------------------ nodes and storage

    def nodes(self) -> list[dict[str, Any]]:
        return list(self.resources("node"))

    def storages(self) -> list[dict[str, Any]]:
        return list(self.resources("storage"))

    def check_node(self, node: str, *, storages: Optional[Mapping[str, str]] = None, option: str = "node") -> None:
        """Fail naming ``option`` when the node is unknown or offline, or the option of a storage it lacks.

        ``storages`` maps each storage the guest needs to the option that asked for it.
        """
        known = {n["node"]: n for n in self.nodes()}
        if node not in known:
            raise ValidationError("no node %r in the cluster (nodes: %s)" % (node, ", ".join(sorted(known))),
                                  option=option)
        if known[node].get("status") != "online":
            raise ValidationError("node %r is %s" % (node, known[node].get("status")), option=option)
        have = {s["storage"] for s in self.storages() if s.get("node") == node and s.get("status") == "available"}
        for storage, storage_option in (storages or {}).items():
            if storage and storage not in have:
                raise ValidationError("storage %r is not available on node %r" % (storage, node),
                                      option=storage_option)

    def place(self, *, storages: Optional[Mapping[str, str]] = None, memory_mib: int = 0) -> str:
        """The online node with the most free memory among those where every storage is available.

        ``storages`` maps each needed storage to the option that asked for it (named in errors).
        """
        needed = {s: o for s, o in (storages or {}).items() if s}
        online = [n for n in self.nodes() if n.get("status") == "online"]
        available: dict[str, set[str]] = {}
        for item in self.storages():
            if item.get("status") == "available":
                available.setdefault(item["node"], set()).add(item["storage"])
        for storage, option in needed.items():
            if not any(storage in available.get(n["node"], set()) for n in online):
                raise ValidationError("storage %r is not available on any online node" % storage, option=option)
        candidates = []
        for node in online:
            if not all(s in available.get(node["node"], set()) for s in needed):
                continue
            free = int(node.get("maxmem") or 0) - int(node.get("mem") or 0)
            if free < memory_mib * 1024 * 1024:
                continue
            candidates.append((free, node["node"]))
        if not candidates:
            raise ValidationError(
                "no online node has %s available%s" % (
                    " and ".join(repr(s) for s in needed) or "room",
                    " and %d MiB of free memory" % memory_mib if memory_mib else ""), option="node")
        candidates.sort(key=lambda item: (-item[0], item[1]))
        return candidates[0][1]

    def check_pool(self, pool: Optional[str], *, option: str = "pool") -> None:
        """Fail naming ``option`` when a resource pool is given that the cluster does not have."""
        if not pool:
            return
        known = {str(item.get("poolid")) for item in self.get("pools") or []}
        if pool not in known:
            raise ValidationError("no resource pool %r (pools: %s)" % (pool, ", ".join(sorted(known)) or "none"),
                                  option=option)

    def storage_content(self, node: str, storage: str, content: Optional[str] = None) -> list[dict[str, Any]]:
        params = {"content": content} if content else {}
        return self.get("nodes/%s/storage/%s/content" % (node, storage), **params) or []

    def volume_exists(self, node: str, volid: str, content: Optional[str] = None) -> bool:
        storage = volid.partition(":")[0]
        return any(item.get("volid") == volid for item in self.storage_content(node, storage, content))


_VOLID_RE = re.compile(r"^[a-zA-Z][-\w.]*:.+$")


def check_volid(value: str, *, option: str, content: Optional[str] = None) -> str:
    """A volume id ``storage:content/file`` (for example ``local:vztmpl/debian-12.tar.zst``)."""
    if not _VOLID_RE.match(value or ""):
        raise ValidationError("%r is not a volume id like local:vztmpl/debian-12-standard.tar.zst" % value,
                              option=option)
    if content and not value.partition(":")[2].startswith(content + "/"):
        raise ValidationError("%r is not a %s volume (storage:%s/<file>)" % (value, content, content), option=option)
    return value


def check_vmid(value: Optional[int], *, option: str = "vmid") -> Optional[int]:
    """A guest id PVE accepts (100-999999999), or None."""
    if value is not None and not 100 <= value <= 999999999:
        raise ValidationError("must be within 100-999999999", option=option)
    return value
