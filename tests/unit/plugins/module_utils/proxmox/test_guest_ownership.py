# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the rule that tells a guest of the task from a foreign one (pure logic, no API), and of the
config-lock timeout classification. The modules' behaviour against an API is in tests/integration/proxmox."""

from __future__ import annotations

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    LockedError,
    ValidationError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, classify_status
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.guest import (
    check_name,
    check_own_guest,
    linked_bases,
    recorded_source,
    tags_value,
    tags_with_source,
)


def guest(vmid=150, name="web02", template=False, kind="lxc"):
    return Guest(vmid=vmid, kind=kind, node="pve1", name=name, status="stopped", template=template)


TEMPLATE = guest(900, "ct-tmpl", template=True)


def test_record_and_bases_are_read_from_tags_and_disks():
    assert recorded_source({"tags": "web;virtlab-clone-of-900"}) == 900
    assert recorded_source({"tags": "web, lab"}) is None
    assert recorded_source({"tags": "virtlab-clone-of-x"}) is None
    config = {"rootfs": "local:900/base-900-disk-0.raw/150/vm-150-disk-0.qcow2,size=8G",
              "mp0": "local-lvm:vm-150-disk-1,mp=/srv", "description": "base-777-disk-0 in a note"}
    assert linked_bases(config) == {900}


@pytest.mark.parametrize("current, wanted, source, expected", [
    (None, None, None, None),                                                   # nothing to set
    ("golden;virtlab-clone-of-42", None, 900, "golden;virtlab-clone-of-900"),   # inherited record replaced
    ("virtlab-clone-of-900;old", "lab;web", None, "lab;virtlab-clone-of-900;web"),  # user tags, record kept
    ("", "web", None, "web"),
])
def test_tags_with_source(current, wanted, source, expected):
    assert tags_with_source(current, wanted, source) == expected


def test_user_tags_cannot_forge_a_record():
    assert tags_value(["Web", "lab", "web"]) == "lab;web"
    with pytest.raises(ValidationError, match="^tags: .*written by the module"):
        tags_value(["virtlab-clone-of-1"])
    with pytest.raises(ValidationError, match="^tags: "):
        tags_value(["no spaces allowed"])


def test_name_check():
    check_name(guest(name="web02"), name="web02", rename=False)
    check_name(guest(name="db01"), name=None, rename=False)
    check_name(guest(name="db01"), name="web02", rename=True)
    with pytest.raises(ConflictError, match=r"^vmid: container 'db01' \(vmid 150, stopped\) holds another guest"):
        check_name(guest(name="db01"), name="web02", rename=False)


@pytest.mark.parametrize("found, config, kwargs, option, words", [
    (TEMPLATE, {}, dict(source=TEMPLATE), "clone", "clone source itself"),
    (guest(901, "web02", template=True), {}, dict(source=TEMPLATE), "clone", "is a template"),
    (guest(), {"tags": "virtlab-clone-of-777"}, dict(source=TEMPLATE), "clone", "cloned from guest 777"),
    (guest(), {"rootfs": "local:777/base-777-disk-0.raw/150/vm-150-disk-0.qcow2"}, dict(source=TEMPLATE), "clone",
     "linked clone of template 777"),
    (guest(), {"tags": "virtlab-clone-of-777"}, dict(source=None, from_template=True), "ostemplate",
     "clone of guest 777"),
    (guest(), {}, dict(source=TEMPLATE, name=None), "hostname", "carries no record"),
])
def test_foreign_guests_are_refused(found, config, kwargs, option, words):
    args = dict(creates=True, from_template=False, state="present", name="web02", name_option="hostname")
    args.update(kwargs)
    with pytest.raises(ConflictError) as refused:
        check_own_guest(found, config, source=args.pop("source"), **args)
    assert refused.value.details["option"] == option and refused.value.details["vmid"] == found.vmid
    assert words in refused.value.message and "nothing was changed" in refused.value.message


@pytest.mark.parametrize("found, config, kwargs", [
    (guest(), {"tags": "virtlab-clone-of-900"}, dict(source=TEMPLATE)),           # our clone
    (guest(), {}, dict(source=TEMPLATE)),                                         # by name, no record (0.1.0)
    (guest(), {"tags": "virtlab-clone-of-900"}, dict(source=TEMPLATE, name=None)),  # no name, but the record
    (guest(), {"rootfs": "local:900/base-900-disk-0.raw/150/vm-150-disk-0.qcow2"}, dict(source=TEMPLATE, name=None)),
    (guest(template=True), {"rootfs": "local-lvm:base-150-disk-0", "tags": "virtlab-clone-of-900"},
     dict(source=TEMPLATE, state="template")),                                    # made, then turned template
    (guest(), {}, dict(source=None, from_template=True)),                         # from an appliance template
    (guest(template=True, name="db01"), {}, dict(source=None, creates=False)),    # no create: not checked
])
def test_own_guests_are_recognised(found, config, kwargs):
    args = dict(creates=True, from_template=False, state="present", name="web02", name_option="hostname")
    args.update(kwargs)
    check_own_guest(found, config, source=args.pop("source"), **args)


def test_config_lock_timeout_is_a_lock_and_other_500s_are_not():
    locked = classify_status(500, "can't lock file '/run/lock/lxc/pve-config-150.lock' - got timeout")
    assert isinstance(locked, LockedError) and locked.details["lock"] == "config"
    assert isinstance(classify_status(500, "can't lock file '/var/lock/qemu-server/lock-150.conf' - got timeout"),
                      LockedError)
    assert isinstance(classify_status(500, "storage 'x' does not exist"), BackendError)
    assert isinstance(classify_status(400, "can't lock file '/var/lock/qemu-server/lock-1.conf' - got timeout"),
                      ValidationError)
