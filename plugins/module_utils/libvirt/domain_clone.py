# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_domain_clone``: a new domain from an existing (shut off) one.

The clone gets the source's definition with a new name, a new UUID and new MAC addresses
(libvirt generates both when they are left out), its own NVRAM, and a clone of each writable
disk: linked (a qcow2 overlay on the source's disk, O(1)) or full. CD-ROMs and read-only
disks are shared. The clone records where it came from in its ``<metadata>``
(``<virtlab:clone source=... source_uuid=... mode=...>``); that record makes a re-run a no-op
and a different source a clear error. A same-name domain without that record is foreign and refused
(naming ``name``); so is an existing volume of a clone disk's name. A source disk that another running
domain has attached writable is refused (naming ``source``): its clone would not be consistent.
Nothing half-made stays behind on failure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ConflictError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import (
    describe_volume,
    describe_writers,
    make_clone,
    predict_clone,
    running_writers,
    volume_facts,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import (
    CLONE_NS,
    describe_domain,
    domain_facts,
    domain_state,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import normalise_domain_xml, parse_xml

METADATA_NS = CLONE_NS
_XML_INACTIVE = 2
_XML_SECURE = 1


def clone_record(root: ET.Element) -> Optional[dict[str, str]]:
    """The ``<virtlab:clone>`` metadata of a domain's XML, or None."""
    element = root.find(f"metadata/{{{METADATA_NS}}}clone")
    return dict(element.attrib) if element is not None else None


class DomainCloneService:
    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.name = params["name"]
        self.mode = params["mode"]

    def ensure(self) -> dict[str, Any]:
        if self.name == self.params["source"]:
            raise ValidationError("the clone needs a name other than its source's", option="name")
        source = self.connection.domain(self.params["source"])
        if source is None:
            raise ValidationError(f"domain {self.params['source']!r} does not exist", option="source")
        with translate_errors(f"domain {self.params['source']}"):
            source_uuid = source.UUIDString()
            source_xml = source.XMLDesc(_XML_INACTIVE | _XML_SECURE)
        existing = self.connection.domain(self.name)
        if existing is not None:
            return self._existing(existing, source_uuid)
        if domain_state(source) != "shutdown":
            raise ConflictError(
                f"source: domain {self.params['source']} is {domain_state(source)}; shut it down first (a clone of "
                "running disks would not be consistent)")
        root = parse_xml(source_xml)
        if self.params.get("pool"):
            self.connection.require_pool(self.params["pool"])
        plan = self._plan(root)
        writers = running_writers(self.connection, [entry["source"] for entry in plan])
        if writers:
            raise ConflictError(
                f"source: disks of {self.params['source']} are attached writable to the running domain(s) "
                f"{describe_writers(writers)}; a clone of them would not be consistent - shut those down first",
                details={"option": "source", "domains": writers})
        new_xml = self._new_xml(root, plan, source_uuid)
        result: dict[str, Any] = {
            "changed": True,
            "disks": [{k: v for k, v in entry.items() if k not in ("source_facts", "pool")} for entry in plan],
            "diff": {"before": "", "after": normalise_domain_xml(new_xml),
                     "before_header": f"{self.name} (absent)", "after_header": f"{self.name} (new clone)"},
        }
        if self.check_mode:
            result["domain"] = {"name": self.name, "state": "running" if self.params["start"] else "shutdown"}
            return result
        made: list[Any] = []
        try:
            for entry in plan:
                vol = make_clone(entry["pool"], entry["source_facts"], entry["volume"], self.mode)
                made.append(vol)
                entry["path"] = vol.path()
            new_xml = self._new_xml(root, plan, source_uuid)
            with translate_errors(f"defining domain {self.name}"):
                dom = self.connection.conn.defineXML(new_xml)
        except Exception:
            for vol in reversed(made):      # never leave half-made clones behind
                with translate_errors("removing a half-made clone volume"):
                    vol.delete(0)
            raise
        if self.params["start"]:
            with translate_errors(f"starting domain {self.name}", option="start"):
                dom.create()
        result["disks"] = [{k: v for k, v in e.items() if k not in ("source_facts", "pool")} for e in plan]
        result["domain"] = domain_facts(dom)
        with translate_errors(f"domain {self.name}"):
            result["diff"]["after"] = normalise_domain_xml(dom.XMLDesc(_XML_INACTIVE))
        return result

    # ---------------------------------------------------------------- existing clone

    def _existing(self, dom: Any, source_uuid: str) -> dict[str, Any]:
        with translate_errors(f"domain {self.name}"):
            root = parse_xml(dom.XMLDesc(_XML_INACTIVE))
        record = clone_record(root)
        if record is None:
            raise ValidationError(
                f"domain {self.name} already exists and is not a clone made by this module (no <virtlab:clone> record "
                f"in its metadata); it holds {describe_domain(root, domain_state(dom))}; it is left alone - choose "
                "another name", option="name")
        if record.get("source_uuid") != source_uuid:
            raise ValidationError(
                f"domain {self.name} exists as a clone of {record.get('source')!r} ({record.get('source_uuid')}), not of "
                f"{self.params['source']!r}", option="source")
        if record.get("mode") != self.mode:
            raise ValidationError(f"domain {self.name} exists as a {record.get('mode')} clone", option="mode")
        result: dict[str, Any] = {"changed": False}
        if self.params["start"] and domain_state(dom) != "running":
            result["changed"] = True
            if not self.check_mode:
                with translate_errors(f"starting domain {self.name}", option="start"):
                    dom.create()
        result["domain"] = domain_facts(dom)
        result["disks"] = []
        xml = normalise_domain_xml(ET.tostring(root, encoding="unicode"))
        result["diff"] = {"before": xml, "after": xml}
        return result

    # ---------------------------------------------------------------- planning

    def _plan(self, root: ET.Element) -> list[dict[str, Any]]:
        plan = []
        for disk in root.findall("devices/disk"):
            if disk.get("device") not in (None, "disk") or disk.find("readonly") is not None:
                continue
            target = disk.find("target").get("dev")
            source = disk.find("source")
            vol = None
            if disk.get("type") == "volume" and source is not None:
                pool = self.connection.pool(source.get("pool"))
                vol = self.connection.volume(pool, source.get("volume")) if pool is not None else None
            elif disk.get("type") == "file" and source is not None and source.get("file"):
                vol = self.connection.volume_by_path(source.get("file"))
            if vol is None:
                raise ValidationError(
                    f"disk {target} of {self.params['source']} is not a volume of an active libvirt pool; "
                    "it cannot be cloned", option="source")
            with translate_errors(f"disk {target}"):
                source_pool = vol.storagePoolLookupByVolume()
            facts = volume_facts(vol, source_pool.name())
            facts["vol"] = vol
            pool_name = self.params.get("pool") or source_pool.name()
            pool = self.connection.require_pool(pool_name)
            extension = "qcow2" if self.mode == "linked" else (facts["format"] if facts["format"] != "raw" else "img")
            volume_name = f"{self.name}-{target}.{extension}"
            existing = self.connection.volume(pool, volume_name)
            if existing is not None:
                holds = describe_volume(volume_facts(existing))
                raise ConflictError(
                    f"name: volume {pool_name}/{volume_name} already exists ({holds}) "
                    "and is not a disk of a clone made by this task; it is left alone - remove it or choose another "
                    "name for the clone", details={"option": "name"})
            predicted = predict_clone(facts, self.mode)
            plan.append({"target": target, "source": facts["path"], "pool_name": pool_name, "volume": volume_name,
                         "format": predicted["format"], "mode": self.mode, "path": None,
                         "source_facts": facts, "pool": pool, "type": disk.get("type")})
        return plan

    def _new_xml(self, source_root: ET.Element, plan: list[dict[str, Any]], source_uuid: str) -> str:
        root = ET.fromstring(ET.tostring(source_root))
        root.find("name").text = self.name
        for tag in ("uuid",):
            for element in root.findall(tag):
                root.remove(element)
        for iface in root.findall("devices/interface"):
            for mac in iface.findall("mac"):
                iface.remove(mac)           # libvirt generates a new one
        for os_el in root.findall("os"):
            for nvram in os_el.findall("nvram"):
                os_el.remove(nvram)         # a fresh one from the template
        source_name = self.params["source"]
        for serial in root.findall("devices/serial") + root.findall("devices/console"):
            src = serial.find("source")
            if src is not None and src.get("path") and source_name in src.get("path"):
                src.set("path", src.get("path").replace(source_name, self.name))
        by_target = {entry["target"]: entry for entry in plan}
        for disk in root.findall("devices/disk"):
            target = disk.find("target")
            entry = by_target.get(target.get("dev") if target is not None else None)
            if entry is None:
                continue
            source = disk.find("source")
            for attr in list(source.attrib):
                del source.attrib[attr]
            if entry["type"] == "volume":
                source.set("pool", entry["pool_name"])
                source.set("volume", entry["volume"])
            else:
                disk.set("type", "file")
                source.set("file", entry["path"] or f"<{entry['pool_name']}/{entry['volume']}>")
            driver = disk.find("driver")
            if driver is None:
                driver = ET.SubElement(disk, "driver", name="qemu")
            driver.set("type", entry["format"])
            for backing in disk.findall("backingStore"):
                disk.remove(backing)
        metadata = root.find("metadata")
        if metadata is None:
            metadata = ET.SubElement(root, "metadata")
        for old in metadata.findall(f"{{{METADATA_NS}}}clone"):
            metadata.remove(old)
        ET.register_namespace("virtlab", METADATA_NS)
        ET.SubElement(metadata, f"{{{METADATA_NS}}}clone", source=source_name, source_uuid=source_uuid,
                      mode=self.mode)
        return ET.tostring(root, encoding="unicode")
