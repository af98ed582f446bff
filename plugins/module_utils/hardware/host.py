# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one I/O adapter of the hardware services: run a tool, find a tool, read a file.

The services never touch the host directly; they get a ``Host``. ``ModuleHost`` is the real
one, built from an ``AnsibleModule`` (``run_command`` and ``get_bin_path``).
"""

from __future__ import annotations

import glob
import os
from typing import Any, Optional


class Unavailable(Exception):
    """A source cannot be read on this host; the message says why (reported, never fatal)."""


class ModuleHost:
    """Runs commands through ``module.run_command`` and finds tools with ``get_bin_path``."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def which(self, name: str) -> Optional[str]:
        """Full path of a tool (also searched in the sbin directories), or None."""
        return self.module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin", "/usr/local/sbin"])

    def run(self, args: list[str]) -> tuple[int, str, str]:
        """Run a command without a shell; returns (rc, stdout, stderr)."""
        return self.module.run_command(args, check_rc=False, environ_update={"LC_ALL": "C"})

    def tool_output(self, name: str, args: list[str], ok_codes: tuple[int, ...] = (0,)) -> str:
        """Output of ``name args``; raises Unavailable (tool missing, or a failure with its message)."""
        path = self.which(name)
        if path is None:
            raise Unavailable("%s is not installed" % name)
        rc, out, err = self.run([path] + args)
        if rc not in ok_codes:
            detail = (err or out).strip().splitlines()
            raise Unavailable("%s exited with %s: %s" % (name, rc, detail[-1] if detail else "no output"))
        return out

    @staticmethod
    def read(path: str) -> str:
        """Content of a file; raises Unavailable with the OS error."""
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError as error:
            raise Unavailable("cannot read %s: %s" % (path, error.strerror or error)) from None

    def read_or_none(self, path: str) -> Optional[str]:
        """Stripped content of a (sysfs) file, or None when it cannot be read."""
        try:
            return self.read(path).strip()
        except Unavailable:
            return None

    @staticmethod
    def glob(pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))

    @staticmethod
    def usable_cpus() -> Optional[int]:
        """CPUs this process may run on (affinity / cpuset), as ``nproc`` counts them."""
        try:
            return len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            return os.cpu_count()
