#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_devtest_clones
short_description: Linked clones of a golden Proxmox VE guest, one per developer or tester
version_added: 0.1.0
description:
  - Gives every user of a clone set a private linked clone of a golden VM or container (O(golden)).
  - A new O(golden_version) freezes the golden into a B(version) - a full clone of the golden converted to a
    template, named C(<golden>-<set_name>-v-<golden_version>), with C(protection) set - so the golden can keep
    changing (or stay a template) while clones depend on the version, and nobody removes the version by mistake.
    A running golden container is cloned from a temporary snapshot.
  - A B(clone) is a linked clone of its version's template (new vmid), named after the clone, with the tags
    C(virtlab-devtest), C(devtest-set-<set>), C(devtest-owner-<user>), C(devtest-version-<label>) and
    C(devtest-clone), and one metadata line in its description (C(virtlab-devtest:) and a JSON object) (set, user, version,
    created, expiry, address). The module finds the clones of a set again from that line and never touches a guest
    without it.
  - Refuses, naming O(clones) and the vmid, a guest with a clone's name whose metadata line does
    not say it is that clone of this set; the guest is left exactly as it was and nothing is created.
  - The clone's address (from O(address_pool) or O(clones[].address)) is written to C(net0) (C(ip=), container)
    or to C(ipconfig0) (cloud-init, VM), with O(gateway).
  - O(action=split) replaces a linked clone by a full clone of it under a B(new vmid) (same name and metadata);
    the linked clone is removed.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.devtest
  - virtlab.infra.proxmox
options:
  golden:
    description:
      - vmid or name of the golden VM or container (a template or not). It is only read - cloned in full when a
        new version is frozen.
    type: str
    required: true
  kind:
    description: Look the golden up among containers (V(lxc)) or VMs (V(qemu)) only, when names are ambiguous.
    type: str
    choices: [lxc, qemu]
  pool:
    description: Resource pool the clones join.
    type: str
  storage:
    description:
      - Storage of the version templates (full clones) and of split clones; defaults to the golden's storage.
      - Linked clones always live on the storage of their version.
    type: str
  bridge:
    description: Bridge of the network device made for an address when the version has no C(net0).
    type: str
    default: vmbr0
  gateway:
    description: Gateway written with each clone's address; it must lie inside O(address_pool).
    type: str
  start:
    description: Start the clones once created.
    type: bool
    default: true
  shutdown_timeout:
    description: Seconds a running clone gets to shut down before O(action=split) stops it hard.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description: Plans every step (versions to freeze, clones to create, replace or remove) and changes nothing.
  diff_mode:
    support: full
    description: Returns the set's clones before and after.
  idempotent:
    support: partial
    description:
      - A second run with the same arguments reports RV(ignore:changed=false), except O(action=reset),
        which destroys and re-clones its targets every time.
  action_group:
    support: full
    membership: [virtlab.infra.proxmox]
    description: Use C(group/virtlab.infra.proxmox) in C(module_defaults) to set the connection options once.
notes:
  - Each version is a full copy of the golden (once per version); the clones of a version share it.
  - A version template is removed only when no linked clone uses it and it is not the current version; the module
    then lifts its C(protection) first. Proxmox VE itself also refuses to remove a base volume that linked clones use.
  - Real disk figures come from the C(used) value the storages report per volume. Storages that report none (and
    fakepve) leave RV(clones[].added_bytes) and the versions' C(allocated) null, and the savings in RV(report) are
    then unknown (null), never guessed.
  - A VM golden needs a cloud-init drive for its clones to get an address.
seealso:
  - module: virtlab.infra.docker_devtest_clones
  - module: virtlab.infra.proxmox_vm
  - module: virtlab.infra.proxmox_lxc
"""

EXAMPLES = r"""
- name: A linked clone of the golden database container per tester
  virtlab.infra.proxmox_devtest_clones:
    api_host: pve1.example.com
    api_token_id: ansible@pve!devtest
    api_token_secret: "{{ vault_pve_token }}"
    golden: golden-db
    set_name: qa
    golden_version: "2026-11"
    address_pool: 10.30.0.0/24
    gateway: 10.30.0.254
    default_lifetime: 14d
    clones:
      - user: alice
      - user: bob
        expires: "2026-12-31"
  register: devtest

- name: Print the savings table
  ansible.builtin.debug:
    msg: "{{ devtest.report_table }}"

- name: Remove the clones past their expiry
  virtlab.infra.proxmox_devtest_clones:
    api_host: pve1.example.com
    api_token_id: ansible@pve!devtest
    api_token_secret: "{{ vault_pve_token }}"
    golden: golden-db
    set_name: qa
    golden_version: "2026-11"
    action: expire
"""

RETURN = r"""
set_name:
  description: The clone set.
  returned: always
  type: str
golden_version:
  description: The current golden version label.
  returned: always
  type: str
action:
  description: The action carried out.
  returned: always
  type: str
clones:
  description: One entry per clone acted on, with its metadata, sizes and what was done.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Clone name.
      type: str
    user:
      description: Owner.
      type: str
    version:
      description: Label of the version the clone was made from.
      type: str
    address:
      description: Address assigned to the clone.
      type: str
    created:
      description: Creation time (UTC, ISO 8601).
      type: str
    expires:
      description: Expiry (UTC, ISO 8601) or none.
      type: str
    split:
      description: Whether the clone is independent of its version.
      type: bool
    logical_size:
      description: Size the clone shows to its user, in bytes.
      type: int
    added_bytes:
      description:
        - Real disk the clone adds beyond its version, in bytes, as the storage reports it for the clone's volumes.
        - Null when the storage reports no used bytes (then the savings are unknown).
      type: int
    action:
      description: V(created), V(kept), V(updated), V(refreshed), V(reset), V(split), V(removed) or V(expired).
      type: str
    seconds:
      description: Wall time of the action on this clone.
      type: float
    vmid:
      description: vmid of the clone (null in check mode). A split clone has a new vmid.
      type: int
    previous_vmid:
      description: After O(action=split), the vmid of the linked clone that the full clone replaced.
      type: int
    node:
      description: Node of the clone.
      type: str
    kind:
      description: V(lxc) or V(qemu).
      type: str
    status:
      description: Status of the guest (V(running), V(stopped)).
      type: str
    version_vmid:
      description: vmid of the version template the clone is linked to (null once split).
      type: int
versions:
  description: The set's frozen versions after the run (version, created, vmid, name, node, kind, logical_size, allocated).
  returned: always
  type: list
  elements: dict
golden:
  description: The golden guest (name, vmid, kind, node, template, logical_size, allocated).
  returned: always
  type: dict
report:
  description:
    - Savings of the set after the run. O(clones) cost C(shared_bytes) (each version in use, once) plus
      C(added_bytes); as full copies they would cost C(full_copy_bytes) (each clone a copy of its version's data).
  returned: always
  type: dict
  contains:
    clones:
      description: Per clone name, user, version, split, logical_size, added_bytes, seconds.
      type: list
      elements: dict
    savings_known:
      description:
        - Whether every figure below was measured. False when the platform reports no real disk usage for some
          volume; the byte totals, savings and percentages are then null, never guessed.
      type: bool
    clone_count:
      description: Number of clones in the set.
      type: int
    logical_bytes:
      description: Sum of the clones' logical sizes.
      type: int
    shared_bytes:
      description: Real disk of the versions in use.
      type: int
    added_bytes:
      description: Real disk added by the clones.
      type: int
    clone_bytes:
      description: C(shared_bytes) + C(added_bytes).
      type: int
    full_copy_bytes:
      description: Disk the same clones would take as full copies.
      type: int
    saved_bytes:
      description: C(full_copy_bytes) - C(clone_bytes).
      type: int
    saved_percent:
      description: Saved share of C(full_copy_bytes).
      type: float
    clone_percent:
      description: C(clone_bytes) as a share of C(full_copy_bytes).
      type: float
    seconds:
      description: Wall time spent on clone actions.
      type: float
report_table:
  description: RV(report) as a text table (clones, full copies against clones, savings).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import devtest_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.devtest import run_proxmox_devtest
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec(devtest_argument_spec({
            "golden": {"type": "str", "required": True},
            "kind": {"type": "str", "choices": ["lxc", "qemu"]},
            "pool": {"type": "str"},
            "storage": {"type": "str"},
            "bridge": {"type": "str", "default": "vmbr0"},
            "gateway": {"type": "str"},
            "start": {"type": "bool", "default": True},
            "shutdown_timeout": {"type": "int", "default": 60},
        })),
        supports_check_mode=True,
    )
    run_service(module, lambda: run_proxmox_devtest(client_from_module(module), module.params,
                                                    check_mode=module.check_mode))


if __name__ == "__main__":
    main()
