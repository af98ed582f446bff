# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_devtest_clones``: the libvirt backend of the dev/test clone engine (``common.devtest``).

* the golden is a volume (raw or qcow2) of a pool; it may keep changing;
* a *version* is a frozen, sparse, full qcow2 copy of the golden (``createXMLFrom``), named
  ``<golden stem>-<set>--<label>.qcow2``, made read-only (mode 0444); clones hang off it;
* a *clone* is a qcow2 overlay whose backing file is its version (``make_clone(..., "linked")``);
  split flattens it in place (``clone.flatten``);
* with ``golden_domain``, each clone also gets a domain (named like its volume, without ``.qcow2``): the
  golden domain's definition with a new name, UUID and MAC addresses, no NVRAM of its own yet, and the
  golden volume's disk pointing at the clone's overlay; ``<virtlab:devtest>`` in its ``<metadata>`` names the
  set and user. Teardown/reset/refresh/expire destroy and undefine it before the volume goes;
* the metadata (set, user, version, created, expiry, address) lives in a JSON *ledger* on the
  libvirt host, beside the pool: ``<parent of the pool's directory>/.virtlab-devtest/<pool>/<set>.json``
  (or ``ledger_dir``/<pool>/<set>.json), written atomically (temporary file + rename) after every
  change and guarded by ``flock`` on ``<set>.lock`` for the whole run. Only volumes listed in the
  ledger are ever changed or removed; the ledger needs a local ``uri``;
* a volume is the set's clone only when the ledger lists it *and* it still is what the set made: an
  overlay of the ledger's version volume (a split clone: the same file, by inode, as when it was made).
  A volume of that name that replaced it behind the set's back is foreign, like any volume or domain
  not in the ledger: refused (naming ``clones[N].name``) and left alone. A clone's domain is removed only
  while its ``<virtlab:devtest>`` record names this set and clone;
* a golden that a running domain has attached writable is refused (naming ``golden``) before a version
  is frozen from it: the copy would not be consistent.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import xml.etree.ElementTree as ET
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import (
    CloneBackend,
    derive_stem,
    format_time,
    utcnow,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    ValidationError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.retry import call_with_retry
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import (
    IMAGE_FORMATS,
    REFRESH_RETRY,
    CommandRunner,
    delete_protected,
    dependents_index,
    describe_volume,
    describe_writers,
    flatten,
    make_clone,
    running_writers,
    volume_facts,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import undefine
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import parse_xml, volume_xml

LEDGER_VERSION = 1
_METADATA = ("user", "set", "version", "created", "expires", "address", "split", "domain")
DEVTEST_NS = "https://github.com/virtlab/infra/libvirt/devtest"
_XML_INACTIVE_SECURE = 2 | 1   # VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE


def default_ledger_dir(pool_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.normpath(pool_path)), ".virtlab-devtest")


class LibvirtCloneBackend(CloneBackend):
    """Golden volume -> frozen qcow2 versions -> qcow2 overlay clones, with a JSON ledger."""

    name_suffix = ".qcow2"

    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False,
                 run_command: Optional[CommandRunner] = None) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.run_command = run_command
        self.set_name: str = params["set_name"]
        self.pool_name: str = params["pool"]
        self._pool: Any = None
        self._ledger: Optional[dict[str, Any]] = None
        self._lock: Any = None
        self.ledger_path: Optional[str] = None
        self._index: Optional[dict[str, list[dict[str, str]]]] = None
        self._gone: set[str] = set()
        self._template: Optional[ET.Element] = None
        self._replaced: dict[str, str] = {}

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "LibvirtCloneBackend":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            self._pool = self.connection.require_pool(self.pool_name)
            self._pool_refresh()
        return self._pool

    def _pool_path(self) -> str:
        with translate_errors(f"storage pool {self.pool_name}"):
            root = parse_xml(self.pool.XMLDesc(0))
        path = root.findtext("target/path")
        if not path:
            raise ValidationError(f"storage pool {self.pool_name!r} has no target directory for a ledger; "
                                  "set ledger_dir", option="pool")
        return path

    @property
    def ledger(self) -> dict[str, Any]:
        """The set's ledger, read once under an exclusive lock held until ``close``."""
        if self._ledger is None:
            if not self.connection.is_local:
                raise ValidationError(f"the clone ledger lives on the libvirt host; {self.connection.uri} is remote",
                                      option="uri")
            directory = os.path.join(self.params.get("ledger_dir") or default_ledger_dir(self._pool_path()),
                                     self.pool_name)
            self.ledger_path = os.path.join(directory, f"{self.set_name}.json")
            self._ledger = {"format": LEDGER_VERSION, "set": self.set_name, "pool": self.pool_name,
                            "versions": [], "clones": {}}
            if self.check_mode and not os.path.isdir(directory):
                return self._ledger  # nothing recorded yet, and check mode creates nothing
            try:
                os.makedirs(directory, mode=0o755, exist_ok=True)
                self._lock = open(os.path.join(directory, f"{self.set_name}.lock"), "a", encoding="utf-8")
                fcntl.flock(self._lock, fcntl.LOCK_EX)
            except OSError as exc:
                raise ValidationError(f"cannot lock the ledger in {directory}: {exc}", option="ledger_dir") from None
            try:
                with open(self.ledger_path, encoding="utf-8") as handle:
                    self._ledger.update(json.load(handle))
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                raise BackendError(f"cannot read the clone ledger {self.ledger_path}: {exc}") from None
        return self._ledger

    def _save(self) -> None:
        tmp = f"{self.ledger_path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.ledger, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.ledger_path)
        except OSError as exc:
            raise BackendError(f"cannot write the clone ledger {self.ledger_path}: {exc}") from None

    def _volume(self, name: str) -> Optional[Any]:
        return self.connection.volume(self.pool, name)

    # ------------------------------------------------------------ golden and versions

    def golden(self) -> dict[str, Any]:
        facts = self._golden()
        return {key: facts[key] for key in ("name", "pool", "path", "format", "logical_size", "allocated")}

    def _golden(self) -> dict[str, Any]:
        pool_name = self.params.get("golden_pool") or self.pool_name
        if pool_name == self.pool_name:
            pool = self.pool
        else:
            pool = self.connection.require_pool(pool_name, option="golden_pool")
        vol = self.connection.volume(pool, self.params["golden"])
        if vol is None:
            raise ValidationError(f"volume {self.params['golden']!r} not found in pool {pool_name!r}", option="golden")
        facts = volume_facts(vol, pool_name)
        if facts["format"] not in IMAGE_FORMATS:
            raise ValidationError(f"volume {self.params['golden']!r} is {facts['format']}, not a disk image",
                                  option="golden")
        return {"name": facts["name"], "pool": pool_name, "path": facts["path"], "format": facts["format"],
                "logical_size": facts["capacity"], "allocated": facts["allocation"], "vol": vol}

    def version_name(self, label: str) -> str:
        return f"{derive_stem(self.params['golden'], self.name_suffix)}-{self.set_name}--{label}{self.name_suffix}"

    def _measure_version(self, entry: dict[str, Any]) -> Optional[dict[str, Any]]:
        vol = self._volume(entry["volume"])
        if vol is None:
            return None
        facts = volume_facts(vol, self.pool_name)
        return {"version": entry["version"], "created": entry.get("created"), "volume": facts["name"],
                "path": facts["path"], "logical_size": facts["capacity"], "allocated": facts["allocation"]}

    def list_versions(self) -> list[dict[str, Any]]:
        out = []
        for entry in self.ledger["versions"]:
            measured = self._measure_version(entry)
            if measured is not None:
                out.append(measured)
        return out

    def _check_freeze(self, label: str, golden: dict[str, Any]) -> str:
        """The new version's volume name; a foreign volume of that name and a golden that a running domain
        writes are refused."""
        name = self.version_name(label)
        existing = self._volume(name)
        if existing is not None:
            raise ValidationError(f"volume {self.pool_name}/{name} for version {label} already exists "
                                  f"({describe_volume(volume_facts(existing))}) but is not in the ledger of set "
                                  f"{self.set_name}; it is left alone - remove or rename it", option="golden_version")
        writers = running_writers(self.connection, [golden["path"]])
        if writers:
            raise ConflictError(
                f"golden: volume {golden['pool']}/{golden['name']} is attached writable to the running domain(s) "
                f"{describe_writers(writers)}; a version frozen from it would not be consistent - shut the domain "
                "down first", details={"option": "golden", "domains": writers})
        return name

    def predict_version(self, label: str, golden: dict[str, Any]) -> dict[str, Any]:
        self._check_freeze(label, self._golden())      # check mode refuses what the real run would
        return super().predict_version(label, golden)

    def freeze_version(self, label: str) -> dict[str, Any]:
        golden = self._golden()
        name = self._check_freeze(label, golden)
        vol = None
        try:
            with translate_errors(f"freezing version {label} as volume {name}"):
                vol = self.pool.createXMLFrom(volume_xml(name, golden["logical_size"], "qcow2"), golden["vol"], 0)
                os.chmod(vol.path(), 0o444)
        except BaseException:
            if vol is not None:     # only what this run made: a volume that appeared meanwhile is not ours
                self._discard(name)
            raise
        created = self._now()
        self.ledger["versions"] = [v for v in self.ledger["versions"] if v["version"] != label]
        self.ledger["versions"].append({"version": label, "volume": name, "created": created,
                                        "golden": golden["path"]})
        self._save()
        return self._measure_version(self.ledger["versions"][-1]) or {}

    def delete_version(self, version: dict[str, Any]) -> None:
        entry = next((v for v in self.ledger["versions"] if v["version"] == version["version"]), None)
        if entry is None:
            return
        vol = self._volume(entry["volume"])
        if vol is not None:
            # refuses (naming them) when volumes outside the set were put on top of this version
            self._delete_volume(vol, "golden_version")
        self.ledger["versions"] = [v for v in self.ledger["versions"] if v["version"] != version["version"]]
        self._save()

    # ------------------------------------------------------------ clones

    def _version_path(self, version: Optional[str]) -> Optional[str]:
        entry = next((v for v in self.ledger["versions"] if v["version"] == version), None)
        vol = self._volume(entry["volume"]) if entry is not None else None
        if vol is None:
            return None
        with translate_errors(f"volume {entry['volume']}"):
            return vol.path()

    def _is_own_clone(self, entry: dict[str, Any], facts: dict[str, Any]) -> bool:
        """The volume is still what the set made: an overlay of its version, or (split) the same file."""
        if facts["backing"]:
            return facts["backing"] == self._version_path(entry.get("version"))
        if not entry.get("split") or facts["format"] != "qcow2":
            return False
        if entry.get("inode") is None:
            return True      # split by an older release, which recorded no inode
        try:
            return os.stat(facts["path"]).st_ino == entry["inode"]
        except OSError:
            return False

    def _measure_clone(self, name: str, entry: dict[str, Any]) -> Optional[dict[str, Any]]:
        vol = self._volume(name)
        if vol is None:
            return None
        facts = volume_facts(vol, self.pool_name)
        if not self._is_own_clone(entry, facts):
            # replaced behind the set's back: foreign, never measured, changed or removed as the set's clone
            self._replaced[name] = (f"volume {self.pool_name}/{name} ({describe_volume(facts)}), which replaced "
                                    f"the clone of set {self.set_name} that the ledger records")
            return None
        record = {key: entry.get(key) for key in _METADATA}
        record.update({"name": name, "split": bool(entry.get("split")), "path": facts["path"],
                       "backing": facts["backing"], "logical_size": facts["capacity"],
                       "added_bytes": facts["allocation"]})
        return record

    def list_clones(self) -> list[dict[str, Any]]:
        out = []
        for name, entry in sorted(self.ledger["clones"].items()):
            measured = self._measure_clone(name, entry)
            if measured is not None:  # a volume removed behind our back is no clone any more
                out.append(measured)
        return out

    def foreign(self, name: str) -> Optional[str]:
        if any(v["volume"] == name for v in self.ledger["versions"]):
            return f"version volume {self.pool_name}/{name} of set {self.set_name}"
        if name in self._replaced:
            return self._replaced[name]
        vol = self._volume(name)
        if vol is not None:
            return (f"volume {self.pool_name}/{name} ({describe_volume(volume_facts(vol))}), which is not in the "
                    f"ledger of set {self.set_name}")
        if self.params.get("golden_domain") and self.connection.domain(self.domain_name(name)) is not None:
            return f"domain {self.domain_name(name)}, which is not in the ledger of set {self.set_name}"
        return None

    def create_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        source = {"path": version["path"], "format": "qcow2", "capacity": version["logical_size"]}
        name = clone["name"]
        domain_xml = self._domain_template() if self.params.get("golden_domain") else None
        dom = None
        vol = None
        try:
            vol = make_clone(self.pool, source, name, "linked")
            entry = {key: clone.get(key) for key in _METADATA}
            with translate_errors(f"volume {name}"):
                entry["inode"] = os.stat(vol.path()).st_ino
            if domain_xml is not None:
                with translate_errors(f"volume {name}"):
                    path = vol.path()
                xml = self._clone_domain_xml(domain_xml, self.domain_name(name), path, clone)
                with translate_errors(f"defining domain {self.domain_name(name)}", option="golden_domain"):
                    dom = self.connection.conn.defineXML(xml)
                entry["domain"] = self.domain_name(name)
            self.ledger["clones"][name] = entry
            self._save()
        except BaseException:
            self.ledger["clones"].pop(name, None)
            if dom is not None:
                with contextlib.suppress(Exception):
                    undefine(dom)
            if vol is not None:     # only what this run made: a volume that appeared meanwhile is not ours
                self._discard(name)
            raise
        return self._measure_clone(name, self.ledger["clones"][name]) or {}

    def delete_clone(self, clone: dict[str, Any]) -> None:
        domain = (self.ledger["clones"].get(clone["name"]) or {}).get("domain")
        dom = self.connection.domain(domain) if domain else None
        if dom is not None:
            self._check_own_domain(dom, clone["name"])
            with translate_errors(f"domain {domain}"):
                if dom.isActive():
                    dom.destroy()   # the set's own clone: teardown, reset and refresh mean it goes
            undefine(dom)
        vol = self._volume(clone["name"])
        if vol is not None:
            self._delete_volume(vol, "action")
        self.ledger["clones"].pop(clone["name"], None)
        self._save()

    def split_clone(self, clone: dict[str, Any]) -> dict[str, Any]:
        vol = self._volume(clone["name"])
        if vol is None:
            raise BackendError(f"clone volume {self.pool_name}/{clone['name']} disappeared")
        flatten(self.connection, vol, self.pool, self.run_command)
        self._index = None  # the clone no longer depends on its version
        self.ledger["clones"][clone["name"]]["split"] = True
        self._save()
        self._pool_refresh()
        return self._measure_clone(clone["name"], self.ledger["clones"][clone["name"]]) or {}

    def update_clone(self, clone: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        self.ledger["clones"][clone["name"]].update(changes)
        self._save()
        return self._measure_clone(clone["name"], self.ledger["clones"][clone["name"]]) or {}

    def predict_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        record = super().predict_clone(clone, version)
        record.update({"path": None, "backing": version.get("path")})
        if self.params.get("golden_domain"):
            self._domain_template()      # check mode fails as the real run would
            record["domain"] = self.domain_name(clone["name"])
        return record

    # ------------------------------------------------------------ domains

    def _check_own_domain(self, dom: Any, clone_name: str) -> None:
        with translate_errors(f"domain {dom.name()}"):
            record = parse_xml(dom.XMLDesc(_XML_INACTIVE_SECURE)).find(f"metadata/{{{DEVTEST_NS}}}devtest")
        if record is None or record.get("set") != self.set_name or record.get("volume") != clone_name:
            raise ConflictError(
                f"action: domain {dom.name()} is not the domain of clone {clone_name} of set {self.set_name} any more "
                f"(its <virtlab:devtest> record: {dict(record.attrib) if record is not None else 'none'}); it is "
                "left alone - remove or rename it", details={"option": "action"})

    def domain_name(self, clone_name: str) -> str:
        return clone_name[: -len(self.name_suffix)] if clone_name.endswith(self.name_suffix) else clone_name

    def _domain_template(self) -> ET.Element:
        """The golden domain's inactive definition, checked: its only writable disk is the golden volume."""
        if self._template is None:
            self._template = self._read_domain_template()
        return self._template

    def _read_domain_template(self) -> ET.Element:
        name = self.params["golden_domain"]
        dom = self.connection.domain(name)
        if dom is None:
            raise ValidationError(f"domain {name!r} does not exist", option="golden_domain")
        with translate_errors(f"domain {name}"):
            root = parse_xml(dom.XMLDesc(_XML_INACTIVE_SECURE))
        golden = self.golden()
        found = 0
        for disk in root.findall("devices/disk"):
            if disk.get("device") not in (None, "disk") or disk.find("readonly") is not None:
                continue
            source = disk.find("source")
            attrs = source.attrib if source is not None else {}
            if attrs.get("file") == golden["path"] or (
                    attrs.get("pool") == golden["pool"] and attrs.get("volume") == golden["name"]):
                found += 1
                continue
            target = disk.find("target")
            raise ValidationError(
                f"domain {name} has another writable disk ({target.get('dev') if target is not None else '?'}) "
                f"besides {golden['name']}; its clones would share it", option="golden_domain")
        if found != 1:
            raise ValidationError(f"domain {name} has no disk on the golden volume {golden['path']}",
                                  option="golden_domain")
        return root

    def _clone_domain_xml(self, template: ET.Element, name: str, path: str, clone: dict[str, Any]) -> str:
        root = ET.fromstring(ET.tostring(template))
        golden = self.golden()
        source_name = root.findtext("name") or ""
        root.find("name").text = name
        for element in root.findall("uuid"):
            root.remove(element)                 # libvirt generates a new UUID ...
        for iface in root.findall("devices/interface"):
            for mac in iface.findall("mac"):
                iface.remove(mac)                # ... and new MAC addresses
        for os_el in root.findall("os"):
            for nvram in os_el.findall("nvram"):
                os_el.remove(nvram)              # a fresh NVRAM from the template
        for device in root.findall("devices/serial") + root.findall("devices/console"):
            src = device.find("source")
            if src is not None and src.get("path") and source_name and source_name in src.get("path"):
                src.set("path", src.get("path").replace(source_name, name))
        for disk in root.findall("devices/disk"):
            source = disk.find("source")
            attrs = source.attrib if source is not None else {}
            if attrs.get("file") != golden["path"] and attrs.get("volume") != golden["name"]:
                continue
            for attr in list(source.attrib):
                del source.attrib[attr]
            disk.set("type", "file")
            source.set("file", path)
            driver = disk.find("driver")
            if driver is None:
                driver = ET.SubElement(disk, "driver", name="qemu")
            driver.set("type", "qcow2")
            for backing in disk.findall("backingStore"):
                disk.remove(backing)
        metadata = root.find("metadata")
        if metadata is None:
            metadata = ET.SubElement(root, "metadata")
        for old in list(metadata):
            if old.tag.startswith("{https://github.com/virtlab/infra/libvirt/"):
                metadata.remove(old)             # the golden's own clone/labels records are not the clone's
        ET.register_namespace("virtlab", DEVTEST_NS)
        ET.SubElement(metadata, f"{{{DEVTEST_NS}}}devtest", set=self.set_name, user=str(clone["user"]),
                      volume=clone["name"], golden_domain=source_name)
        return ET.tostring(root, encoding="unicode")

    def finish(self) -> None:
        self._pool_refresh()

    # ------------------------------------------------------------ helpers

    def _pool_refresh(self) -> None:
        def refresh() -> None:
            with translate_errors(f"storage pool {self.pool_name}"):
                self._pool.refresh(0)
        call_with_retry(refresh, REFRESH_RETRY)

    def _discard(self, name: str) -> None:
        """Remove a volume this run was making (never leave half of one behind)."""
        with contextlib.suppress(Exception):
            self._pool_refresh()
        vol = self._volume(name)
        if vol is not None:
            with translate_errors(f"removing half-made volume {name}"):
                vol.delete(0)

    @staticmethod
    def _now() -> str:
        return format_time(utcnow())

    def _delete_volume(self, vol: Any, option: str) -> None:
        """Delete one of the set's volumes, refusing (naming them) when other volumes are backed by it.
        One scan of the pools serves the whole run; volumes deleted since are left out of it."""
        if self._index is None:
            self._index = call_with_retry(lambda: dependents_index(self.connection), REFRESH_RETRY)
        with translate_errors(f"volume {vol.name()}"):
            path = vol.path()
        delete_protected(self.connection, vol, self.pool, split_dependents=False, check_mode=False,
                         option=option, index=self._index, gone=frozenset(self._gone))
        self._gone.add(path)
