# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy-on-write volume clones and their backing chains.

* a *linked* clone is a qcow2 overlay whose backing file is the source volume: creating it
  writes only qcow2 metadata (O(1) in the source's size); it grows by what is written to it;
* a *full* clone is an independent copy (libvirt's ``createXMLFrom``, i.e. ``qemu-img
  convert`` in libvirtd: sparse, and a chain is flattened on the way);
* *split* flattens an existing linked clone in place with ``qemu-img rebase -b ''``: the
  data it reads through its chain is copied into it and only then is the header's backing
  reference dropped, so an interrupted split leaves a valid linked clone behind, the file
  (path, owner, inode) stays the same for the domains that use it, and no second copy of
  the volume is ever needed. qemu-img's image locking refuses the split while a running
  guest has the volume open. It runs on the libvirt host, so it needs a local URI;
* a volume that other volumes use as backing file is *protected*: deleting or overwriting
  it is refused, naming the dependents, unless the caller asks to split them first;
* a source that a running (or paused) domain has attached writable is not a consistent source: its
  content changes under the clone. ``running_writers`` finds those domains; ``freeze_running_source``
  takes an external disk-only snapshot of that disk (libvirt ``snapshotCreateXML`` with
  DISK_ONLY | NO_METADATA | ATOMIC): the domain then writes to a new qcow2 overlay
  ``<source stem>.live-<UTC time>.qcow2`` in the source's pool, whose backing file is the source, and
  the source becomes a stable read-only base that can be cloned.
"""

from __future__ import annotations

import datetime
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import parse_size
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    ValidationError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.retry import RetryPolicy, call_with_retry
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import (
    parse_volume_xml,
    parse_xml,
    volume_xml,
)

PARALLEL = 8
IMAGE_FORMATS = ("raw", "qcow2", "qed", "vmdk", "vdi", "vpc", "vhdx", "iso")
# libvirtd refuses to refresh a pool while it builds a volume in it (another full copy, for example):
# refreshes and scans that refresh are retried for up to two minutes
REFRESH_RETRY = RetryPolicy(attempts=None, timeout=120.0, base_delay=0.5, max_delay=5.0,
                            retry_on=(BackendError,))
RUNNING_SOURCE_CHOICES = ("refuse", "snapshot")
# flag values (stable ABI), named here so this file loads without libvirt-python
_LIST_ACTIVE = 1                # VIR_CONNECT_LIST_DOMAINS_ACTIVE
_SNAPSHOT_NO_METADATA = 4       # VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
_SNAPSHOT_DISK_ONLY = 16        # VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
_SNAPSHOT_ATOMIC = 128          # VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC


def refresh_pool(pool: Any) -> None:
    """Refresh a pool (files put into its directory by hand become volumes), retried while libvirtd builds
    a volume in it."""
    def refresh() -> None:
        with translate_errors(f"storage pool {pool.name()}"):
            pool.refresh(0)
    call_with_retry(refresh, REFRESH_RETRY)


def describe_volume(facts: dict[str, Any]) -> str:
    """What a volume holds, for messages about an existing volume: format, virtual size, backing file."""
    text = f"{facts.get('format')}, {facts.get('capacity')} bytes virtual"
    if facts.get("backing"):
        return f"{text}, an overlay of {facts['backing']} ({facts.get('backing_format') or 'unknown format'})"
    return f"{text}, no backing file"


def volume_facts(vol: Any, pool_name: Optional[str] = None) -> dict[str, Any]:
    """What the modules return about a volume; ``allocation`` is the real disk use."""
    with translate_errors(f"volume {vol.name()}"):
        facts = parse_volume_xml(vol.XMLDesc(0))
        _type, capacity, allocation = vol.info()
    facts["capacity"] = capacity
    facts["allocation"] = allocation
    if pool_name is not None:
        facts["pool"] = pool_name
    return facts


def dependents_index(connection: LibvirtConnection) -> dict[str, list[dict[str, str]]]:
    """backing path -> the volumes (of every active pool) backed by it. Pools are refreshed first,
    so overlays made outside libvirt count too."""
    index: dict[str, list[dict[str, str]]] = {}
    for pool in connection.active_pools():
        with translate_errors(f"storage pool {pool.name()}"):
            pool.refresh(0)
            volumes = pool.listAllVolumes(0)
        for vol in volumes:
            with translate_errors(f"volume {vol.name()}"):
                facts = parse_volume_xml(vol.XMLDesc(0))
            if facts["backing"]:
                index.setdefault(facts["backing"], []).append(
                    {"pool": pool.name(), "name": facts["name"], "path": facts["path"]})
    return index


def dependents_of(connection: LibvirtConnection, path: str) -> list[dict[str, str]]:
    """Volumes of every active pool whose backing file is ``path``."""
    return dependents_index(connection).get(path, [])


def describe_dependents(dependents: list[dict[str, str]]) -> str:
    return ", ".join(f"{d['pool']}/{d['name']}" for d in dependents)


def _disk_path(connection: LibvirtConnection, source: Optional[ET.Element]) -> Optional[str]:
    """The file or device behind a domain disk's ``<source>`` (a pool volume is looked up)."""
    if source is None:
        return None
    if source.get("file") or source.get("dev"):
        return source.get("file") or source.get("dev")
    if source.get("pool") and source.get("volume"):
        pool = connection.pool(source.get("pool"))
        vol = connection.volume(pool, source.get("volume")) if pool is not None else None
        if vol is not None:
            with translate_errors(f"volume {source.get('volume')}"):
                return vol.path()
    return None


def running_writers(connection: LibvirtConnection, paths: list[str]) -> list[dict[str, str]]:
    """The running or paused domains that have one of ``paths`` attached writable (the top of a disk, not a
    backing file in its chain; read-only disks and CD-ROMs do not count): ``[{domain, target, path}]``."""
    wanted = {os.path.normpath(p) for p in paths if p}
    found: list[dict[str, str]] = []
    if not wanted:
        return found
    with translate_errors("listing running domains"):
        domains = list(connection.conn.listAllDomains(_LIST_ACTIVE))
    for dom in domains:
        with translate_errors(f"domain {dom.name()}"):
            root = parse_xml(dom.XMLDesc(0))
        for disk in root.findall("devices/disk"):
            if disk.get("device") not in (None, "disk", "lun") or disk.find("readonly") is not None:
                continue
            path = _disk_path(connection, disk.find("source"))
            if path and os.path.normpath(path) in wanted:
                target = disk.find("target")
                found.append({"domain": dom.name(), "target": target.get("dev") if target is not None else "",
                              "path": path})
    return found


def describe_writers(writers: list[dict[str, str]]) -> str:
    return ", ".join(f"{w['domain']} (disk {w['target']})" for w in writers)


def _utc_stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def live_overlay_name(source_name: str, stamp: Optional[str] = None) -> str:
    stem = source_name.rsplit(".", 1)[0] if "." in source_name else source_name
    return f"{stem}.live-{stamp or _utc_stamp()}.qcow2"


def freeze_running_source(connection: LibvirtConnection, pool: Any, source_name: str, writer: dict[str, str],
                          *, check_mode: bool, option: str = "running_source") -> dict[str, str]:
    """Make ``writer['path']`` a stable base: an external disk-only snapshot of that disk of the running domain
    (no snapshot metadata, atomic). The domain's disk (live and persistent definition) becomes a new qcow2
    overlay in ``pool`` whose backing file is the old file; nothing else of the domain changes. Returns
    ``{domain, target, source, overlay}`` (in check mode the overlay that would be made)."""
    with translate_errors(f"storage pool {pool.name()}"):
        directory = parse_xml(pool.XMLDesc(0)).findtext("target/path")
    if not directory:
        raise ValidationError(f"storage pool {pool.name()} has no target directory for the domain's new overlay",
                              option=option)
    name = live_overlay_name(source_name)
    overlay = os.path.join(directory, name)
    if connection.volume(pool, name) is not None:
        raise ConflictError(f"{option}: volume {pool.name()}/{name} already exists; run the task again",
                            details={"option": option})
    out = {"domain": writer["domain"], "target": writer["target"], "source": writer["path"], "overlay": overlay}
    if check_mode:
        return out
    dom = connection.domain(writer["domain"])
    if dom is None:
        raise ConflictError(f"{option}: domain {writer['domain']} disappeared", details={"option": option})
    with translate_errors(f"domain {writer['domain']}"):
        root = parse_xml(dom.XMLDesc(0))
    snapshot = ET.Element("domainsnapshot")
    ET.SubElement(snapshot, "description").text = f"virtlab.infra: freeze {writer['path']} as a clone source"
    disks = ET.SubElement(snapshot, "disks")
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        dev = target.get("dev") if target is not None else None
        if not dev:
            continue
        if dev == writer["target"]:
            entry = ET.SubElement(disks, "disk", name=dev, snapshot="external")
            ET.SubElement(entry, "driver", type="qcow2")
            ET.SubElement(entry, "source", file=overlay)
        else:
            ET.SubElement(disks, "disk", name=dev, snapshot="no")
    with translate_errors(f"snapshot of disk {writer['target']} of running domain {writer['domain']}",
                          option=option):
        dom.snapshotCreateXML(ET.tostring(snapshot, encoding="unicode"),
                              _SNAPSHOT_DISK_ONLY | _SNAPSHOT_NO_METADATA | _SNAPSHOT_ATOMIC)
    refresh_pool(pool)
    return out


# run_command(argv) -> (rc, stdout, stderr), e.g. AnsibleModule.run_command
CommandRunner = Callable[..., tuple[int, str, str]]


def flatten(connection: LibvirtConnection, vol: Any, pool: Any, run_command: Optional[CommandRunner]) -> None:
    """Split a linked clone from its backing chain, in place (see the module docstring)."""
    if not connection.is_local:
        raise ValidationError(
            f"splitting needs the volume's file on this host; {connection.uri} is a remote URI", option="split")
    with translate_errors(f"volume {vol.name()}"):
        path = vol.path()
        fmt = parse_volume_xml(vol.XMLDesc(0))["format"]
    if fmt != "qcow2":
        raise ValidationError(f"volume {vol.name()} is {fmt}, only a qcow2 overlay can be split", option="split")
    if run_command is None:
        raise BackendError("splitting a volume needs a command runner (qemu-img)")
    rc, _out, err = run_command(["qemu-img", "rebase", "-f", "qcow2", "-b", "", path])
    if rc != 0:
        # qemu-img exits 1 for every failure; a guest holding the image's lock is the usual one
        raise ConflictError(f"splitting volume {vol.name()} failed: {err.strip()}", details={"rc": rc, "stderr": err})
    with translate_errors(f"storage pool {pool.name()}"):
        pool.refresh(0)


def delete_protected(
    connection: LibvirtConnection,
    vol: Any,
    pool: Any,
    *,
    split_dependents: bool,
    check_mode: bool,
    run_command: Optional[CommandRunner] = None,
    option: str = "state",
    index: Optional[dict[str, list[dict[str, str]]]] = None,
    gone: frozenset[str] = frozenset(),
) -> list[dict[str, str]]:
    """Delete ``vol`` unless other volumes are backed by it; with ``split_dependents`` they are
    split first. Returns the dependents that were (or in check mode would be) split. ``index``
    (from ``dependents_index``) saves the scan when many volumes go; ``gone`` are paths already
    deleted since it was made."""
    with translate_errors(f"volume {vol.name()}"):
        path = vol.path()
    if index is None:
        index = dependents_index(connection)
    dependents = [d for d in index.get(path, []) if d["path"] not in gone]
    if dependents and not split_dependents:
        raise ConflictError(
            f"{option}: volume {vol.name()} is the backing file of {describe_dependents(dependents)}; "
            "delete those first or set split_dependents=true",
            details={"dependents": dependents},
        )
    if check_mode:
        return dependents
    for dependent in dependents:
        dep_pool = connection.require_pool(dependent["pool"])
        dep_vol = connection.volume(dep_pool, dependent["name"])
        if dep_vol is not None:
            flatten(connection, dep_vol, dep_pool, run_command)
    with translate_errors(f"deleting volume {vol.name()}"):
        vol.delete(0)
    return dependents


def predict_clone(source: dict[str, Any], mode: str, capacity: Optional[int] = None,
                  fmt: Optional[str] = None) -> dict[str, Any]:
    """What ``make_clone`` would make (for check mode)."""
    capacity = capacity or source["capacity"]
    if mode == "linked":
        return {"path": None, "format": "qcow2", "capacity": capacity, "allocation": 0, "backing": source["path"]}
    return {"path": None, "format": fmt or source["format"], "capacity": capacity, "allocation": None,
            "backing": None}


def make_clone(pool: Any, source: dict[str, Any], name: str, mode: str, *, capacity: Optional[int] = None,
               fmt: Optional[str] = None) -> Any:
    """Create volume ``name`` in ``pool`` as a linked (qcow2 overlay on the source's path) or full clone of
    ``source`` (``volume_facts`` plus ``vol``, the source's virStorageVol)."""
    capacity = capacity or source["capacity"]
    with translate_errors(f"creating volume {name}"):
        if mode == "linked":
            return pool.createXML(volume_xml(name, capacity, "qcow2", backing_path=source["path"],
                                             backing_format=source["format"]), 0)
        return pool.createXMLFrom(volume_xml(name, capacity, fmt or source["format"]), source["vol"], 0)


class VolumeCloneService:
    """``libvirt_volume_clone``: linked/full clones of one source, one or many names."""

    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False,
                 run_command: Optional[CommandRunner] = None) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.run_command = run_command
        self.names: list[str] = [params["name"]] if params.get("name") else list(params.get("names") or [])

    # ---------------------------------------------------------------- entry point

    def ensure(self) -> dict[str, Any]:
        self._validate_names()
        pool = self.connection.require_pool(self.params["pool"])
        frozen: list[dict[str, str]] = []
        if self.params["state"] == "absent":
            results = self._absent_all(pool)
        else:
            source = self._source()
            with translate_errors(f"storage pool {self.params['pool']}"):
                existing = set(pool.listVolumes())
            if any(name not in existing for name in self.names):
                # a file put into the pool's directory by hand is a volume (and a foreign one) after a refresh
                refresh_pool(pool)
                with translate_errors(f"storage pool {self.params['pool']}"):
                    existing = set(pool.listVolumes())
            if any(name not in existing for name in self.names):
                frozen = self._guard_running_source(source)
            results = self._present_all(pool, source, existing)
        changed = any(r.pop("changed") for r in results)
        befores = {r["name"]: r.pop("before") for r in results}
        afters = {r["name"]: r.pop("after") for r in results}
        out: dict[str, Any] = {
            "changed": changed,
            "volumes": results,
            "diff": {"before": {k: v for k, v in befores.items() if v != afters[k]},
                     "after": {k: v for k, v in afters.items() if v != befores[k]}},
        }
        if self.params.get("name"):
            out["volume"] = results[0]
        if self.params["state"] == "present" and frozen:
            out["source_snapshot"] = frozen[0]
        return out

    def _guard_running_source(self, source: dict[str, Any]) -> list[dict[str, str]]:
        """A new clone needs a source that nothing writes to: refuse one a running domain has attached writable,
        or (``running_source=snapshot``) freeze it first with an external disk-only snapshot of that disk."""
        writers = running_writers(self.connection, [source["path"]])
        if not writers:
            return []
        where = f"volume {source['pool']}/{source['name']} ({source['path']})"
        if self.params.get("running_source") != "snapshot":
            raise ConflictError(
                f"source: {where} is attached writable to the running domain(s) {describe_writers(writers)}; a clone "
                "of it would not be consistent (its content changes under the clone). Shut the domain down, or set "
                "running_source=snapshot to move the domain onto a new overlay first",
                details={"option": "source", "domains": writers})
        if len(writers) > 1:
            raise ConflictError(
                f"running_source: {where} is attached writable to more than one running domain "
                f"({describe_writers(writers)}); one snapshot cannot freeze it for all of them",
                details={"option": "running_source", "domains": writers})
        source_pool = self.connection.require_pool(source["pool"], option="source_pool")
        return [freeze_running_source(self.connection, source_pool, source["name"], writers[0],
                                      check_mode=self.check_mode)]

    # ---------------------------------------------------------------- helpers

    def _validate_names(self) -> None:
        option = "name" if self.params.get("name") else "names"
        if not self.names:
            raise ValidationError("give at least one volume name", option=option)
        seen = set()
        for name in self.names:
            if not name or "/" in name:
                raise ValidationError(f"invalid volume name {name!r}", option=option)
            if name in seen:
                raise ValidationError(f"volume name {name!r} is given twice", option=option)
            seen.add(name)
        if self.params["state"] == "present" and self.params.get("source") in seen \
                and (self.params.get("source_pool") or self.params["pool"]) == self.params["pool"]:
            raise ValidationError("a clone cannot have the name of its source", option=option)

    def _source(self) -> dict[str, Any]:
        if not self.params.get("source"):
            raise ValidationError("required to create clones (state=present)", option="source")
        pool_name = self.params.get("source_pool") or self.params["pool"]
        pool = self.connection.require_pool(pool_name, option="source_pool")
        vol = self.connection.volume(pool, self.params["source"])
        if vol is None:
            with translate_errors(f"storage pool {pool_name}"):
                pool.refresh(0)
            vol = self.connection.volume(pool, self.params["source"])
        if vol is None:
            raise ValidationError(f"volume {self.params['source']!r} not found in pool {pool_name!r}", option="source")
        facts = volume_facts(vol, pool_name)
        if facts["format"] not in IMAGE_FORMATS:
            raise ValidationError(
                f"volume {self.params['source']!r} is of format {facts['format']!r}, not a disk image "
                f"({', '.join(IMAGE_FORMATS)})", option="source")
        facts["vol"] = vol
        return facts

    def _capacity(self, source: dict[str, Any]) -> int:
        if self.params.get("capacity") is None:
            return source["capacity"]
        capacity = parse_size(self.params["capacity"], option="capacity")
        if capacity < source["capacity"]:
            raise ValidationError(
                f"{capacity} bytes is smaller than the source's {source['capacity']} bytes", option="capacity")
        return capacity

    @staticmethod
    def _state(facts: Optional[dict[str, Any]]) -> dict[str, Any]:
        if facts is None:
            return {"state": "absent"}
        return {"state": "present", "backing": facts.get("backing"), "format": facts.get("format"),
                "capacity": facts.get("capacity")}

    def _result(self, name: str, facts: Optional[dict[str, Any]], changed: bool,
                before: Optional[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = {"name": name, "pool": self.params["pool"], "changed": changed}
        if facts:
            result.update({k: facts.get(k) for k in ("path", "format", "capacity", "allocation", "backing")})
        result.update(extra)
        result["before"] = self._state(before)
        result["after"] = self._state(facts)
        return result

    # ---------------------------------------------------------------- present

    def _present_all(self, pool: Any, source: dict[str, Any], existing: set[str]) -> list[dict[str, Any]]:
        """Existing clones are checked one by one; new linked/full clones are made concurrently (libvirtd
        builds volumes of one pool in parallel), in batches of ``PARALLEL``; results keep the order of names."""
        capacity = self._capacity(source)
        for name in self.names:
            if name in existing:    # every foreign volume is refused before the first clone is made
                vol = self.connection.volume(pool, name)
                if vol is not None:
                    self._check_own(name, volume_facts(vol, self.params["pool"]), source)
        new = [n for n in self.names if n not in existing]
        if self.check_mode or self.params["split"] or len(new) < 2:
            return [self._present(pool, source, name, name in existing) for name in self.names]
        made: dict[str, dict[str, Any]] = {}
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(new))) as executor:
            futures = {name: executor.submit(make_clone, pool, source, name, self.params["mode"],
                                             capacity=capacity, fmt=self.params.get("format")) for name in new}
            errors = []
            for name, future in futures.items():
                try:
                    vol = future.result()
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    errors.append(exc)    # re-raised below, after every other clone has finished
                    continue
                made[name] = self._result(name, volume_facts(vol, self.params["pool"]), True, None,
                                          source=source["path"], split=False)
        if errors:
            raise errors[0]
        return [made[name] if name in made else self._present(pool, source, name, True) for name in self.names]

    def _present(self, pool: Any, source: dict[str, Any], name: str, exists: bool) -> dict[str, Any]:
        mode = self.params["mode"]
        split = self.params["split"]
        capacity = self._capacity(source)
        vol = self.connection.volume(pool, name) if exists else None
        if vol is None:
            return self._create(pool, source, name, capacity)

        facts = volume_facts(vol, self.params["pool"])
        before = dict(facts)
        self._check_own(name, facts, source)
        changed = False
        if facts["backing"] and mode == "full" and not split:
            raise ValidationError(
                f"volume {name} already exists as a linked clone of {source['path']}; set split=true to make it "
                "independent", option="mode")
        if capacity > facts["capacity"]:
            changed = True
            if not self.check_mode:
                with translate_errors(f"resizing volume {name}", option="capacity"):
                    vol.resize(capacity, 0)
            facts["capacity"] = capacity
        if facts["backing"] and split:
            changed = True
            if not self.check_mode:
                flatten(self.connection, vol, pool, self.run_command)
                facts = volume_facts(vol, self.params["pool"])
            else:
                facts["backing"] = None
        return self._result(name, facts, changed, before, source=source["path"], split=facts["backing"] is None)

    def _check_own(self, name: str, facts: dict[str, Any], source: dict[str, Any]) -> None:
        """An existing volume of a clone's name is this task's clone only when its backing file is the source
        (a linked clone), or, when a full or split clone is asked for, when it is an independent volume of the
        format such a clone has and at least the source's size. Anything else is foreign: refused, left alone."""
        holds = f"volume {self.params['pool']}/{name} already exists ({describe_volume(facts)})"
        if facts["backing"] and facts["backing"] != source["path"]:
            raise ValidationError(
                f"{holds}: it is not a linked clone of {source['path']}; it is left alone - choose another name "
                "or delete it first", option="source")
        if facts["backing"]:
            return
        if self.params["mode"] == "linked" and not self.params["split"]:
            raise ValidationError(
                f"{holds}: it is not a linked clone (it was split, copied in full or made otherwise); it is left "
                "alone - set split=true to accept an independent volume, or delete it first", option="mode")
        wanted = "qcow2" if self.params["mode"] == "linked" else (self.params.get("format") or source["format"])
        if facts["format"] != wanted or facts["capacity"] < source["capacity"]:
            raise ValidationError(
                f"{holds}: it cannot be a {self.params['mode']} clone of {source['path']} ({wanted}, at least "
                f"{source['capacity']} bytes); it is left alone - choose another name or delete it first",
                option="name" if self.params.get("name") else "names")

    def _create(self, pool: Any, source: dict[str, Any], name: str, capacity: int) -> dict[str, Any]:
        mode = self.params["mode"]
        if self.check_mode:
            predicted = predict_clone(source, mode, capacity, self.params.get("format"))
            if self.params["split"]:
                predicted["backing"] = None
            return self._result(name, predicted, True, None, source=source["path"],
                                split=predicted["backing"] is None)
        vol = make_clone(pool, source, name, mode, capacity=capacity, fmt=self.params.get("format"))
        if mode == "linked" and self.params["split"]:
            try:
                flatten(self.connection, vol, pool, self.run_command)
            except Exception:
                with translate_errors(f"removing half-made volume {name}"):
                    vol.delete(0)
                raise
        facts = volume_facts(vol, self.params["pool"])
        return self._result(name, facts, True, None, source=source["path"], split=facts["backing"] is None)

    # ---------------------------------------------------------------- absent

    def _absent_all(self, pool: Any) -> list[dict[str, Any]]:
        index: Optional[dict[str, list[dict[str, str]]]] = None
        gone: set[str] = set()
        results = []
        for name in self.names:
            vol = self.connection.volume(pool, name)
            if vol is None:
                results.append(self._result(name, None, False, None))
                continue
            if index is None:
                index = dependents_index(self.connection)   # one scan for the whole list
            before = volume_facts(vol, self.params["pool"])
            split = delete_protected(self.connection, vol, pool, split_dependents=self.params["split_dependents"],
                                     check_mode=self.check_mode, run_command=self.run_command, index=index,
                                     gone=frozenset(gone))
            gone.add(before["path"])
            results.append(self._result(name, None, True, before, split_dependents=split))
        return results
