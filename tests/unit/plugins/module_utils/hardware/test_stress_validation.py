# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StressService refuses unsafe disk targets before anything runs.

A mounted or held block device cannot be offered to a real run here without risking this machine's
disk, so these cases use a stand-in Host that answers lsblk and sysfs like a server would; the
device node itself is faked by pointing the target at a real block device that is only stat()ed.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.hardware.stress import StressRequest, StressService

PARAMS = {"cpu_memory_duration": 0, "cpu_workers": 0, "memory_workers": 1, "memory_bytes": "16M",
          "disk_duration": 5, "sample_interval": 1.0, "kernel_log": False, "grace": 10}


class StandInHost:
    """Answers lsblk for one device and lists its holders; records every command it is asked to run."""

    def __init__(self, mountpoint=None, holders=()):
        self.mountpoint = mountpoint
        self.holders = list(holders)
        self.commands = []

    @staticmethod
    def which(name):
        return "/usr/bin/" + name

    def tool_output(self, name, args):
        self.commands.append([name] + args)
        path = args[-1]
        return json.dumps({"blockdevices": [{"name": os.path.basename(path), "path": path, "type": "disk",
                                             "size": 1 << 30, "mountpoint": None,
                                             "children": [{"name": "p1", "type": "part", "mountpoint": self.mountpoint}]}]})

    def glob(self, pattern):
        if pattern.endswith("/holders/*") and "/*/holders" not in pattern:
            return ["/sys/class/block/x/holders/" + holder for holder in self.holders]
        return []

    def run(self, args):
        raise AssertionError("nothing may run: %s" % args)


def _request(targets):
    return StressRequest.from_params(dict(PARAMS, disk_targets=targets))


def test_target_without_scratch_is_refused_naming_the_option(tmp_path):
    victim = tmp_path / "data.img"
    victim.write_bytes(b"precious")
    host = StandInHost()
    with pytest.raises(ValidationError) as caught:
        StressService(host).run(_request([{"path": str(victim), "scratch": False, "size": "1M"}]))
    assert caught.value.option == "disk_targets[0].scratch"
    assert str(victim) in str(caught.value) and "never written" in str(caught.value)
    assert victim.read_bytes() == b"precious" and host.commands == []


def test_second_target_refused_means_the_first_is_not_written_either(tmp_path):
    scratch, data = tmp_path / "scratch.img", tmp_path / "data.img"
    data.write_bytes(b"precious")
    with pytest.raises(ValidationError) as caught:
        StressService(StandInHost()).run(_request([{"path": str(scratch), "scratch": True, "size": "1M"},
                                                   {"path": str(data), "size": "1M"}]))
    assert caught.value.option == "disk_targets[1].scratch"
    assert not scratch.exists()


@pytest.mark.parametrize("mountpoint, holders, expected", [("/srv", [], "mounted at /srv"), (None, ["dm-0"], "held by dm-0")])
def test_block_device_in_use_is_refused_even_when_scratch(mountpoint, holders, expected):
    device = next((os.path.join("/dev", n) for n in sorted(os.listdir("/dev"))
                   if os.path.exists(os.path.join("/dev", n)) and _is_block(os.path.join("/dev", n))), None)
    if device is None:
        pytest.fail("no block device node in /dev to stat (it is only stat()ed, never opened)")
    with pytest.raises(ValidationError) as caught:
        StressService(StandInHost(mountpoint, holders)).validate(_request([{"path": device, "scratch": True, "size": "1M"}]))
    assert caught.value.option == "disk_targets[0].path"
    assert expected in str(caught.value) and "in use" in str(caught.value)


def test_directory_and_relative_paths_are_refused(tmp_path):
    with pytest.raises(ValidationError) as caught:
        StressService(StandInHost()).validate(_request([{"path": str(tmp_path), "scratch": True, "size": "1M"}]))
    assert caught.value.option == "disk_targets[0].path" and "neither a block device nor a regular file" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        StressService(StandInHost()).validate(_request([{"path": "scratch.img", "scratch": True, "size": "1M"}]))
    assert caught.value.option == "disk_targets[0].path"


def test_disk_targets_need_a_disk_duration(tmp_path):
    with pytest.raises(ValidationError) as caught:
        StressRequest.from_params(dict(PARAMS, disk_duration=0,
                                       disk_targets=[{"path": str(tmp_path / "s"), "scratch": True, "size": "1M"}]))
    assert caught.value.option == "disk_duration"


def _is_block(path):
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False
