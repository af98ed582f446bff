# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hardware parsers on captured tool outputs (fixtures/): this VM's, and a server's in the tools' formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.hardware import parsers

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_cpuinfo_of_a_two_cpu_vm():
    cpu = parsers.parse_cpuinfo(fixture("cpuinfo-vm-2cpu.txt"))
    assert cpu["model"] == "Intel(R) Xeon(R) Processor"
    assert (cpu["sockets"], cpu["cores"], cpu["logical"], cpu["threads_per_core"]) == (1, 2, 2, 1)
    assert cpu["mhz"] == 2300.0
    assert cpu["hypervisor"] is True and cpu["virtualization"] is False


def test_cpuinfo_counts_hyperthreads_and_sockets():
    block = "processor\t: {0}\nmodel name\t: Xeon Gold\nphysical id\t: {1}\ncore id\t\t: {2}\ncpu MHz\t\t: 2100.000\nflags\t\t: fpu vmx\n"
    text = "\n".join(block.format(n, n // 4, n % 2) for n in range(8))
    cpu = parsers.parse_cpuinfo(text)
    assert (cpu["sockets"], cpu["cores"], cpu["logical"], cpu["threads_per_core"]) == (2, 4, 8, 2)
    assert cpu["virtualization"] is True


def test_cpuinfo_without_processors_is_an_error():
    with pytest.raises(ValueError):
        parsers.parse_cpuinfo("garbage\n")


def test_meminfo():
    memory = parsers.parse_meminfo(fixture("meminfo.txt"))
    total_line = next(line for line in fixture("meminfo.txt").splitlines() if line.startswith("MemTotal:"))
    assert memory["total_kib"] == int(total_line.split()[1])
    assert memory["total_mib"] == memory["total_kib"] // 1024
    assert 0 < memory["available_mib"] <= memory["total_mib"]


def test_dmidecode_dimm_layout():
    slots = parsers.parse_dmidecode_memory(fixture("dmidecode-memory-4slots.txt"))
    assert [s["locator"] for s in slots] == ["DIMM_A1", "DIMM_A2", "DIMM_B1", "DIMM_B2"]
    assert [s["populated"] for s in slots] == [True, False, True, False]
    assert slots[0]["size_mib"] == 32768 and slots[2]["size_mib"] == 32768
    assert slots[0]["speed"] == "2400 MT/s"  # the configured speed wins over the rated one
    assert slots[0]["part_number"] == "M393A4K40CB2-CTD"
    assert slots[1]["manufacturer"] is None and slots[1]["size_mib"] is None


def test_dmidecode_without_memory_devices_is_an_error():
    with pytest.raises(ValueError):
        parsers.parse_dmidecode_memory("# dmidecode 3.4\nScanning /dev/mem for entry point.\n")


def test_lsblk_of_this_vm():
    disks = parsers.parse_lsblk(fixture("lsblk-vm.json"))
    by_name = {d["name"]: d for d in disks}
    assert by_name["zram0"]["virtual"] is True
    assert by_name["vda"]["virtual"] is False and by_name["vda"]["mountpoints"] == ["/"]


def test_lsblk_of_a_server_collects_nested_mounts_and_skips_non_disks():
    disks = parsers.parse_lsblk(fixture("lsblk-server.json"))
    assert [d["name"] for d in disks] == ["sda", "sdb", "nvme0n1"]
    sda, sdb, nvme = disks
    assert sda["mountpoints"] == ["/", "/boot/efi"]  # from a partition and from LVM on a partition
    assert sdb["mountpoints"] == [] and sdb["rotational"] is True and sdb["transport"] == "sata"
    assert nvme["rotational"] is False and nvme["size_bytes"] == 960197124096


def test_smartctl_worn_ata_disk():
    smart = parsers.parse_smartctl(fixture("smartctl-ata-worn.json"))
    assert smart["available"] is True and smart["health_passed"] is True
    assert (smart["power_on_hours"], smart["reallocated_sectors"], smart["pending_sectors"]) == (48391, 24, 8)
    assert smart["temperature_c"] == 34
    assert smart["problems"] == ["the device error log contains errors"]  # exit status 64 = bit 6


def test_smartctl_nvme():
    smart = parsers.parse_smartctl(fixture("smartctl-nvme-ok.json"))
    assert smart["available"] is True and smart["power_on_hours"] == 17520 and smart["media_errors"] == 0
    assert smart["reallocated_sectors"] is None


def test_smartctl_on_a_virtual_disk_is_unavailable_with_the_reason():
    smart = parsers.parse_smartctl(fixture("smartctl-virtio-unsupported.json"))
    assert smart["available"] is False
    assert "Unable to detect device type" in smart["reason"]


def test_lspci_of_this_vm():
    devices = parsers.parse_lspci(fixture("lspci-vm.txt"))
    assert len(devices) == fixture("lspci-vm.txt").count("Slot:")
    network = parsers.classify_pci(devices)["network_controllers"]
    assert [d["device"] for d in network] == ["Virtio 1.0 network device"]


def test_lspci_of_a_server_finds_the_raid_controller():
    devices = parsers.parse_lspci(fixture("lspci-server.txt"))
    classes = parsers.classify_pci(devices)
    assert [d["slot"] for d in classes["raid_controllers"]] == ["18:00.0"]
    assert classes["raid_controllers"][0]["device"] == "MegaRAID SAS-3 3108 [Invader]"
    assert classes["raid_controllers"][0]["driver"] == "megaraid_sas"
    assert [d["slot"] for d in classes["storage_controllers"]] == ["18:00.0", "5e:00.0"]
    assert [d["driver"] for d in classes["network_controllers"]] == ["i40e"]


def test_nic_from_sysfs():
    up = parsers.nic_from_sysfs("eno1", {"address": "aa:bb:cc:dd:ee:ff", "operstate": "up", "carrier": "1",
                                         "speed": "10000", "duplex": "full", "mtu": "9000", "driver": "i40e",
                                         "device": "1"})
    assert up == {"name": "eno1", "mac": "aa:bb:cc:dd:ee:ff", "operstate": "up", "link": True, "speed_mbps": 10000,
                  "duplex": "full", "mtu": 9000, "driver": "i40e", "physical": True}
    down = parsers.nic_from_sysfs("eno2", {"operstate": "down", "carrier": "0", "speed": "-1", "device": "1"})
    assert down["link"] is False and down["speed_mbps"] is None
    bridge = parsers.nic_from_sysfs("br0", {"operstate": "up", "carrier": None, "speed": None})
    assert bridge["link"] is True and bridge["physical"] is False


def test_sensor_helpers():
    assert parsers.millidegrees("45000\n") == 45.0
    assert parsers.millidegrees(None) is None
    assert parsers.cpuinfo_mhz(fixture("cpuinfo-vm-2cpu.txt")) == [2300.0, 2300.0]
    assert parsers.parse_loadavg("0.52 0.40 0.33 1/234 5678\n") == 0.52


def test_kernel_log_scan_finds_mce_edac_io_and_ignores_the_rest():
    found = parsers.scan_kernel_log(fixture("kernel-log-errors.txt").splitlines())
    categories = [f["category"] for f in found]
    assert categories == ["mce", "mce", "edac", "io", "io", "io", "io"]
    assert all("Link is Up" not in f["line"] and "Giving out device" not in f["line"] for f in found)


def test_stress_ng_metrics():
    result = parsers.parse_stress_ng(fixture("stress-ng-ok.txt"))
    assert [s["stressor"] for s in result["stressors"]] == ["cpu", "vm"]
    assert all(s["bogo_ops"] > 0 and s["real_time_s"] > 0 for s in result["stressors"])
    assert result["completed_s"] is not None and result["problems"] == []


def test_stress_ng_failure_is_a_problem():
    text = ("stress-ng: info:  [1] dispatching hogs: 1 vm\n"
            "stress-ng: fail:  [2] vm: detected 3 bit errors while stressing memory\n"
            "stress-ng: info:  [1] unsuccessful run completed in 5.00s\n")
    result = parsers.parse_stress_ng(text)
    assert len(result["problems"]) == 2 and result["completed_s"] is None


def test_fio_json_after_warning_lines():
    text = "fio: this platform does not support process shared mutexes, forcing use of threads\n" + fixture("fio-ok.json")
    result = parsers.parse_fio(text)
    assert result["errors"] == 0
    assert result["write_bytes"] > 0 and result["read_bytes"] > 0
    assert result["jobs"][0]["name"] == "virtlab-scratch"


def test_fio_without_json_is_an_error():
    with pytest.raises(ValueError):
        parsers.parse_fio("fio: failed to open file\n")
