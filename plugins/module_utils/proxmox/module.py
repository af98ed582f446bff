# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge between an AnsibleModule and the Proxmox client (the client itself knows no module)."""

from __future__ import annotations

from typing import Any

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import HAS_PROXMOXER, ProxmoxClient
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import HAS_NETADDR


def client_from_module(module: Any, *, needs_netaddr: bool = False) -> ProxmoxClient:
    """The API client for an AnsibleModule (it connects on first use), or ``fail_json`` when a library is missing
    or the connection options are unusable."""
    if not HAS_PROXMOXER:
        module.fail_json(msg=missing_required_lib("proxmoxer"))
    if needs_netaddr and not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"))
    try:
        return ProxmoxClient.from_params(module.params)
    except VirtlabError as error:
        module.fail_json(**error.to_fail_kwargs())
        raise  # not reached: fail_json exits
