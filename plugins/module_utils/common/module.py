# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place where a module's service result becomes ``exit_json`` or ``fail_json``.

Services return a result dict (``changed``, the resource, ``diff``...) and raise typed
errors; modules end with ``run_service(module, lambda: Service(...).ensure())``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError


def run_service(module: Any, action: Callable[[], dict[str, Any]]) -> None:
    """Run ``action`` and exit the module with its result, or fail with its typed error."""
    try:
        result = action()
    except VirtlabError as error:
        module.fail_json(**error.to_fail_kwargs())
    else:
        if not module._diff:
            result.pop("diff", None)
        module.exit_json(**result)
