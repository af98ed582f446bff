#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_snapshot
short_description: Create, roll back and delete snapshots of Proxmox VE VMs and containers
version_added: 0.1.0
description:
  - Manages one snapshot, by name, of a VM or container found by O(vmid) or O(name).
  - V(present) creates it when missing (with the RAM state of a running VM when O(vmstate)) and updates its
    description; V(absent) deletes it; V(rollback) returns the guest to it.
  - Creating and deleting are idempotent by name; a rollback always reports a change, like a restart.
  - Waits with backoff while the guest is locked by another operation.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
options:
  vmid:
    description: Id of the guest.
    type: int
  name:
    description: Name of the guest (host name of a container), when O(vmid) is not given.
    type: str
  snapname:
    description: Name of the snapshot.
    type: str
    required: true
  state:
    description: What to do with the snapshot.
    type: str
    choices: [present, absent, rollback]
    default: present
  description:
    description: Description of the snapshot.
    type: str
  vmstate:
    description: Save the RAM of a running VM with the snapshot.
    type: bool
    default: false
  start:
    description: Start the guest after a rollback.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Snapshot before the upgrade, with RAM
  virtlab.infra.proxmox_snapshot:
    name: db01
    snapname: before_upgrade
    description: PostgreSQL 15 before 16
    vmstate: true

- name: Reset a tester's clone
  virtlab.infra.proxmox_snapshot:
    vmid: 4012
    snapname: clean
    state: rollback
    start: true

- name: Drop it
  virtlab.infra.proxmox_snapshot:
    name: db01
    snapname: before_upgrade
    state: absent
"""

RETURN = r"""
vmid:
  description: Id of the guest.
  returned: always
  type: int
node:
  description: Node of the guest.
  returned: always
  type: str
kind:
  description: V(qemu) or V(lxc).
  returned: always
  type: str
snapname:
  description: The snapshot.
  returned: always
  type: str
snapshots:
  description: Names of the guest's snapshots after the run (not returned in check mode when something would change).
  returned: when known
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.snapshot import SnapshotRequest, SnapshotService


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "vmid": {"type": "int"},
            "name": {"type": "str"},
            "snapname": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "rollback"]},
            "description": {"type": "str"},
            "vmstate": {"type": "bool", "default": False},
            "start": {"type": "bool", "default": False},
        }),
        required_one_of=[("vmid", "name")],
        supports_check_mode=True,
    )
    run_service(module, lambda: SnapshotService(client_from_module(module), check_mode=module.check_mode).ensure(
        SnapshotRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
