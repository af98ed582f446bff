# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_snapshot``: create, revert to and delete domain snapshots.

* default: an *internal* qcow2 snapshot; of a running domain it includes the memory state (a
  full system checkpoint, reverting resumes the guest where it was), of a shut off one the disks;
* ``disk_only``: an *external* disk-only snapshot (new qcow2 overlays become the domain's disks;
  the snapshot's data stays in the files below them). libvirt reverts external snapshots only
  from 9.9 on; older daemons get a clear error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import domain_state
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import parse_xml

# flags (stable ABI values), named here so this file loads without libvirt-python
_CREATE_DISK_ONLY = 16
_CREATE_ATOMIC = 128
_DELETE_METADATA_ONLY = 2
_EXTERNAL_REVERT_VERSION = 9009000


def snapshot_facts(snap: Any, current_name: Optional[str]) -> dict[str, Any]:
    with translate_errors(f"snapshot {snap.getName()}"):
        root = parse_xml(snap.getXMLDesc(0))
    disks = root.findall("disks/disk")
    external = any(d.get("snapshot") == "external" for d in disks)
    return {
        "name": root.findtext("name"),
        "description": root.findtext("description"),
        "domain_state": root.findtext("state"),
        "creation_time": int(root.findtext("creationTime") or 0),
        "parent": root.findtext("parent/name"),
        "memory": root.find("memory") is not None and root.find("memory").get("snapshot") == "internal",
        "disk_only": external,
        "current": root.findtext("name") == current_name,
    }


class SnapshotService:
    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode

    def _lookup(self, dom: Any) -> Optional[Any]:
        return self.connection.lookup(lambda: dom.snapshotLookupByName(self.params["name"], 0),
                                      f"snapshot {self.params['name']}")

    def _current_name(self, dom: Any) -> Optional[str]:
        with translate_errors(f"domain {self.params['domain']}"):
            if not dom.hasCurrentSnapshot(0):
                return None
            return dom.snapshotCurrent(0).getName()

    def _names(self, dom: Any) -> list[str]:
        with translate_errors(f"domain {self.params['domain']}"):
            return sorted(dom.snapshotListNames(0))

    def ensure(self) -> dict[str, Any]:
        dom = self.connection.domain(self.params["domain"])
        if dom is None:
            raise ValidationError(f"domain {self.params['domain']!r} does not exist", option="domain")
        snap = self._lookup(dom)
        current = self._current_name(dom)
        before = snapshot_facts(snap, current) if snap is not None else None
        state = self.params["state"]
        result: dict[str, Any] = {"changed": False}
        if state == "present":
            if snap is None:
                result["changed"] = True
                if self.check_mode:
                    after = {"name": self.params["name"], "description": self.params.get("description"),
                             "domain_state": domain_state(dom), "current": True,
                             "disk_only": self.params["disk_only"],
                             "memory": domain_state(dom) == "running" and not self.params["disk_only"]}
                else:
                    snap = self._create(dom)
                    after = snapshot_facts(snap, self._current_name(dom))
            else:
                after = before
        elif state == "reverted":
            if snap is None:
                raise ValidationError(f"domain {self.params['domain']} has no snapshot {self.params['name']!r}",
                                      option="name")
            if before["disk_only"] and self.connection.conn.getLibVersion() < _EXTERNAL_REVERT_VERSION:
                raise ValidationError(
                    f"snapshot {self.params['name']} is external (disk_only); this libvirt cannot revert external "
                    "snapshots (needs 9.9 or later)", option="state")
            # reverting is an action: it always happens (and reports a change)
            result["changed"] = True
            if not self.check_mode:
                with translate_errors(f"reverting to snapshot {self.params['name']}", option="state"):
                    dom.revertToSnapshot(snap, 0)
            after = dict(before, current=True)
            result["domain_state"] = domain_state(dom) if not self.check_mode else before["domain_state"]
        else:
            after = None
            if snap is not None:
                result["changed"] = True
                if not self.check_mode:
                    flags = _DELETE_METADATA_ONLY if before["disk_only"] else 0
                    with translate_errors(f"deleting snapshot {self.params['name']}"):
                        snap.delete(flags)
        result["snapshot"] = after or {}
        names = self._names(dom)
        if self.check_mode and state == "present" and before is None:
            names = sorted(names + [self.params["name"]])
        if self.check_mode and state == "absent" and before is not None:
            names = [n for n in names if n != self.params["name"]]
        result["snapshots"] = names
        result["diff"] = {"before": before or {"name": self.params["name"], "state": "absent"},
                          "after": after or {"name": self.params["name"], "state": "absent"}}
        return result

    def _create(self, dom: Any) -> Any:
        root = ET.Element("domainsnapshot")
        ET.SubElement(root, "name").text = self.params["name"]
        if self.params.get("description"):
            ET.SubElement(root, "description").text = self.params["description"]
        flags = _CREATE_ATOMIC
        if self.params["disk_only"]:
            flags |= _CREATE_DISK_ONLY
        with translate_errors(f"creating snapshot {self.params['name']}", option="disk_only"):
            return dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), flags)
