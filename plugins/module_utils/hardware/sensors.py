# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Temperatures, CPU frequencies, throttle counters and the kernel log, read from a ``Host``."""

from __future__ import annotations

import os
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.hardware.host import Unavailable
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.parsers import (
    cpuinfo_mhz,
    millidegrees,
    parse_loadavg,
)


def read_temperatures(host: Any) -> dict[str, float]:
    """Every readable temperature in degrees Celsius, keyed ``thermal:<zone type>`` or ``hwmon:<chip>:<label>``."""
    found: dict[str, float] = {}
    for zone in host.glob("/sys/class/thermal/thermal_zone*"):
        value = millidegrees(host.read_or_none(zone + "/temp"))
        if value is not None:
            found["thermal:%s:%s" % (os.path.basename(zone), host.read_or_none(zone + "/type") or "zone")] = value
    for path in host.glob("/sys/class/hwmon/hwmon*/temp*_input"):
        value = millidegrees(host.read_or_none(path))
        if value is None:
            continue
        chip_dir = os.path.dirname(path)
        chip = host.read_or_none(chip_dir + "/name") or os.path.basename(chip_dir)
        label = host.read_or_none(path[:-len("_input")] + "_label") or os.path.basename(path)[:-len("_input")]
        found["hwmon:%s:%s" % (chip, label)] = value
    return found


def read_frequencies(host: Any) -> list[float]:
    """Current frequency of each CPU in MHz: cpufreq's ``scaling_cur_freq``, else ``/proc/cpuinfo``."""
    values = []
    for path in host.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq"):
        khz = host.read_or_none(path)
        if khz and khz.isdigit():
            values.append(round(int(khz) / 1000.0, 1))
    if values:
        return values
    try:
        return cpuinfo_mhz(host.read("/proc/cpuinfo"))
    except Unavailable:
        return []


def read_throttle_count(host: Any) -> Optional[int]:
    """Sum of the cores' and packages' thermal throttle counters, or None where the kernel has none."""
    paths = host.glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle/*_throttle_count")
    counts = [host.read_or_none(path) for path in paths]
    numbers = [int(count) for count in counts if count and count.isdigit()]
    return sum(numbers) if numbers else None


def take_sample(host: Any, elapsed: float, phase: str) -> dict[str, Any]:
    """One sample during a stress run: time since start, phase, load, frequencies, temperatures, throttling."""
    mhz = read_frequencies(host)
    try:
        load: Optional[float] = parse_loadavg(host.read("/proc/loadavg"))
    except (Unavailable, ValueError, IndexError):
        load = None
    return {
        "t": round(elapsed, 2),
        "phase": phase,
        "load1": load,
        "cpu_mhz_min": min(mhz) if mhz else None,
        "cpu_mhz_max": max(mhz) if mhz else None,
        "temperatures_c": read_temperatures(host),
        "throttle_count": read_throttle_count(host),
    }


def read_kernel_log(host: Any) -> tuple[str, list[str]]:
    """(source, lines) of the kernel log: ``dmesg``, else ``journalctl -k``; Unavailable if neither.

    Lines keep their timestamps, so an error repeated during a run is a new line.
    """
    reasons = []
    for name, args in (("dmesg", []), ("journalctl", ["-k", "-b", "-q", "--no-pager", "-o", "short-monotonic"])):
        try:
            lines = host.tool_output(name, args).splitlines()
        except Unavailable as error:
            reasons.append(str(error))
            continue
        if name == "journalctl" and not lines:
            # a container's journal holds no kernel messages: an empty answer proves nothing
            reasons.append("journalctl -k returned no kernel messages")
            continue
        return name, lines
    raise Unavailable("; ".join(reasons))
