# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What LXC and QEMU guests share: power state transitions, config comparison, removal, clean-up, and
the rule that tells a guest of this task from a foreign one.

**Whose guest is it?** A task that names a guest (``hostname`` / ``name``) and finds one -- by ``vmid``
or by that name -- only changes it when it is recognised as the guest the task describes:

* its name is the task's name (a task that gives ``vmid`` and another name refuses, unless the user
  asks for the rename with ``rename=true``);
* a task that creates (``clone``, ``ostemplate``, or for VMs any task without ``clone`` that carries a
  name) never adopts the template it clones from, nor any template unless it asks for ``state=template``;
* a clone records its source in the tag ``virtlab-clone-of-<vmid>`` (written at creation; PVE keeps no
  other trace of a full clone) and a linked clone's disks name their base (``base-<vmid>-disk-N``): a
  guest whose record or base names another source than the task's ``clone`` is not the task's own, and
  neither is a clone when the task creates from ``ostemplate``. A guest without record (made by hand,
  or by version 0.1.0) is recognised by its name alone.

A guest that fails these checks is left exactly as it is: the task fails with a ``ConflictError`` naming
the option, the vmid and what the guest holds, before any write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    ConflictError,
    ValidationError,
    VirtlabError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import Guest, ProxmoxClient
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import join_props, normalise_prop, split_props

POWER_STATES = ("started", "stopped", "restarted")


def config_changes(current: Mapping[str, Any], desired: Mapping[str, Any],
                   props_keys: Mapping[str, Optional[str]]) -> dict[str, Any]:
    """The ``desired`` keys whose value differs from ``current``; values are what to PUT.

    Keys listed in ``props_keys`` hold property strings: only the properties given in the desired
    dict are compared, and the new value keeps the current properties not given (a MAC address,
    say). ``props_keys[key]`` names the bare first value (``None``: there is none).
    """
    changes: dict[str, Any] = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key)
        if isinstance(want, Mapping):
            first = props_keys.get(key)
            have_props = split_props(have, first) if have is not None else {}
            differs = have is None or any(
                normalise_prop(value) != normalise_prop(have_props.get(prop)) for prop, value in want.items()
                if value is not None)
            if differs:
                merged = dict(have_props)
                merged.update((k, v) for k, v in want.items() if v is not None)
                changes[key] = join_props(merged, first, order=("name", "bridge"))
        elif normalise_prop(want) != normalise_prop(have if have is not None else ""):
            changes[key] = want
    return changes


def cleanup_guest(client: ProxmoxClient, vmid: int, error: VirtlabError) -> None:
    """Remove a guest we created whose set-up then failed; the clean-up outcome is noted on ``error``."""
    if error.details.get("still_running"):
        # the creating task goes on in the cluster: removing the guest now would race with it
        error.details["cleanup"] = "guest %d is still being made by its task; remove it once it ends" % vmid
        return
    try:
        guest = client.guest(vmid)
        if guest is None:
            error.details["cleanup"] = "nothing left behind"
            return
        if guest.status == "running":
            client.run_task("post", guest.path + "/status/stop", label="stop after a failed create")
        client.run_task("delete", guest.path, purge=1, label="remove after a failed create",
                        **{"destroy-unreferenced-disks": 1})
        error.details["cleanup"] = "removed guest %d" % vmid
    except VirtlabError as cleanup_error:
        error.details["cleanup"] = "could not remove guest %d: %s" % (vmid, cleanup_error)


class PowerMixin:
    """Power transitions of an existing guest, each through the lock-aware client."""

    client: ProxmoxClient
    check_mode: bool

    def _action(self, guest: Guest, action: str, **params: Any) -> None:
        if self.check_mode:
            return
        self.client.locked_call(guest, lambda: self.client.run_task(
            "post", "%s/status/%s" % (guest.path, action), label="%s %d" % (action, guest.vmid), **params))

    def ensure_power(self, guest: Guest, state: str, *, shutdown_timeout: int, force_stop: bool) -> tuple[bool, str]:
        """(changed, resulting status) for state started/stopped/restarted."""
        running = guest.status == "running"
        if state in ("started", "restarted") and guest.template:
            raise ValidationError("guest %d is a template and cannot run" % guest.vmid, option="state")
        if state == "started":
            if running:
                return False, "running"
            self._action(guest, "start")
            return True, "running"
        if state == "stopped":
            if not running:
                return False, guest.status
            self.stop(guest, shutdown_timeout=shutdown_timeout, force_stop=force_stop)
            return True, "stopped"
        if running:
            self._action(guest, "reboot")
        else:
            self._action(guest, "start")
        return True, "running"

    def stop(self, guest: Guest, *, shutdown_timeout: int, force_stop: bool) -> None:
        """A clean shutdown within ``shutdown_timeout`` seconds, then a hard stop when ``force_stop``."""
        if self.check_mode:
            return
        params: dict[str, Any] = {"timeout": shutdown_timeout}
        if force_stop:
            params["forceStop"] = 1
        self._action(guest, "shutdown", **params)

    def remove(self, guest: Guest, *, purge: bool) -> None:
        if self.check_mode:
            return
        if self.client.refresh(guest).status == "running":
            self._action(guest, "stop")
        params: dict[str, Any] = {"destroy-unreferenced-disks": 1}
        if purge:
            params["purge"] = 1
        self.client.locked_call(guest, lambda: self.client.run_task(
            "delete", guest.path, label="destroy %d" % guest.vmid, **params))

    def make_template(self, guest: Guest, *, shutdown_timeout: int, force_stop: bool) -> bool:
        if guest.template:
            return False
        if guest.status == "running":
            self.stop(guest, shutdown_timeout=shutdown_timeout, force_stop=force_stop)
        if not self.check_mode:
            self.client.locked_call(guest, lambda: self.client.run_task(
                "post", guest.path + "/template", label="convert %d to a template" % guest.vmid))
        return True


def find_source(client: ProxmoxClient, ref: Any, *, kind: str) -> Optional[Guest]:
    """The guest named by option ``clone`` (a vmid or a name), or None (no ``clone``, or no such guest)."""
    if ref is None:
        return None
    source_vmid = int(ref) if str(ref).isdigit() else None
    return client.find_guest(vmid=source_vmid, name=None if source_vmid else ref, kind=kind, option="clone")


def clone_source(client: ProxmoxClient, ref: Any, full: Optional[bool], *, kind: str, noun: str) -> tuple[Guest, bool]:
    """The guest named by option ``clone`` (vmid or name) and whether the clone is full.

    A full clone is the default unless the source is a template; a linked clone needs a template.
    """
    source = find_source(client, ref, kind=kind)
    if source is None:
        raise ValidationError("no %s %r to clone" % (noun, ref), option="clone")
    full = full if full is not None else not source.template
    if not full and not source.template:
        raise ValidationError("a linked clone needs a template as its source; %d is not one (use full=true)"
                              % source.vmid, option="full")
    return source, full


# ---------------------------------------------------------------------- whose guest is it

SOURCE_TAG_PREFIX = "virtlab-clone-of-"
_TAG_RE = re.compile(r"[a-z0-9_][a-z0-9_\-+.]*")
_DISK_KEY_RE = re.compile(r"rootfs|mp\d+|unused\d+|(ide|sata|scsi|virtio)\d+|efidisk0|tpmstate0")
_BASE_RE = re.compile(r"\bbase-(\d+)-disk-\d+")


def split_tags(value: Any) -> list[str]:
    """The tags of a PVE ``tags`` value (separated by ``;``, ``,`` or spaces), lower case."""
    return [t for t in re.split(r"[;, ]+", str(value or "").lower()) if t]


def tags_value(tags: list[str], *, option: str = "tags") -> str:
    """The ``tags`` config value of the user's tags, checked; the record tags are the module's own."""
    wanted = sorted(set(t.lower() for t in tags))
    for tag in wanted:
        if not _TAG_RE.fullmatch(tag):
            raise ValidationError("%r is not a valid tag" % tag, option=option)
        if tag.startswith(SOURCE_TAG_PREFIX):
            raise ValidationError("%r: tags starting with %s are written by the module itself (the source of a "
                                  "clone)" % (tag, SOURCE_TAG_PREFIX), option=option)
    return ";".join(wanted)


def recorded_source(config: Mapping[str, Any]) -> Optional[int]:
    """The vmid of the source a clone recorded in its tags, or None."""
    for tag in split_tags(config.get("tags")):
        if tag.startswith(SOURCE_TAG_PREFIX) and tag[len(SOURCE_TAG_PREFIX):].isdigit():
            return int(tag[len(SOURCE_TAG_PREFIX):])
    return None


def linked_bases(config: Mapping[str, Any]) -> set[int]:
    """The vmids of the templates whose base disks the guest's disks are linked clones of."""
    return {int(m) for key, value in config.items() if _DISK_KEY_RE.fullmatch(key)
            for m in _BASE_RE.findall(str(value).split(",", 1)[0])}


def tags_with_source(current: Any, wanted: Optional[str], source: Optional[int]) -> Optional[str]:
    """The ``tags`` to set: the user's ``wanted`` tags (else the current ones) plus the source record.

    ``source`` is the vmid a new clone was made from (its record replaces one inherited from the
    template); without it the guest keeps the record it has. None: nothing to set.
    """
    if wanted is None and source is None:
        return None
    have = split_tags(current)
    records = [t for t in have if t.startswith(SOURCE_TAG_PREFIX)]
    if source is not None:
        records = [SOURCE_TAG_PREFIX + str(source)]
    base = split_tags(wanted) if wanted is not None else [t for t in have if not t.startswith(SOURCE_TAG_PREFIX)]
    return ";".join(sorted(set(base) | set(records)))


def describe_guest(guest: Guest) -> str:
    """What a guest is, for messages: ``container 'db01' (vmid 150, running)``."""
    noun = "template" if guest.template else ("container" if guest.kind == "lxc" else "VM")
    return "%s %r (vmid %d, %s)" % (noun, guest.name, guest.vmid, "template" if guest.template else guest.status)


def _refuse(guest: Guest, option: str, why: str) -> ConflictError:
    return ConflictError("%s: %s %s; nothing was changed" % (option, describe_guest(guest), why),
                         details={"option": option, "vmid": guest.vmid, "holds": guest.name})


def check_name(guest: Guest, *, name: Optional[str], rename: bool) -> None:
    """Refuse a guest found by vmid whose name is not the task's (unless the task asks to rename it)."""
    if not name or guest.name == name or rename:
        return
    raise _refuse(guest, "vmid", "holds another guest, not %r (choose another vmid; to rename this guest to %r, "
                                 "set rename=true)" % (name, name))


def check_own_guest(guest: Guest, config: Mapping[str, Any], *, source: Optional[Guest], creates: bool,
                    from_template: bool, state: str, name: Optional[str], name_option: str) -> None:
    """Refuse an existing guest that the creating task would not have made (see the module docstring).

    ``source``: the guest named by ``clone`` (None when the task has no clone source or it is gone);
    ``creates``: the task describes a guest to create; ``from_template``: it creates from ``ostemplate``;
    ``name``: the task's name for the guest (without one, only a recorded source recognises it).
    """
    option = "clone" if source is not None else name_option
    if source is not None and guest.vmid == source.vmid:
        raise _refuse(guest, "vmid" if guest.name != source.name else option,
                      "is the clone source itself; a clone needs an id of its own")
    if not creates:
        return
    if guest.template and state != "template":
        raise _refuse(guest, option, "is a template, and this task creates a guest (state=%s)" % state)
    record = recorded_source(config)
    bases = linked_bases(config) - {guest.vmid}  # a template's own disks are base-<its vmid>
    if source is not None:
        if record is not None and record != source.vmid:
            raise _refuse(guest, "clone", "was cloned from guest %d, not from %r (vmid %d)"
                          % (record, source.name, source.vmid))
        foreign_bases = bases - {source.vmid}
        if foreign_bases and record != source.vmid:
            raise _refuse(guest, "clone", "is a linked clone of template %s, not of %r (vmid %d)" % (
                ", ".join(str(b) for b in sorted(foreign_bases)), source.name, source.vmid))
    elif from_template and (record is not None or bases):
        raise _refuse(guest, "ostemplate", "is a clone of guest %d, not a container made from an appliance "
                      "template" % (record if record is not None else min(bases)))
    if not name and not (source is not None and (record == source.vmid or source.vmid in bases)):
        raise _refuse(guest, name_option, "carries no record of being made by this task, which gives no %s to "
                                          "recognise it by (give %s)" % (name_option, name_option))
