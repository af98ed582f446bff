# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots of VMs and containers: create, describe, roll back, delete; idempotent by name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient

_SNAPNAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{1,39}$")


@dataclass
class SnapshotRequest:
    state: str
    snapname: str
    vmid: Optional[int] = None
    name: Optional[str] = None
    description: Optional[str] = None
    vmstate: bool = False
    start: bool = False

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "SnapshotRequest":
        if not _SNAPNAME_RE.match(p["snapname"]) or p["snapname"] == "current":
            raise ValidationError("%r is not a valid snapshot name (a letter, then 1-39 letters, digits, - or _; "
                                  "not 'current')" % p["snapname"], option="snapname")
        return cls(state=p["state"], snapname=p["snapname"], vmid=p.get("vmid"), name=p.get("name"),
                   description=p.get("description"), vmstate=p.get("vmstate", False), start=p.get("start", False))


class SnapshotService:
    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode

    def _snapshots(self, guest: Guest) -> dict[str, dict[str, Any]]:
        listing = self.client.get(guest.path + "/snapshot") or []
        return {s["name"]: s for s in listing if s.get("name") != "current"}

    def ensure(self, req: SnapshotRequest) -> dict[str, Any]:
        guest = self.client.find_guest(vmid=req.vmid, name=req.name)
        if guest is None:
            raise ValidationError("no guest %s" % (req.vmid if req.vmid is not None else repr(req.name)),
                                  option="vmid" if req.vmid is not None else "name")
        if req.vmstate and guest.kind != "qemu":
            raise ValidationError("only VMs can save their RAM state", option="vmstate")
        snapshots = self._snapshots(guest)
        have = snapshots.get(req.snapname)
        result: dict[str, Any] = {"changed": False, "vmid": guest.vmid, "node": guest.node, "kind": guest.kind,
                                  "snapname": req.snapname}
        before = {"snapname": req.snapname, "description": have.get("description", "")} if have else {}
        base = "%s/snapshot" % guest.path
        if req.state == "absent":
            result["diff"] = {"before": before, "after": {}}
            if have:
                result["changed"] = True
                if not self.check_mode:
                    self.client.locked_call(guest, lambda: self.client.run_task(
                        "delete", "%s/%s" % (base, req.snapname), label="delete snapshot %s" % req.snapname))
            return self._finish(result, guest)
        if req.state == "rollback":
            if not have:
                raise ValidationError("guest %d has no snapshot %r (it has: %s)" % (
                    guest.vmid, req.snapname, ", ".join(sorted(snapshots)) or "none"), option="snapname")
            result["changed"] = True
            result["diff"] = {"before": {"status": guest.status}, "after": {"rolled_back_to": req.snapname}}
            if not self.check_mode:
                params = {"start": 1} if req.start and guest.kind == "qemu" else {}
                self.client.locked_call(guest, lambda: self.client.run_task(
                    "post", "%s/%s/rollback" % (base, req.snapname), label="rollback to %s" % req.snapname,
                    **params))
                if req.start and guest.kind == "lxc" and self.client.refresh(guest).status != "running":
                    self.client.run_task("post", guest.path + "/status/start", label="start after rollback")
            return self._finish(result, guest)
        after = {"snapname": req.snapname, "description": req.description if req.description is not None
                 else (have or {}).get("description", "")}
        result["diff"] = {"before": before, "after": after}
        if not have:
            result["changed"] = True
            if not self.check_mode:
                params: dict[str, Any] = {"snapname": req.snapname}
                if req.description:
                    params["description"] = req.description
                if req.vmstate and guest.status == "running":
                    params["vmstate"] = 1
                self.client.locked_call(guest, lambda: self.client.run_task(
                    "post", base, label="snapshot %s" % req.snapname, **params))
        elif req.description is not None and have.get("description", "") != req.description:
            result["changed"] = True
            if not self.check_mode:
                self.client.put("%s/%s/config" % (base, req.snapname), description=req.description)
        return self._finish(result, guest)

    def _finish(self, result: dict[str, Any], guest: Guest) -> dict[str, Any]:
        snapshots = self._snapshots(guest) if not self.check_mode or result["changed"] is False else None
        if snapshots is not None:
            result["snapshots"] = sorted(snapshots)
        return result
