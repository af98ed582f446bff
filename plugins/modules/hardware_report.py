#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: hardware_report
short_description: Check a hardware inventory and stress run against a spec; write a verdict as JSON and a table
version_added: 0.1.0
description:
  - Compares the result of M(virtlab.infra.hardware_facts) (and optionally of M(virtlab.infra.hardware_stress))
    with what the host is expected to have, O(spec) - CPU cores, memory, DIMMs, disks and their SMART history,
    RAID controllers, PCI devices, NICs with link up and their speed, temperatures and throttling under load,
    hardware errors in the kernel log.
  - Each check is reported as C(pass), C(fail) or C(unknown) with the expected value, the actual value and the
    evidence it was read from. C(unknown) means the host could not tell (no SMART on a virtual disk, kernel log not
    readable); it fails the verdict only with O(strict=true).
  - The stress phases always get a check each, and throttling and the kernel log are checked when a stress result
    is given, even with an empty O(spec).
  - Writes a new pair of files per run into O(dest), C(<host>-<UTC time>.json) (the whole inventory, stress run,
    samples, checks and verdict) and C(<host>-<UTC time>.txt) (the readable table); earlier reports are kept.
author:
  - virtlab.infra contributors (@virtlab)
options:
  hardware:
    description: The RV(virtlab.infra.hardware_facts#module:hardware) result (or the C(virtlab_hardware) fact).
    type: dict
    required: true
  stress:
    description: The registered result of M(virtlab.infra.hardware_stress), if a stress run took place.
    type: dict
  spec:
    description:
      - What the host should have. Every key is optional; a key that is not given is not checked.
      - C(cpu_model) (substring), C(cpu_sockets_min), C(cpu_cores_min) (physical cores), C(cpu_logical_min).
      - C(memory_mib_min), compared with the DIMM total when dmidecode could read it, else with C(MemTotal) of
        C(/proc/meminfo); C(memory_tolerance_pct) (default 3 for MemTotal, which lacks what the kernel reserves,
        0 for DIMMs). C(dimms_populated_min).
      - C(disk_count_min) (hardware disks; with C(disk_include_virtual=true) also zram, loop, dm, md);
        C(smart_healthy), C(smart_reallocated_max), C(smart_pending_max), C(disk_power_on_hours_max), checked per
        disk.
      - C(raid_controllers_min), C(pci_devices_min).
      - C(nic_count_min), C(nics_up_min), C(nic_speed_mbps_min) (each NIC with link up), C(nic_names_up) (a list of
        interface names that must have link), C(nic_include_virtual) (count bridges, veth and the like).
      - C(temperature_max_c), C(throttle_events_max) (default 0) during the stress run;
        C(kernel_errors_before_allowed) tolerates hardware errors logged before the run (new ones still fail).
    type: dict
    default: {}
  host:
    description: Name of the host, used in the report and its file names.
    type: str
    required: true
  dest:
    description: Directory for the report files; created when missing.
    type: path
    required: true
  strict:
    description: Count C(unknown) checks as failures.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Evaluates the checks and returns the verdict and the table; writes no file.
  diff_mode:
    support: none
    description: Each report is new; there is nothing to compare.
  idempotent:
    support: none
    description: Every run writes a new report, so it always reports RV(ignore:changed=true).
seealso:
  - module: virtlab.infra.hardware_facts
  - module: virtlab.infra.hardware_stress
"""

EXAMPLES = r"""
- name: Judge the host
  virtlab.infra.hardware_report:
    hardware: "{{ ansible_facts.virtlab_hardware }}"
    stress: "{{ stress }}"
    host: "{{ inventory_hostname }}"
    dest: /srv/acceptance
    spec:
      cpu_cores_min: 16
      memory_mib_min: 131072
      dimms_populated_min: 8
      disk_count_min: 4
      smart_healthy: true
      smart_reallocated_max: 0
      nics_up_min: 2
      nic_speed_mbps_min: 10000
      temperature_max_c: 85
  delegate_to: localhost
  register: report
"""

RETURN = r"""
verdict:
  description: V(pass) or V(fail).
  returned: success
  type: str
  sample: fail
accepted:
  description: Whether the verdict is V(pass).
  returned: success
  type: bool
checks:
  description: Each check with C(name), C(status) (pass, fail, unknown), C(expected), C(actual), C(evidence).
  returned: success
  type: list
  elements: dict
  sample:
    - name: memory
      status: fail
      expected: ">= 1048576 MiB"
      actual: 24105
      evidence: "/proc/meminfo MemTotal 24105 MiB (dmidecode unavailable: ...); tolerance 3.0%"
failed_checks:
  description: Names of the failed checks.
  returned: success
  type: list
  elements: str
unknown_checks:
  description: Names of the checks the host could not answer.
  returned: success
  type: list
  elements: str
table:
  description: The readable report, as written to RV(table_path).
  returned: success
  type: str
report_path:
  description: Path of the JSON report (in check mode, the path it would have).
  returned: success
  type: str
table_path:
  description: Path of the readable report.
  returned: success
  type: str
generated:
  description: UTC time of the report.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.report import HardwareReportService


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "hardware": {"type": "dict", "required": True},
            "stress": {"type": "dict"},
            "spec": {"type": "dict", "default": {}},
            "host": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "strict": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    run_service(module, lambda: HardwareReportService(check_mode=module.check_mode).write(module.params))


if __name__ == "__main__":
    main()
