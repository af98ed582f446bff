# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks, verdict and table of the hardware report (pure evaluation; the files are written in integration)."""

from __future__ import annotations

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.report import evaluate, render_table, validate_spec


def _hardware(**over):
    hardware = {
        "cpu": {"model": "Xeon Gold 6130", "sockets": 2, "cores": 32, "logical": 64, "usable": 64},
        "memory": {"total_mib": 257000, "dimms": [{"locator": "A1", "populated": True, "size_mib": 131072},
                                                  {"locator": "A2", "populated": True, "size_mib": 131072}],
                   "dimm_slots": 2, "dimms_populated": 2, "dimm_total_mib": 262144},
        "disks": [{"path": "/dev/sda", "virtual": False, "size_bytes": 1, "model": "ST4000",
                   "smart": {"available": True, "health_passed": True, "power_on_hours": 48391,
                             "reallocated_sectors": 24, "pending_sectors": 0}}],
        "pci": {"count": 3, "devices": [], "raid_controllers": [{"slot": "18:00.0", "device": "MegaRAID"}]},
        "nics": [{"name": "eno1", "link": True, "speed_mbps": 10000, "physical": True},
                 {"name": "eno2", "link": False, "speed_mbps": None, "physical": True},
                 {"name": "docker0", "link": True, "speed_mbps": None, "physical": False}],
        "sources": {name: {"available": True} for name in ("cpuinfo", "meminfo", "dmidecode", "lsblk", "lspci",
                                                           "sysfs_net")},
    }
    hardware.update(over)
    return hardware


def _by_name(result):
    return {check["name"]: check for check in result["checks"]}


def test_matching_spec_passes():
    spec = validate_spec({"cpu_cores_min": 32, "memory_mib_min": 262144, "dimms_populated_min": 2, "disk_count_min": 1,
                          "raid_controllers_min": 1, "nics_up_min": 1, "nic_speed_mbps_min": 10000})
    result = evaluate(_hardware(), None, spec)
    assert result["verdict"] == "pass" and result["failed"] == []
    assert _by_name(result)["memory"]["evidence"].startswith("dmidecode: 262144 MiB in 2 populated DIMM(s)")


def test_more_memory_than_present_fails_with_evidence():
    result = evaluate(_hardware(), None, validate_spec({"memory_mib_min": 524288}))
    memory = _by_name(result)["memory"]
    assert result["verdict"] == "fail" and result["failed"] == ["memory"]
    assert memory["status"] == "fail" and memory["actual"] == 262144 and memory["expected"] == ">= 524288 MiB"


def test_memtotal_is_used_with_a_tolerance_when_dimms_are_unreadable():
    hardware = _hardware(memory={"total_mib": 31800, "dimms": [], "dimm_slots": None, "dimms_populated": None,
                                 "dimm_total_mib": None})
    hardware["sources"]["dmidecode"] = {"available": False, "reason": "/dev/mem: No such file or directory"}
    checks = _by_name(evaluate(hardware, None, validate_spec({"memory_mib_min": 32768, "dimms_populated_min": 2})))
    assert checks["memory"]["status"] == "pass"  # 31800 >= 32768 * 0.97
    assert "/dev/mem" in checks["memory"]["evidence"]
    assert checks["dimms_populated"]["status"] == "unknown"


def test_smart_history_and_nics_per_item():
    spec = validate_spec({"smart_reallocated_max": 0, "nic_names_up": ["eno1", "eno2"], "nics_up_min": 2})
    result = evaluate(_hardware(), None, spec)
    checks = _by_name(result)
    assert checks["smart_reallocated_max:/dev/sda"]["status"] == "fail"
    assert checks["smart_reallocated_max:/dev/sda"]["actual"] == 24
    assert checks["nic_up:eno1"]["status"] == "pass" and checks["nic_up:eno2"]["actual"] == "down"
    assert checks["nics_up"]["actual"] == 1  # docker0 is virtual and not counted
    assert set(result["failed"]) == {"smart_reallocated_max:/dev/sda", "nic_up:eno2", "nics_up"}


def test_stress_checks_unknowns_and_strict_mode():
    stress = {"phases": [{"name": "cpu_memory", "passed": True, "rc": 0, "elapsed_s": 5.0, "problems": [],
                          "metrics": {"stressors": [{"stressor": "cpu", "bogo_ops": 10, "real_time_s": 5.0}]}}],
              "summary": {"samples": 6, "temperature_max_c": None, "throttle_events": None},
              "kernel_log": {"available": False, "reason": "dmesg: Operation not permitted"}}
    result = evaluate(_hardware(), stress, {})
    checks = _by_name(result)
    assert checks["stress:cpu_memory"]["status"] == "pass"
    assert checks["kernel_log"]["status"] == "unknown" and "Operation not permitted" in checks["kernel_log"]["evidence"]
    assert result["verdict"] == "pass" and set(result["unknown"]) == {"throttling", "kernel_log"}
    assert evaluate(_hardware(), stress, {}, strict=True)["verdict"] == "fail"


def test_kernel_errors_before_and_during_the_run():
    error = {"category": "mce", "line": "[12.3] mce: [Hardware Error]: Machine check events logged"}
    stress = {"phases": [], "summary": {"throttle_events": 0},
              "kernel_log": {"available": True, "source": "dmesg", "before": [error], "new": []}}
    assert _by_name(evaluate(_hardware(), stress, {}))["kernel_log"]["status"] == "fail"
    tolerant = validate_spec({"kernel_errors_before_allowed": True})
    assert _by_name(evaluate(_hardware(), stress, tolerant))["kernel_log"]["status"] == "pass"
    stress["kernel_log"]["new"] = [error]
    assert _by_name(evaluate(_hardware(), stress, tolerant))["kernel_log"]["status"] == "fail"


def test_table_lists_every_check_and_the_verdict():
    result = evaluate(_hardware(), None, validate_spec({"memory_mib_min": 524288, "cpu_cores_min": 8}))
    table = render_table("srv1", result, "2026-01-01T00:00:00Z")
    assert "memory" in table and "FAIL" in table and "cpu_cores" in table
    assert table.rstrip().endswith("VERDICT: FAIL (failed: memory)")


@pytest.mark.parametrize("spec, option", [({"memory_gb": 1}, "spec"), ({"cpu_cores_min": "many"}, "spec.cpu_cores_min"),
                                          ({"disk_count_min": -1}, "spec.disk_count_min")])
def test_bad_spec_names_the_option(spec, option):
    with pytest.raises(ValidationError) as caught:
        validate_spec(spec)
    assert caught.value.option == option
