# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain, domain clone, snapshot services and the inventory adapter on the in-memory test:///default driver."""

from __future__ import annotations

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import DomainService
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain_clone import DomainCloneService
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.snapshot import SnapshotService
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.volume import VolumeService
from ansible_collections.virtlab.infra.plugins.plugin_utils.libvirt import collect_domains


def domain_params(name, **extra):
    params = {"name": name, "state": "present", "xml": None, "virt_type": "test", "memory": None, "vcpus": None,
              "arch": "i686", "machine": None, "firmware": None, "kernel": None, "initrd": None, "cmdline": None,
              "disks": None, "networks": None, "serial": None, "autostart": None, "labels": None,
              "shutdown_timeout": 5, "force": True, "remove_volumes": False}
    params.update(extra)
    return params


@pytest.fixture
def disk(connection, name):
    VolumeService(connection, {"name": name + ".qcow2", "pool": "default-pool", "state": "present",
                               "format": "qcow2", "capacity": "1M", "import_from": None, "force": False,
                               "split_dependents": False}).ensure()
    return name + ".qcow2"


def test_domain_define_idempotent_states_absent(connection, name, disk):
    args = domain_params(name, memory="64M", vcpus=1, disks=[{"pool": "default-pool", "volume": disk}],
                         labels={"team": "db"})
    predicted = DomainService(connection, args, check_mode=True).ensure()
    assert predicted["changed"] and connection.domain(name) is None
    made = DomainService(connection, args).ensure()
    assert made["changed"] and made["domain"]["labels"] == {"team": "db"}
    assert made["domain"]["disks"][0]["volume"] == disk
    again = DomainService(connection, args).ensure()
    assert again["changed"] is False, again.get("changes")
    bigger = DomainService(connection, dict(args, memory="96M"), check_mode=True).ensure()
    assert bigger["changed"] and bigger["changes"] == ["domain/memory", "domain/currentMemory"]
    assert DomainService(connection, dict(args, state="running")).ensure()["domain"]["state"] == "running"
    assert DomainService(connection, dict(args, state="paused")).ensure()["domain"]["state"] == "paused"
    down = DomainService(connection, dict(args, state="shutdown")).ensure()
    assert down["domain"]["state"] == "shutdown" and down["forced"] is True      # paused: destroyed at once
    gone = DomainService(connection, domain_params(name, state="absent", remove_volumes=True)).ensure()
    assert gone["changed"] and gone["removed_volumes"] == ["default-pool/" + disk]
    assert connection.domain(name) is None


def test_domain_bad_input(connection, name):
    with pytest.raises(ValidationError) as caught:
        DomainService(connection, domain_params(name, state="running")).ensure()
    assert caught.value.option == "xml"
    with pytest.raises(ValidationError) as caught:
        DomainService(connection, domain_params(name, xml="<domain><name>other</name></domain>")).ensure()
    assert caught.value.option == "xml"
    with pytest.raises(ValidationError) as caught:
        DomainService(connection, domain_params(name, memory="64M",
                                                disks=[{"pool": "default-pool", "volume": "missing"}])).ensure()
    assert caught.value.option == "disks[0].volume"


def test_domain_clone_and_snapshot(connection, name, disk):
    DomainService(connection, domain_params(name, memory="64M",
                                            disks=[{"pool": "default-pool", "volume": disk}])).ensure()
    clone = DomainCloneService(connection, {"name": name + "-c", "source": name, "mode": "linked", "pool": None,
                                            "start": False}).ensure()
    assert clone["changed"] and clone["disks"][0]["volume"] == name + "-c-vda.qcow2"
    assert clone["domain"]["uuid"] != connection.domain(name).UUIDString()
    again = DomainCloneService(connection, {"name": name + "-c", "source": name, "mode": "linked", "pool": None,
                                            "start": False}).ensure()
    assert again["changed"] is False
    listed = {d["name"]: d for d in collect_domains(connection, ["lease"])}
    assert listed[name + "-c"]["clone_of"] == name and listed[name]["state"] == "shutdown"

    snap = {"domain": name, "name": "s1", "state": "present", "description": "d", "disk_only": False}
    assert SnapshotService(connection, snap).ensure()["changed"] is True
    assert SnapshotService(connection, snap).ensure()["changed"] is False
    assert SnapshotService(connection, dict(snap, state="reverted")).ensure()["changed"] is True
    assert SnapshotService(connection, dict(snap, state="absent")).ensure()["snapshots"] == []
    for dom in (name + "-c", name):
        DomainService(connection, domain_params(dom, state="absent", remove_volumes=True)).ensure()
