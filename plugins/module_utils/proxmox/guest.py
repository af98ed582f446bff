# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What LXC and QEMU guests share: power state transitions, config comparison, removal, clean-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError
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


def clone_source(client: ProxmoxClient, ref: Any, full: Optional[bool], *, kind: str, noun: str) -> tuple[Guest, bool]:
    """The guest named by option ``clone`` (vmid or name) and whether the clone is full.

    A full clone is the default unless the source is a template; a linked clone needs a template.
    """
    source_vmid = int(ref) if str(ref).isdigit() else None
    source = client.find_guest(vmid=source_vmid, name=None if source_vmid else ref, kind=kind, option="clone")
    if source is None:
        raise ValidationError("no %s %r to clone" % (noun, ref), option="clone")
    full = full if full is not None else not source.template
    if not full and not source.template:
        raise ValidationError("a linked clone needs a template as its source; %d is not one (use full=true)"
                              % source.vmid, option="full")
    return source, full
