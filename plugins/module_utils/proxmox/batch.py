# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many guests in one task: each spec goes through the single-guest services, with bounded parallelism.

The requests of all guests are in flight together (at most ``parallel`` guests at a time), each waiting
for its own task; new vmids come from one allocator so the batch never races with itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import ProxmoxClient
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.lxc import LxcRequest, LxcService
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.vm import VmRequest, VmService

_LXC_ONLY = ("ostemplate", "rootfs_size", "swap", "hostname")


def build_requests(specs: list[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """(type, request) for each spec, validated before anything is touched; errors name guests[N].option."""
    built = []
    names: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        kind = spec.get("type") or "qemu"
        params = {k: v for k, v in spec.items() if v is not None and k != "type"}
        params.setdefault("state", "present")
        if params["state"] == "restarted":
            raise ValidationError("restarted is not offered for batches", option="guests[%d].state" % index)
        if not params.get("name") and params.get("vmid") is None:
            raise ValidationError("give name or vmid", option="guests[%d]" % index)
        if params.get("name"):
            key = (kind, params["name"])
            if key in names:
                raise ValidationError("%s %r is listed twice" % key, option="guests[%d].name" % index)
            names.add(key)
        try:
            if kind == "lxc":
                params["hostname"] = params.pop("name", None)
                built.append((kind, LxcRequest.from_params(params)))
            else:
                unknown = [k for k in _LXC_ONLY if k in params]
                if unknown:
                    raise ValidationError("only for type lxc", option=unknown[0])
                built.append((kind, VmRequest.from_params(params)))
        except ValidationError as error:
            raise ValidationError(error.message, option="guests[%d]" % index) from error
    return built


class GuestBatchService:
    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False, parallel: int = 16) -> None:
        self.client = client
        self.check_mode = check_mode
        self.parallel = max(1, parallel)

    def ensure(self, specs: list[Mapping[str, Any]]) -> dict[str, Any]:
        requests = build_requests(specs)
        if not self.check_mode and any(req.vmid is None for _kind, req in requests):
            self.client.allocator = self.client.new_allocator()
        with ThreadPoolExecutor(max_workers=min(self.parallel, max(1, len(requests)))) as pool:
            outcomes = list(pool.map(self._one, requests))
        failed = [o for o in outcomes if o.get("failed")]
        result: dict[str, Any] = {
            "changed": any(o.get("changed") for o in outcomes),
            "guests": outcomes,
            "summary": {"total": len(outcomes), "changed": sum(1 for o in outcomes if o.get("changed")),
                        "failed": len(failed)},
            "diff": {"before": {o["key"]: o.pop("_before") for o in outcomes if o.get("_before")},
                     "after": {o["key"]: o.pop("_after") for o in outcomes if o.get("_after")}},
        }
        for outcome in outcomes:
            outcome.pop("_before", None)
            outcome.pop("_after", None)
        if failed:
            raise VirtlabError("%d of %d guests failed: %s" % (len(failed), len(outcomes), "; ".join(
                "%s: %s" % (o["key"], o["msg"]) for o in failed[:10])), details=result)
        return result

    def _one(self, item: tuple[str, Any]) -> dict[str, Any]:
        kind, req = item
        key = "%s/%s" % (kind, getattr(req, "hostname", None) or getattr(req, "name", None) or req.vmid)
        service = LxcService(self.client, check_mode=self.check_mode) if kind == "lxc" else \
            VmService(self.client, check_mode=self.check_mode)
        try:
            result = service.ensure(req)
        except VirtlabError as error:
            outcome = {"key": key, "type": kind, "failed": True, "changed": False, "msg": error.message}
            outcome.update((k, v) for k, v in error.details.items() if k in ("exit_status", "log_tail", "cleanup"))
            return outcome
        diff = result.get("diff") or {}
        outcome = {"key": key, "type": kind, "changed": result["changed"], "vmid": result.get("vmid"),
                   "node": result.get("node"), "status": result.get("status", result.get("state")),
                   "_before": diff.get("before"), "_after": diff.get("after")}
        for extra in ("clone_of", "warnings"):
            if result.get(extra):
                outcome[extra] = result[extra]
        return outcome
