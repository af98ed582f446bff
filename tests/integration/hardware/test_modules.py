"""hardware_facts, hardware_stress and hardware_report run on this machine (localhost), with tiny phases.

The inventory is compared with what the machine really has (os.cpu_count, /proc/meminfo,
/sys/class/net); a target not marked scratch is never written (checksum and mtime unchanged);
a scratch file is written by fio; the stress phase lasts the configured time and its samples
are returned; a spec asking for more memory than present fails that check with evidence.
Needs stress-ng and fio on this machine (scripts/setup.sh installs them).
"""

import hashlib
import json
import os
import shutil
import subprocess

import pytest

TINY = {"cpu_workers": 1, "memory_workers": 1, "memory_bytes": "16M", "sample_interval": 1}


@pytest.fixture(scope="module", autouse=True)
def tools():
    missing = [tool for tool in ("stress-ng", "fio", "lsblk") if shutil.which(tool) is None]
    if missing:
        pytest.fail("%s missing on this machine: run `sudo scripts/setup.sh --no-services`" % ", ".join(missing),
                    pytrace=False)


@pytest.fixture(scope="module")
def facts(run_module):
    result = run_module("hardware_facts", {"smart": True})  # an empty {} reaches ansible as raw params
    assert not result.get("failed"), result
    return result


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_facts_match_this_machine(facts):
    hardware = facts["hardware"]
    assert facts["changed"] is False
    assert facts["ansible_facts"]["virtlab_hardware"] == hardware
    assert hardware["cpu"]["logical"] == os.cpu_count()
    assert hardware["cpu"]["usable"] == len(os.sched_getaffinity(0))
    with open("/proc/meminfo") as handle:
        total_kib = int(next(line for line in handle if line.startswith("MemTotal:")).split()[1])
    assert hardware["memory"]["total_kib"] == total_kib
    # other suites add and remove veth interfaces at any time: compare the NICs on a bus exactly,
    # and the address of every reported interface that still exists
    physical = sorted(n for n in os.listdir("/sys/class/net") if os.path.exists("/sys/class/net/%s/device" % n))
    assert physical, "no NIC on a bus in /sys/class/net"
    assert sorted(nic["name"] for nic in hardware["nics"] if nic["physical"]) == physical
    for nic in hardware["nics"]:
        try:
            with open("/sys/class/net/%s/address" % nic["name"]) as handle:
                assert nic["mac"] == handle.read().strip()
        except FileNotFoundError:
            continue
    listed = subprocess.run(["lsblk", "-dn", "-o", "NAME,TYPE"], capture_output=True, text=True, check=True).stdout
    assert [d["name"] for d in hardware["disks"]] == [line.split()[0] for line in listed.splitlines()
                                                      if line.split()[1:] == ["disk"]]
    for name in ("cpuinfo", "meminfo", "dmidecode", "lsblk", "smartctl", "lspci", "sysfs_net", "sensors"):
        source = hardware["sources"][name]
        assert source["available"] or source["reason"], (name, source)  # every absence says why


def test_non_scratch_target_is_refused_and_never_written(run_module, tmp_path):
    victim = tmp_path / "data.img"
    victim.write_bytes(os.urandom(1 << 20))
    before = (_digest(victim), os.stat(victim).st_mtime_ns)
    result = run_module("hardware_stress", dict(TINY, cpu_memory_duration=1, disk_duration=2,
                                                disk_targets=[{"path": str(victim), "size": "1M"}]))
    assert result.get("failed") is True
    assert result["option"] == "disk_targets[0].scratch"
    assert "disk_targets[0].scratch" in result["msg"] and str(victim) in result["msg"]
    assert "never written" in result["msg"]
    assert (_digest(victim), os.stat(victim).st_mtime_ns) == before
    assert "phases" not in result  # nothing ran, not even the CPU phase


def test_check_mode_validates_and_runs_nothing(run_module, tmp_path):
    scratch = tmp_path / "scratch.img"
    result = run_module("hardware_stress", dict(TINY, cpu_memory_duration=30, disk_duration=30,
                                                disk_targets=[{"path": str(scratch), "scratch": True}]), check=True)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["phases"] == [] and result["passed"] is None
    assert result["plan"]["cpu_memory"][0].endswith("stress-ng")
    assert "--filename=%s" % scratch in result["plan"]["disks"][0]
    assert not scratch.exists()


def test_stress_runs_for_the_configured_time_and_samples(run_module, tmp_path):
    existing = tmp_path / "scratch.img"
    existing.write_bytes(b"\0" * (4 << 20))
    before = (_digest(existing), os.stat(existing).st_mtime_ns)
    created = tmp_path / "made-for-the-run.img"
    result = run_module("hardware_stress", dict(
        TINY, cpu_memory_duration=4, disk_duration=2,
        disk_targets=[{"path": str(existing), "scratch": True, "size": "4M"},
                      {"path": str(created), "scratch": True, "size": "4M"}]))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["passed"] is True, result["failures"]
    cpu, disk_existing, disk_created = result["phases"]
    assert cpu["name"] == "cpu_memory" and cpu["rc"] == 0
    assert "--timeout" in cpu["command"] and cpu["command"][cpu["command"].index("--timeout") + 1] == "4s"
    stress_ng_seconds = {s["stressor"]: s["real_time_s"] for s in cpu["metrics"]["stressors"]}
    assert set(stress_ng_seconds) == {"cpu", "vm"}
    assert all(seconds >= 4.0 for seconds in stress_ng_seconds.values())  # stress-ng's own clock
    assert cpu["elapsed_s"] >= 4.0
    # samples: one at the start of each phase, one per second while it runs, one at its end
    cpu_samples = [s for s in result["samples"] if s["phase"] == "cpu_memory"]
    assert len(cpu_samples) >= 4
    assert cpu_samples[-1]["t"] - cpu_samples[0]["t"] >= 4.0
    assert all(s["cpu_mhz_max"] for s in cpu_samples)
    # the scratch targets were written; the one made for the run is gone again
    assert disk_existing["metrics"]["write_bytes"] > 0 and disk_existing["metrics"]["errors"] == 0
    assert (_digest(existing), os.stat(existing).st_mtime_ns) != before
    assert disk_created["target"]["created"] is True and disk_created["metrics"]["write_bytes"] > 0
    assert not created.exists()
    assert result["scratch_written"] == [str(existing), str(created)]
    assert result["summary"]["samples"] == len(result["samples"])
    assert result["kernel_log"]["available"] or result["kernel_log"]["reason"]


def test_report_memory_mismatch_fails_with_evidence(run_module, facts, tmp_path):
    present = facts["hardware"]["memory"]["total_mib"]
    spec = {"memory_mib_min": present * 4, "cpu_logical_min": os.cpu_count()}
    result = run_module("hardware_report", {"hardware": facts["hardware"], "spec": spec, "host": "vlt-test-local",
                                            "dest": str(tmp_path / "reports")})
    assert not result.get("failed"), result
    assert result["changed"] is True and result["verdict"] == "fail" and result["accepted"] is False
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["memory"]["status"] == "fail" and checks["memory"]["actual"] == present
    assert "MemTotal %d MiB" % present in checks["memory"]["evidence"]
    assert checks["cpu_logical"]["status"] == "pass"
    assert result["failed_checks"] == ["memory"]
    with open(result["report_path"]) as handle:
        report = json.load(handle)
    assert report["verdict"] == "fail" and report["hardware"] == facts["hardware"]
    with open(result["table_path"]) as handle:
        assert handle.read() == result["table"]
    assert "VERDICT: FAIL (failed: memory)" in result["table"]
    # a second run writes a second report and keeps the first
    again = run_module("hardware_report", {"hardware": facts["hardware"], "spec": spec, "host": "vlt-test-local",
                                           "dest": str(tmp_path / "reports")})
    assert again["report_path"] != result["report_path"]
    assert len(list((tmp_path / "reports").glob("*.json"))) == 2


def test_report_bad_spec_key_names_the_option(run_module, facts, tmp_path):
    result = run_module("hardware_report", {"hardware": facts["hardware"], "spec": {"memory_gb": 4},
                                            "host": "vlt-test-local", "dest": str(tmp_path)})
    assert result.get("failed") is True and result["option"] == "spec" and "memory_gb" in result["msg"]
    assert not list(tmp_path.iterdir())
