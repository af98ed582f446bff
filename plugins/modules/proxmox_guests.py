#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_guests
short_description: Create, clone, start, stop or remove many Proxmox VE guests in one task
version_added: 0.1.0
description:
  - Brings a list of VMs and containers to their states concurrently, for example a hundred linked clones of
    one template for a training class.
  - Each guest is handled exactly as M(virtlab.infra.proxmox_vm) or M(virtlab.infra.proxmox_lxc) would
    (idempotent, check and diff mode, clean-up of a failed create), with at most O(parallel) guests in
    flight at a time; their tasks run on the cluster together.
  - New ids come from one allocator, so the guests of a batch never compete for an id; another client
    taking an id meanwhile only makes that guest take the next one.
  - All guests are validated before anything is touched. The task fails when any guest failed, listing
    them; the others are done.
  - A guest that is not the one an entry describes (an O(guests[].vmid) holding another name, a template or
    the clone source, a guest recorded as the clone of another source) is refused exactly as
    M(virtlab.infra.proxmox_vm) and M(virtlab.infra.proxmox_lxc) refuse it, and left as it was; that entry
    fails, the others are done.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
options:
  guests:
    description: The guests.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: V(qemu) for a VM, V(lxc) for a container.
        type: str
        choices: [qemu, lxc]
        default: qemu
      name:
        description: Name (the host name of a container); how an existing guest is found without O(guests[].vmid).
        type: str
      vmid:
        description: Id; allocated when a new guest has none.
        type: int
      state:
        description: As the state of M(virtlab.infra.proxmox_vm) (without V(restarted)).
        type: str
        choices: [present, started, stopped, absent, template]
        default: present
      node:
        description: Node of the guest (placed by free memory when not given).
        type: str
      clone:
        description: Id or name of the template to clone.
        type: str
      full:
        description: Full clone instead of linked.
        type: bool
      storage:
        description: Target storage of a full clone; root disk storage of a new container.
        type: str
      ostemplate:
        description: Appliance template of a new container (type lxc).
        type: str
      rootfs_size:
        description: Root disk size of a container (type lxc).
        type: str
      cores:
        description: CPU cores.
        type: int
      memory:
        description: Memory in MiB.
        type: int
      swap:
        description: Swap in MiB (type lxc).
        type: int
      tags:
        description: Tags.
        type: list
        elements: str
      description:
        description: Notes.
        type: str
      pool:
        description: Resource pool of a new guest.
        type: str
  parallel:
    description: At most this many guests are worked on at once.
    type: int
    default: 16
  shutdown_timeout:
    description: Seconds a clean shutdown may take before the guest is stopped hard.
    type: int
    default: 120
seealso:
  - module: virtlab.infra.proxmox_vm
  - module: virtlab.infra.proxmox_lxc
"""

EXAMPLES = r"""
- name: Linked clones for the class, started
  virtlab.infra.proxmox_guests:
    parallel: 16
    guests:
      - name: student-1
        clone: debian-12-cloud
        state: started
      - name: student-2
        clone: debian-12-cloud
        state: started
      - name: teacher
        type: lxc
        ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
        storage: local-lvm
        state: started

- name: Remove them again
  virtlab.infra.proxmox_guests:
    guests:
      - name: student-1
        state: absent
      - name: student-2
        state: absent
"""

RETURN = r"""
guests:
  description: One result per guest, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: C(type/name) of the guest.
      type: str
    vmid:
      description: Id.
      type: int
    changed:
      description: Whether this guest changed.
      type: bool
    status:
      description: Power state after the run, or V(absent).
      type: str
    failed:
      description: True when this guest failed (with RV(guests[].msg)).
      type: bool
    msg:
      description: Why it failed.
      type: str
summary:
  description: Counts of guests, changed guests and failed guests.
  returned: always
  type: dict
  sample: {"total": 30, "changed": 30, "failed": 0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.batch import GuestBatchService
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module

GUEST_OPTIONS = {
    "type": {"type": "str", "choices": ["qemu", "lxc"], "default": "qemu"},
    "name": {"type": "str"},
    "vmid": {"type": "int"},
    "state": {"type": "str", "choices": ["present", "started", "stopped", "absent", "template"], "default": "present"},
    "node": {"type": "str"},
    "clone": {"type": "str"},
    "full": {"type": "bool"},
    "storage": {"type": "str"},
    "ostemplate": {"type": "str"},
    "rootfs_size": {"type": "str"},
    "cores": {"type": "int"},
    "memory": {"type": "int"},
    "swap": {"type": "int"},
    "tags": {"type": "list", "elements": "str"},
    "description": {"type": "str"},
    "pool": {"type": "str"},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "guests": {"type": "list", "elements": "dict", "required": True, "options": GUEST_OPTIONS},
            "parallel": {"type": "int", "default": 16},
            "shutdown_timeout": {"type": "int", "default": 120},
        }),
        supports_check_mode=True,
    )
    specs = [dict(spec, shutdown_timeout=module.params["shutdown_timeout"]) for spec in module.params["guests"]]
    run_service(module, lambda: GuestBatchService(client_from_module(module, needs_netaddr=True),
                                                  check_mode=module.check_mode,
                                                  parallel=module.params["parallel"]).ensure(specs))


if __name__ == "__main__":
    main()
