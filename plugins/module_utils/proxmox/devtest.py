# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dev/test clones on Proxmox VE: linked clones of a frozen template of the golden guest.

The golden is a VM or container (a template or not). A *version* is a full clone of the golden
converted to a template (``<golden>-<set>-v-<label>``) with ``protection`` set, so the golden can
keep changing, a linked clone always has a template as its base, and nobody removes the version by
mistake while clones depend on it (the module lifts the protection when it prunes an unused version). A *clone* is a linked clone of its version's
template, with the tags ``virtlab-devtest``, ``devtest-set-<set>``, ``devtest-owner-<user>`` and
``devtest-version-<label>`` (for people and the web UI) and one metadata line in its description::

    virtlab-devtest: {"set": "team-a", "user": "alice", "version": "1", "created": "...", ...}

which is what the service reads back (tags are lower case and restricted, the line is exact).
The address goes into ``net0`` (``ip=`` of a container) or ``ipconfig0`` (cloud-init of a VM).
A split is a full clone of the clone under a new vmid (the linked one is then removed).

Sizes: the logical size of a guest is the sum of its disks' ``size``; its real disk is the ``used``
value that the storage reports for its volumes, which many storage types (and fakepve) do not
report: the record then says ``None`` and the engine's report says the savings are unknown.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import (
    CloneBackend,
    DevtestService,
    format_time,
    parse_address,
    parse_network,
    utcnow,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
    VirtlabError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.guest import PowerMixin, cleanup_guest
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import join_props, size_bytes, split_props

META_PREFIX = "virtlab-devtest:"
TAG = "virtlab-devtest"
FREEZE_SNAPSHOT = "virtlab-devtest-freeze"
_HOSTNAME_RE = re.compile(r"^(?=.{1,63}$)[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
_QEMU_DISK_RE = re.compile(r"^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$")
_LXC_DISK_RE = re.compile(r"^(rootfs|mp\d+)$")


@dataclass
class ProxmoxGolden:
    """The platform options of ``proxmox_devtest_clones``."""

    golden: str
    kind: Optional[str] = None
    pool: Optional[str] = None
    bridge: str = "vmbr0"
    gateway: Optional[str] = None
    storage: Optional[str] = None
    start: bool = True
    shutdown_timeout: int = 60

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ProxmoxGolden":
        if not params.get("golden"):
            raise ValidationError("the vmid or name of the golden guest is required", option="golden")
        bridge = params.get("bridge") or "vmbr0"
        if not re.fullmatch(r"[-_.\w]+", bridge):
            raise ValidationError("%r is not a bridge name" % bridge, option="bridge")
        return cls(golden=str(params["golden"]), kind=params.get("kind") or None, pool=params.get("pool") or None,
                   bridge=bridge, gateway=params.get("gateway") or None, storage=params.get("storage") or None,
                   start=params.get("start", True) is not False,
                   shutdown_timeout=params.get("shutdown_timeout") if params.get("shutdown_timeout") is not None else 60)


def tag_value(text: str) -> str:
    """A PVE tag from free text: lower case, characters outside ``[a-z0-9_+.-]`` as ``_``."""
    return re.sub(r"[^a-z0-9_+.\-]", "_", str(text).lower())


def read_metadata(description: Any) -> Optional[dict[str, Any]]:
    """The devtest metadata line of a description, or None."""
    for line in str(description or "").splitlines():
        if line.startswith(META_PREFIX):
            try:
                found = json.loads(line[len(META_PREFIX):])
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def write_metadata(metadata: Mapping[str, Any]) -> str:
    return META_PREFIX + " " + json.dumps(dict(metadata), sort_keys=True, separators=(",", ":"))


def disk_keys(kind: str, config: Mapping[str, Any]) -> list[str]:
    """The config keys of a guest's disks (no CD-ROM, no cloud-init drive)."""
    pattern = _LXC_DISK_RE if kind == "lxc" else _QEMU_DISK_RE
    keys = []
    for key, value in config.items():
        if not pattern.match(key):
            continue
        props = split_props(value, "volume")
        volume = props.get("volume", "")
        if props.get("media") == "cdrom" or "cloudinit" in volume or ":" not in volume:
            continue
        keys.append(key)
    return sorted(keys)


def logical_size(kind: str, config: Mapping[str, Any]) -> Optional[int]:
    """The sum of the disks' sizes, or None when a disk states none."""
    total = 0
    for key in disk_keys(kind, config):
        size = split_props(config[key], "volume").get("size")
        if not size:
            return None
        total += size_bytes(size, option=key, default_unit="")
    return total


class ProxmoxCloneBackend(PowerMixin, CloneBackend):
    """The Proxmox VE side of ``DevtestService``: versions are templates, clones are linked clones."""

    def __init__(self, client: ProxmoxClient, spec: ProxmoxGolden, set_name: str, *,
                 address_pool: Optional[str] = None, clone_addresses: bool = False) -> None:
        self.client = client
        self.spec = spec
        self.set_name = set_name
        self.address_pool = address_pool
        self.clone_addresses = clone_addresses
        self.check_mode = False  # PowerMixin acts at once: the engine calls no mutator in check mode
        self._golden: Optional[Guest] = None
        self._used: dict[tuple[str, str], dict[str, Optional[int]]] = {}

    # ------------------------------------------------------------------ look-ups

    def _golden_guest(self) -> Guest:
        if self._golden is None:
            ref = self.spec.golden
            vmid = int(ref) if ref.isdigit() else None
            found = self.client.find_guest(vmid=vmid, name=None if vmid else ref, kind=self.spec.kind, option="golden")
            if found is None:
                raise ValidationError("no %s %r in the cluster" % (self.spec.kind or "guest", ref), option="golden")
            self._golden = found
        return self._golden

    def _ours(self) -> list[tuple[Guest, dict[str, Any], dict[str, Any]]]:
        """(guest, config, metadata) of every guest tagged ``virtlab-devtest`` whose metadata names this set."""
        out = []
        for item in self.client.resources("vm"):
            if item.get("type") not in ("lxc", "qemu"):
                continue
            if TAG not in re.split(r"[;, ]+", str(item.get("tags") or "")):
                continue
            guest = Guest.from_resource(item)
            config = self.client.guest_config(guest)
            metadata = read_metadata(config.get("description"))
            if metadata and metadata.get("set") == self.set_name and metadata.get("golden") == self._golden_guest().vmid:
                out.append((guest, config, metadata))
        return out

    def _used_bytes(self, node: str, kind: str, config: Mapping[str, Any]) -> Optional[int]:
        """What the storages report as used by the guest's volumes; None when one reports nothing."""
        total = 0
        for key in disk_keys(kind, config):
            volid = split_props(config[key], "volume")["volume"]
            storage = volid.partition(":")[0]
            if (node, storage) not in self._used:
                listing = self.client.storage_content(node, storage)
                self._used[(node, storage)] = {item["volid"]: item.get("used") for item in listing if item.get("volid")}
            used = self._used[(node, storage)].get(volid)
            if used is None:
                return None
            total += int(used)
        return total

    def _tags(self, metadata: Mapping[str, Any]) -> str:
        tags = {TAG, "devtest-set-" + tag_value(self.set_name), "devtest-version-" + tag_value(metadata["version"]),
                "devtest-" + metadata["role"]}
        if metadata.get("user"):
            tags.add("devtest-owner-" + tag_value(metadata["user"]))
        return ";".join(sorted(tags))

    # ------------------------------------------------------------------ golden and versions

    def golden(self) -> dict[str, Any]:
        self.client.check_pool(self.spec.pool)
        guest = self._golden_guest()
        if self.spec.storage:
            self.client.check_node(guest.node, storages={self.spec.storage: "storage"}, option="golden")
        config = self.client.guest_config(guest)
        if (read_metadata(config.get("description")) or {}).get("role"):
            raise ValidationError("guest %d is a dev/test %s, not a golden" % (
                guest.vmid, read_metadata(config.get("description"))["role"]), option="golden")
        if (self.address_pool or self.clone_addresses) and guest.kind == "qemu" \
                and not any("cloudinit" in str(v) for v in config.values()):
            raise ValidationError("VM %d has no cloud-init drive, so clones cannot get their address" % guest.vmid,
                                  option="golden")
        if self.clone_addresses and not self.address_pool:
            raise ValidationError("fixed clone addresses need address_pool for their prefix length",
                                  option="address_pool")
        if self.spec.gateway and self.address_pool:
            gateway = ipaddress.ip_address(parse_address(self.spec.gateway, option="gateway"))
            if gateway not in ipaddress.ip_network(str(parse_network(self.address_pool).cidr)):
                raise ValidationError("%s is not inside address_pool %s" % (self.spec.gateway, self.address_pool),
                                      option="gateway")
        return {"name": guest.name, "vmid": guest.vmid, "kind": guest.kind, "node": guest.node,
                "template": guest.template, "logical_size": logical_size(guest.kind, config),
                "allocated": self._used_bytes(guest.node, guest.kind, config)}

    def _version_record(self, guest: Guest, config: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {"version": metadata["version"], "created": metadata.get("created"), "vmid": guest.vmid,
                "name": guest.name, "node": guest.node, "kind": guest.kind,
                "logical_size": logical_size(guest.kind, config),
                "allocated": self._used_bytes(guest.node, guest.kind, config)}

    def list_versions(self) -> list[dict[str, Any]]:
        records = [self._version_record(g, c, m) for g, c, m in self._ours() if m.get("role") == "version"]
        return sorted(records, key=lambda r: (r["created"] or "", r["vmid"]))

    def freeze_version(self, label: str) -> dict[str, Any]:
        """A full clone of the golden, converted to a template; a running container is cloned from a snapshot."""
        golden = self.client.refresh(self._golden_guest())
        name = "%s-%s-v-%s" % (golden.name, self.set_name, label)
        if not _HOSTNAME_RE.match(name):
            name = ("devtest-%d-v-%s" % (golden.vmid, re.sub(r"[^a-zA-Z0-9-]", "-", label)))[:63].rstrip("-")
        metadata = {"role": "version", "set": self.set_name, "golden": golden.vmid, "version": label,
                    "created": format_time(utcnow())}
        params: dict[str, Any] = {"full": 1, "description": write_metadata(metadata),
                                  ("hostname" if golden.kind == "lxc" else "name"): name}
        if self.spec.storage:
            params["storage"] = self.spec.storage
        snapshot = golden.kind == "lxc" and golden.status == "running"
        if snapshot:
            self.client.locked_call(golden, lambda: self.client.run_task(
                "post", golden.path + "/snapshot", snapname=FREEZE_SNAPSHOT, label="snapshot the golden"))
            params["snapname"] = FREEZE_SNAPSHOT

        def create(vmid: int) -> None:
            upid = self.client.locked_call(golden, lambda: self.client.post(golden.path + "/clone", newid=vmid, **params))
            try:
                self.client.wait_task(upid, label="freeze version %s of %d as %d" % (label, golden.vmid, vmid))
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        try:
            vmid = self.client.create_with_vmid(None, create)
        finally:
            if snapshot:
                self.client.locked_call(golden, lambda: self.client.run_task(
                    "delete", "%s/snapshot/%s" % (golden.path, FREEZE_SNAPSHOT), label="drop the freeze snapshot"))
        try:
            version = self._guest(vmid)
            self.client.put(version.path + "/config", tags=self._tags(metadata))
            self.client.run_task("post", version.path + "/template", label="convert %d to a template" % vmid)
            # protected while it exists: PVE refuses to remove it (or its disks) until protection is lifted
            self.client.put(version.path + "/config", protection=1)
            version = self._guest(vmid)
        except VirtlabError as error:
            cleanup_guest(self.client, vmid, error)
            raise
        return self._version_record(version, self.client.guest_config(version), metadata)

    def _guest(self, vmid: int) -> Guest:
        guest = self.client.guest(vmid)
        if guest is None:
            raise NotFoundError("guest %d vanished" % vmid)
        return guest

    def delete_version(self, version: dict[str, Any]) -> None:
        """Remove a version template; refused while a linked clone of any set still uses it."""
        users = [g.vmid for g, _c, m in self._ours() if m.get("role") == "clone" and not m.get("split")
                 and m.get("version_vmid") == version["vmid"]]
        if users:
            raise ConflictError("version %s (template %d) is still the base of clones %s" % (
                version["version"], version["vmid"], ", ".join(map(str, users))))
        guest = self.client.guest(version["vmid"])
        if guest is not None:
            if self.client.guest_config(guest).get("protection"):
                self.client.locked_call(guest, lambda: self.client.put(guest.path + "/config", protection=0))
            self.remove(guest, purge=True)

    # ------------------------------------------------------------------ clones

    def _clone_record(self, guest: Guest, config: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": metadata.get("name") or guest.name, "user": metadata.get("user"), "set": metadata.get("set"),
                "version": metadata.get("version"), "created": metadata.get("created"),
                "expires": metadata.get("expires"), "address": metadata.get("address"),
                "split": bool(metadata.get("split")), "logical_size": logical_size(guest.kind, config),
                "added_bytes": self._used_bytes(guest.node, guest.kind, config),
                "vmid": guest.vmid, "node": guest.node, "kind": guest.kind, "status": guest.status,
                "version_vmid": metadata.get("version_vmid")}

    def list_clones(self) -> list[dict[str, Any]]:
        return [self._clone_record(g, c, m) for g, c, m in self._ours() if m.get("role") == "clone"]

    def foreign(self, name: str) -> Optional[str]:
        if not _HOSTNAME_RE.match(name):
            raise ValidationError("%r is not a valid guest name on Proxmox VE (letters, digits and '-', up to 63)"
                                  % name, option="clones")
        clashes = []
        for guest in self.client.guests():
            if guest.name != name:
                continue
            metadata = read_metadata(self.client.guest_config(guest).get("description")) or {}
            if metadata.get("role") != "clone" or metadata.get("set") != self.set_name:
                clashes.append("%s guest %d" % ("container" if guest.kind == "lxc" else "VM", guest.vmid))
        return " and ".join(clashes) or None

    def _clone_metadata(self, clone: Mapping[str, Any], version_vmid: Optional[int]) -> dict[str, Any]:
        return {"role": "clone", "set": self.set_name, "golden": self._golden_guest().vmid, "name": clone["name"],
                "user": clone.get("user"), "version": clone["version"], "version_vmid": version_vmid,
                "created": clone.get("created"), "expires": clone.get("expires"), "address": clone.get("address"),
                "split": bool(clone.get("split"))}

    def _network_change(self, guest: Guest, config: Mapping[str, Any], address: Optional[str]) -> dict[str, Any]:
        """The ``net0`` (container) or ``ipconfig0`` (VM) value that gives the guest its address."""
        if not address:
            return {}
        prefix = parse_network(self.address_pool).prefixlen if self.address_pool else 32
        ip = "%s/%d" % (address, prefix)
        if guest.kind == "lxc":
            props = split_props(config.get("net0"))
            props.setdefault("name", "eth0")
            props.setdefault("bridge", self.spec.bridge)
            props["ip"] = ip
            if self.spec.gateway:
                props["gw"] = self.spec.gateway
            return {"net0": join_props(props, None, order=("name", "bridge"))}
        props = {"ip": ip}
        if self.spec.gateway:
            props["gw"] = self.spec.gateway
        change = {"ipconfig0": join_props(props, None, order=("ip", "gw"))}
        if "net0" not in config:
            change["net0"] = "virtio,bridge=%s" % self.spec.bridge
        return change

    def create_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        """A linked clone of the version's template with tags, metadata and address; removed if a step fails."""
        template = self._guest(version["vmid"])
        metadata = self._clone_metadata(clone, template.vmid)
        params: dict[str, Any] = {"full": 0, "description": write_metadata(metadata),
                                  ("hostname" if template.kind == "lxc" else "name"): clone["name"]}
        if self.spec.pool:
            params["pool"] = self.spec.pool
        return self._make(template, params, metadata, label="linked clone of %d" % template.vmid)

    def _make(self, source: Guest, params: dict[str, Any], metadata: dict[str, Any], *, label: str,
              start: Optional[bool] = None) -> dict[str, Any]:
        def create(vmid: int) -> None:
            upid = self.client.locked_call(source, lambda: self.client.post(source.path + "/clone", newid=vmid, **params))
            try:
                self.client.wait_task(upid, label="%s as %d" % (label, vmid))
            except VirtlabError as error:
                cleanup_guest(self.client, vmid, error)
                raise

        vmid = self.client.create_with_vmid(None, create)
        try:
            guest = self._guest(vmid)
            config = self.client.guest_config(guest)
            changes: dict[str, Any] = {"tags": self._tags(metadata)}
            if config.get("protection"):
                changes["protection"] = 0  # a clone does not inherit its version's protection
            changes.update(self._network_change(guest, config, metadata.get("address")))
            self.client.put(guest.path + "/config", **changes)
            if self.spec.start if start is None else start:
                self.client.run_task("post", guest.path + "/status/start", label="start %d" % vmid)
            guest = self._guest(vmid)
        except VirtlabError as error:
            cleanup_guest(self.client, vmid, error)
            raise
        self._used.clear()
        return self._clone_record(guest, self.client.guest_config(guest), metadata)

    def _existing(self, clone: Mapping[str, Any]) -> tuple[Guest, dict[str, Any], dict[str, Any]]:
        guest = self.client.guest(clone["vmid"]) if clone.get("vmid") else None
        if guest is None:
            raise NotFoundError("clone %s (vmid %s) is gone" % (clone["name"], clone.get("vmid")))
        config = self.client.guest_config(guest)
        metadata = read_metadata(config.get("description")) or {}
        if metadata.get("role") != "clone" or metadata.get("set") != self.set_name:
            raise ConflictError("guest %d is not a clone of set %s; it is left alone" % (guest.vmid, self.set_name))
        return guest, config, metadata

    def delete_clone(self, clone: dict[str, Any]) -> None:
        guest, _config, _metadata = self._existing(clone)
        self.remove(guest, purge=True)
        self._used.clear()

    def update_clone(self, clone: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """New expiry or address: the metadata line, and ``net0``/``ipconfig0`` for an address."""
        guest, config, metadata = self._existing(clone)
        metadata = dict(metadata, **changes)
        put = {"description": write_metadata(metadata)}
        if "address" in changes:
            put.update(self._network_change(guest, config, changes["address"]))
        self.client.locked_call(guest, lambda: self.client.put(guest.path + "/config", **put))
        return self._clone_record(guest, self.client.guest_config(guest), metadata)

    def split_clone(self, clone: dict[str, Any]) -> dict[str, Any]:
        """A full clone of the linked clone under a new vmid (same name, metadata ``split``); the old one is removed.

        The clone is stopped for the copy and started again if it ran.
        """
        guest, _config, metadata = self._existing(clone)
        if metadata.get("split"):
            return self._clone_record(guest, self.client.guest_config(guest), metadata)
        was_running = guest.status == "running"
        if was_running:
            self.stop(guest, shutdown_timeout=self.spec.shutdown_timeout, force_stop=True)
            guest = self.client.refresh(guest)
        metadata = dict(metadata, split=True, version_vmid=None, previous_vmid=guest.vmid)
        params: dict[str, Any] = {"full": 1, "description": write_metadata(metadata),
                                  ("hostname" if guest.kind == "lxc" else "name"): guest.name}
        if self.spec.pool:
            params["pool"] = self.spec.pool
        if self.spec.storage:
            params["storage"] = self.spec.storage
        try:
            record = self._make(guest, params, metadata, label="full clone of %d" % guest.vmid, start=was_running)
        except VirtlabError:
            if was_running:
                self.client.run_task("post", guest.path + "/status/start", label="restart %d" % guest.vmid)
            raise
        self.remove(guest, purge=True)
        record["previous_vmid"] = guest.vmid
        return record

    def predict_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        record = super().predict_clone(clone, version)
        record.update({"vmid": None, "kind": version.get("kind"), "node": version.get("node"),
                       "version_vmid": version.get("vmid"), "added_bytes": None})
        return record


def run_proxmox_devtest(client: ProxmoxClient, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The result of ``proxmox_devtest_clones``: the engine's plan carried out with the Proxmox backend."""
    backend = ProxmoxCloneBackend(client, ProxmoxGolden.from_params(params), params["set_name"],
                                  address_pool=params.get("address_pool"),
                                  clone_addresses=any(c.get("address") for c in params.get("clones") or []))
    return DevtestService(backend, params, check_mode=check_mode).run()
