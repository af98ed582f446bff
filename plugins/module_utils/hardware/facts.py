# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inventory of a host's hardware: CPU, memory and DIMMs, disks with SMART, PCI, NICs, sensors.

Every source is optional: a tool that is missing or refused (dmidecode without /dev/mem,
smartctl on a virtual disk, dmesg in a container) is reported under ``sources`` with the
reason, and the rest of the inventory is still gathered. Nothing on the host is changed.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ansible_collections.virtlab.infra.plugins.module_utils.hardware.host import Unavailable
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.parsers import (
    classify_pci,
    nic_from_sysfs,
    parse_cpuinfo,
    parse_dmidecode_memory,
    parse_lsblk,
    parse_lspci,
    parse_meminfo,
    parse_smartctl,
)
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.sensors import read_temperatures

LSBLK_COLUMNS = "NAME,PATH,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINT"
_NIC_FILES = ("address", "operstate", "carrier", "speed", "duplex", "mtu")


class HardwareFactsService:
    """Gathers the inventory through a ``Host``; ``gather()`` returns the module result."""

    def __init__(self, host: Any, *, smart: bool = True, include_loopback: bool = False) -> None:
        self.host = host
        self.smart = smart
        self.include_loopback = include_loopback
        self.sources: dict[str, dict[str, Any]] = {}

    def gather(self) -> dict[str, Any]:
        hardware: dict[str, Any] = {
            "cpu": self._source("cpuinfo", self._cpu, {}),
            "memory": self._source("meminfo", self._memory, {}),
        }
        dimms = self._source("dmidecode", self._dimms, None)
        hardware["memory"]["dimms"] = dimms or []
        if dimms is not None:
            populated = [d for d in dimms if d["populated"]]
            hardware["memory"].update(dimm_slots=len(dimms), dimms_populated=len(populated),
                                      dimm_total_mib=sum(d["size_mib"] for d in populated))
        else:
            hardware["memory"].update(dimm_slots=None, dimms_populated=None, dimm_total_mib=None)
        hardware["disks"] = self._source("lsblk", self._disks, [])
        if self.smart:
            self._smart(hardware["disks"])
        else:
            self.sources["smartctl"] = {"available": False, "reason": "disabled (smart=false)"}
        pci = self._source("lspci", self._pci, None)
        hardware["pci"] = {"devices": pci or [], "count": len(pci) if pci is not None else None}
        hardware["pci"].update(classify_pci(pci or []))
        hardware["nics"] = self._source("sysfs_net", self._nics, [])
        hardware["temperatures_c"] = self._source("sensors", self._sensors, {})
        hardware["sources"] = self.sources
        return {"changed": False, "hardware": hardware, "ansible_facts": {"virtlab_hardware": hardware}}

    # ------------------------------------------------------------ sources

    def _source(self, name: str, read: Callable[[], Any], default: Any) -> Any:
        try:
            value = read()
        except (Unavailable, ValueError, KeyError) as error:
            self.sources[name] = {"available": False, "reason": str(error) or type(error).__name__}
            return default
        self.sources[name] = {"available": True, "reason": None}
        return value

    def _cpu(self) -> dict[str, Any]:
        cpu = parse_cpuinfo(self.host.read("/proc/cpuinfo"))
        cpu["usable"] = self.host.usable_cpus()
        return cpu

    def _memory(self) -> dict[str, Any]:
        return parse_meminfo(self.host.read("/proc/meminfo"))

    def _dimms(self) -> list[dict[str, Any]]:
        return parse_dmidecode_memory(self.host.tool_output("dmidecode", ["-t", "memory"]))

    def _disks(self) -> list[dict[str, Any]]:
        return parse_lsblk(self.host.tool_output("lsblk", ["-J", "-b", "-o", LSBLK_COLUMNS]))

    def _smart(self, disks: list[dict[str, Any]]) -> None:
        path = self.host.which("smartctl")
        if path is None:
            self.sources["smartctl"] = {"available": False, "reason": "smartctl is not installed"}
            for disk in disks:
                disk["smart"] = {"available": False, "reason": "smartctl is not installed"}
            return
        readable = 0
        for disk in disks:
            if disk["virtual"]:
                disk["smart"] = {"available": False, "reason": "not a hardware disk"}
                continue
            _rc, out, err = self.host.run([path, "-j", "-a", disk["path"]])
            try:
                disk["smart"] = parse_smartctl(out)
            except ValueError:
                disk["smart"] = {"available": False, "reason": (err or out).strip()[-200:] or "no JSON from smartctl"}
            readable += bool(disk["smart"].get("available"))
        self.sources["smartctl"] = {
            "available": readable > 0,
            "reason": None if readable else "no disk answered SMART queries (virtual disks, or no permission)",
        }

    def _pci(self) -> list[dict[str, Any]]:
        return parse_lspci(self.host.tool_output("lspci", ["-vmm", "-nn", "-k"]))

    def _nics(self) -> list[dict[str, Any]]:
        names = [os.path.basename(path) for path in self.host.glob("/sys/class/net/*")]
        if not names:
            raise Unavailable("/sys/class/net lists no interface")
        nics = []
        for name in names:
            if name == "lo" and not self.include_loopback:
                continue
            base = "/sys/class/net/" + name
            values = {key: self.host.read_or_none(base + "/" + key) for key in _NIC_FILES}
            values["device"] = "1" if os.path.exists(base + "/device") else None
            driver = os.path.realpath(base + "/device/driver") if values["device"] else None
            values["driver"] = os.path.basename(driver) if driver and os.path.exists(driver) else None
            nics.append(nic_from_sysfs(name, values))
        return nics

    def _sensors(self) -> dict[str, float]:
        found = read_temperatures(self.host)
        if not found:
            raise Unavailable("no readable sensor in /sys/class/thermal or /sys/class/hwmon")
        return found
