#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_devtest_clones
short_description: Dev/test clone sets of a golden libvirt volume (FlexClone style)
version_added: 0.1.0
description:
  - Gives every user of a clone set a private, writable copy-on-write clone of a golden volume - a qcow2
    overlay that costs only metadata when made, is ready in well under a second whatever the golden's size, and
    grows only by what is written to it.
  - O(golden_version) freezes the golden's current content as a I(version) - a sparse full qcow2 copy named
    C(<golden>-<set_name>--<label>.qcow2), read-only - so the golden volume may keep changing. Clones are
    overlays on a version and keep it until O(action=refresh).
  - The metadata (user, set, version, created, expiry, address) is kept in a JSON ledger on the libvirt host,
    beside the pool - C(<parent of the pool directory>/.virtlab-devtest/<pool>/<set_name>.json), or under
    O(ledger_dir). It is locked with C(flock) for the whole run and written atomically after every change.
    Only volumes listed in it are changed or removed; a volume of another owner with a clone's name is refused.
  - A version or clone that other volumes use as backing file is never deleted (the run fails, naming them).
  - Refuses, naming O(clones[].name) and saying what it holds, an existing volume or domain with a clone's name that
    is not the set's - not in the ledger, or in it but no longer an overlay of the ledger's version (a split clone -
    no longer the same file); refuses, naming O(golden_version), a version volume not in the ledger, and, naming
    O(golden), a golden that a running domain has attached writable; all are left as they are.
  - With O(golden_domain) every clone is also a whole machine - a domain of its own on the clone volume.
  - Returns a savings report (per clone logical size, real added bytes and seconds; totals against full copies)
    and the same as a text table.
author:
  - virtlab.infra contributors (@virtlab)
options:
  pool:
    description: Active storage pool (a directory pool) of the versions and clones.
    type: str
    required: true
  golden:
    description: Name of the golden volume (raw or qcow2). It is read, never changed.
    type: str
    required: true
  golden_pool:
    description: Pool of O(golden); defaults to O(pool).
    type: str
  golden_domain:
    description:
      - A domain whose disk is the O(golden) volume. Each clone then also gets a domain of its own, named like
        its volume without C(.qcow2) - the golden domain's definition with a new name, UUID and MAC addresses,
        its disk on the clone. The clone domains are defined, not started.
      - The golden domain must have no other writable disk (its clones would share it).
      - Removing, resetting or refreshing a clone destroys (powers off) and undefines its domain first; a refresh
        or reset gives the domain new MAC addresses.
    type: str
  ledger_dir:
    description:
      - Directory of the ledgers on the libvirt host; the ledger is C(<ledger_dir>/<pool>/<set_name>.json).
      - Defaults to C(.virtlab-devtest) beside the pool's directory.
    type: path
extends_documentation_fragment:
  - virtlab.infra.devtest
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
notes:
  - The ledger and O(action=split) need a local O(uri) (the module runs on the libvirt host).
  - O(action=reset) reports a change on every run (it destroys and re-creates the clones); the other actions are
    idempotent.
  - A clone must not be in use by a running guest while it is reset, split, refreshed or removed.
seealso:
  - module: virtlab.infra.libvirt_volume_clone
"""

EXAMPLES = r"""
- name: A clone of the golden database disk for every developer
  virtlab.infra.libvirt_devtest_clones:
    pool: virtlab
    golden: golden-db.qcow2
    set_name: team-a
    golden_version: "2026-11"
    address_pool: 10.20.0.0/24
    default_lifetime: 30d
    clones:
      - user: alice
      - user: bob
        refresh: false
      - user: carol
        address: 10.20.0.200
        expires: "2026-12-31"
  register: devtest

- name: Show the savings
  ansible.builtin.debug:
    msg: "{{ devtest.report_table.splitlines() }}"

- name: Move everybody but bob to the December golden
  virtlab.infra.libvirt_devtest_clones:
    pool: virtlab
    golden: golden-db.qcow2
    set_name: team-a
    golden_version: "2026-12"
    action: refresh
    clones: "{{ team_a_clones }}"

- name: Alice broke her database - give her a fresh clone
  virtlab.infra.libvirt_devtest_clones:
    pool: virtlab
    golden: golden-db.qcow2
    set_name: team-a
    golden_version: "2026-12"
    action: reset
    targets: [alice]
    clones: "{{ team_a_clones }}"

- name: Remove the whole set (the golden stays)
  virtlab.infra.libvirt_devtest_clones:
    pool: virtlab
    golden: golden-db.qcow2
    set_name: team-a
    golden_version: "2026-12"
    action: teardown
"""

RETURN = r"""
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
      description: Real disk the clone adds beyond its version, in bytes.
      type: int
    action:
      description: V(created), V(kept), V(updated), V(refreshed), V(reset), V(split), V(removed) or V(expired).
      type: str
    seconds:
      description: Wall time of the action on this clone.
      type: float
versions:
  description: The set's frozen versions after the run (label, created, logical_size, allocated).
  returned: always
  type: list
  elements: dict
golden:
  description: The golden source (name, logical_size, allocated).
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import (
    DevtestService,
    devtest_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.devtest import LibvirtCloneBackend

ARGUMENT_SPEC = {
    "pool": {"type": "str", "required": True},
    "golden": {"type": "str", "required": True},
    "golden_pool": {"type": "str"},
    "golden_domain": {"type": "str"},
    "ledger_dir": {"type": "path"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=libvirt_argument_spec(devtest_argument_spec(ARGUMENT_SPEC)),
                           supports_check_mode=True)
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    backend = LibvirtCloneBackend(LibvirtConnection.from_params(module.params), module.params,
                                  module.check_mode, module.run_command)
    with backend:
        run_service(module, lambda: DevtestService(backend, module.params, module.check_mode).run())


if __name__ == "__main__":
    main()
