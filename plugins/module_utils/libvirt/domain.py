# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_domain``: define domains from structured options or raw XML, drive their state.

The definition is compared, not replaced: the desired XML (built from the options, or given)
is applied onto the domain's current persistent XML (``xml.apply_desired``); when that changes
nothing the domain is left alone, otherwise the merged XML is defined. So libvirt's own
defaults (controllers, PCI addresses, the versioned machine type...) never count as drift,
while a changed memory size, disk or NIC does. ``diff`` shows the normalised XML before/after.

A domain this module defines carries ``<virtlab:domain>`` in its ``<metadata>``. A same-name domain with no
record of virtlab.infra there (none of the ``https://github.com/virtlab/infra/libvirt/...`` elements: this
one, labels, seed, clone, devtest) is *foreign*: a task that gives a definition may meet it only when the
definition already holds (nothing to change; a re-run of a task that adopted it stays a no-op); a
definition that differs is refused, naming ``name`` and saying what the domain holds, and the domain is
left as it was (also its seed volume: a ``<name>-cidata.iso`` the domain does not record is foreign too).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import parse_size
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    ValidationError,
    WaitTimeoutError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.waiter import wait_until
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import (
    CommandRunner,
    dependents_of,
    describe_dependents,
    describe_volume,
    volume_facts,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.volume import upload_file
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import (
    apply_desired,
    normalise_domain_xml,
    parse_xml,
    scaled_int,
    volume_xml,
)

# virDomainState values (stable ABI), named here so this file loads without libvirt-python
_RUNNING, _BLOCKED, _PAUSED, _SHUTDOWN, _SHUTOFF, _CRASHED, _PMSUSPENDED = 1, 2, 3, 4, 5, 6, 7
STATE_NAMES = {0: "nostate", _RUNNING: "running", _BLOCKED: "running", _PAUSED: "paused",
               _SHUTDOWN: "running", _SHUTOFF: "shutdown", _CRASHED: "crashed", _PMSUSPENDED: "paused"}
_XML_INACTIVE = 2          # VIR_DOMAIN_XML_INACTIVE
_XML_SECURE = 1            # VIR_DOMAIN_XML_SECURE
_UNDEFINE_FLAGS = 1 | 2 | 4 | 0x40  # managed save, snapshot metadata, nvram, checkpoint metadata
_BUS_PREFIX = {"virtio": "vd", "sata": "sd", "scsi": "sd", "usb": "sd", "ide": "hd"}


LABELS_NS = "https://github.com/virtlab/infra/libvirt/labels"
CLONE_NS = "https://github.com/virtlab/infra/libvirt/clone"
SEED_NS = "https://github.com/virtlab/infra/libvirt/seed"
DOMAIN_NS = "https://github.com/virtlab/infra/libvirt/domain"
VIRTLAB_NS_PREFIX = "https://github.com/virtlab/infra/libvirt/"
_METADATA_ELEMENT = 2      # VIR_DOMAIN_METADATA_ELEMENT
_AFFECT_CONFIG = 2         # VIR_DOMAIN_AFFECT_CONFIG


def domain_labels(root: ET.Element) -> dict[str, str]:
    """The labels (key -> value) kept in a domain's ``<metadata>`` by ``libvirt_domain``."""
    element = root.find(f"metadata/{{{LABELS_NS}}}labels")
    if element is None:
        return {}
    return {label.get("key"): label.get("value", "") for label in element if label.get("key")}


def labels_xml(labels: dict[str, Any]) -> str:
    root = ET.Element("labels")
    for key in sorted(labels):
        ET.SubElement(root, "label", key=str(key), value="" if labels[key] is None else str(labels[key]))
    return ET.tostring(root, encoding="unicode")


def virtlab_records(root: ET.Element) -> list[str]:
    """The virtlab.infra records (namespaces) in a domain's ``<metadata>``; empty for a domain made elsewhere."""
    return [child.tag[1:].split("}", 1)[0] for child in root.findall("metadata/*")
            if child.tag.startswith("{" + VIRTLAB_NS_PREFIX)]


def with_domain_record(xml: str) -> str:
    """``xml`` with the ``<virtlab:domain>`` record of a domain defined by ``libvirt_domain``."""
    root = ET.fromstring(xml)
    metadata = root.find("metadata")
    if metadata is None:
        metadata = ET.SubElement(root, "metadata")
    if metadata.find(f"{{{DOMAIN_NS}}}domain") is None:
        ET.SubElement(metadata, f"{{{DOMAIN_NS}}}domain", module="virtlab.infra.libvirt_domain")
    return ET.tostring(root, encoding="unicode")


def describe_domain(root: ET.Element, state: str) -> str:
    """What a domain holds, for messages about an existing domain: type, memory, vCPUs, disks, state."""
    memory = scaled_int(root.find("memory"), "KiB")
    disks = ", ".join(f"{d['target']}={d['path'] or (d['pool'] or '') + '/' + (d['volume'] or '')}"
                      for d in disk_sources(root)) or "none"
    return (f"type {root.get('type')}, {memory // 1024 ** 2 if memory is not None else '?'} MiB, "
            f"{root.findtext('vcpu') or '?'} vCPU(s), disks {disks}, {state}")


def domain_state(dom: Any) -> str:
    with translate_errors(f"domain {dom.name()}"):
        return STATE_NAMES.get(dom.state()[0], "unknown")


def domain_facts(dom: Any) -> dict[str, Any]:
    with translate_errors(f"domain {dom.name()}"):
        xml = dom.XMLDesc(_XML_INACTIVE)
        facts = {
            "name": dom.name(),
            "uuid": dom.UUIDString(),
            "state": STATE_NAMES.get(dom.state()[0], "unknown"),
            "autostart": bool(dom.autostart()),
            "persistent": bool(dom.isPersistent()),
        }
    root = parse_xml(xml)
    facts["labels"] = domain_labels(root)
    facts["disks"] = disk_sources(root)
    facts["interfaces"] = [
        {"mac": i.find("mac").get("address") if i.find("mac") is not None else None, "type": i.get("type")}
        for i in root.findall("devices/interface")
    ]
    return facts


def disk_sources(root: ET.Element) -> list[dict[str, Any]]:
    """Disks of a domain's XML: target, device and where the data is (path or pool/volume)."""
    disks = []
    for disk in root.findall("devices/disk"):
        source = disk.find("source")
        target = disk.find("target")
        entry = {"target": target.get("dev") if target is not None else None, "device": disk.get("device"),
                 "type": disk.get("type"), "path": None, "pool": None, "volume": None}
        if source is not None:
            entry["path"] = source.get("file") or source.get("dev")
            entry["pool"] = source.get("pool")
            entry["volume"] = source.get("volume")
        disks.append(entry)
    return disks


class DomainService:
    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False,
                 run_command: Optional[CommandRunner] = None) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.run_command = run_command
        self.name = params["name"]

    # ---------------------------------------------------------------- desired XML

    def desired_xml(self, exists: bool) -> Optional[str]:
        """The XML the options ask for, or None when only the state is managed."""
        if self.params.get("xml"):
            root = parse_xml(self.params["xml"], option="xml")
            if root.tag != "domain":
                raise ValidationError(f"expected a <domain> document, got <{root.tag}>", option="xml")
            if root.findtext("name") not in (None, self.name):
                raise ValidationError(f"names the domain {root.findtext('name')!r}, not {self.name!r}", option="xml")
            if root.find("name") is None:
                ET.SubElement(root, "name").text = self.name
            return ET.tostring(root, encoding="unicode")
        structured = ("memory", "vcpus", "disks", "networks", "machine", "firmware", "kernel", "serial",
                      "cloud_init")
        if not any(self.params.get(key) for key in structured):
            return None
        root = self._build()
        if self.params.get("virt_type"):
            root.set("type", self.params["virt_type"])
        elif not exists:
            root.set("type", "qemu")   # TCG boots everywhere; kvm only where asked for
        return ET.tostring(root, encoding="unicode")

    def _build(self) -> ET.Element:
        p = self.params
        root = ET.Element("domain")
        ET.SubElement(root, "name").text = self.name
        if p.get("memory") is not None:
            memory = parse_size(p["memory"], option="memory")
            if memory < 1024 * 1024:
                raise ValidationError(f"{memory} bytes is less than 1 MiB", option="memory")
            ET.SubElement(root, "memory", unit="KiB").text = str(memory // 1024)
            ET.SubElement(root, "currentMemory", unit="KiB").text = str(memory // 1024)
        if p.get("vcpus") is not None:
            if p["vcpus"] < 1:
                raise ValidationError("must be at least 1", option="vcpus")
            ET.SubElement(root, "vcpu").text = str(p["vcpus"])
        os_el = ET.SubElement(root, "os")
        if p.get("firmware") == "efi":
            os_el.set("firmware", "efi")
        os_type = ET.SubElement(os_el, "type", arch=p["arch"])
        os_type.text = "hvm"
        if p.get("machine"):
            os_type.set("machine", p["machine"])
        if p.get("kernel"):
            ET.SubElement(os_el, "kernel").text = p["kernel"]
            if p.get("initrd"):
                ET.SubElement(os_el, "initrd").text = p["initrd"]
            if p.get("cmdline"):
                ET.SubElement(os_el, "cmdline").text = p["cmdline"]
        features = ET.SubElement(root, "features")
        ET.SubElement(features, "acpi")
        ET.SubElement(features, "apic")
        devices = ET.SubElement(root, "devices")
        used: set[str] = set()
        for index, disk in enumerate(p.get("disks") or []):
            devices.append(self._disk(disk, index, used))
        if p.get("cloud_init"):
            devices.append(self._seed_disk(used))
        for index, net in enumerate(p.get("networks") or []):
            devices.append(self._interface(net, index))
        if p.get("serial"):
            self._serial(devices, p["serial"])
        return root

    def _disk(self, spec: dict[str, Any], index: int, used: set[str]) -> ET.Element:
        option = f"disks[{index}]"
        device = spec.get("device") or "disk"
        bus = spec.get("bus") or ("sata" if device == "cdrom" else "virtio")
        fmt = spec.get("format")
        if spec.get("volume"):
            if not spec.get("pool"):
                raise ValidationError("a volume needs its pool", option=f"{option}.pool")
            pool = self.connection.require_pool(spec["pool"], option=f"{option}.pool")
            vol = self.connection.volume(pool, spec["volume"])
            if vol is None:
                raise ValidationError(f"volume {spec['volume']!r} not found in pool {spec['pool']!r}",
                                      option=f"{option}.volume")
            fmt = fmt or volume_facts(vol)["format"]
            disk = ET.Element("disk", type="volume", device=device)
            source = {"pool": spec["pool"], "volume": spec["volume"]}
        elif spec.get("path"):
            disk = ET.Element("disk", type="file", device=device)
            source = {"file": spec["path"]}
            fmt = fmt or "raw"
        else:
            raise ValidationError("give volume (with pool) or path", option=option)
        ET.SubElement(disk, "driver", name="qemu", type=fmt)
        ET.SubElement(disk, "source", **source)
        target = spec.get("target")
        if not target:
            prefix = _BUS_PREFIX.get(bus, "vd")
            target = next(prefix + chr(ord("a") + i) for i in range(26) if prefix + chr(ord("a") + i) not in used)
        if target in used:
            raise ValidationError(f"target {target} is used twice", option=f"{option}.target")
        used.add(target)
        ET.SubElement(disk, "target", dev=target, bus=bus)
        if spec.get("readonly") or device == "cdrom":
            ET.SubElement(disk, "readonly")
        return disk

    # ---------------------------------------------------------------- cloud-init seed

    def _seed_files(self) -> dict[str, str]:
        spec = self.params["cloud_init"]
        files = {
            "user-data": spec.get("user_data") or "#cloud-config\n",
            "meta-data": spec.get("meta_data") or f"instance-id: {self.name}\nlocal-hostname: {self.name}\n",
        }
        if spec.get("network_config"):
            files["network-config"] = spec["network_config"]
        return files

    def _seed_volume_name(self) -> str:
        return f"{self.name}-cidata.iso"

    def _seed_disk(self, used: set[str]) -> ET.Element:
        target = next(t for t in (f"sd{chr(ord('a') + i)}" for i in range(26)) if t not in used)
        used.add(target)
        disk = ET.Element("disk", type="volume", device="cdrom")
        ET.SubElement(disk, "driver", name="qemu", type="raw")
        ET.SubElement(disk, "source", pool=self.params["cloud_init"]["pool"], volume=self._seed_volume_name())
        ET.SubElement(disk, "target", dev=target, bus="sata")
        ET.SubElement(disk, "readonly")
        return disk

    def _ensure_seed(self, dom: Optional[Any], result: dict[str, Any]) -> Optional[str]:
        """Make or refresh the NoCloud seed ISO volume when its content changed; returns the new digest
        to record in the domain's metadata (None when nothing is to be recorded)."""
        spec = self.params.get("cloud_init")
        if not spec:
            return None
        files = self._seed_files()
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        pool = self.connection.require_pool(spec["pool"], option="cloud_init.pool")
        vol = self.connection.volume(pool, self._seed_volume_name())
        recorded = None
        if dom is not None:
            with translate_errors(f"domain {self.name}"):
                seed = parse_xml(dom.XMLDesc(_XML_INACTIVE)).find(f"metadata/{{{SEED_NS}}}seed")
            recorded = seed.get("sha256") if seed is not None else None
        if vol is not None and recorded == digest:
            return None
        if vol is not None and recorded is None:
            holds = describe_volume(volume_facts(vol))
            raise ValidationError(
                f"volume {spec['pool']}/{self._seed_volume_name()} already exists ({holds}) "
                f"and is not the cloud-init seed of domain {self.name} (the domain records no seed); it is left alone "
                "- choose another name or delete the volume first", option="name")
        result["changed"] = True
        result.setdefault("changes", []).append("cloud_init")
        if self.check_mode:
            return None
        if self.run_command is None:
            raise BackendError("building a cloud-init seed needs a command runner (xorriso)")
        workdir = tempfile.mkdtemp(prefix="virtlab-seed-")
        try:
            for filename, text in files.items():
                with open(os.path.join(workdir, filename), "w", encoding="utf-8") as handle:
                    handle.write(text)
            iso = os.path.join(workdir, "seed.iso")
            rc, _out, err = self.run_command(["xorriso", "-as", "genisoimage", "-output", iso, "-volid", "cidata",
                                              "-joliet", "-rock"] + [os.path.join(workdir, f) for f in files])
            if rc != 0:
                raise BackendError(f"cloud_init: building the seed ISO failed: {err.strip()}")
            size = os.path.getsize(iso)
            if vol is not None:
                with translate_errors(f"replacing volume {self._seed_volume_name()}"):
                    vol.delete(0)
            with translate_errors(f"creating volume {self._seed_volume_name()}", option="cloud_init.pool"):
                vol = pool.createXML(volume_xml(self._seed_volume_name(), size, "raw"), 0)
            try:
                upload_file(self.connection, vol, iso, size, option="cloud_init")
            except BaseException:
                with translate_errors(f"removing half-made volume {self._seed_volume_name()}"):
                    vol.delete(0)
                raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return digest

    def _remove_seed(self) -> None:
        pool = self.connection.pool(self.params["cloud_init"]["pool"])
        vol = self.connection.volume(pool, self._seed_volume_name()) if pool is not None else None
        if vol is not None:
            with translate_errors(f"removing volume {self._seed_volume_name()}"):
                vol.delete(0)

    def _record_seed(self, dom: Optional[Any], digest: Optional[str]) -> None:
        if digest is None or dom is None or self.check_mode:
            return
        with translate_errors(f"domain {self.name}", option="cloud_init"):
            dom.setMetadata(_METADATA_ELEMENT, f"<seed sha256='{digest}'/>", "virtlabseed", SEED_NS, _AFFECT_CONFIG)

    @staticmethod
    def _interface(spec: dict[str, Any], index: int) -> ET.Element:
        kind = spec.get("type") or "network"
        iface = ET.Element("interface", type=kind)
        if kind == "network":
            ET.SubElement(iface, "source", network=spec.get("source") or "default")
        elif kind == "bridge":
            if not spec.get("source"):
                raise ValidationError("a bridge interface needs source (the bridge)", option=f"networks[{index}].source")
            ET.SubElement(iface, "source", bridge=spec["source"])
        if spec.get("mac"):
            ET.SubElement(iface, "mac", address=spec["mac"].lower())
        ET.SubElement(iface, "model", type=spec.get("model") or "virtio")
        return iface

    @staticmethod
    def _serial(devices: ET.Element, spec: dict[str, Any]) -> None:
        kind = spec.get("type") or "pty"
        serial = ET.SubElement(devices, "serial", type=kind)
        if kind == "file":
            if not spec.get("path"):
                raise ValidationError("a file console needs path", option="serial.path")
            # append: the log keeps every boot (qemu truncates it at each start otherwise)
            ET.SubElement(serial, "source", path=spec["path"], append="on")
        ET.SubElement(serial, "target", port="0")

    # ---------------------------------------------------------------- entry point

    def ensure(self) -> dict[str, Any]:
        state = self.params["state"]
        dom = self.connection.domain(self.name)
        before_xml = self._xml(dom)
        before_state = domain_state(dom) if dom is not None else "absent"
        result: dict[str, Any] = {"changed": False}
        if state == "absent":
            self._absent(dom, result)
            after_xml, after_state = "", "absent"
        else:
            desired = self.desired_xml(dom is not None)
            if dom is not None and desired is not None:
                self._check_own(dom, desired)
            seed_digest = self._ensure_seed(dom, result)
            try:
                dom, after_xml = self._define(dom, before_xml, desired, result)
            except Exception:
                if dom is None and seed_digest is not None:
                    self._remove_seed()     # nothing half-made: the seed of a domain that was not defined
                raise
            created = before_state == "absent" and dom is not None
            try:
                self._record_seed(dom, seed_digest)
                self._ensure_labels(dom, result)
                after_state = self._ensure_state(dom, before_state, state, result)
                self._ensure_autostart(dom, result)
            except Exception:
                if created:     # nothing half-made: a domain this task defined but could not start goes again
                    with translate_errors(f"removing half-made domain {self.name}"):
                        if dom.isActive():
                            dom.destroy()
                    undefine(dom)
                    if seed_digest is not None:
                        self._remove_seed()
                raise
        result["diff"] = {
            "before_header": f"{self.name} ({before_state})",
            "after_header": f"{self.name} ({after_state})",
            "before": f"<!-- state: {before_state} -->\n" + before_xml,
            "after": f"<!-- state: {after_state} -->\n" + after_xml,
        }
        if dom is not None and not (self.check_mode and result["changed"]) and state != "absent":
            result["domain"] = domain_facts(dom)
        else:
            result["domain"] = {"name": self.name, "state": after_state}
        return result

    def _xml(self, dom: Optional[Any]) -> str:
        if dom is None:
            return ""
        with translate_errors(f"domain {self.name}"):
            return normalise_domain_xml(dom.XMLDesc(_XML_INACTIVE | _XML_SECURE))

    # ---------------------------------------------------------------- definition

    def _check_own(self, dom: Any, desired: str) -> None:
        """Refuse to redefine a foreign domain (no virtlab record in its metadata) whose definition differs."""
        with translate_errors(f"domain {self.name}"):
            current = dom.XMLDesc(_XML_INACTIVE | _XML_SECURE)
        root = parse_xml(current)
        if virtlab_records(root):
            return
        _merged, changes = apply_desired(current, desired, option="xml")
        if not changes:
            return
        raise ValidationError(
            f"domain {self.name} already exists and was not defined by virtlab.infra (no virtlab record in its "
            f"<metadata>); it holds {describe_domain(root, domain_state(dom))}; the task's definition differs in "
            f"{', '.join(changes)}; it is left alone - choose another name or remove that domain first",
            option="name", details={"changes": changes})

    def _define(self, dom: Optional[Any], before_xml: str, desired: Optional[str],
                result: dict[str, Any]) -> tuple[Optional[Any], str]:
        if dom is None:
            if desired is None:
                raise ValidationError(
                    f"domain {self.name} does not exist; give xml or the structured options (memory, disks, ...) "
                    "to define it", option="xml")
            result["changed"] = True
            result.setdefault("changes", []).append("defined")
            desired = with_domain_record(desired)
            after_xml = normalise_domain_xml(desired)
            if self.check_mode:
                return None, after_xml
            with translate_errors(f"defining domain {self.name}", option="xml"):
                dom = self.connection.conn.defineXML(desired)
            return dom, self._xml(dom)
        if desired is None:
            return dom, before_xml
        with translate_errors(f"domain {self.name}"):
            current = dom.XMLDesc(_XML_INACTIVE | _XML_SECURE)
        merged, changes = apply_desired(current, desired, option="xml")
        if not changes:
            return dom, before_xml
        result["changed"] = True
        result.setdefault("changes", []).extend(changes)
        if self.check_mode:
            return dom, normalise_domain_xml(merged)
        with translate_errors(f"redefining domain {self.name}", option="xml"):
            dom = self.connection.conn.defineXML(merged)
            result["restart_required"] = bool(dom.isActive())
        return dom, self._xml(dom)

    # ---------------------------------------------------------------- state

    def _ensure_state(self, dom: Optional[Any], before: str, wanted: str, result: dict[str, Any]) -> str:
        if wanted == "present":
            return before if before != "absent" else "shutdown"
        current = "shutdown" if dom is None else domain_state(dom)
        if current == wanted:
            return current
        result["changed"] = True
        if self.check_mode:
            return wanted
        with translate_errors(f"domain {self.name}", option="state"):
            if wanted == "running":
                if current == "paused":
                    dom.resume()
                else:
                    if current == "crashed":
                        dom.destroy()
                    dom.create()
            elif wanted == "paused":
                if current != "running":
                    if current == "crashed":
                        dom.destroy()
                    dom.create()
                dom.suspend()
            elif wanted == "shutdown":
                self._shutdown(dom, current, result)
        return domain_state(dom)

    def _shutdown(self, dom: Any, current: str, result: dict[str, Any]) -> None:
        """Ask the guest to power off (ACPI), wait up to shutdown_timeout, then destroy (unless
        force=false, then the timeout is an error)."""
        result["forced"] = False
        if current in ("paused", "crashed"):
            dom.destroy()       # a paused or crashed guest cannot act on the request
            result["forced"] = True
            return
        dom.shutdown()
        try:
            wait_until(
                lambda: self._state_code(dom),
                lambda code: code == _SHUTOFF,
                timeout=self.params["shutdown_timeout"],
                interval=0.25,
                max_interval=2.0,
                backoff=1.5,
                description=f"domain {self.name} to shut down",
                describe=lambda code: STATE_NAMES.get(code, "unknown"),
            )
        except WaitTimeoutError:
            if not self.params["force"]:
                raise
            if dom.isActive():
                dom.destroy()
            result["forced"] = True

    def _state_code(self, dom: Any) -> int:
        with translate_errors(f"domain {self.name}"):
            return dom.state()[0]

    def _ensure_labels(self, dom: Optional[Any], result: dict[str, Any]) -> None:
        """Labels are compared as a whole (unlike the definition): the given dict replaces them."""
        wanted = self.params.get("labels")
        if wanted is None:
            return
        wanted = {str(k): "" if v is None else str(v) for k, v in wanted.items()}
        current: dict[str, str] = {}
        if dom is not None:
            with translate_errors(f"domain {self.name}"):
                current = domain_labels(parse_xml(dom.XMLDesc(_XML_INACTIVE)))
        if current == wanted:
            return
        result["changed"] = True
        result.setdefault("changes", []).append("labels")
        if self.check_mode or dom is None:
            return
        with translate_errors(f"domain {self.name}", option="labels"):
            dom.setMetadata(_METADATA_ELEMENT, labels_xml(wanted) if wanted else None, "virtlab" if wanted else None,
                            LABELS_NS, _AFFECT_CONFIG)

    def _ensure_autostart(self, dom: Optional[Any], result: dict[str, Any]) -> None:
        wanted = self.params.get("autostart")
        if wanted is None:
            return
        current = bool(dom.autostart()) if dom is not None else False
        if current == wanted:
            return
        result["changed"] = True
        if not self.check_mode:
            with translate_errors(f"domain {self.name}", option="autostart"):
                dom.setAutostart(1 if wanted else 0)

    # ---------------------------------------------------------------- absent

    def _absent(self, dom: Optional[Any], result: dict[str, Any]) -> None:
        if dom is None:
            return
        volumes = self._owned_volumes(dom) if self.params["remove_volumes"] else []
        # refuse before touching anything: a disk that other volumes are backed by stays
        for entry in volumes:
            dependents = [d for d in dependents_of(self.connection, entry["path"])
                          if d["path"] not in {v["path"] for v in volumes}]
            if dependents:
                raise ConflictError(
                    f"remove_volumes: disk {entry['pool']}/{entry['name']} of domain {self.name} is the backing file "
                    f"of {describe_dependents(dependents)}; remove those first or keep the volumes",
                    details={"dependents": dependents})
        result["changed"] = True
        result["removed_volumes"] = [f"{v['pool']}/{v['name']}" for v in volumes]
        if self.check_mode:
            return
        with translate_errors(f"removing domain {self.name}"):
            if dom.isActive():
                dom.destroy()
        undefine(dom)
        # overlays before what they are backed by
        volumes.sort(key=lambda v: v["depth"], reverse=False)
        for entry in volumes:
            with translate_errors(f"deleting volume {entry['pool']}/{entry['name']}"):
                entry["vol"].delete(0)

    def _owned_volumes(self, dom: Any) -> list[dict[str, Any]]:
        with translate_errors(f"domain {self.name}"):
            root = parse_xml(dom.XMLDesc(_XML_INACTIVE))
        found = []
        for disk in disk_sources(root):
            if disk["device"] == "cdrom" and disk["volume"] is None and disk["path"] is None:
                continue
            vol = None
            if disk["volume"] and disk["pool"]:
                pool = self.connection.pool(disk["pool"])
                vol = self.connection.volume(pool, disk["volume"]) if pool is not None else None
            elif disk["path"]:
                vol = self.connection.volume_by_path(disk["path"])
            if vol is None:
                continue
            with translate_errors("volume"):
                pool_name = vol.storagePoolLookupByVolume().name()
                facts = volume_facts(vol, pool_name)
            found.append({"vol": vol, "pool": pool_name, "name": facts["name"], "path": facts["path"],
                          "depth": 0 if facts["backing"] else 1})
        return found


def undefine(dom: Any) -> None:
    """Undefine with its managed save, snapshot/checkpoint metadata and NVRAM; drivers that do not know
    some of these flags (refused as an invalid argument) get fewer."""
    for flags in (_UNDEFINE_FLAGS, 1 | 2, 0):
        try:
            with translate_errors(f"undefining domain {dom.name()}"):
                dom.undefineFlags(flags)
            return
        except ValidationError:
            if flags == 0:
                raise
