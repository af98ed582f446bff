# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dev/test clone sets (FlexClone style), independent of the platform.

One *golden* source (a libvirt volume, a Proxmox template, a Docker image + data volume)
is frozen into *versions* (a protected, read-only copy or snapshot labelled by
``golden_version``); every user of a *clone set* gets a private copy-on-write clone of a
version. ``DevtestService`` decides what to do from the desired clone list and what the
``CloneBackend`` of a platform reports, and returns ``changed``, per-clone results, a diff and
a savings report. Backends only do platform I/O.

Rules kept here, for every platform:

* a new ``golden_version`` label freezes a new version (``present``/``refresh``/``reset``); the
  golden itself is never changed or removed;
* clones keep their version until refreshed; ``refresh`` replaces only clones on an older version
  which did not opt out (``refresh: false``) and are not split;
* ``reset`` destroys the target clones and clones them again from the version they use;
* ``split`` makes the target clones independent of their version (they stay in the set);
* ``teardown`` removes the set's clones (all, or the ``targets``) and versions no clone uses;
  ``expire`` removes the set's clones whose expiry has passed;
* a version still used by a clone is never removed; the current version is kept for new clones
  (except after a full teardown);
* only objects whose metadata says they belong to the set are touched: a foreign object with a
  clone's name is refused, naming ``clones[i].name``;
* check mode plans and reports, and changes nothing.
"""

from __future__ import annotations

import abc
import datetime
import re
import time
import traceback
from collections.abc import Callable
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

try:
    import netaddr
except ImportError:
    netaddr = None
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None

ACTIONS = ("present", "refresh", "reset", "teardown", "expire", "split")

DEVTEST_COMMON_ARGS: dict[str, dict[str, Any]] = {
    "set_name": {"type": "str", "required": True},
    "golden_version": {"type": "str", "required": True},
    "clones": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "user": {"type": "str", "required": True},
            "name": {"type": "str"},
            "address": {"type": "str"},
            "expires": {"type": "str"},
            "refresh": {"type": "bool", "default": True},
        },
    },
    "action": {"type": "str", "choices": list(ACTIONS), "default": "present"},
    "targets": {"type": "list", "elements": "str", "default": []},
    "address_pool": {"type": "str"},
    "default_lifetime": {"type": "str"},
}

_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_DURATION_RE = re.compile(r"\s*(\d+)\s*([mhdw])\s*", re.IGNORECASE)
_DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def devtest_argument_spec(spec: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A module's own (platform) options plus ``DEVTEST_COMMON_ARGS``."""
    merged = dict(DEVTEST_COMMON_ARGS)
    merged.update(spec)
    return merged


# ---------------------------------------------------------------------------- small helpers

def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def format_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime(_TIME_FORMAT)


def parse_time(value: str, *, option: str) -> datetime.datetime:
    """An ISO date (``2026-12-31``, midnight UTC) or date-time (naive means UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"invalid date {value!r}; expected an ISO date (2026-12-31), date-time or a duration like 7d",
            option=option) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def parse_duration(value: str, *, option: str) -> datetime.timedelta:
    """``30m``, ``12h``, ``7d``, ``2w``."""
    match = _DURATION_RE.fullmatch(value)
    if match is None:
        raise ValidationError(f"invalid duration {value!r}; expected a number and m, h, d or w (7d)", option=option)
    seconds = int(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValidationError(f"duration {value!r} must be positive", option=option)
    return datetime.timedelta(seconds=seconds)


def is_duration(value: str) -> bool:
    return _DURATION_RE.fullmatch(value) is not None


def human_bytes(value: Optional[float]) -> str:
    """``1536`` -> ``1.5 KiB``."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def summary(clone: dict[str, Any]) -> dict[str, Any]:
    """The part of a clone record shown in the diff."""
    return {key: clone.get(key) for key in ("name", "user", "version", "address", "expires", "split")}


# ---------------------------------------------------------------------------- backend interface

class CloneBackend(abc.ABC):
    """What one platform does for ``DevtestService``. Records are plain dicts:

    clone: ``name``, ``user``, ``set``, ``version`` (label), ``created`` and ``expires`` (``format_time``
    strings; ``expires`` may be None), ``address`` (or None), ``split`` (bool), ``logical_size`` (bytes the
    clone shows to its user) and ``added_bytes`` (real disk the clone adds beyond its version); extra keys
    (``path``, ``id``...) are returned to the user as they are.

    version: ``version`` (label), ``created``, ``logical_size``, ``allocated`` (real disk of the frozen copy,
    shared by its clones); extra keys allowed.

    Methods raise the typed errors of ``common.errors``; a failed create leaves nothing behind.
    """

    #: appended to derived clone names (".qcow2" for volumes); "" where names carry no suffix
    name_suffix = ""

    @abc.abstractmethod
    def golden(self) -> dict[str, Any]:
        """The golden source: ``name`` (used in derived clone names), ``logical_size``, ``allocated``.
        Raise ``ValidationError`` naming the platform option when it is missing."""

    @abc.abstractmethod
    def list_versions(self) -> list[dict[str, Any]]:
        """The set's frozen versions, oldest first."""

    @abc.abstractmethod
    def list_clones(self) -> list[dict[str, Any]]:
        """The clones whose metadata says they belong to this set, measured."""

    @abc.abstractmethod
    def foreign(self, name: str) -> Optional[str]:
        """A description of an object called ``name`` that is *not* a clone of this set (None if free)."""

    @abc.abstractmethod
    def freeze_version(self, label: str) -> dict[str, Any]:
        """Freeze the golden's current content as version ``label`` (protected, read-only)."""

    @abc.abstractmethod
    def delete_version(self, version: dict[str, Any]) -> None:
        """Remove a version no clone uses any more."""

    @abc.abstractmethod
    def create_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        """Create ``clone`` (name, user, set, version, created, expires, address, split=False) as a
        copy-on-write clone of ``version``, store its metadata, and return its measured record."""

    @abc.abstractmethod
    def delete_clone(self, clone: dict[str, Any]) -> None:
        """Remove a clone of this set and its metadata."""

    @abc.abstractmethod
    def split_clone(self, clone: dict[str, Any]) -> dict[str, Any]:
        """Make a clone independent of its version (metadata ``split: true``); return it measured."""

    def update_clone(self, clone: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Change metadata only (``expires``, ``address``); return the updated record."""
        raise ValidationError(
            f"clone {clone['name']} exists with other {', '.join(sorted(changes))}; this platform cannot change "
            "them in place - reset the clone", option="clones")

    def predict_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        """What ``create_clone`` would return, for check mode."""
        record = dict(clone)
        record.update({"logical_size": version.get("logical_size"), "added_bytes": 0})
        return record

    def predict_version(self, label: str, golden: dict[str, Any]) -> dict[str, Any]:
        """What ``freeze_version`` would return, for check mode."""
        return {"version": label, "created": None, "logical_size": golden.get("logical_size"),
                "allocated": golden.get("allocated")}

    def finish(self) -> None:
        """Called once after all changes (not in check mode): flush ledgers, refresh pools."""


# ---------------------------------------------------------------------------- the service

class DevtestService:
    """Plan and apply one run over a clone set. ``params`` holds ``DEVTEST_COMMON_ARGS``."""

    def __init__(self, backend: CloneBackend, params: dict[str, Any], check_mode: bool = False,
                 now: Optional[Callable[[], datetime.datetime]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.params = params
        self.check_mode = check_mode
        self.now = (now or utcnow)()
        self.clock = clock
        self.set_name: str = params["set_name"]
        self.label: str = params["golden_version"]
        self.action: str = params.get("action") or "present"
        self.changed = False
        self.results: list[dict[str, Any]] = []

    # ------------------------------------------------------------ validation

    def _validate_top(self) -> None:
        if not self.set_name or _LABEL_RE.fullmatch(self.set_name) is None:
            raise ValidationError(f"invalid set name {self.set_name!r}; letters, digits, '.', '_', '-' "
                                  "(up to 63, starting with a letter or digit)", option="set_name")
        if not self.label or _LABEL_RE.fullmatch(self.label) is None:
            raise ValidationError(f"invalid label {self.label!r}; letters, digits, '.', '_', '-' "
                                  "(up to 63, starting with a letter or digit)", option="golden_version")
        if self.action not in ACTIONS:
            raise ValidationError(f"unknown action {self.action!r}; one of {', '.join(ACTIONS)}", option="action")
        if self.params.get("default_lifetime"):
            parse_duration(self.params["default_lifetime"], option="default_lifetime")

    def desired(self, golden_name: str) -> list[dict[str, Any]]:
        """The validated clone list: name (derived when missing), user, address, expires spec, refresh."""
        stem = derive_stem(golden_name, self.backend.name_suffix)
        out: list[dict[str, Any]] = []
        users: dict[str, int] = {}
        names: dict[str, int] = {}
        for index, item in enumerate(self.params.get("clones") or []):
            if not isinstance(item, dict):
                raise ValidationError("each entry must be a dict with at least 'user'", option=f"clones[{index}]")
            user = item.get("user")
            if not user or not isinstance(user, str) or _LABEL_RE.fullmatch(user) is None:
                raise ValidationError(f"invalid user {user!r}; letters, digits, '.', '_', '-'",
                                      option=f"clones[{index}].user")
            if user in users:
                raise ValidationError(f"user {user!r} is also clones[{users[user]}].user; one clone per user",
                                      option=f"clones[{index}].user")
            users[user] = index
            name = item.get("name") or f"{stem}-{self.set_name}-{user}{self.backend.name_suffix}"
            if _NAME_RE.fullmatch(name) is None:
                raise ValidationError(f"invalid clone name {name!r}; letters, digits, '.', '_', '-'",
                                      option=f"clones[{index}].name")
            if name in names:
                raise ValidationError(f"name {name!r} is also the name of clones[{names[name]}]",
                                      option=f"clones[{index}].name")
            names[name] = index
            expires = item.get("expires")
            if expires:
                if is_duration(expires):
                    parse_duration(expires, option=f"clones[{index}].expires")
                else:
                    parse_time(expires, option=f"clones[{index}].expires")
            address = item.get("address")
            if address:
                address = parse_address(address, option=f"clones[{index}].address")
            refresh = item.get("refresh")
            out.append({"index": index, "name": name, "user": user, "address": address, "expires": expires,
                        "refresh": True if refresh is None else bool(refresh)})
        return out

    def _targets(self, desired: list[dict[str, Any]], existing: dict[str, dict[str, Any]]) -> set[str]:
        """Clone names meant by ``targets`` (user names or clone names)."""
        targets = list(self.params.get("targets") or [])
        if self.action in ("reset", "split") and not targets:
            raise ValidationError(f"action={self.action} needs the users whose clones to {self.action}",
                                  option="targets")
        by_user = {d["user"]: d["name"] for d in desired}
        by_user.update({c["user"]: c["name"] for c in existing.values() if c.get("user") not in by_user})
        names = {d["name"] for d in desired} | set(existing)
        out = set()
        for target in targets:
            if target in by_user:
                out.add(by_user[target])
            elif target in names:
                out.add(target)
            elif self.action in ("reset", "split"):
                raise ValidationError(f"{target!r} is neither a user nor a clone of set {self.set_name}",
                                      option="targets")
        return out

    # ------------------------------------------------------------ addresses and expiry

    def assign_addresses(self, desired: list[dict[str, Any]], existing: dict[str, dict[str, Any]]) -> None:
        """Fixed addresses first, then an existing clone's address (if still in the pool), then the lowest
        free host addresses of ``address_pool``, in list order."""
        cidr = self.params.get("address_pool")
        network = parse_network(cidr) if cidr else None
        taken: dict[str, str] = {}
        for item in desired:
            if item["address"]:
                option = f"clones[{item['index']}].address"
                if item["address"] in taken:
                    raise ValidationError(f"{item['address']} is also the address of {taken[item['address']]}",
                                          option=option)
                taken[item["address"]] = item["name"]
        pending = []
        for item in desired:
            if item["address"]:
                continue
            have = (existing.get(item["name"]) or {}).get("address")
            if have and have not in taken and (network is None or netaddr.IPAddress(have) in network):
                item["address"] = have
                taken[have] = item["name"]
            elif network is not None:
                pending.append(item)
        if not pending:
            return
        # addresses of set clones that are not in the list stay reserved while those clones exist
        for clone in existing.values():
            if clone.get("address") and clone["address"] not in taken:
                taken[clone["address"]] = clone["name"]
        hosts = (str(ip) for ip in network.iter_hosts())
        for item in pending:
            for candidate in hosts:
                if candidate not in taken:
                    item["address"] = candidate
                    taken[candidate] = item["name"]
                    break
            else:
                raise ValidationError(
                    f"{cidr} has no free address left for {item['name']} ({len(pending)} to allocate, "
                    f"{len(taken)} in use); use a larger pool", option="address_pool")

    def expiry_for(self, item: dict[str, Any]) -> Optional[str]:
        spec = item.get("expires") or self.params.get("default_lifetime")
        if not spec:
            return None
        if is_duration(spec):
            return format_time(self.now + parse_duration(spec, option="expires"))
        return format_time(parse_time(spec, option="expires"))

    # ------------------------------------------------------------ entry point

    def run(self) -> dict[str, Any]:
        self._validate_top()
        golden = self.backend.golden()
        desired = self.desired(golden["name"])
        versions = self.backend.list_versions()
        by_label = {v["version"]: v for v in versions}
        order = {v["version"]: i for i, v in enumerate(versions)}
        existing = {c["name"]: c for c in self.backend.list_clones()}
        before = sorted((summary(c) for c in existing.values()), key=lambda c: c["name"])
        targets = self._targets(desired, existing)

        for item in desired if self.action not in ("teardown", "expire") else ():
            if item["name"] not in existing:
                reason = self.backend.foreign(item["name"])
                if reason:
                    raise ValidationError(f"{item['name']} is taken by {reason}, not a clone of set "
                                          f"{self.set_name}; it is left alone - choose another name",
                                          option=f"clones[{item['index']}].name")
        if self.action in ("present", "refresh", "reset", "split"):
            self.assign_addresses(desired, existing)

        current = by_label.get(self.label)
        if current is None and self.action in ("present", "refresh", "reset"):
            current = self._freeze(golden)
            by_label[self.label] = current
            order[self.label] = len(order)

        after: dict[str, dict[str, Any]] = dict(existing)
        if self.action in ("teardown", "expire"):
            self._remove(existing, targets, after)
        else:
            for item in desired:
                self._ensure(item, existing.get(item["name"]), current, by_label, order, targets, after)
        self._prune(by_label, after)
        if not self.check_mode and self.changed:
            self.backend.finish()

        clones_after = sorted(after.values(), key=lambda c: c["name"])
        report = build_report(clones_after, by_label, self.results, golden)
        result: dict[str, Any] = {
            "changed": self.changed,
            "set_name": self.set_name,
            "golden_version": self.label,
            "action": self.action,
            "golden": golden,
            "clones": self.results,
            "versions": [dict(v) for v in by_label.values() if not v.get("removed")],
            "report": report,
            "report_table": report_table(report, self.set_name, self.label),
            "diff": {"before": {"clones": before},
                     "after": {"clones": [summary(c) for c in clones_after]}},
        }
        return result

    # ------------------------------------------------------------ steps

    def _timed(self, call: Callable[[], Any]) -> tuple[Any, float]:
        start = self.clock()
        value = call()
        return value, round(self.clock() - start, 3)

    def _freeze(self, golden: dict[str, Any]) -> dict[str, Any]:
        self.changed = True
        if self.check_mode:
            return self.backend.predict_version(self.label, golden)
        return self.backend.freeze_version(self.label)

    def _record(self, item: dict[str, Any], version: str) -> dict[str, Any]:
        return {"name": item["name"], "user": item["user"], "set": self.set_name, "version": version,
                "created": format_time(self.now), "expires": self.expiry_for(item),
                "address": item.get("address"), "split": False}

    def _create(self, item: dict[str, Any], version: dict[str, Any]) -> tuple[dict[str, Any], float]:
        record = self._record(item, version["version"])
        self.changed = True
        if self.check_mode:
            return self.backend.predict_clone(record, version), 0.0
        return self._timed(lambda: self.backend.create_clone(record, version))

    def _delete(self, clone: dict[str, Any]) -> float:
        self.changed = True
        if self.check_mode:
            return 0.0
        return self._timed(lambda: self.backend.delete_clone(clone))[1]

    def _add(self, clone: dict[str, Any], action: str, seconds: float = 0.0, **extra: Any) -> None:
        entry = dict(clone)
        entry.update({"action": action, "seconds": seconds})
        entry.update(extra)
        self.results.append(entry)

    def _ensure(self, item: dict[str, Any], have: Optional[dict[str, Any]], current: Optional[dict[str, Any]],
                by_label: dict[str, dict[str, Any]], order: dict[str, int], targets: set[str],
                after: dict[str, dict[str, Any]]) -> None:
        name = item["name"]
        if have is None:
            if current is None:  # action=split freezes nothing
                if name in targets:
                    raise ValidationError(f"{name} does not exist; create it first (action=present)",
                                          option="targets")
                raise ValidationError(f"version {self.label!r} does not exist; create it with action=present",
                                      option="golden_version")
            record, seconds = self._create(item, current)
            after[name] = record
            self._add(record, "created", seconds)
            return
        if have.get("user") != item["user"]:
            raise ValidationError(f"{name} is the clone of user {have.get('user')!r}, not {item['user']!r}",
                                  option=f"clones[{item['index']}].user")
        if self.action == "reset" and name in targets:
            version = by_label.get(have["version"]) if not have.get("split") else None
            version = version or current
            deleted = self._delete(have)
            record, seconds = self._create(item, version)
            after[name] = record
            self._add(record, "reset", round(deleted + seconds, 3))
            return
        if self.action == "split" and name in targets:
            if have.get("split"):
                self._add(have, "kept")
                return
            self.changed = True
            if self.check_mode:
                record, seconds = dict(have, split=True), 0.0
            else:
                record, seconds = self._timed(lambda: self.backend.split_clone(have))
            after[name] = record
            self._add(record, "split", seconds)
            return
        if self.action == "refresh" and current is not None and not have.get("split") \
                and order.get(have.get("version"), -1) < order[self.label]:
            if not item["refresh"]:
                self._add(have, "kept", reason="refresh: false")
                return
            deleted = self._delete(have)
            record, seconds = self._create(item, current)
            after[name] = record
            self._add(record, "refreshed", round(deleted + seconds, 3), previous_version=have.get("version"))
            return
        self._update_metadata(item, have, after)

    def _update_metadata(self, item: dict[str, Any], have: dict[str, Any], after: dict[str, dict[str, Any]]) -> None:
        changes: dict[str, Any] = {}
        if item.get("address") and item["address"] != have.get("address"):
            changes["address"] = item["address"]
        spec = item.get("expires")
        if spec and not is_duration(spec):
            wanted = format_time(parse_time(spec, option=f"clones[{item['index']}].expires"))
            if wanted != have.get("expires"):
                changes["expires"] = wanted
        if not changes:
            self._add(have, "kept")
            return
        self.changed = True
        record = dict(have, **changes) if self.check_mode else self.backend.update_clone(have, changes)
        after[item["name"]] = record
        self._add(record, "updated", changed=sorted(changes))

    def _remove(self, existing: dict[str, dict[str, Any]], targets: set[str],
                after: dict[str, dict[str, Any]]) -> None:
        for name, clone in sorted(existing.items()):
            if self.action == "teardown":
                gone = not self.params.get("targets") or name in targets
            else:
                gone = bool(clone.get("expires")) and parse_time(clone["expires"], option="expires") <= self.now
            if not gone:
                self._add(clone, "kept")
                continue
            seconds = self._delete(clone)
            del after[name]
            self._add(clone, "expired" if self.action == "expire" else "removed", seconds)

    def _prune(self, by_label: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> None:
        used = {c.get("version") for c in after.values() if not c.get("split")}
        full_teardown = self.action == "teardown" and not self.params.get("targets")
        for label, version in list(by_label.items()):
            if label in used or (label == self.label and not full_teardown):
                continue
            if version.get("created") is None and self.check_mode:
                del by_label[label]    # predicted in this run only
                continue
            self.changed = True
            if not self.check_mode:
                self.backend.delete_version(version)
            del by_label[label]


# ---------------------------------------------------------------------------- names and addresses

def derive_stem(golden_name: str, suffix: str) -> str:
    """``golden-db.qcow2`` -> ``golden-db`` (the suffix, then any other image extension, dropped)."""
    stem = golden_name
    if suffix and stem.endswith(suffix):
        stem = stem[: -len(suffix)]
    stem = re.sub(r"\.(qcow2|raw|img|vmdk|vdi)$", "", stem)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem.split("/")[-1].split(":")[0]).strip("-.") or "clone"
    return stem


def parse_address(value: str, *, option: str) -> str:
    if netaddr is None:
        raise ValidationError("needs the Python library netaddr", option=option)
    try:
        return str(netaddr.IPAddress(value.split("/")[0]))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError(f"invalid IP address {value!r}", option=option) from None


def parse_network(cidr: str) -> Any:
    if netaddr is None:
        raise ValidationError("needs the Python library netaddr", option="address_pool")
    try:
        return netaddr.IPNetwork(cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError(f"invalid CIDR {cidr!r} (for example 10.10.0.0/24)", option="address_pool") from None


# ---------------------------------------------------------------------------- report

def build_report(clones: list[dict[str, Any]], versions: dict[str, dict[str, Any]],
                 results: list[dict[str, Any]], golden: dict[str, Any]) -> dict[str, Any]:
    """Savings of the set as it is after the run.

    A full copy of a clone costs what its version holds (``allocated`` of the version); with clones
    the set costs each version in use once plus what each clone added. A split clone is a full copy
    (its ``added_bytes`` is its own allocation). When a backend cannot measure a figure (``None``:
    a storage that reports no used bytes), the totals and savings are ``None`` (unknown) and
    ``savings_known`` is false: nothing is guessed."""
    seconds = {r["name"]: r.get("seconds", 0.0) for r in results}
    rows = []
    full = 0
    added = 0
    known = True
    used_versions = set()
    for clone in clones:
        version = versions.get(clone.get("version") or "", {})
        data = version.get("allocated") if version.get("allocated") is not None else golden.get("allocated")
        known = known and data is not None and clone.get("added_bytes") is not None
        full += data or 0
        added += clone.get("added_bytes") or 0
        if not clone.get("split") and clone.get("version") in versions:
            used_versions.add(clone["version"])
        rows.append({"name": clone["name"], "user": clone.get("user"), "version": clone.get("version"),
                     "split": bool(clone.get("split")), "logical_size": clone.get("logical_size"),
                     "added_bytes": clone.get("added_bytes"), "seconds": seconds.get(clone["name"], 0.0)})
    known = known and all(versions[label].get("allocated") is not None for label in used_versions)
    shared = sum(versions[label].get("allocated") or 0 for label in sorted(used_versions))
    with_clones = shared + added
    return {
        "clones": rows,
        "clone_count": len(rows),
        "logical_bytes": sum(r["logical_size"] or 0 for r in rows),
        "savings_known": known,
        "shared_bytes": shared if known else None,
        "added_bytes": added if known else None,
        "clone_bytes": with_clones if known else None,
        "full_copy_bytes": full if known else None,
        "saved_bytes": full - with_clones if known else None,
        "saved_percent": percent(full - with_clones, full) if known else None,
        "clone_percent": percent(with_clones, full) if known else None,
        "seconds": round(sum(r.get("seconds", 0.0) for r in results), 3),
    }


def report_table(report: dict[str, Any], set_name: str, label: str) -> str:
    """A readable text table of ``build_report``'s result."""
    head = ("CLONE", "USER", "VERSION", "LOGICAL", "ADDED", "SECONDS")
    rows = [(r["name"], r["user"] or "-", (r["version"] or "-") + (" (split)" if r["split"] else ""),
             human_bytes(r["logical_size"]), human_bytes(r["added_bytes"]), f"{r['seconds']:.2f}")
            for r in report["clones"]]
    widths = [max(len(str(row[i])) for row in [head] + rows) for i in range(len(head))]
    line = "  ".join("{:<%d}" % w for w in widths)
    out = [f"Clone set {set_name} - golden version {label} - {report['clone_count']} clone(s)",
           line.format(*head), line.format(*("-" * w for w in widths))]
    out.extend(line.format(*row) for row in rows)
    full = report["full_copy_bytes"]
    if not report.get("savings_known", True):
        out.extend(["", "savings unknown: the platform reports no real disk usage for some volumes",
                    f"time spent on clones: {report['seconds']:.2f} s"])
        return "\n".join(out)
    out.extend([
        "",
        f"{'':<22}{'DISK':>12}{'% OF FULL':>11}",
        f"{'as full copies':<22}{human_bytes(full):>12}{'100.0 %' if full else '-':>11}",
        f"{'with clones':<22}{human_bytes(report['clone_bytes']):>12}{report['clone_percent']:>9.1f} %",
        f"{'  shared versions':<22}{human_bytes(report['shared_bytes']):>12}",
        f"{'  added by clones':<22}{human_bytes(report['added_bytes']):>12}",
        f"{'saved':<22}{human_bytes(report['saved_bytes']):>12}{report['saved_percent']:>9.1f} %",
        f"time spent on clones: {report['seconds']:.2f} s",
    ])
    return "\n".join(out)
