# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only listing of guests: one /cluster/resources call, then bounded concurrent config look-ups."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient, check_vmid


@dataclass
class GuestInfoRequest:
    vmid: Optional[int] = None
    name: Optional[str] = None
    node: Optional[str] = None
    kind: Optional[str] = None
    status: Optional[str] = None
    tags: tuple[str, ...] = ()
    pool: Optional[str] = None
    template: Optional[bool] = None
    config: bool = True
    workers: int = 8

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "GuestInfoRequest":
        return cls(vmid=check_vmid(p.get("vmid")), name=p.get("name"), node=p.get("node"), kind=p.get("type"),
                   status=p.get("status"), tags=tuple(t.lower() for t in p.get("tags") or ()), pool=p.get("pool"),
                   template=p.get("template"), config=p.get("config", True), workers=max(1, p.get("workers") or 8))


def _tags(item: Mapping[str, Any]) -> list[str]:
    return sorted(t for t in str(item.get("tags") or "").replace(",", ";").replace(" ", ";").split(";") if t)


class GuestInfoService:
    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode

    def ensure(self, req: GuestInfoRequest) -> dict[str, Any]:
        selected = []
        for item in self.client.resources("vm"):
            if item.get("type") not in ("lxc", "qemu"):
                continue
            tags = _tags(item)
            if (req.vmid is not None and int(item["vmid"]) != req.vmid) or (req.name and item.get("name") != req.name) \
                    or (req.node and item.get("node") != req.node) or (req.kind and item["type"] != req.kind) \
                    or (req.status and item.get("status") != req.status) or (req.pool and item.get("pool") != req.pool) \
                    or (req.template is not None and bool(item.get("template")) != req.template) \
                    or not set(req.tags) <= set(tags):
                continue
            guest = {"vmid": int(item["vmid"]), "name": item.get("name"), "node": item.get("node"),
                     "type": item["type"], "status": item.get("status"), "template": bool(item.get("template")),
                     "tags": tags, "pool": item.get("pool"), "lock": item.get("lock"),
                     "maxcpu": item.get("maxcpu"), "maxmem": item.get("maxmem"), "maxdisk": item.get("maxdisk"),
                     "uptime": item.get("uptime")}
            selected.append(guest)
        selected.sort(key=lambda g: g["vmid"])
        if req.config and selected:
            with ThreadPoolExecutor(max_workers=min(req.workers, len(selected))) as pool:
                configs = list(pool.map(self._config, selected))
            for guest, (config, error) in zip(selected, configs):
                guest["config"] = config
                if error:
                    guest["config_error"] = error
        return {"changed": False, "guests": selected}

    def _config(self, guest: Mapping[str, Any]) -> tuple[dict[str, Any], Optional[str]]:
        handle = Guest(vmid=guest["vmid"], kind=guest["type"], node=guest["node"], name=guest["name"] or "",
                       status=guest["status"] or "", template=guest["template"])
        try:
            config = self.client.guest_config(handle)
        except VirtlabError as error:
            # one unreachable node degrades its guests, never the whole listing
            return {}, str(error)
        config.pop("digest", None)
        return config, None
