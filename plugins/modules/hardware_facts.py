#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: hardware_facts
short_description: Inventory of a host's hardware - CPU, memory and DIMMs, disks with SMART, PCI, NICs, sensors
version_added: 0.1.0
description:
  - Reads what the host really has, for hardware acceptance of a new or second-hand server.
  - CPU model, sockets, physical cores and logical CPUs from C(/proc/cpuinfo), and the CPUs usable by the process
    (affinity or cpuset, as C(nproc) counts them).
  - Memory size from C(/proc/meminfo); the DIMM layout (slots, sizes, types, speeds, part numbers) from
    C(dmidecode -t memory) where it is readable.
  - Whole disks from C(lsblk), each with its SMART data from C(smartctl -j -a) - health, power-on hours,
    reallocated and pending sectors, temperature.
  - PCI devices from C(lspci -vmm -nn -k), with the storage, RAID and network controllers picked out.
  - Network interfaces from C(/sys/class/net) with MAC, link (carrier), speed, duplex, MTU, driver and whether the
    interface is a device on a bus (C(physical)) or virtual (bridge, veth, ...).
  - Temperatures from C(/sys/class/thermal) and C(/sys/class/hwmon).
  - Every source is optional. A tool that is missing or refused (no C(/dev/mem) for dmidecode, a virtual disk
    without SMART, a container) is reported under RV(hardware.sources) with the reason, and the rest is gathered.
author:
  - virtlab.infra contributors (@virtlab)
options:
  smart:
    description: Query each hardware disk with C(smartctl).
    type: bool
    default: true
  include_loopback:
    description: List the loopback interface C(lo) among the NICs.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing is compared or changed.
  idempotent:
    support: full
    description: Changes nothing; always RV(ignore:changed=false).
  facts:
    support: full
    description: Sets the fact C(virtlab_hardware).
notes:
  - Run it as root to read the DIMM layout and SMART data; without root those sources are reported unavailable.
  - The tools come from the packages C(util-linux) (lsblk), C(dmidecode), C(smartmontools) and C(pciutils).
seealso:
  - module: virtlab.infra.hardware_stress
  - module: virtlab.infra.hardware_report
"""

EXAMPLES = r"""
- name: Read the hardware
  virtlab.infra.hardware_facts:
  become: true

- name: Show the memory layout
  ansible.builtin.debug:
    msg: "{{ ansible_facts.virtlab_hardware.memory.dimms | selectattr('populated') | map(attribute='locator') }}"
"""

RETURN = r"""
hardware:
  description: The inventory, also set as the fact C(virtlab_hardware).
  returned: always
  type: dict
  contains:
    cpu:
      description: C(model), C(sockets), C(cores) (physical), C(logical), C(threads_per_core), C(usable), C(mhz),
        C(virtualization) (vmx/svm flag), C(hypervisor) (running as a guest).
      type: dict
      returned: always
    memory:
      description: C(total_mib), C(available_mib), C(swap_total_mib), C(hardware_corrupted_kib), C(dimms) (one per slot
        with C(locator), C(populated), C(size_mib), C(type), C(speed), C(manufacturer), C(serial), C(part_number)),
        C(dimm_slots), C(dimms_populated), C(dimm_total_mib) (null when dmidecode is unavailable).
      type: dict
      returned: always
    disks:
      description: Whole disks with C(name), C(path), C(size_bytes), C(model), C(serial), C(rotational), C(transport),
        C(virtual), C(mountpoints) and C(smart) (C(available), C(health_passed), C(power_on_hours),
        C(reallocated_sectors), C(pending_sectors), C(temperature_c), or C(reason)).
      type: list
      elements: dict
      returned: always
    pci:
      description: C(devices), C(count), C(storage_controllers), C(raid_controllers), C(network_controllers).
      type: dict
      returned: always
    nics:
      description: Interfaces with C(name), C(mac), C(operstate), C(link), C(speed_mbps), C(duplex), C(mtu),
        C(driver), C(physical).
      type: list
      elements: dict
      returned: always
    temperatures_c:
      description: Readable temperatures in degrees Celsius by sensor.
      type: dict
      returned: always
    sources:
      description: For each source (C(cpuinfo), C(meminfo), C(dmidecode), C(lsblk), C(smartctl), C(lspci),
        C(sysfs_net), C(sensors)), whether it was C(available) and otherwise the C(reason).
      type: dict
      returned: always
      sample: {"dmidecode": {"available": false, "reason": "dmidecode exited with 1: /dev/mem: No such file"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.facts import HardwareFactsService
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.host import ModuleHost


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "smart": {"type": "bool", "default": True},
            "include_loopback": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    run_service(module, lambda: HardwareFactsService(
        ModuleHost(module), smart=module.params["smart"], include_loopback=module.params["include_loopback"]).gather())


if __name__ == "__main__":
    main()
