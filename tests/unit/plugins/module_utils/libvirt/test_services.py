# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pool, volume and clone services on the in-memory test:///default driver."""

from __future__ import annotations

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ConflictError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import VolumeCloneService, dependents_of
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.pool import PoolService
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.volume import VolumeService


def pool_params(name, **extra):
    params = {"name": name, "state": "present", "type": "dir", "path": "/" + name, "source_host": None,
              "source_dir": None, "source_format": None, "source_devices": None, "source_name": None,
              "build": False, "active": True, "autostart": None}
    params.update(extra)
    return params


def volume_params(name, **extra):
    params = {"name": name, "pool": "default-pool", "state": "present", "format": None, "capacity": "1M",
              "import_from": None, "force": False, "split_dependents": False}
    params.update(extra)
    return params


def clone_params(**extra):
    params = {"name": None, "names": None, "pool": "default-pool", "source": None, "source_pool": None,
              "mode": "linked", "split": False, "format": None, "capacity": None, "state": "present",
              "split_dependents": False}
    params.update(extra)
    return params


def test_pool_check_mode_create_idempotent_remove(connection, name):
    predicted = PoolService(connection, pool_params(name), check_mode=True).ensure()
    assert predicted["changed"] and connection.pool(name) is None
    assert predicted["diff"]["before"] == {"name": name, "state": "absent"}
    made = PoolService(connection, pool_params(name)).ensure()
    assert made["changed"] and made["pool"]["active"] is True
    assert PoolService(connection, pool_params(name)).ensure()["changed"] is False
    with pytest.raises(ConflictError) as caught:
        PoolService(connection, pool_params(name, path="/elsewhere")).ensure()
    assert caught.value.message.startswith("path:")
    assert PoolService(connection, pool_params(name, state="absent")).ensure()["changed"] is True
    assert connection.pool(name) is None


def test_volume_create_idempotent_and_protected(connection, name):
    made = VolumeService(connection, volume_params(name)).ensure()
    assert made["changed"] and made["volume"]["capacity"] == 1024 * 1024 and made["volume"]["format"] == "qcow2"
    assert VolumeService(connection, volume_params(name)).ensure()["changed"] is False
    with pytest.raises(ValidationError) as caught:
        VolumeService(connection, volume_params(name, capacity="512K")).ensure()
    assert caught.value.option == "capacity"
    # two linked clones make it a protected parent
    clones = VolumeCloneService(connection, clone_params(names=[name + "-a", name + "-b"], source=name)).ensure()
    assert clones["changed"] and all(v["backing"] == made["volume"]["path"] for v in clones["volumes"])
    assert sorted(d["name"] for d in dependents_of(connection, made["volume"]["path"])) == [name + "-a", name + "-b"]
    with pytest.raises(ConflictError) as refused:
        VolumeService(connection, volume_params(name, state="absent")).ensure()
    assert name + "-a" in refused.value.message and name + "-b" in refused.value.message
    VolumeCloneService(connection, clone_params(names=[name + "-a", name + "-b"], state="absent")).ensure()
    assert VolumeService(connection, volume_params(name, state="absent")).ensure()["changed"] is True


def test_clone_idempotence_and_errors(connection, name):
    VolumeService(connection, volume_params(name)).ensure()
    VolumeService(connection, volume_params(name + "-other")).ensure()
    args = clone_params(name=name + "-c", source=name)
    assert VolumeCloneService(connection, args, check_mode=True).ensure()["changed"] is True
    assert connection.volume(connection.pool("default-pool"), name + "-c") is None
    assert VolumeCloneService(connection, args).ensure()["changed"] is True
    again = VolumeCloneService(connection, args).ensure()
    assert again["changed"] is False and again["volume"]["split"] is False
    with pytest.raises(ValidationError) as other:
        VolumeCloneService(connection, dict(args, source=name + "-other")).ensure()
    assert other.value.option == "source"
    with pytest.raises(ValidationError) as full:
        VolumeCloneService(connection, dict(args, mode="full")).ensure()
    assert full.value.option == "mode"
    with pytest.raises(ValidationError) as twice:
        VolumeCloneService(connection, clone_params(names=["x", "x"], source=name)).ensure()
    assert twice.value.option == "names"
    with pytest.raises(ValidationError) as itself:
        VolumeCloneService(connection, clone_params(name=name, source=name)).ensure()
    assert itself.value.option == "name"
    for vol in (name + "-c", name, name + "-other"):
        VolumeService(connection, volume_params(vol, state="absent")).ensure()
