#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: hardware_stress
short_description: Timed CPU, memory and scratch-disk stress with temperature, frequency and kernel-log sampling
version_added: 0.1.0
description:
  - Runs a CPU and memory phase with C(stress-ng) (CPU stressors and memory stressors with verification) for
    O(cpu_memory_duration) seconds, then a disk phase with C(fio) (random 4 KiB reads and writes) on each entry of
    O(disk_targets) for O(disk_duration) seconds.
  - While the phases run, samples the one-minute load, the CPU frequencies (cpufreq or C(/proc/cpuinfo)), every
    readable temperature (C(/sys/class/thermal), C(/sys/class/hwmon)) and the CPU thermal throttle counters every
    O(sample_interval) seconds.
  - Scans the kernel log (C(dmesg), else C(journalctl -k)) for machine-check, EDAC and I/O or PCIe errors before
    and after the run; lines that appear during the run are returned in RV(kernel_log) as C(new).
  - B(Never destructive by default.) The disk phase writes to its targets, so each target must be marked with
    O(disk_targets[].scratch=true); any target without it is refused before anything runs, naming the option.
    A mounted or otherwise used block device is refused even when marked scratch.
  - A problem found by the run (stress-ng verification error, fio I/O error, new kernel errors) does not fail the
    task; it is returned in RV(passed) and RV(failures) for M(virtlab.infra.hardware_report) to judge.
author:
  - virtlab.infra contributors (@virtlab)
options:
  cpu_memory_duration:
    description: Seconds of the CPU and memory phase; V(0) skips it.
    type: int
    default: 60
  cpu_workers:
    description: CPU stressor processes; V(0) starts one per usable CPU.
    type: int
    default: 0
  memory_workers:
    description: Memory stressor processes (C(stress-ng --vm)), each verifying what it wrote.
    type: int
    default: 1
  memory_bytes:
    description:
      - Memory each memory stressor works on, as C(stress-ng --vm-bytes) takes it - a size (V(512M), V(4G)) or a
        percentage of the available memory (V(75%)).
    type: str
    default: 50%
  disk_targets:
    description:
      - Block devices or files for the disk phase. Each is written by C(fio), so its content is destroyed.
      - A file that does not exist is created for the run and removed afterwards.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the block device (V(/dev/sdb)) or file.
        type: path
        required: true
      scratch:
        description:
          - Must be V(true) for the target to be written; it confirms that the data on it may be destroyed.
          - A target without it is refused and never written.
        type: bool
        default: false
      size:
        description: Size of the region (or file) that C(fio) works on, for example V(1G) or V(100%) of a device.
        type: str
        default: 256M
  disk_duration:
    description: Seconds of the disk phase per target.
    type: int
    default: 60
  sample_interval:
    description: Seconds between two samples of load, frequencies, temperatures and throttling.
    type: float
    default: 5
  kernel_log:
    description: Scan the kernel log for hardware errors before and after the run.
    type: bool
    default: true
  grace:
    description: Seconds a phase may overrun its duration before it is stopped and reported as failed.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    description: >-
      Validates the options and the disk targets and returns the commands in RV(plan); runs nothing. A missing
      tool is reported in RV(missing_tools) instead of failing, since the play may be about to install it.
  diff_mode:
    support: none
    description: No state is compared.
  idempotent:
    support: full
    description: >-
      Changes no configuration: RV(ignore:changed=false). A scratch file made for the run is removed again; the
      content of scratch targets is overwritten, which marking them scratch allows.
notes:
  - Needs C(stress-ng) for the CPU and memory phase and C(fio) for the disk phase. Run it as root to read the
    kernel log and to write block devices.
  - For a real acceptance run the phases last long - for example 30 minutes for a quick acceptance, 24 hours
    for a burn-in. Run such tasks with C(async) and C(poll), or raise the connection timeouts.
seealso:
  - module: virtlab.infra.hardware_facts
  - module: virtlab.infra.hardware_report
"""

EXAMPLES = r"""
- name: Thirty minutes of CPU and memory stress, then ten minutes on the scratch disk
  virtlab.infra.hardware_stress:
    cpu_memory_duration: 1800
    memory_bytes: 80%
    disk_targets:
      - path: /dev/sdb
        scratch: true
        size: 100%
    disk_duration: 600
    sample_interval: 30
  become: true
  async: 3000
  poll: 30
  register: stress
"""

RETURN = r"""
passed:
  description: Whether every phase passed and no hardware error appeared in the kernel log (null in check mode).
  returned: always
  type: bool
failures:
  description: What failed, one line per phase or check.
  returned: success
  type: list
  elements: str
plan:
  description: The commands of the CPU and memory phase (C(cpu_memory)) and of each disk target (C(disks)).
  returned: always
  type: dict
phases:
  description:
    - One entry per phase with C(name), C(command), C(rc), C(elapsed_s), C(started_at_s), C(passed), C(problems),
      C(output_tail) and the parsed C(metrics) (stress-ng bogo ops per stressor; fio IOPS, bandwidth, bytes, errors).
    - Disk phases also have C(target) (C(path), C(kind), C(size), C(created)).
  returned: always
  type: list
  elements: dict
missing_tools:
  description: In check mode, the tools the run needs that the host lacks.
  returned: check mode
  type: list
  elements: str
samples:
  description:
    - Samples taken during the run, each with C(t) (seconds since the start), C(phase), C(load1), C(cpu_mhz_min),
      C(cpu_mhz_max), C(temperatures_c) and C(throttle_count).
  returned: always
  type: list
  elements: dict
summary:
  description: C(samples), C(temperature_max_c), C(temperature_sensors), C(cpu_mhz_min), C(cpu_mhz_max),
    C(throttle_events) (null where the host has no counters).
  returned: success
  type: dict
kernel_log:
  description: C(available), C(source) or C(reason), C(before) (error lines found before the run) and C(new)
    (error lines that appeared during it), each line with its C(category) (mce, edac, io).
  returned: success
  type: dict
scratch_written:
  description: Paths the disk phase wrote to.
  returned: success
  type: list
  elements: str
duration_s:
  description: Seconds the whole run took.
  returned: success
  type: float
started_at:
  description: UTC time the run started (not C(started), which Ansible's asynchronous tasks reserve).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.host import ModuleHost
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.stress import StressRequest, StressService


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "cpu_memory_duration": {"type": "int", "default": 60},
            "cpu_workers": {"type": "int", "default": 0},
            "memory_workers": {"type": "int", "default": 1},
            "memory_bytes": {"type": "str", "default": "50%"},
            "disk_targets": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "scratch": {"type": "bool", "default": False},
                "size": {"type": "str", "default": "256M"},
            }},
            "disk_duration": {"type": "int", "default": 60},
            "sample_interval": {"type": "float", "default": 5},
            "kernel_log": {"type": "bool", "default": True},
            "grace": {"type": "int", "default": 120},
        },
        supports_check_mode=True,
    )
    run_service(module, lambda: StressService(ModuleHost(module), check_mode=module.check_mode).run(
        StressRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
