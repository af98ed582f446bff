# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_pool``: declarative storage pools (dir, netfs, logical)."""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import dict_changes, make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ConflictError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import parse_pool_xml, pool_xml

_DEFINITION = ("type", "path", "source_host", "source_dir", "source_devices", "source_name", "source_format")
_REQUIRED = {"dir": ("path",), "netfs": ("path", "source_host", "source_dir"), "logical": ("source_name",)}


class PoolService:
    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.name = params["name"]

    # ---------------------------------------------------------------- state

    def _current(self, pool: Any) -> dict[str, Any]:
        with translate_errors(f"storage pool {self.name}"):
            facts = parse_pool_xml(pool.XMLDesc(0))
            facts["active"] = bool(pool.isActive())
            facts["autostart"] = bool(pool.autostart())
            facts["state"] = "present"
        return facts

    def _desired_definition(self) -> dict[str, Any]:
        spec = {"name": self.name, "type": self.params["type"]}
        for key in _DEFINITION[1:]:
            spec[key] = self.params.get(key)
        for key in _REQUIRED[spec["type"]]:
            if not spec.get(key):
                raise ValidationError(f"required for a {spec['type']} pool", option=key)
        return spec

    def _facts(self, pool: Any) -> dict[str, Any]:
        facts = self._current(pool)
        with translate_errors(f"storage pool {self.name}"):
            _state, capacity, allocation, available = pool.info()
        facts.update(capacity=capacity, allocation=allocation, available=available)
        return facts

    # ---------------------------------------------------------------- entry point

    def ensure(self) -> dict[str, Any]:
        pool = self.connection.pool(self.name)
        before = self._current(pool) if pool is not None else {"name": self.name, "state": "absent"}
        if self.params["state"] == "absent":
            return self._absent(pool, before)
        desired = self._desired_definition()
        changed = False
        after = dict(before)
        if pool is None:
            changed = True
            after = dict(desired, state="present", active=False, autostart=False)
            if not self.check_mode:
                with translate_errors(f"defining storage pool {self.name}", option="type"):
                    pool = self.connection.conn.storagePoolDefineXML(pool_xml(desired), 0)
                if self.params["build"]:
                    try:
                        with translate_errors(f"building storage pool {self.name}", option="build"):
                            pool.build(0)
                    except Exception:
                        with translate_errors(f"undefining half-made storage pool {self.name}"):
                            pool.undefine()
                        raise
        else:
            mismatch = dict_changes(before, {k: v for k, v in desired.items() if k != "source_devices"})
            if desired["source_devices"] is not None and before.get("source_devices") != desired["source_devices"]:
                mismatch["source_devices"] = desired["source_devices"]
            if mismatch:
                option = sorted(mismatch)[0]
                if before["active"] and self.params["active"] is False:
                    # asked to stop it anyway: stop first, then redefine
                    if not self.check_mode:
                        with translate_errors(f"stopping storage pool {self.name}", option="active"):
                            pool.destroy()
                    before = dict(before, active=True)
                    after["active"] = False
                    changed = True
                elif before["active"]:
                    raise ConflictError(
                        f"{option}: storage pool {self.name} is active with a different definition "
                        f"({', '.join(f'{k}={before.get(k)!r}' for k in sorted(mismatch))}); stop it first (active=false)"
                    )
                changed = True
                after.update(mismatch)
                if not self.check_mode:
                    with translate_errors(f"redefining storage pool {self.name}", option=option):
                        pool = self.connection.conn.storagePoolDefineXML(
                            pool_xml(desired, uuid=pool.UUIDString()), 0)
        changed |= self._ensure_runtime(pool, after)
        result: dict[str, Any] = {"changed": changed, "diff": make_diff(before, after, identity_keys=("name",))}
        result["pool"] = self._facts(pool) if pool is not None and not (self.check_mode and changed) else after
        return result

    def _ensure_runtime(self, pool: Optional[Any], after: dict[str, Any]) -> bool:
        changed = False
        active = self.params["active"]
        if active is not None and after.get("active") != active:
            changed = True
            after["active"] = active
            if not self.check_mode:
                with translate_errors(f"{'starting' if active else 'stopping'} storage pool {self.name}",
                                      option="active"):
                    if active:
                        pool.create(0)
                    else:
                        pool.destroy()
        autostart = self.params["autostart"]
        if autostart is not None and after.get("autostart") != autostart:
            changed = True
            after["autostart"] = autostart
            if not self.check_mode:
                with translate_errors(f"storage pool {self.name}", option="autostart"):
                    pool.setAutostart(1 if autostart else 0)
        return changed

    def _absent(self, pool: Optional[Any], before: dict[str, Any]) -> dict[str, Any]:
        after = {"name": self.name, "state": "absent"}
        if pool is None:
            return {"changed": False, "pool": after, "diff": make_diff(before, after, identity_keys=("name",))}
        if not self.check_mode:
            with translate_errors(f"removing storage pool {self.name}"):
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
        return {"changed": True, "pool": after, "diff": make_diff(before, after, identity_keys=("name",))}
