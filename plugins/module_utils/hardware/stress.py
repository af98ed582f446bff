# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Timed stress phases with sampling: CPU + memory (stress-ng), then disks (fio, scratch targets only).

Before anything runs, every disk target is validated: a target not explicitly marked scratch,
a mounted or otherwise used block device, or a directory is refused with a message naming the
option, and nothing is started. During the phases, load, CPU frequencies, temperatures and
throttle counters are sampled; the kernel log is scanned for machine-check, EDAC and I/O errors
before and after. The host's configuration is not changed: a scratch file that did not exist
is created for the run and removed afterwards; the content of a scratch target is destroyed,
which is what marking it scratch allows.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.host import Unavailable
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.parsers import (
    parse_fio,
    parse_lsblk,
    parse_stress_ng,
    scan_kernel_log,
)
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.sensors import read_kernel_log, take_sample


@dataclass
class DiskTarget:
    path: str
    size: str
    kind: str  # "block" or "file"
    existed: bool


@dataclass
class StressRequest:
    """What the user asked for, validated by ``from_params`` (disk targets by ``StressService.validate``)."""

    cpu_memory_duration: int
    cpu_workers: int
    memory_workers: int
    memory_bytes: str
    disk_duration: int
    disk_targets: list[dict[str, Any]] = field(default_factory=list)
    sample_interval: float = 5.0
    kernel_log: bool = True
    grace: int = 120

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "StressRequest":
        for option in ("cpu_memory_duration", "disk_duration", "cpu_workers", "memory_workers", "grace"):
            if params[option] < 0:
                raise ValidationError("must not be negative (got %s)" % params[option], option=option)
        if params["sample_interval"] <= 0:
            raise ValidationError("must be positive (got %s)" % params["sample_interval"], option="sample_interval")
        targets = params.get("disk_targets") or []
        if targets and params["disk_duration"] == 0:
            raise ValidationError("must be positive when disk_targets are given", option="disk_duration")
        return cls(
            cpu_memory_duration=params["cpu_memory_duration"],
            cpu_workers=params["cpu_workers"],
            memory_workers=params["memory_workers"],
            memory_bytes=str(params["memory_bytes"]),
            disk_duration=params["disk_duration"],
            disk_targets=[dict(t) for t in targets],
            sample_interval=float(params["sample_interval"]),
            kernel_log=bool(params["kernel_log"]),
            grace=params["grace"],
        )


class StressService:
    """Runs the phases on a ``Host``; ``run()`` returns the module result."""

    def __init__(self, host: Any, *, check_mode: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.check_mode = check_mode
        self.clock = clock
        self.samples: list[dict[str, Any]] = []
        self._t0 = 0.0
        self._last_sample = -1e9
        self.interval = 5.0

    # ------------------------------------------------------------ validation

    def validate(self, request: StressRequest) -> list[DiskTarget]:
        """Every disk target checked before anything runs; raises ValidationError naming the option."""
        targets = []
        for index, target in enumerate(request.disk_targets):
            option = "disk_targets[%d]" % index
            path = target.get("path") or ""
            if not path or not os.path.isabs(path):
                raise ValidationError("an absolute path is required (got %r)" % path, option=option + ".path")
            if not target.get("scratch"):
                raise ValidationError(
                    "%s is not marked scratch, so it is never written: the disk phase overwrites its target and destroys"
                    " the data on it. Set %s.scratch=true only for a disk or file whose content may be lost" % (path, option),
                    option=option + ".scratch")
            targets.append(self._validate_target(path, str(target.get("size") or "256M"), option))
        missing = self.missing_tools(request, targets)
        if missing and not self.check_mode:  # in check mode a play may still be about to install them
            raise VirtlabError("; ".join(missing))
        return targets

    def missing_tools(self, request: StressRequest, targets: list[DiskTarget]) -> list[str]:
        """What the run needs and the host lacks, one message per tool."""
        missing = []
        if request.cpu_memory_duration and self.host.which("stress-ng") is None:
            missing.append("stress-ng is not installed on the host (Debian/Ubuntu package stress-ng); it runs the"
                           " CPU and memory phase (set cpu_memory_duration=0 to skip that phase)")
        if targets and self.host.which("fio") is None:
            missing.append("fio is not installed on the host (package fio); it runs the disk phase")
        return missing

    def _validate_target(self, path: str, size: str, option: str) -> DiskTarget:
        # fio's sizes: a positive number with an optional unit (256M, 1GiB) or a share of the device (50%)
        if not re.match(r"^([1-9][0-9]*([kKmMgGtTpP]i?[bB]?)?|([1-9][0-9]?|100)%)$", size):
            raise ValidationError("%r is not a size like 256M, 1G or 50%%" % size, option=option + ".size")
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            if not os.path.isdir(os.path.dirname(path)):
                raise ValidationError("the directory of %s does not exist" % path, option=option + ".path") from None
            return DiskTarget(path=path, size=size, kind="file", existed=False)
        if stat.S_ISREG(mode):
            return DiskTarget(path=path, size=size, kind="file", existed=True)
        if not stat.S_ISBLK(mode):
            raise ValidationError("%s is neither a block device nor a regular file" % path, option=option + ".path")
        users = self._block_device_users(path)
        if users:
            raise ValidationError("%s is in use (%s); even a scratch disk must be unmounted and unused"
                                  % (path, ", ".join(users)), option=option + ".path")
        return DiskTarget(path=path, size=size, kind="block", existed=True)

    def _block_device_users(self, path: str) -> list[str]:
        """Mount points on the device or its partitions, and holders (LVM, MD, dm-crypt) of it."""
        try:
            disks = parse_lsblk(self.host.tool_output("lsblk", ["-J", "-b", "-o", "NAME,PATH,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,"
                                                                "MOUNTPOINT", path]))
        except (Unavailable, ValueError) as error:
            return ["cannot tell whether it is mounted: %s" % error]
        users = ["mounted at " + point for disk in disks for point in disk["mountpoints"]]
        name = os.path.basename(os.path.realpath(path))
        holders = self.host.glob("/sys/class/block/%s/holders/*" % name) + self.host.glob("/sys/class/block/%s/*/holders/*" % name)
        users += ["held by " + os.path.basename(holder) for holder in holders]
        return users

    # ------------------------------------------------------------ run

    def run(self, request: StressRequest) -> dict[str, Any]:
        targets = self.validate(request)
        plan = self._plan(request, targets)
        if self.check_mode:
            return {"changed": False, "passed": None, "plan": plan, "phases": [], "samples": [],
                    "missing_tools": self.missing_tools(request, targets),
                    "msg": "check mode: the stress phases were not run"}
        started = time.time()
        self.interval = request.sample_interval
        self._t0 = self.clock()
        kernel_before = self._kernel_log(request)
        self._sample("idle", force=True)
        phases = []
        if request.cpu_memory_duration:
            phases.append(self._cpu_memory_phase(request, plan["cpu_memory"]))
        written = []
        for target, command in zip(targets, plan["disks"]):
            phases.append(self._disk_phase(request, target, command))
            written.append(target.path)
        kernel_after = self._kernel_log(request)
        kernel = self._kernel_summary(kernel_before, kernel_after)
        failures = [phase["name"] + ": " + "; ".join(phase["problems"]) for phase in phases if not phase["passed"]]
        if kernel["new"]:
            failures.append("kernel log: %d new hardware error line(s)" % len(kernel["new"]))
        return {
            "changed": False,
            "passed": not failures,
            "failures": failures,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "duration_s": round(self.clock() - self._t0, 2),
            "plan": plan,
            "phases": phases,
            "samples": self.samples,
            "summary": self._summary(),
            "kernel_log": kernel,
            "scratch_written": written,
        }

    def _plan(self, request: StressRequest, targets: list[DiskTarget]) -> dict[str, Any]:
        cpu_memory = None
        if request.cpu_memory_duration:
            cpu_memory = [self.host.which("stress-ng") or "stress-ng",
                          "--cpu", str(request.cpu_workers), "--cpu-method", "all",
                          "--vm", str(request.memory_workers), "--vm-bytes", request.memory_bytes,
                          "--verify", "--timeout", "%ds" % request.cpu_memory_duration, "--metrics-brief"]
        disks = []
        for target in targets:
            disks.append([self.host.which("fio") or "fio", "--name=virtlab-scratch", "--filename=" + target.path,
                          "--size=" + target.size, "--rw=randrw", "--rwmixread=50", "--bs=4k", "--ioengine=psync",
                          "--direct=%d" % (target.kind == "block"), "--time_based",
                          "--runtime=%d" % request.disk_duration, "--end_fsync=1", "--output-format=json"])
        return {"cpu_memory": cpu_memory, "disks": disks}

    def _cpu_memory_phase(self, request: StressRequest, command: list[str]) -> dict[str, Any]:
        phase = self._run_phase("cpu_memory", command, request.cpu_memory_duration + request.grace)
        try:
            metrics = parse_stress_ng(phase.pop("output"))
        except ValueError as error:
            metrics = {"stressors": [], "problems": ["unreadable stress-ng output: %s" % error]}
        phase["metrics"] = metrics
        phase["problems"] += metrics.get("problems") or []
        if phase["rc"] != 0:
            phase["problems"].append("stress-ng exited with %s" % phase["rc"])
        phase["passed"] = not phase["problems"]
        return phase

    def _disk_phase(self, request: StressRequest, target: DiskTarget, command: list[str]) -> dict[str, Any]:
        try:
            phase = self._run_phase("disk:" + target.path, command, request.disk_duration + request.grace)
        finally:
            if not target.existed and os.path.exists(target.path):
                os.unlink(target.path)  # the file was made for this run; leave the host as it was
        phase["target"] = {"path": target.path, "kind": target.kind, "size": target.size, "created": not target.existed}
        text = phase.pop("output")
        if "{" in text:  # keep fio's warnings, not its JSON, as the tail
            phase["output_tail"] = text[:text.find("{")].splitlines()[-20:]
        try:
            metrics = parse_fio(text)
        except ValueError as error:
            metrics = {"jobs": [], "errors": None}
            phase["problems"].append("unreadable fio output: %s" % error)
        phase["metrics"] = metrics
        if phase["rc"] != 0:
            phase["problems"].append("fio exited with %s" % phase["rc"])
        if metrics.get("errors"):
            phase["problems"].append("fio reported %s I/O error(s)" % metrics["errors"])
        phase["passed"] = not phase["problems"]
        return phase

    def _run_phase(self, name: str, command: list[str], timeout: float) -> dict[str, Any]:
        """Run ``command`` while a sampler thread records samples; ``timeout`` (coreutils) ends an overrun."""
        start = self.clock()
        self._sample(name, force=True)
        stop = threading.Event()
        sampler = threading.Thread(target=self._sample_until, args=(name, stop), daemon=True)
        sampler.start()
        limit = self.host.which("timeout")
        try:
            rc, out, err = self.host.run(
                ([limit, "--kill-after=10", "%d" % timeout] if limit else []) + command)
        finally:
            stop.set()
            sampler.join()
        problems = []
        if limit and rc in (124, 137):  # timeout's status for a command it had to stop (137: SIGKILL)
            problems.append("did not finish within %ds; stopped" % timeout)
        text = (out or "") + (err or "")
        elapsed = self.clock() - start
        self._sample(name, force=True)
        return {"name": name, "command": command, "rc": rc, "elapsed_s": round(elapsed, 2),
                "started_at_s": round(start - self._t0, 2), "output": text, "output_tail": text.splitlines()[-20:],
                "problems": problems, "passed": False}

    def _sample_until(self, phase: str, stop: threading.Event) -> None:
        """The sampler thread: one sample every ``interval`` seconds until ``stop`` is set."""
        while not stop.wait(self.interval):
            self._sample(phase, force=True)

    def _sample(self, phase: str, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last_sample >= self.interval:
            self.samples.append(take_sample(self.host, now - self._t0, phase))
            self._last_sample = now

    def _kernel_log(self, request: StressRequest) -> dict[str, Any]:
        if not request.kernel_log:
            return {"available": False, "reason": "disabled (kernel_log=false)", "lines": []}
        try:
            source, lines = read_kernel_log(self.host)
        except Unavailable as error:
            return {"available": False, "reason": str(error), "lines": []}
        return {"available": True, "source": source, "lines": lines}

    @staticmethod
    def _kernel_summary(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        known = set(before["lines"])
        errors_before = scan_kernel_log(before["lines"])
        errors_after = scan_kernel_log(after["lines"])
        return {
            "available": before["available"] and after["available"],
            "source": after.get("source") or before.get("source"),
            "reason": after.get("reason") or before.get("reason"),
            "before": errors_before,
            "new": [error for error in errors_after if error["line"] not in known],
        }

    def _summary(self) -> dict[str, Any]:
        temperatures = [value for sample in self.samples for value in sample["temperatures_c"].values()]
        low = [s["cpu_mhz_min"] for s in self.samples if s["cpu_mhz_min"] is not None]
        high = [s["cpu_mhz_max"] for s in self.samples if s["cpu_mhz_max"] is not None]
        throttle = [s["throttle_count"] for s in self.samples if s["throttle_count"] is not None]
        return {
            "samples": len(self.samples),
            "temperature_max_c": max(temperatures) if temperatures else None,
            "temperature_sensors": sorted({key for sample in self.samples for key in sample["temperatures_c"]}),
            "cpu_mhz_min": min(low) if low else None,
            "cpu_mhz_max": max(high) if high else None,
            "throttle_events": throttle[-1] - throttle[0] if throttle else None,
        }
