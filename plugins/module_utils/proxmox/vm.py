# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""QEMU guests: create or clone, cloud-init, diff-based update, power states, migration, removal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import quote

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.guest import (
    POWER_STATES,
    PowerMixin,
    check_name,
    check_own_guest,
    cleanup_guest,
    clone_source,
    config_changes,
    find_source,
    tags_value,
    tags_with_source,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import (
    check_address,
    format_qemu_net,
    gib_number,
    ipconfig,
    join_props,
    normalise_prop,
    parse_qemu_net,
    pve_size,
    qemu_network,
    size_bytes,
    split_props,
)

DISK_SLOT_RE = re.compile(r"^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5]))$")
DISK_OPTIONS = ("cache", "discard", "ssd", "iothread", "backup")
_NAME_RE = re.compile(r"^(?=.{1,63}$)[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$")


@dataclass
class VmRequest:
    state: str
    vmid: Optional[int] = None
    name: Optional[str] = None
    node: Optional[str] = None
    clone: Optional[str] = None
    full: Optional[bool] = None
    storage: Optional[str] = None
    format: Optional[str] = None
    pool: Optional[str] = None
    cipassword: Optional[str] = None
    config: dict[str, Any] = field(default_factory=dict)
    nics: dict[str, dict[str, Any]] = field(default_factory=dict)
    disks: dict[str, dict[str, Any]] = field(default_factory=dict)
    cloudinit_storage: Optional[str] = None
    shutdown_timeout: int = 120
    force_stop: bool = True
    purge: bool = True
    migrate: bool = True
    rename: bool = False

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "VmRequest":
        if p.get("vmid") is not None and not 100 <= p["vmid"] <= 999999999:
            raise ValidationError("must be within 100-999999999", option="vmid")
        if p.get("name") and not _NAME_RE.match(p["name"]):
            raise ValidationError("%r is not a valid DNS name" % p["name"], option="name")
        for option in ("cores", "sockets", "memory"):
            if p.get(option) is not None and p[option] < 1:
                raise ValidationError("must be at least 1", option=option)
        if p.get("balloon") is not None:
            if p["balloon"] < 0:
                raise ValidationError("must not be negative", option="balloon")
            if p.get("memory") and p["balloon"] > p["memory"]:
                raise ValidationError("must not exceed memory (%d MiB)" % p["memory"], option="balloon")
        if p.get("clone") and not p.get("name"):
            raise ValidationError("a clone needs a name (it tells the clone from other guests)", option="name")
        config: dict[str, Any] = {
            "name": p.get("name"), "cores": p.get("cores"), "sockets": p.get("sockets"), "cpu": p.get("cpu"),
            "memory": p.get("memory"), "balloon": p.get("balloon"), "ostype": p.get("ostype"),
            "scsihw": p.get("scsihw"), "onboot": _flag(p.get("onboot")), "description": p.get("description"),
            "ciuser": p.get("ciuser"), "searchdomain": p.get("searchdomain"),
        }
        if p.get("agent") is not None:
            config["agent"] = {"enabled": _flag(p["agent"])}
        if p.get("tags") is not None:
            config["tags"] = tags_value(p["tags"])
        if p.get("nameservers") is not None:
            config["nameserver"] = " ".join(check_address(a, version=None, option="nameservers[%d]" % n)
                                            for n, a in enumerate(p["nameservers"]))
        if p.get("sshkeys") is not None:
            config["sshkeys"] = quote("\n".join(p["sshkeys"]) + "\n", safe="")
        for index, spec in enumerate(p.get("ipconfig") or []):
            config["ipconfig%d" % index] = join_props(ipconfig(spec, index), None, order=("ip", "gw", "ip6", "gw6"))
        nics = {}
        for index, spec in enumerate(p.get("nics") or []):
            nics["net%d" % (spec["index"] if spec.get("index") is not None else index)] = qemu_network(spec, index)
        disks: dict[str, dict[str, Any]] = {}
        for index, spec in enumerate(p.get("disks") or []):
            where = "disks[%d]" % index
            if not DISK_SLOT_RE.match(spec["slot"]):
                raise ValidationError("%r is not a disk slot (scsi0, virtio1, sata0, ide0...)" % spec["slot"],
                                      option=where + ".slot")
            disk = {"storage": spec.get("storage") or p.get("storage"),
                    "size": size_bytes(spec["size"], option=where + ".size"), "format": spec.get("format")}
            for option in DISK_OPTIONS:
                value = spec.get(option)
                disk[option] = _flag(value) if isinstance(value, bool) else value
            if not disk["storage"]:
                raise ValidationError("needs a storage (or the storage option)", option=where + ".storage")
            disks[spec["slot"]] = disk
        if p.get("boot"):
            known = set(disks) | set(nics) | {"ide2"}
            for device in p["boot"]:
                if not re.fullmatch(r"(ide|sata|scsi|virtio|net)\d+", device):
                    raise ValidationError("%r is not a boot device" % device, option="boot")
            if not p.get("clone") and not set(p["boot"]) <= known:
                raise ValidationError("boot devices %s are not among the disks and NICs" % sorted(
                    set(p["boot"]) - known), option="boot")
            config["boot"] = "order=" + ";".join(p["boot"])
        return cls(state=p["state"], vmid=p.get("vmid"), name=p.get("name"), node=p.get("node"),
                   clone=p.get("clone"), full=p.get("full"), storage=p.get("storage"), format=p.get("format"),
                   pool=p.get("pool"), cipassword=p.get("cipassword"), config=config, nics=nics, disks=disks,
                   cloudinit_storage=p.get("cloudinit_storage"), shutdown_timeout=p.get("shutdown_timeout", 120),
                   force_stop=p.get("force_stop", True), purge=p.get("purge", True),
                   migrate=p.get("migrate", True), rename=bool(p.get("rename")))


def _flag(value: Any) -> Optional[int]:
    return None if value is None else int(bool(value))


def _disk_size(value: Any) -> int:
    size = split_props(value, "volume").get("size")
    try:
        return size_bytes(size, option="disk", default_unit="") if size else 0
    except ValidationError:
        return 0


def effective_config(client: ProxmoxClient, guest: Guest) -> dict[str, Any]:
    """The configuration with pending changes applied (what the VM has after its next start)."""
    config: dict[str, Any] = {}
    for item in client.get(guest.path + "/pending") or []:
        if item.get("delete"):
            continue
        if "pending" in item:
            config[item["key"]] = item["pending"]
        elif "value" in item:
            config[item["key"]] = item["value"]
    config.pop("digest", None)
    return config


class VmService(PowerMixin):
    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode
        self.warnings: list[str] = []

    def ensure(self, req: VmRequest) -> dict[str, Any]:
        guest = self.client.find_guest(vmid=req.vmid, name=None if req.vmid else req.name, kind="qemu")
        if guest is not None and req.vmid is not None:
            check_name(guest, name=req.name, rename=req.rename)
        if req.state == "absent":
            if guest is None:
                return {"changed": False, "vmid": req.vmid, "state": "absent", "diff": {"before": {}, "after": {}}}
            self.remove(guest, purge=req.purge)
            return {"changed": True, "vmid": guest.vmid, "node": guest.node, "state": "absent",
                    "diff": {"before": {"vmid": guest.vmid, "name": guest.name, "status": guest.status},
                             "after": {}}}
        result = self._create(req) if guest is None else self._update(guest, req)
        if self.warnings:
            result["warnings"] = self.warnings
        return result

    # ------------------------------------------------------------------ update

    def _changes(self, config: Mapping[str, Any], req: VmRequest,
                 clone_of: Optional[int] = None) -> tuple[dict[str, Any], dict[str, int]]:
        desired = {k: v for k, v in req.config.items() if v is not None}
        tags = tags_with_source(config.get("tags"), desired.get("tags"), clone_of)
        if tags is not None:
            desired["tags"] = tags
        props_keys: dict[str, Optional[str]] = {"agent": "enabled"}
        changes = config_changes(config, desired, props_keys)
        for key, want in req.nics.items():
            have = parse_qemu_net(config[key]) if config.get(key) else {}
            if not have or any(normalise_prop(v) != normalise_prop(have.get(k)) for k, v in want.items()):
                merged = dict(have)
                merged.update(want)
                changes[key] = format_qemu_net(merged)
        resizes: dict[str, int] = {}
        for slot, disk in req.disks.items():
            if config.get(slot) is None:
                options = {k: disk[k] for k in DISK_OPTIONS + ("format",) if disk.get(k) is not None}
                changes[slot] = join_props(dict(options, volume="%s:%s" % (disk["storage"], gib_number(disk["size"]))),
                                           "volume")
                continue
            have = split_props(config[slot], "volume")
            wanted = {k: disk[k] for k in DISK_OPTIONS if disk.get(k) is not None}
            if any(normalise_prop(v) != normalise_prop(have.get(k)) for k, v in wanted.items()):
                changes[slot] = join_props(dict(have, **wanted), "volume")
            current_size = _disk_size(config[slot])
            if disk["size"] > current_size:
                resizes[slot] = disk["size"]
            elif disk["size"] < current_size:
                self.warnings.append("disk %s is %s; it is never shrunk to %s" % (
                    slot, pve_size(current_size), pve_size(disk["size"])))
        if req.cloudinit_storage and not any("cloudinit" in str(v) for v in config.values()):
            slot = "ide2" if "ide2" not in config else "sata5"
            changes[slot] = "%s:cloudinit" % req.cloudinit_storage
        return changes, resizes

    def _update(self, guest: Guest, req: VmRequest, *, created: bool = False,
                clone_of: Optional[int] = None) -> dict[str, Any]:
        config = effective_config(self.client, guest)
        if not created:
            check_own_guest(guest, config, source=find_source(self.client, req.clone, kind="qemu"),
                            creates=bool(req.clone or req.disks), from_template=False, state=req.state,
                            name=req.name, name_option="name")
        before = dict(config, status=guest.status, node=guest.node, template=guest.template)
        changes, resizes = self._changes(config, req, clone_of)
        after = dict(before)
        after.update(changes)
        for slot, size in resizes.items():
            after[slot] = join_props(dict(split_props(config[slot], "volume"), size=pve_size(size)), "volume")
        changed = bool(changes or resizes)
        if changes and not self.check_mode:
            self.client.locked_call(guest, lambda: self.client.run_task(
                "post", guest.path + "/config", label="configure VM %d" % guest.vmid, **changes))
        for slot, size in resizes.items():
            if not self.check_mode:
                self.client.locked_call(guest, lambda s=slot, n=size: self.client.run_task(
                    "put", guest.path + "/resize", disk=s, size=pve_size(n), label="grow %s" % s))
        if req.node and req.node != guest.node and not created:
            if not req.migrate:
                self.warnings.append("VM %d is on node %s, not %s; migrate=false leaves it there" % (
                    guest.vmid, guest.node, req.node))
            else:
                self._migrate(guest, req.node)
                after["node"] = req.node
                changed = True
                if not self.check_mode:
                    guest = self.client.refresh(guest)
        status = guest.status
        if req.state in POWER_STATES:
            power_changed, status = self.ensure_power(guest, req.state, shutdown_timeout=req.shutdown_timeout,
                                                      force_stop=req.force_stop)
            changed = changed or power_changed
        elif req.state == "template":
            if self.make_template(guest, shutdown_timeout=req.shutdown_timeout, force_stop=req.force_stop):
                changed = True
                status = "stopped"
                after["template"] = True
        after["status"] = status
        # nothing written: the state read at the start is the answer, no second round of requests
        result = self._result(guest, after if self.check_mode or not changed else None, changed)
        result["diff"] = make_diff({} if created else before, after, identity_keys=("name",))
        return result

    def _migrate(self, guest: Guest, target: str) -> None:
        self.client.check_node(target, option="node")
        if self.check_mode:
            return
        params: dict[str, Any] = {"target": target}
        if guest.status == "running":
            params.update({"online": 1, "with-local-disks": 1})
        self.client.locked_call(guest, lambda: self.client.run_task(
            "post", guest.path + "/migrate", label="migrate VM %d to %s" % (guest.vmid, target), **params))

    def _result(self, guest: Guest, predicted: Optional[dict[str, Any]], changed: bool) -> dict[str, Any]:
        if predicted is not None:
            config = {k: v for k, v in predicted.items() if k not in ("status", "template", "node")}
            status, template, node = predicted.get("status"), predicted.get("template"), predicted.get("node")
        else:
            fresh = self.client.refresh(guest)
            config = effective_config(self.client, fresh)
            status, template, node = fresh.status, fresh.template, fresh.node
        return {"changed": changed, "vmid": guest.vmid or None, "node": node or guest.node,
                "name": config.get("name"), "status": status, "template": bool(template), "config": config}

    # ------------------------------------------------------------------ create

    def _create(self, req: VmRequest) -> dict[str, Any]:
        self.client.check_pool(req.pool)
        if req.clone:
            return self._clone(req)
        if not req.name:
            raise ValidationError("required to create a VM", option="name")
        needed = {d["storage"]: "disks" for d in req.disks.values()}
        if req.cloudinit_storage:
            needed[req.cloudinit_storage] = "cloudinit_storage"
        if req.storage:
            needed.setdefault(req.storage, "storage")
        if req.node:
            self.client.check_node(req.node, storages=needed)
            node = req.node
        else:
            node = self.client.place(storages=needed, memory_mib=req.config.get("memory") or 512)
        params = self._create_params(req)
        if self.check_mode:
            return self._predicted(req, node, params)

        def create(vmid: int) -> None:
            upid = self.client.post("nodes/%s/qemu" % node, vmid=vmid, **params)
            try:
                self.client.wait_task(upid, label="create VM %d" % vmid)
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        vmid = self.client.create_with_vmid(req.vmid, create, name=req.name, kind="qemu")
        return self._after_create(vmid, req)

    def _create_params(self, req: VmRequest) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, value in req.config.items():
            if value is None:
                continue
            if key == "agent":
                params[key] = join_props(value, "enabled")
            elif isinstance(value, Mapping):
                params[key] = join_props(value, None)
            else:
                params[key] = value
        for key, nic in req.nics.items():
            params[key] = format_qemu_net(nic)
        for slot, disk in req.disks.items():
            options = {k: disk[k] for k in DISK_OPTIONS + ("format",) if disk.get(k) is not None}
            params[slot] = join_props(dict(options, volume="%s:%s" % (disk["storage"], gib_number(disk["size"]))),
                                      "volume")
        if req.cloudinit_storage:
            params["ide2"] = "%s:cloudinit" % req.cloudinit_storage
        if req.cipassword:
            params["cipassword"] = req.cipassword
        if req.pool:
            params["pool"] = req.pool
        return params

    def _predicted(self, req: VmRequest, node: str, params: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        predicted = {k: v for k, v in params.items() if k not in ("cipassword", "pool")}
        predicted.update(status="running" if req.state in ("started", "restarted") else "stopped",
                         template=req.state == "template", node=node)
        guest = Guest(vmid=req.vmid or 0, kind="qemu", node=node, name=req.name or "", status="stopped",
                      template=False)
        result = self._result(guest, predicted, True)
        result["diff"] = make_diff({}, predicted)
        result.update(extra)
        return result

    def _after_create(self, vmid: int, req: VmRequest, clone_of: Optional[int] = None) -> dict[str, Any]:
        try:
            guest = self.client.guest(vmid)
            if guest is None:
                raise VirtlabError("VM %d vanished right after its creation" % vmid)
            if req.clone and req.cipassword:
                self.client.locked_call(guest, lambda: self.client.put(guest.path + "/config",
                                                                       cipassword=req.cipassword))
            result = self._update(guest, req, created=True, clone_of=clone_of)
        except VirtlabError as error:
            cleanup_guest(self.client, vmid, error)
            raise
        result["changed"] = True
        return result

    def _clone(self, req: VmRequest) -> dict[str, Any]:
        source, full = clone_source(self.client, req.clone, req.full, kind="qemu", noun="VM")
        if not full and (req.storage or req.format):
            raise ValidationError("a linked clone stays on the storage of its template; drop storage/format or "
                                  "set full=true", option="storage" if req.storage else "format")
        params: dict[str, Any] = {"name": req.name, "full": int(full)}
        if req.storage:
            params["storage"] = req.storage
        if req.format:
            params["format"] = req.format
        if req.pool:
            params["pool"] = req.pool
        target = req.node or source.node
        if req.node:
            self.client.check_node(req.node, storages={req.storage: "storage"} if req.storage else None)
            if req.node != source.node:
                params["target"] = req.node
        if self.check_mode:
            predicted = dict(params)
            predicted.pop("full")
            return self._predicted(req, target, predicted, clone_of=source.vmid)

        def create(vmid: int) -> None:
            upid = self.client.locked_call(source, lambda: self.client.post(source.path + "/clone", newid=vmid,
                                                                            **params))
            try:
                self.client.wait_task(upid, label="clone VM %d to %d" % (source.vmid, vmid))
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        vmid = self.client.create_with_vmid(req.vmid, create, name=req.name, kind="qemu")
        result = self._after_create(vmid, req, clone_of=source.vmid)
        result["clone_of"] = source.vmid
        return result
