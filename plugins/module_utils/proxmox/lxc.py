# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LXC containers: create from an appliance template or clone, update drift in place, power states, removal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient, check_volid
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
    gib_number,
    join_props,
    lxc_network,
    pve_size,
    size_bytes,
    split_props,
)

# config keys holding property strings, and the name of their bare first value
_PROPS_KEYS = {"features": None}
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$")


@dataclass
class LxcRequest:
    """The validated options of ``proxmox_lxc``."""

    state: str
    vmid: Optional[int] = None
    hostname: Optional[str] = None
    node: Optional[str] = None
    ostemplate: Optional[str] = None
    clone: Optional[str] = None
    full: Optional[bool] = None
    storage: Optional[str] = None
    rootfs_size: Optional[int] = None
    password: Optional[str] = None
    ssh_public_keys: Optional[str] = None
    unprivileged: bool = True
    pool: Optional[str] = None
    config: dict[str, Any] = field(default_factory=dict)
    mounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    shutdown_timeout: int = 60
    force_stop: bool = True
    purge: bool = True
    rename: bool = False

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "LxcRequest":
        if p.get("vmid") is not None and not 100 <= p["vmid"] <= 999999999:
            raise ValidationError("must be within 100-999999999", option="vmid")
        if p.get("hostname") and not _HOSTNAME_RE.match(p["hostname"]):
            raise ValidationError("%r is not a valid DNS host name" % p["hostname"], option="hostname")
        if p.get("ostemplate"):
            check_volid(p["ostemplate"], option="ostemplate", content="vztmpl")
        for option in ("cores", "memory", "cpuunits"):
            if p.get(option) is not None and p[option] < 1:
                raise ValidationError("must be at least 1", option=option)
        if p.get("swap") is not None and p["swap"] < 0:
            raise ValidationError("must not be negative", option="swap")
        if p.get("cpulimit") is not None and not 0 <= p["cpulimit"] <= 8192:
            raise ValidationError("must be within 0-8192", option="cpulimit")
        rootfs_size = size_bytes(p["rootfs_size"], option="rootfs_size") if p.get("rootfs_size") else None
        config: dict[str, Any] = {
            "hostname": p.get("hostname"),
            "cores": p.get("cores"),
            "cpulimit": p.get("cpulimit"),
            "cpuunits": p.get("cpuunits"),
            "memory": p.get("memory"),
            "swap": p.get("swap"),
            "onboot": None if p.get("onboot") is None else int(p["onboot"]),
            "description": p.get("description"),
            "searchdomain": p.get("searchdomain"),
        }
        if p.get("nameservers") is not None:
            config["nameserver"] = " ".join(check_address(a, version=None, option="nameservers[%d]" % n)
                                            for n, a in enumerate(p["nameservers"]))
        if p.get("tags") is not None:
            config["tags"] = tags_value(p["tags"])
        if p.get("features"):
            known = ("nesting", "keyctl", "fuse", "mknod", "force_rw_sys", "mount")
            features: dict[str, Any] = {}
            for key, value in p["features"].items():
                if key not in known:
                    raise ValidationError("unknown feature %r (known: %s)" % (key, ", ".join(known)),
                                          option="features")
                features[key] = value if key == "mount" else (1 if value in (True, 1, "1", "true", "yes") else 0)
            config["features"] = features
        for index, spec in enumerate(p.get("networks") or []):
            number = spec["index"] if spec.get("index") is not None else index
            config["net%d" % number] = lxc_network(spec, index)
        mounts: dict[str, dict[str, Any]] = {}
        for n, spec in enumerate(p.get("mounts") or []):
            where = "mounts[%d]" % n
            key = "mp%d" % (spec["id"] if spec.get("id") is not None else n)
            if not spec.get("path", "").startswith("/"):
                raise ValidationError("must be an absolute path inside the container", option=where + ".path")
            mounts[key] = {"storage": spec.get("storage") or p.get("storage"), "path": spec["path"],
                           "size": size_bytes(spec["size"], option=where + ".size"),
                           "backup": spec.get("backup"), "ro": spec.get("ro")}
            if not mounts[key]["storage"]:
                raise ValidationError("needs a storage (or the storage option)", option=where + ".storage")
        keys = p.get("ssh_public_keys")
        if isinstance(keys, list):
            keys = "\n".join(keys)
        return cls(state=p["state"], vmid=p.get("vmid"), hostname=p.get("hostname"), node=p.get("node"),
                   ostemplate=p.get("ostemplate"), clone=p.get("clone"), full=p.get("full"),
                   storage=p.get("storage"), rootfs_size=rootfs_size, password=p.get("password"),
                   ssh_public_keys=keys or None, unprivileged=p.get("unprivileged", True), pool=p.get("pool"),
                   config=config, mounts=mounts, shutdown_timeout=p.get("shutdown_timeout", 60),
                   force_stop=p.get("force_stop", True), purge=p.get("purge", True),
                   rename=bool(p.get("rename")))

    def desired_config(self) -> dict[str, Any]:
        desired = {k: v for k, v in self.config.items() if v is not None}
        for key, mount in self.mounts.items():
            desired[key] = {k: v for k, v in (("mp", mount["path"]), ("backup", _flag(mount["backup"])),
                                              ("ro", _flag(mount["ro"]))) if v is not None}
        return desired


def _flag(value: Optional[bool]) -> Optional[int]:
    return None if value is None else int(bool(value))


def _mount_size(value: Any) -> int:
    size = split_props(value, "volume").get("size")
    if not size:
        return 0
    try:
        return size_bytes(size, option="rootfs", default_unit="")
    except ValidationError:
        return 0


class LxcService(PowerMixin):
    """Brings one container to the requested state; returns the module result."""

    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ entry point

    def ensure(self, req: LxcRequest) -> dict[str, Any]:
        guest = self.client.find_guest(vmid=req.vmid, name=req.hostname, kind="lxc", option="hostname")
        if guest is not None and req.vmid is not None:
            check_name(guest, name=req.hostname, rename=req.rename)
        if req.state == "absent":
            return self._absent(guest, req)
        if guest is None:
            result = self._create(req)
        else:
            result = self._update(guest, req)
        if self.warnings:
            result["warnings"] = self.warnings
        return result

    def _absent(self, guest: Optional[Guest], req: LxcRequest) -> dict[str, Any]:
        if guest is None:
            return {"changed": False, "vmid": req.vmid, "state": "absent", "diff": {"before": {}, "after": {}}}
        self.remove(guest, purge=req.purge)
        return {"changed": True, "vmid": guest.vmid, "node": guest.node, "state": "absent",
                "diff": {"before": {"vmid": guest.vmid, "hostname": guest.name, "status": guest.status},
                         "after": {}}}

    # ------------------------------------------------------------------ update

    def _current_view(self, guest: Guest, config: Mapping[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in config.items() if k not in ("digest",)}
        view["status"] = guest.status
        view["template"] = bool(guest.template)
        return view

    def _update(self, guest: Guest, req: LxcRequest, *, created: bool = False,
                clone_of: Optional[int] = None) -> dict[str, Any]:
        config = self.client.guest_config(guest)
        if not created:
            check_own_guest(guest, config, source=find_source(self.client, req.clone, kind="lxc"),
                            creates=bool(req.clone or req.ostemplate), from_template=bool(req.ostemplate),
                            state=req.state, name=req.hostname, name_option="hostname")
        if req.node and req.node != guest.node and not created:
            self.warnings.append("container %d lives on node %s, not %s; it is left there (migration of containers"
                                 " is not done by this module)" % (guest.vmid, guest.node, req.node))
        before = self._current_view(guest, config)
        desired = req.desired_config()
        tags = tags_with_source(config.get("tags"), desired.get("tags"), clone_of)
        if tags is not None:
            desired["tags"] = tags
        new_mounts = {k: m for k, m in req.mounts.items() if k not in config}
        for key in new_mounts:
            desired.pop(key, None)
        changes = config_changes(config, desired, {**_PROPS_KEYS, **{k: "volume" for k in req.mounts},
                                                   **{k: None for k in desired if k.startswith("net")}})
        for key, mount in new_mounts.items():
            changes[key] = join_props({"volume": "%s:%s" % (mount["storage"], gib_number(mount["size"])),
                                       "mp": mount["path"], "backup": _flag(mount["backup"]),
                                       "ro": _flag(mount["ro"])}, "volume", order=("mp",))
        resizes: dict[str, int] = {}
        wanted_sizes = {"rootfs": req.rootfs_size}
        wanted_sizes.update((k, m["size"]) for k, m in req.mounts.items() if k not in new_mounts)
        for disk, want in wanted_sizes.items():
            if want is None or config.get(disk) is None:
                continue
            have = _mount_size(config[disk])
            if want > have:
                resizes[disk] = want
            elif want < have:
                self.warnings.append("%s of container %d is %s; it is never shrunk to %s" % (
                    disk, guest.vmid, pve_size(have), pve_size(want)))
        after = dict(before)
        after.update(changes)
        for disk, size in resizes.items():
            after[disk] = join_props(dict(split_props(config[disk], "volume"), size=pve_size(size)), "volume")
        changed = bool(changes or resizes)
        if changes and not self.check_mode:
            self.client.locked_call(guest, lambda: self.client.put(guest.path + "/config", **changes))
        for disk, size in resizes.items():
            if not self.check_mode:
                self.client.locked_call(guest, lambda d=disk, s=size: self.client.run_task(
                    "put", guest.path + "/resize", disk=d, size=pve_size(s), label="grow %s" % d))
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
        result["diff"] = make_diff({} if created else before, after, identity_keys=("hostname",))
        return result

    def _result(self, guest: Guest, predicted: Optional[dict[str, Any]], changed: bool) -> dict[str, Any]:
        if predicted is not None:
            config = {k: v for k, v in predicted.items() if k not in ("status", "template")}
            status, template = predicted.get("status"), predicted.get("template")
        else:
            fresh = self.client.refresh(guest)
            config = self.client.guest_config(fresh)
            config.pop("digest", None)
            status, template, guest = fresh.status, fresh.template, fresh
        return {"changed": changed, "vmid": guest.vmid, "node": guest.node, "hostname": config.get("hostname"),
                "status": status, "template": bool(template), "config": config}

    # ------------------------------------------------------------------ create

    def _create(self, req: LxcRequest) -> dict[str, Any]:
        self.client.check_pool(req.pool)
        if req.clone:
            return self._clone(req)
        if not req.ostemplate:
            raise ValidationError("the container does not exist; give ostemplate (or clone) to create it",
                                  option="ostemplate")
        if not req.hostname:
            raise ValidationError("required to create a container", option="hostname")
        storage = req.storage or "local"
        template_storage = req.ostemplate.partition(":")[0]
        needed = {m["storage"]: "mounts" for m in req.mounts.values()}
        needed.update({template_storage: "ostemplate", storage: "storage"})
        if req.node:
            self.client.check_node(req.node, storages=needed)
            node = req.node
        else:
            node = self.client.place(storages=needed, memory_mib=req.config.get("memory") or 512)
        if not self.client.volume_exists(node, req.ostemplate, "vztmpl"):
            raise ValidationError("template %s is not on storage %s of node %s; download or upload it first "
                                  "(virtlab.infra.proxmox_template)" % (req.ostemplate, template_storage, node),
                                  option="ostemplate")
        params = self._create_params(req, storage)
        after = dict(req.desired_config())
        after.update((k, v) for k, v in params.items() if re.fullmatch(r"(net|mp)\d+|features|rootfs", k))
        if self.check_mode:
            predicted = dict(after, status="running" if req.state in ("started", "restarted") else "stopped",
                             template=req.state == "template")
            guest = Guest(vmid=req.vmid or 0, kind="lxc", node=node, name=req.hostname, status="stopped",
                          template=False)
            result = self._result(guest, predicted, True)
            result["vmid"] = req.vmid
            result["diff"] = make_diff({}, predicted)
            return result

        def create(vmid: int) -> None:
            upid = self.client.post("nodes/%s/lxc" % node, vmid=vmid, **params)
            try:
                self.client.wait_task(upid, label="create CT %d" % vmid)
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        vmid = self.client.create_with_vmid(req.vmid, create, name=req.hostname, kind="lxc")
        return self._after_create(vmid, req)

    def _create_params(self, req: LxcRequest, storage: str) -> dict[str, Any]:
        params: dict[str, Any] = {"ostemplate": req.ostemplate, "storage": storage,
                                  "unprivileged": int(bool(req.unprivileged))}
        if req.rootfs_size:
            params["rootfs"] = "%s:%s" % (storage, gib_number(req.rootfs_size))
        if req.password:
            params["password"] = req.password
        if req.ssh_public_keys:
            params["ssh-public-keys"] = req.ssh_public_keys
        if req.pool:
            params["pool"] = req.pool
        for key, value in req.config.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                params[key] = join_props(value, None, order=("name", "bridge"))
            else:
                params[key] = value
        for key, mount in req.mounts.items():
            params[key] = join_props({"volume": "%s:%s" % (mount["storage"], gib_number(mount["size"])),
                                      "mp": mount["path"], "backup": _flag(mount["backup"]),
                                      "ro": _flag(mount["ro"])}, "volume", order=("mp",))
        return params

    def _after_create(self, vmid: int, req: LxcRequest, clone_of: Optional[int] = None) -> dict[str, Any]:
        """Bring a just-made container to the requested config and state; remove it if that fails.

        A clone gets the record of its source (``clone_of``) in its tags."""
        try:
            guest = self.client.guest(vmid)
            if guest is None:
                raise VirtlabError("container %d vanished right after its creation" % vmid)
            result = self._update(guest, req, created=True, clone_of=clone_of)
        except VirtlabError as error:
            cleanup_guest(self.client, vmid, error)
            raise
        result["changed"] = True
        return result

    def _clone(self, req: LxcRequest) -> dict[str, Any]:
        source, full = clone_source(self.client, req.clone, req.full, kind="lxc", noun="container")
        if req.storage and not full:
            raise ValidationError("a linked clone stays on the storage of its template; drop storage or set "
                                  "full=true", option="storage")
        if req.node:
            self.client.check_node(req.node, storages={req.storage: "storage"} if req.storage else None)
        params: dict[str, Any] = {"full": int(full)}
        if req.hostname:
            params["hostname"] = req.hostname
        if req.storage:
            params["storage"] = req.storage
        if req.node and req.node != source.node:
            params["target"] = req.node
        if req.pool:
            params["pool"] = req.pool
        if req.config.get("description"):
            params["description"] = req.config["description"]
        if self.check_mode:
            predicted = dict(req.desired_config(), status="running" if req.state in ("started", "restarted")
                             else "stopped", template=req.state == "template")
            predicted.setdefault("hostname", req.hostname)
            guest = Guest(vmid=req.vmid or 0, kind="lxc", node=req.node or source.node, name=req.hostname or "",
                          status="stopped", template=False)
            result = self._result(guest, predicted, True)
            result["vmid"] = req.vmid
            result["clone_of"] = source.vmid
            result["diff"] = make_diff({}, predicted)
            return result

        def create(vmid: int) -> None:
            upid = self.client.locked_call(source, lambda: self.client.post(source.path + "/clone", newid=vmid,
                                                                            **params))
            try:
                self.client.wait_task(upid, label="clone CT %d to %d" % (source.vmid, vmid))
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        vmid = self.client.create_with_vmid(req.vmid, create, name=req.hostname, kind="lxc")
        result = self._after_create(vmid, req, clone_of=source.vmid)
        result["clone_of"] = source.vmid
        return result
