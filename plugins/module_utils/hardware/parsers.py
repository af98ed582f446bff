# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsers of the hardware tools' outputs: text in, plain dicts out, no I/O.

Each parser takes what a tool printed (or a file's content) and returns JSON-ready data;
malformed input raises ``ValueError`` so the caller can report that source as unreadable.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

# ------------------------------------------------------------------ CPU and memory


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """``/proc/cpuinfo`` -> model, sockets, physical cores, logical CPUs, threads per core, MHz."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    processors = []
    for block in blocks:
        entry: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                entry[key.strip()] = value.strip()
        if "processor" in entry:
            processors.append(entry)
    if not processors:
        raise ValueError("no processor entries in /proc/cpuinfo")
    models = [p.get("model name") or p.get("Processor") or p.get("cpu model") for p in processors]
    model = next((m for m in models if m), None)
    sockets = {p.get("physical id", "0") for p in processors}
    if all("core id" in p for p in processors):
        cores = len({(p.get("physical id", "0"), p["core id"]) for p in processors})
    else:
        cores = len(processors)
    mhz = [float(p["cpu MHz"]) for p in processors if _is_number(p.get("cpu MHz"))]
    flags = set((processors[0].get("flags") or "").split())
    return {
        "model": model,
        "sockets": len(sockets),
        "cores": cores,
        "logical": len(processors),
        "threads_per_core": max(1, len(processors) // cores) if cores else 1,
        "mhz": round(sum(mhz) / len(mhz), 1) if mhz else None,
        "virtualization": "vmx" in flags or "svm" in flags,
        "hypervisor": "hypervisor" in flags,
    }


def parse_meminfo(text: str) -> dict[str, Any]:
    """``/proc/meminfo`` -> total, available and swap in KiB and MiB."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+):\s+(\d+)(?:\s+kB)?\s*$", line)
        if match:
            values[match.group(1)] = int(match.group(2))
    if "MemTotal" not in values:
        raise ValueError("no MemTotal in /proc/meminfo")
    total = values["MemTotal"]
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return {
        "total_kib": total,
        "total_mib": total // 1024,
        "available_mib": available // 1024,
        "swap_total_mib": values.get("SwapTotal", 0) // 1024,
        "hardware_corrupted_kib": values.get("HardwareCorrupted", 0),
    }


_SIZE_UNITS = {"B": 1, "BYTES": 1, "KB": 1024, "KIB": 1024, "MB": 1024 ** 2, "MIB": 1024 ** 2,
               "GB": 1024 ** 3, "GIB": 1024 ** 3, "TB": 1024 ** 4, "TIB": 1024 ** 4}


def parse_dmidecode_memory(text: str) -> list[dict[str, Any]]:
    """``dmidecode -t memory`` (type 17 entries) -> one dict per slot, populated or empty."""
    if "Memory Device" not in text:
        raise ValueError("no Memory Device entries in the dmidecode output")
    slots = []
    for block in re.split(r"\n(?=Handle 0x)", text):
        if "\nMemory Device" not in "\n" + block.split("\n", 1)[-1]:
            continue
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.strip().partition(":")
            if sep and line.startswith("\t") and not line.startswith("\t\t"):
                fields[key.strip()] = value.strip()
        size_mib = _dimm_size_mib(fields.get("Size", ""))
        slots.append({
            "locator": fields.get("Locator"),
            "bank": fields.get("Bank Locator"),
            "populated": size_mib is not None and size_mib > 0,
            "size_mib": size_mib,
            "type": _known(fields.get("Type")),
            "speed": _known(fields.get("Configured Memory Speed") or fields.get("Speed")),
            "manufacturer": _known(fields.get("Manufacturer")),
            "serial": _known(fields.get("Serial Number")),
            "part_number": _known(fields.get("Part Number")),
            "form_factor": _known(fields.get("Form Factor")),
        })
    return slots


def _dimm_size_mib(value: str) -> Optional[int]:
    match = re.match(r"^(\d+)\s*([A-Za-z]+)$", value.strip())
    if not match:
        return None  # "No Module Installed", "Unknown"
    factor = _SIZE_UNITS.get(match.group(2).upper())
    if factor is None:
        return None
    return int(match.group(1)) * factor // 1024 ** 2


def _known(value: Optional[str]) -> Optional[str]:
    if value is None or value.strip() in ("", "Unknown", "Not Specified", "Not Provided", "None", "NO DIMM"):
        return None
    return value.strip()


# ------------------------------------------------------------------ disks

# block devices that are not hardware: RAM disks, compressed swap, loop files, device-mapper, md
_VIRTUAL_DISK = re.compile(r"^(zram|ram|loop|dm-|md|nbd|sr)\d*")


def parse_lsblk(text: str) -> list[dict[str, Any]]:
    """``lsblk -J -b -o NAME,PATH,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINT`` -> the whole disks.

    ``mountpoints`` collects the mount points of the disk and everything below it (partitions,
    LVM, RAID members), so a caller can tell whether a disk is in use.
    """
    data = json.loads(text)
    disks = []
    for device in data.get("blockdevices") or []:
        if device.get("type") != "disk":
            continue
        name = device.get("name") or ""
        disks.append({
            "name": name,
            "path": device.get("path") or "/dev/" + name,
            "size_bytes": _int_or_none(device.get("size")),
            "model": (device.get("model") or "").strip() or None,
            "serial": (device.get("serial") or "").strip() or None,
            "rotational": _bool(device.get("rota")),
            "transport": device.get("tran"),
            "virtual": bool(_VIRTUAL_DISK.match(name)),
            "mountpoints": sorted(_mountpoints(device)),
        })
    return disks


def _mountpoints(device: dict[str, Any]) -> set[str]:
    found = set()
    for key in ("mountpoint", "mountpoints"):
        value = device.get(key)
        for point in value if isinstance(value, list) else [value]:
            if point:
                found.add(point)
    for child in device.get("children") or []:
        found |= _mountpoints(child)
    return found


# smartctl's exit status is a bit mask (smartctl(8), RETURN VALUES)
_SMART_BITS = {
    0: "command line did not parse",
    1: "device open failed or device did not return an IDENTIFY answer",
    2: "a SMART or other ATA command failed, or a checksum error in a SMART data structure",
    3: "SMART status check returned DISK FAILING",
    4: "prefail attributes are at or below their threshold",
    5: "usage or prefail attributes were at or below threshold in the past",
    6: "the device error log contains errors",
    7: "the self-test log contains errors",
}


def parse_smartctl(text: str) -> dict[str, Any]:
    """``smartctl -j -a DEV`` -> health, power-on hours, reallocated/pending sectors, temperature."""
    data = json.loads(text)
    status = int((data.get("smartctl") or {}).get("exit_status") or 0)
    messages = [m.get("string") for m in (data.get("smartctl") or {}).get("messages") or [] if m.get("string")]
    problems = [text_ for bit, text_ in _SMART_BITS.items() if status & (1 << bit)]
    if status & 0b11:
        return {"available": False, "reason": "; ".join(messages or problems), "exit_status": status}
    attributes = {}
    for attribute in ((data.get("ata_smart_attributes") or {}).get("table") or []):
        raw = (attribute.get("raw") or {}).get("value")
        attributes[attribute.get("id")] = raw
    nvme = data.get("nvme_smart_health_information_log") or {}
    health = (data.get("smart_status") or {}).get("passed")
    return {
        "available": True,
        "health_passed": health,
        "power_on_hours": (data.get("power_on_time") or {}).get("hours", nvme.get("power_on_hours")),
        "reallocated_sectors": attributes.get(5),
        "pending_sectors": attributes.get(197),
        "offline_uncorrectable": attributes.get(198),
        "media_errors": nvme.get("media_errors"),
        "temperature_c": (data.get("temperature") or {}).get("current"),
        "model": data.get("model_name"),
        "serial": data.get("serial_number"),
        "exit_status": status,
        "problems": problems,
        "messages": messages,
    }


# ------------------------------------------------------------------ PCI

_RAID_CLASS = "0104"
_NAME_AND_ID = re.compile(r"^(.*?)\s*\[([0-9a-fA-F]{4})\]$")


def parse_lspci(text: str) -> list[dict[str, Any]]:
    """``lspci -vmm -nn -k`` -> one dict per device (slot, class and its ID, vendor, device, driver)."""
    devices = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip(), value.strip())
        if "Slot" not in fields:
            continue
        class_name, class_id = _split_id(fields.get("Class", ""))
        vendor, vendor_id = _split_id(fields.get("Vendor", ""))
        device, device_id = _split_id(fields.get("Device", ""))
        devices.append({
            "slot": fields["Slot"],
            "class": class_name,
            "class_id": class_id,
            "vendor": vendor,
            "vendor_id": vendor_id,
            "device": device,
            "device_id": device_id,
            "driver": fields.get("Driver"),
        })
    return devices


def _split_id(value: str) -> tuple[str, Optional[str]]:
    match = _NAME_AND_ID.match(value.strip())
    if match:
        return match.group(1), match.group(2).lower()
    return value.strip(), None


def classify_pci(devices: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Storage (class 01xx), RAID (0104, or a name saying RAID) and network (02xx) controllers."""
    storage = [d for d in devices if (d.get("class_id") or "").startswith("01")]
    raid = [d for d in storage
            if d.get("class_id") == _RAID_CLASS or re.search(r"raid|megaraid|smart array|perc", d.get("device") or "", re.I)]
    network = [d for d in devices if (d.get("class_id") or "").startswith("02")]
    return {"storage_controllers": storage, "raid_controllers": raid, "network_controllers": network}


# ------------------------------------------------------------------ NICs


def nic_from_sysfs(name: str, values: dict[str, Optional[str]]) -> dict[str, Any]:
    """One interface from the files of ``/sys/class/net/<name>`` (unreadable ones are None).

    ``values`` holds address, operstate, carrier, speed, duplex, mtu, driver (the basename of
    ``device/driver``) and device (whether ``device`` exists: a NIC on a bus, not a bridge or veth).
    """
    speed = _int_or_none(values.get("speed"))
    carrier = values.get("carrier")
    return {
        "name": name,
        "mac": values.get("address"),
        "operstate": values.get("operstate"),
        "link": carrier == "1" if carrier is not None else values.get("operstate") == "up",
        # the kernel reports -1 (or an unreadable file) when the speed is unknown or the link is down
        "speed_mbps": speed if speed is not None and speed > 0 else None,
        "duplex": values.get("duplex"),
        "mtu": _int_or_none(values.get("mtu")),
        "driver": values.get("driver"),
        "physical": bool(values.get("device")),
    }


# ------------------------------------------------------------------ sensors and frequency


def millidegrees(value: Optional[str]) -> Optional[float]:
    """The content of a sysfs ``temp`` file (milli-degrees Celsius) -> degrees, or None."""
    number = _int_or_none(value)
    return None if number is None else round(number / 1000.0, 1)


def cpuinfo_mhz(text: str) -> list[float]:
    """All ``cpu MHz`` values of ``/proc/cpuinfo`` (one per logical CPU)."""
    return [float(value) for value in re.findall(r"^cpu MHz\s*:\s*([0-9.]+)\s*$", text, re.M)]


def parse_loadavg(text: str) -> float:
    """``/proc/loadavg`` -> the one-minute load."""
    return float(text.split()[0])


# ------------------------------------------------------------------ kernel log

KERNEL_ERROR_PATTERNS = {
    "mce": re.compile(r"machine check|\bmce\b.*(error|event|hardware)|hardware error|\[Hardware Error\]", re.I),
    "edac": re.compile(r"\bEDAC\b.*(\bCE\b|\bUE\b|error|corrected|uncorrected)", re.I),
    "io": re.compile(
        r"I/O error|blk_update_request|critical medium error|Medium Error|Buffer I/O error|"
        r"\bata\d+(\.\d+)?: (failed command|exception|error)|nvme\S*: .*(timeout|I/O \d+ QID|controller is down)|"
        r"SCSI error|Sense Key : (Medium|Hardware) Error|\bAER\b.*error|PCIe Bus Error", re.I),
}


def scan_kernel_log(lines: list[str]) -> list[dict[str, str]]:
    """Lines of the kernel log that report machine-check, EDAC or I/O/PCIe errors, with their category."""
    found = []
    for line in lines:
        for category, pattern in KERNEL_ERROR_PATTERNS.items():
            if pattern.search(line):
                found.append({"category": category, "line": line.rstrip()})
                break
    return found


# ------------------------------------------------------------------ stress-ng and fio

_STRESS_ROW = re.compile(
    r"stress-ng: (?:metrc|info):\s+\[\d+\]\s+([a-z][\w-]*)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)")


def parse_stress_ng(text: str) -> dict[str, Any]:
    """The output of ``stress-ng ... --metrics-brief`` -> per-stressor metrics, outcome lines."""
    stressors = []
    for match in _STRESS_ROW.finditer(text):
        stressors.append({
            "stressor": match.group(1),
            "bogo_ops": int(match.group(2)),
            "real_time_s": float(match.group(3)),
            "usr_time_s": float(match.group(4)),
            "sys_time_s": float(match.group(5)),
            "bogo_ops_per_s": float(match.group(6)),
        })
    problems = [line.strip() for line in text.splitlines()
                if re.search(r"stress-ng: (fail|error)|unsuccessful run|verification|FAILED", line, re.I)
                and "passed" not in line.lower()]
    completed = re.search(r"(?<!un)successful run completed in ([0-9.]+)\s*s", text)
    return {
        "stressors": stressors,
        "completed_s": float(completed.group(1)) if completed else None,
        "problems": problems,
    }


def parse_fio(text: str) -> dict[str, Any]:
    """``fio --output-format=json`` (possibly after warning lines) -> per-job I/O figures and errors."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON in the fio output")
    data, _end = json.JSONDecoder().raw_decode(text[start:])  # stderr may follow the JSON
    jobs = []
    for job in data.get("jobs") or []:
        read = job.get("read") or {}
        write = job.get("write") or {}
        jobs.append({
            "name": job.get("jobname"),
            "error": int(job.get("error") or 0),
            "read_iops": round(float(read.get("iops") or 0), 1),
            "write_iops": round(float(write.get("iops") or 0), 1),
            "read_kib_s": int(read.get("bw") or 0),
            "write_kib_s": int(write.get("bw") or 0),
            "read_bytes": int(read.get("io_bytes") or 0),
            "write_bytes": int(write.get("io_bytes") or 0),
            "runtime_ms": int(max(read.get("runtime") or 0, write.get("runtime") or 0)),
        })
    return {"jobs": jobs, "errors": sum(job["error"] for job in jobs),
            "write_bytes": sum(job["write_bytes"] for job in jobs), "read_bytes": sum(job["read_bytes"] for job in jobs)}


# ------------------------------------------------------------------ helpers


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _int_or_none(value: Any) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> Optional[bool]:
    if isinstance(value, bool):
        return value
    if value in ("1", 1):
        return True
    if value in ("0", 0):
        return False
    return None
