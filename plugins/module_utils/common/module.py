# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place where a module's service result becomes ``exit_json`` or ``fail_json``.

Services return a result dict (``changed``, the resource, ``diff``...) and raise typed
errors; modules end with ``run_service(module, lambda: Service(...).ensure())``.

Before the service runs, ``check_common_input`` refuses what no option of the collection accepts,
naming the option: a negative number in an ``int`` option (counts, sizes, ids, timeouts, ports), and
an empty string in a required ``str``/``path`` option or in one that names a thing (``NAMING_OPTIONS``:
an empty node, storage or pool is a mistake, never a way to say "none"; leave the option out), at any
depth of sub-options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError, VirtlabError


# options whose value names a guest, volume, pool, node, storage, bridge... (never empty when given)
NAMING_OPTIONS = frozenset((
    "name", "hostname", "snapname", "node", "storage", "pool", "clone", "source", "source_pool", "container",
    "domain", "ostemplate", "bridge", "filename", "cloudinit_storage", "slot", "size", "volume", "golden", "path"))


def check_common_input(spec: dict[str, Any], params: Any, prefix: str = "") -> None:
    """ValidationError naming the option for a negative int or an empty required string (sub-options too)."""
    if not isinstance(params, dict):
        return
    for name, entry in spec.items():
        value = params.get(name)
        if value is None:
            continue
        kind = entry.get("type", "str")
        option = prefix + name
        if kind == "int" and isinstance(value, int) and value < 0:
            raise ValidationError("must not be negative (got %d)" % value, option=option)
        if kind in ("str", "path") and value == "" and (entry.get("required") or name in NAMING_OPTIONS):
            raise ValidationError("must not be empty", option=option)
        if entry.get("options"):
            if kind == "list" and isinstance(value, list):
                for index, item in enumerate(value):
                    check_common_input(entry["options"], item, "%s[%d]." % (option, index))
            elif kind == "dict":
                check_common_input(entry["options"], value, option + ".")


def run_service(module: Any, action: Callable[[], dict[str, Any]]) -> None:
    """Check the common input rules, run ``action`` and exit with its result, or fail with its typed error."""
    try:
        check_common_input(module.argument_spec, module.params)
        result = action()
    except VirtlabError as error:
        module.fail_json(**error.to_fail_kwargs())
    else:
        if not module._diff:
            result.pop("diff", None)
        module.exit_json(**result)
