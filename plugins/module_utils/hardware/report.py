# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of an inventory and a stress run against a spec, a verdict, and the report files.

Each check is ``{"name", "status": pass|fail|unknown, "expected", "actual", "evidence"}``.
``unknown`` means the host could not tell (no SMART on a virtual disk, kernel log not readable);
it fails the verdict only in strict mode. ``evaluate`` is pure; ``HardwareReportService``
writes ``<host>-<UTC time>.json`` and ``.txt`` into the report directory, a new pair per run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from typing import Any, Callable, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError

# spec key -> (type, description used in the evidence)
SPEC_KEYS = {
    "cpu_model": (str, "CPU model contains"),
    "cpu_sockets_min": (int, "CPU sockets at least"),
    "cpu_cores_min": (int, "physical CPU cores at least"),
    "cpu_logical_min": (int, "logical CPUs at least"),
    "memory_mib_min": (int, "memory (MiB) at least"),
    "memory_tolerance_pct": (float, "memory tolerance (%)"),
    "dimms_populated_min": (int, "populated DIMM slots at least"),
    "disk_count_min": (int, "disks at least"),
    "disk_include_virtual": (bool, "count virtual disks"),
    "smart_healthy": (bool, "every disk passes its SMART health check"),
    "smart_reallocated_max": (int, "reallocated sectors at most"),
    "smart_pending_max": (int, "pending sectors at most"),
    "disk_power_on_hours_max": (int, "disk power-on hours at most"),
    "raid_controllers_min": (int, "RAID controllers at least"),
    "pci_devices_min": (int, "PCI devices at least"),
    "nic_count_min": (int, "NICs at least"),
    "nics_up_min": (int, "NICs with link up at least"),
    "nic_names_up": (list, "these NICs have link up"),
    "nic_speed_mbps_min": (int, "speed of each NIC with link up (Mb/s) at least"),
    "nic_include_virtual": (bool, "count virtual interfaces (bridges, veth, ...)"),
    "temperature_max_c": (float, "highest temperature during the stress run (C) at most"),
    "throttle_events_max": (int, "CPU throttle events during the stress run at most"),
    "kernel_errors_before_allowed": (bool, "hardware errors logged before the stress run are tolerated"),
}
STATUSES = ("pass", "fail", "unknown")


def validate_spec(spec: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The spec with known keys of the right types; raises ValidationError naming ``spec.<key>``."""
    clean: dict[str, Any] = {}
    for key, value in (spec or {}).items():
        if key not in SPEC_KEYS:
            raise ValidationError("unknown key %r (known: %s)" % (key, ", ".join(sorted(SPEC_KEYS))), option="spec")
        if value is None:
            continue
        kind = SPEC_KEYS[key][0]
        try:
            if kind is bool:
                if not isinstance(value, bool) and str(value).lower() not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError(value)
                value = value if isinstance(value, bool) else str(value).lower() in ("true", "yes", "1")
            elif kind is list:
                value = [str(item) for item in (value if isinstance(value, list) else str(value).split(","))]
            else:
                value = kind(value)
        except (TypeError, ValueError):
            raise ValidationError("%r is not a %s" % (value, kind.__name__), option="spec." + key) from None
        if kind in (int, float) and value < 0:
            raise ValidationError("must not be negative (got %s)" % value, option="spec." + key)
        clean[key] = value
    return clean


def _check(name: str, status: str, expected: Any, actual: Any, evidence: str) -> dict[str, Any]:
    return {"name": name, "status": status, "expected": expected, "actual": actual, "evidence": evidence}


def _at_least(name: str, expected: Optional[int], actual: Optional[int], evidence: str) -> Optional[dict[str, Any]]:
    if expected is None:
        return None
    if actual is None:
        return _check(name, "unknown", ">= %s" % expected, None, evidence)
    return _check(name, "pass" if actual >= expected else "fail", ">= %s" % expected, actual, evidence)


def evaluate(hardware: dict[str, Any], stress: Optional[dict[str, Any]], spec: dict[str, Any],
             strict: bool = False) -> dict[str, Any]:
    """All checks and the verdict (pure: no I/O)."""
    checks: list[Optional[dict[str, Any]]] = []
    sources = hardware.get("sources") or {}
    cpu = hardware.get("cpu") or {}
    memory = hardware.get("memory") or {}

    if "cpu_model" in spec:
        model = cpu.get("model")
        status = "unknown" if model is None else ("pass" if spec["cpu_model"].lower() in model.lower() else "fail")
        checks.append(_check("cpu_model", status, "contains %r" % spec["cpu_model"], model, "/proc/cpuinfo model name"))
    checks.append(_at_least("cpu_sockets", spec.get("cpu_sockets_min"), cpu.get("sockets"),
                            "/proc/cpuinfo: %s distinct physical id(s)" % cpu.get("sockets")))
    checks.append(_at_least("cpu_cores", spec.get("cpu_cores_min"), cpu.get("cores"),
                            "/proc/cpuinfo: %s distinct (physical id, core id) pair(s), %s logical CPU(s)"
                            % (cpu.get("cores"), cpu.get("logical"))))
    checks.append(_at_least("cpu_logical", spec.get("cpu_logical_min"), cpu.get("logical"),
                            "/proc/cpuinfo: %s processor entries; %s usable by this process"
                            % (cpu.get("logical"), cpu.get("usable"))))
    checks.append(_memory_check(memory, spec, sources))
    checks.append(_at_least("dimms_populated", spec.get("dimms_populated_min"), memory.get("dimms_populated"),
                            _dimm_evidence(memory, sources)))
    checks.extend(_disk_checks(hardware.get("disks") or [], spec, sources))
    pci = hardware.get("pci") or {}
    raid = pci.get("raid_controllers") or []
    checks.append(_at_least("raid_controllers", spec.get("raid_controllers_min"),
                            len(raid) if pci.get("count") is not None else None,
                            "lspci: " + (", ".join("%s %s" % (d["slot"], d["device"]) for d in raid) or "none")
                            if pci.get("count") is not None else _reason(sources, "lspci")))
    checks.append(_at_least("pci_devices", spec.get("pci_devices_min"), pci.get("count"),
                            "lspci lists %s device(s)" % pci.get("count") if pci.get("count") is not None
                            else _reason(sources, "lspci")))
    checks.extend(_nic_checks(hardware.get("nics") or [], spec, sources))
    if stress is not None:
        checks.extend(_stress_checks(stress, spec))
    done = [check for check in checks if check is not None]
    failed = [c["name"] for c in done if c["status"] == "fail"]
    unknown = [c["name"] for c in done if c["status"] == "unknown"]
    verdict = "fail" if failed or (strict and unknown) else "pass"
    return {"verdict": verdict, "checks": done, "failed": failed, "unknown": unknown, "strict": strict}


def _reason(sources: dict[str, Any], name: str) -> str:
    return "%s unavailable: %s" % (name, (sources.get(name) or {}).get("reason") or "not gathered")


def _memory_check(memory: dict[str, Any], spec: dict[str, Any], sources: dict[str, Any]) -> Optional[dict[str, Any]]:
    expected = spec.get("memory_mib_min")
    if expected is None:
        return None
    if memory.get("dimm_total_mib"):
        actual = memory["dimm_total_mib"]
        evidence = "dmidecode: %s MiB in %s populated DIMM(s); /proc/meminfo MemTotal %s MiB" % (
            actual, memory.get("dimms_populated"), memory.get("total_mib"))
        tolerance = spec.get("memory_tolerance_pct", 0.0)
    elif memory.get("total_mib") is not None:
        actual = memory["total_mib"]
        # the kernel keeps part of the RAM for itself, so MemTotal is below the installed size
        tolerance = spec.get("memory_tolerance_pct", 3.0)
        evidence = "/proc/meminfo MemTotal %s MiB (%s); tolerance %s%%" % (
            actual, _reason(sources, "dmidecode"), tolerance)
    else:
        return _check("memory", "unknown", ">= %s MiB" % expected, None, _reason(sources, "meminfo"))
    status = "pass" if actual >= expected * (1 - tolerance / 100.0) else "fail"
    return _check("memory", status, ">= %s MiB" % expected, actual, evidence)


def _dimm_evidence(memory: dict[str, Any], sources: dict[str, Any]) -> str:
    if memory.get("dimm_slots") is None:
        return _reason(sources, "dmidecode")
    slots = ["%s=%s" % (d.get("locator"), "%s MiB" % d["size_mib"] if d["populated"] else "empty")
             for d in memory.get("dimms") or []]
    return "dmidecode: " + ", ".join(slots)


def _disk_checks(disks: list[dict[str, Any]], spec: dict[str, Any], sources: dict[str, Any]) -> list[Any]:
    counted = [d for d in disks if spec.get("disk_include_virtual") or not d.get("virtual")]
    listed = ", ".join("%s (%s bytes, %s)" % (d["path"], d.get("size_bytes"), d.get("model") or "no model")
                       for d in counted) or "none"
    checks: list[Any] = []
    lsblk_ok = (sources.get("lsblk") or {}).get("available")
    checks.append(_at_least("disk_count", spec.get("disk_count_min"), len(counted) if lsblk_ok else None,
                            "lsblk: " + listed if lsblk_ok else _reason(sources, "lsblk")))
    smart_specs = [key for key in ("smart_healthy", "smart_reallocated_max", "smart_pending_max",
                                   "disk_power_on_hours_max") if key in spec]
    for key in smart_specs:
        if key == "smart_healthy" and not spec[key]:
            continue
        for disk in counted:
            checks.append(_smart_check(key, disk, spec[key]))
        if not counted:
            checks.append(_check(key, "unknown", spec[key], None, "no disk to check"))
    return checks


def _smart_check(key: str, disk: dict[str, Any], expected: Any) -> dict[str, Any]:
    smart = disk.get("smart") or {}
    name = "%s:%s" % (key, disk["path"])
    if not smart.get("available"):
        return _check(name, "unknown", expected, None, "SMART unavailable: %s" % smart.get("reason", "not queried"))
    field = {"smart_healthy": "health_passed", "smart_reallocated_max": "reallocated_sectors",
             "smart_pending_max": "pending_sectors", "disk_power_on_hours_max": "power_on_hours"}[key]
    actual = smart.get(field)
    evidence = "smartctl %s: %s=%s, health %s, power-on %s h, reallocated %s, pending %s" % (
        disk["path"], field, actual, "PASSED" if smart.get("health_passed") else "FAILED/unknown",
        smart.get("power_on_hours"), smart.get("reallocated_sectors"), smart.get("pending_sectors"))
    if actual is None:
        return _check(name, "unknown", expected, None, evidence)
    if key == "smart_healthy":
        return _check(name, "pass" if actual else "fail", True, actual, evidence)
    return _check(name, "pass" if actual <= expected else "fail", "<= %s" % expected, actual, evidence)


def _nic_checks(nics: list[dict[str, Any]], spec: dict[str, Any], sources: dict[str, Any]) -> list[Any]:
    if not (sources.get("sysfs_net") or {}).get("available"):
        return [_check(key, "unknown", spec[key], None, _reason(sources, "sysfs_net"))
                for key in ("nic_count_min", "nics_up_min", "nic_names_up", "nic_speed_mbps_min") if key in spec]
    counted = [n for n in nics if spec.get("nic_include_virtual") or n.get("physical")]
    up = [n for n in counted if n.get("link")]
    listing = ", ".join("%s link=%s speed=%s" % (n["name"], "up" if n.get("link") else "down", n.get("speed_mbps") or "?")
                        for n in counted) or "none"
    evidence = "/sys/class/net: " + listing
    checks: list[Any] = [
        _at_least("nic_count", spec.get("nic_count_min"), len(counted), evidence),
        _at_least("nics_up", spec.get("nics_up_min"), len(up), evidence),
    ]
    by_name = {n["name"]: n for n in nics}
    for name in spec.get("nic_names_up") or []:
        nic = by_name.get(name)
        actual = None if nic is None else ("up" if nic.get("link") else "down")
        checks.append(_check("nic_up:" + name, "pass" if actual == "up" else "fail", "up", actual or "missing",
                             evidence))
    speed = spec.get("nic_speed_mbps_min")
    if speed is not None:
        for nic in up:
            actual = nic.get("speed_mbps")
            status = "unknown" if actual is None else ("pass" if actual >= speed else "fail")
            checks.append(_check("nic_speed:" + nic["name"], status, ">= %s" % speed, actual,
                                 "/sys/class/net/%s/speed: %s" % (nic["name"], actual or "unreadable")))
    return checks


def _stress_checks(stress: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    checks: list[Any] = []
    for phase in stress.get("phases") or []:
        metrics = phase.get("metrics") or {}
        if phase["name"] == "cpu_memory":
            figures = ", ".join("%s %s bogo ops in %ss" % (s["stressor"], s["bogo_ops"], s["real_time_s"])
                                for s in metrics.get("stressors") or [])
        else:
            figures = "wrote %s bytes, read %s bytes, %s error(s)" % (
                metrics.get("write_bytes"), metrics.get("read_bytes"), metrics.get("errors"))
        evidence = "ran %ss (rc %s): %s%s" % (phase.get("elapsed_s"), phase.get("rc"), figures or "no metrics",
                                              "; " + "; ".join(phase["problems"]) if phase.get("problems") else "")
        checks.append(_check("stress:" + phase["name"], "pass" if phase.get("passed") else "fail",
                             "completes without errors", "passed" if phase.get("passed") else "failed", evidence))
    summary = stress.get("summary") or {}
    samples = summary.get("samples")
    if "temperature_max_c" in spec:
        actual = summary.get("temperature_max_c")
        status = "unknown" if actual is None else ("pass" if actual <= spec["temperature_max_c"] else "fail")
        checks.append(_check("temperature", status, "<= %s C" % spec["temperature_max_c"], actual,
                             "%s sample(s); sensors: %s" % (samples, ", ".join(summary.get("temperature_sensors") or [])
                                                            or "none readable")))
    limit = spec.get("throttle_events_max", 0)
    actual = summary.get("throttle_events")
    checks.append(_check("throttling", "unknown" if actual is None else ("pass" if actual <= limit else "fail"),
                         "<= %s" % limit, actual,
                         "%s sample(s); CPU MHz %s..%s; %s" % (
                             samples, summary.get("cpu_mhz_min"), summary.get("cpu_mhz_max"),
                             "thermal_throttle counters" if actual is not None else "no thermal_throttle counters")))
    kernel = stress.get("kernel_log") or {}
    if not kernel.get("available"):
        checks.append(_check("kernel_log", "unknown", "no MCE/EDAC/IO errors", None,
                             "kernel log unreadable: %s" % kernel.get("reason")))
    else:
        new, before = kernel.get("new") or [], kernel.get("before") or []
        bad = new if spec.get("kernel_errors_before_allowed") else before + new
        status = "fail" if bad else "pass"
        evidence = "%s: %d error line(s) before the run, %d new during it%s" % (
            kernel.get("source"), len(before), len(new),
            ": " + " | ".join("%s: %s" % (e["category"], e["line"]) for e in bad[:5]) if bad else "")
        checks.append(_check("kernel_log", status, "no MCE/EDAC/IO errors", len(bad), evidence))
    return checks


def render_table(host: str, result: dict[str, Any], generated: str) -> str:
    """The readable report: one line per check, then the verdict."""
    rows = [(c["name"], c["status"].upper(), str(c["expected"]), str(c["actual"]), c["evidence"])
            for c in result["checks"]]
    header = ("CHECK", "STATUS", "EXPECTED", "ACTUAL", "EVIDENCE")
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(4)]
    lines = ["Hardware acceptance report: %s (%s)" % (host, generated), ""]
    for row in [header] + rows:
        lines.append("  ".join(row[i].ljust(widths[i]) for i in range(4)) + "  " + row[4])
    lines += ["", "VERDICT: %s%s" % (result["verdict"].upper(),
                                     " (failed: %s)" % ", ".join(result["failed"]) if result["failed"] else "")]
    if result["unknown"]:
        strict = " (strict: counted as failures)" if result["strict"] else ""
        lines.append("not determinable here: %s%s" % (", ".join(result["unknown"]), strict))
    return "\n".join(lines) + "\n"


_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class HardwareReportService:
    """Evaluates and writes the report pair; ``write()`` returns the module result."""

    def __init__(self, *, check_mode: bool = False, now: Callable[[], float] = time.time) -> None:
        self.check_mode = check_mode
        self.now = now

    def write(self, params: dict[str, Any]) -> dict[str, Any]:
        host = params["host"]
        if not _HOST_NAME.match(host or ""):
            raise ValidationError("%r is not usable in a file name (letters, digits, '.', '_', '-')" % host,
                                  option="host")
        spec = validate_spec(params.get("spec"))
        hardware = params["hardware"]
        if not isinstance(hardware.get("sources"), dict):
            raise ValidationError("expected the 'hardware' result of virtlab.infra.hardware_facts", option="hardware")
        result = evaluate(hardware, params.get("stress"), spec, strict=params["strict"])
        stamp = self.now()
        generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
        table = render_table(host, result, generated)
        report = {"host": host, "generated": generated, "spec": spec, "hardware": hardware,
                  "stress": params.get("stress"), **result}
        directory = params["dest"]
        base = os.path.join(directory, "%s-%s" % (host, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(stamp))))
        paths = {"json": base + ".json", "text": base + ".txt"}
        if not self.check_mode:
            paths = self._write_files(directory, base, report, table)
        return {"changed": True, "verdict": result["verdict"], "accepted": result["verdict"] == "pass",
                "checks": result["checks"], "failed_checks": result["failed"], "unknown_checks": result["unknown"],
                "table": table, "report_path": paths["json"], "table_path": paths["text"], "generated": generated}

    @staticmethod
    def _write_files(directory: str, base: str, report: dict[str, Any], table: str) -> dict[str, str]:
        try:
            os.makedirs(directory, exist_ok=True)
            suffix, count = "", 1
            while os.path.exists(base + suffix + ".json"):  # two runs within one second: keep both reports
                count += 1
                suffix = "-%d" % count
            paths = {"json": base + suffix + ".json", "text": base + suffix + ".txt"}
            for path, content in ((paths["json"], json.dumps(report, indent=2, sort_keys=True) + "\n"),
                                  (paths["text"], table)):
                handle, temporary = tempfile.mkstemp(dir=directory, prefix=".virtlab-report-")
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(content)
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)  # atomic: a reader never sees half a report
        except OSError as error:
            raise VirtlabError("cannot write the report into %s: %s" % (directory, error)) from None
        return paths
