#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_snapshot
short_description: Create, revert to and delete libvirt domain snapshots
version_added: 0.1.0
description:
  - By default an internal qcow2 snapshot - of a running domain it includes the memory (reverting resumes the guest
    where it was), of a shut off domain the disks. All the domain's writable disks must be qcow2.
  - O(disk_only=true) makes an external disk-only snapshot - new qcow2 overlays become the domain's disks. libvirt
    older than 9.9 cannot revert external snapshots (the task fails saying so); deleting one drops its metadata and
    keeps the overlay chain the domain runs on.
  - O(state=reverted) always reverts (an action, reported as changed every time) - a dev/test reset.
author:
  - virtlab.infra contributors (@virtlab)
options:
  domain:
    description: Name of the domain.
    type: str
    required: true
  name:
    description: Name of the snapshot.
    type: str
    required: true
  state:
    description: V(present) creates the snapshot when missing, V(reverted) reverts the domain to it, V(absent) deletes it.
    type: str
    choices: [present, reverted, absent]
    default: present
  description:
    description: Description of a new snapshot (an existing snapshot keeps its own).
    type: str
  disk_only:
    description: Make an external disk-only snapshot instead of an internal one.
    type: bool
    default: false
extends_documentation_fragment:
  - virtlab.infra.libvirt
attributes:
  check_mode:
    support: full
    description: Predicts the outcome without changing anything.
  diff_mode:
    support: full
    description: Returns the snapshot before and after.
  idempotent:
    support: partial
    description: V(present) and V(absent) are idempotent; V(reverted) reverts at every run.
  action_group:
    support: full
    membership: [virtlab.infra.libvirt]
    description: Use C(group/virtlab.infra.libvirt) in C(module_defaults) to set O(uri) once.
"""

EXAMPLES = r"""
- name: Snapshot the test machine before the destructive test
  virtlab.infra.libvirt_snapshot:
    domain: test-alice
    name: before-migration
    description: schema 41, data of 2026-11-21

- name: Reset it afterwards
  virtlab.infra.libvirt_snapshot:
    domain: test-alice
    name: before-migration
    state: reverted

- name: Drop the snapshot
  virtlab.infra.libvirt_snapshot:
    domain: test-alice
    name: before-migration
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot after the task (empty when absent).
  returned: always
  type: dict
  contains:
    name:
      description: Snapshot name.
      type: str
    description:
      description: Its description.
      type: str
    domain_state:
      description: State of the domain when the snapshot was taken (V(running), V(shutoff)...).
      type: str
    creation_time:
      description: Creation time, seconds since the epoch.
      type: int
    parent:
      description: Parent snapshot, if any.
      type: str
    memory:
      description: Whether it holds the memory state.
      type: bool
    disk_only:
      description: Whether it is an external disk-only snapshot.
      type: bool
    current:
      description: Whether it is the domain's current snapshot.
      type: bool
  sample:
    name: before-migration
    description: schema 41
    domain_state: running
    creation_time: 1795307929
    parent: null
    memory: true
    disk_only: false
    current: true
snapshots:
  description: Names of all snapshots of the domain after the task.
  returned: always
  type: list
  elements: str
  sample: [before-migration]
domain_state:
  description: State of the domain after a revert.
  returned: when O(state=reverted)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.snapshot import SnapshotService

ARGUMENT_SPEC = {
    "domain": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "reverted", "absent"], "default": "present"},
    "description": {"type": "str"},
    "disk_only": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(argument_spec=libvirt_argument_spec(ARGUMENT_SPEC), supports_check_mode=True)
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: SnapshotService(connection, module.params, module.check_mode).ensure())


if __name__ == "__main__":
    main()
