#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_guest_info
short_description: List Proxmox VE VMs and containers with their status and configuration
version_added: 0.1.0
description:
  - Reads the guests of the cluster from one C(/cluster/resources) call, filters them, and fetches their
    configurations concurrently (at most O(workers) requests at once).
  - A guest whose configuration cannot be read (its node is offline, say) is still listed, with
    RV(guests[].config_error).
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
options:
  vmid:
    description: Only this guest.
    type: int
  name:
    description: Only guests with this name.
    type: str
  node:
    description: Only guests on this node.
    type: str
  type:
    description: Only VMs (V(qemu)) or containers (V(lxc)).
    type: str
    choices: [qemu, lxc]
  status:
    description: Only guests in this power state.
    type: str
    choices: [running, stopped, paused, suspended, unknown]
  tags:
    description: Only guests carrying all these tags.
    type: list
    elements: str
  pool:
    description: Only guests of this resource pool.
    type: str
  template:
    description: Only templates (V(true)) or only guests that are not (V(false)).
    type: bool
  config:
    description: Fetch the configuration of each guest.
    type: bool
    default: true
  workers:
    description: At most this many configuration requests at once.
    type: int
    default: 8
"""

EXAMPLES = r"""
- name: Running containers tagged lab
  virtlab.infra.proxmox_guest_info:
    type: lxc
    status: running
    tags: [lab]
  register: lab

- name: Templates, without their configuration
  virtlab.infra.proxmox_guest_info:
    template: true
    config: false
"""

RETURN = r"""
guests:
  description: The guests, by vmid.
  returned: always
  type: list
  elements: dict
  contains:
    vmid:
      description: Id.
      type: int
    name:
      description: Name (host name of a container).
      type: str
    node:
      description: Node.
      type: str
    type:
      description: V(qemu) or V(lxc).
      type: str
    status:
      description: Power state.
      type: str
    template:
      description: Whether it is a template.
      type: bool
    tags:
      description: Tags.
      type: list
      elements: str
    pool:
      description: Resource pool.
      type: str
    lock:
      description: Current lock (backup, snapshot...).
      type: str
    config:
      description: Configuration, when O(config=true).
      type: dict
    config_error:
      description: Why the configuration could not be read.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.guest_info import (
    GuestInfoRequest,
    GuestInfoService,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "vmid": {"type": "int"},
            "name": {"type": "str"},
            "node": {"type": "str"},
            "type": {"type": "str", "choices": ["qemu", "lxc"]},
            "status": {"type": "str", "choices": ["running", "stopped", "paused", "suspended", "unknown"]},
            "tags": {"type": "list", "elements": "str"},
            "pool": {"type": "str"},
            "template": {"type": "bool"},
            "config": {"type": "bool", "default": True},
            "workers": {"type": "int", "default": 8},
        }),
        supports_check_mode=True,
    )
    run_service(module, lambda: GuestInfoService(client_from_module(module)).ensure(
        GuestInfoRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
