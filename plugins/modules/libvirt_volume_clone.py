#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_volume_clone
short_description: Copy-on-write (linked) and full clones of libvirt volumes
version_added: 0.1.0
description:
  - O(mode=linked) makes a qcow2 overlay whose backing file is the source volume. It costs only qcow2
    metadata (about 200 KiB), takes the same time whatever the size of the source, and grows only by what
    is written to it.
  - O(mode=full) makes an independent copy (sparse; a backing chain of the source is flattened).
  - O(split=true) makes an existing linked clone independent of its source, in place (its path stays the
    same) - C(qemu-img rebase -b "") copies what it reads through its backing chain into it and only then drops
    the backing reference, so an interrupted split leaves a valid linked clone. A running guest using the
    clone holds its lock and the split fails.
  - Idempotent by the backing chain - an existing linked clone of the same source is left alone; a volume of
    the same name with another backing file fails, naming O(source).
  - Refuses, and leaves it as it is, an existing volume of a clone's name that is not this task's clone - an
    overlay of another file (naming O(source)), a volume without backing file when a linked clone is asked (naming
    O(mode)), or, for O(mode=full) or O(split=true), an independent volume of another format or smaller than the
    source (naming O(name) or O(names)).
  - Refuses (naming O(source) and the domains) to make a new clone of a source that a running or paused domain has
    attached writable, since the source would change under the clone, unless O(running_source=snapshot).
  - O(names) makes or removes many clones of one source in one task.
  - A clone that other volumes use as backing file is protected - O(state=absent) fails and lists them unless
    O(split_dependents=true).
author:
  - virtlab.infra contributors (@virtlab)
options:
  name:
    description: Name of the clone volume.
    type: str
  names:
    description: Names of several clone volumes of the same O(source).
    type: list
    elements: str
  pool:
    description: Active storage pool of the clones.
    type: str
    required: true
  source:
    description: Name of the source volume. Required with O(state=present).
    type: str
  source_pool:
    description: Pool of O(source); defaults to O(pool).
    type: str
  mode:
    description: V(linked) (copy-on-write qcow2 overlay) or V(full) (independent copy).
    type: str
    choices: [linked, full]
    default: linked
  split:
    description:
      - Make the clones independent of their source. An existing linked clone is split in place; a new one is
        made linked and then split.
      - With V(true) an existing independent volume of that name is accepted as the clone.
    type: bool
    default: false
  format:
    description: Format of a full clone; defaults to the source's. Linked clones are always V(qcow2).
    type: str
    choices: [qcow2, raw]
  capacity:
    description:
      - Virtual size of the clones; defaults to the source's. Not smaller than the source's; a larger value
        grows an existing clone.
    type: str
  state:
    description: Whether the clones exist.
    type: str
    choices: [present, absent]
    default: present
  split_dependents:
    description:
      - With O(state=absent), split volumes that use a clone as backing file before deleting it instead of
        failing.
    type: bool
    default: false
  running_source:
    description:
      - What to do when a new clone is to be made of a source that a running (or paused) domain has attached
        writable.
      - V(refuse) fails, naming O(source) and the domain, and changes nothing.
      - V(snapshot) first takes an external disk-only snapshot of that disk of the running domain (no snapshot
        metadata, atomic) - the domain keeps running, but from then on writes to a new qcow2 overlay
        C(<source stem>.live-<UTC time>.qcow2) in the source's pool, whose backing file is the source; its live and
        persistent definitions point at that overlay. The source file no longer changes and becomes a read-only
        base of both the domain's overlay and the clones, so it is protected from deletion while they exist. The
        clones hold the source's content at that moment. RV(source_snapshot) names the overlay.
      - In check mode, V(snapshot) predicts the overlay and changes nothing.
      - Refused as well when more than one running domain writes the source.
    type: str
    choices: [refuse, snapshot]
    default: refuse
extends_documentation_fragment:
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
notes:
  - Splitting runs C(qemu-img) on the libvirt host, so O(split) and O(split_dependents) need a local O(uri).
  - Do not write to a source volume while linked clones use it (for example by running a guest on it); keep
    golden volumes read-only. Only domains attached to the source when a clone is made are seen.
"""

EXAMPLES = r"""
- name: A private linked clone of the golden database disk for each developer
  virtlab.infra.libvirt_volume_clone:
    pool: virtlab
    source: golden-db.qcow2
    names: "{{ developers | map('regex_replace', '$', '-db.qcow2') }}"

- name: A full, independent copy
  virtlab.infra.libvirt_volume_clone:
    pool: virtlab
    source: golden-db.qcow2
    name: archive-db.qcow2
    mode: full

- name: Keep a clone, but free it from its parent
  virtlab.infra.libvirt_volume_clone:
    pool: virtlab
    source: golden-db.qcow2
    name: alice-db.qcow2
    split: true

- name: Reset a clone - destroy it, then clone again
  virtlab.infra.libvirt_volume_clone:
    pool: virtlab
    name: alice-db.qcow2
    state: absent
"""

RETURN = r"""
volume:
  description: The clone (first of RV(volumes)) when O(name) is given.
  returned: when O(name) is given
  type: dict
  sample:
    name: alice-db.qcow2
    pool: virtlab
    path: /var/lib/libvirt/images/alice-db.qcow2
    format: qcow2
    capacity: 21474836480
    allocation: 200704
    backing: /var/lib/libvirt/images/golden-db.qcow2
    source: /var/lib/libvirt/images/golden-db.qcow2
    split: false
volumes:
  description: One entry per clone, in the order of O(names).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Volume name.
      type: str
    pool:
      description: Pool name.
      type: str
    path:
      description: Path of the volume (none in check mode before creation).
      type: str
    format:
      description: Format of the volume.
      type: str
    capacity:
      description: Virtual size in bytes.
      type: int
    allocation:
      description: Bytes really allocated on disk (what the clone costs).
      type: int
    backing:
      description: Path of the backing file; none once split or for a full clone.
      type: str
    source:
      description: Path of the source volume.
      type: str
    split:
      description: Whether the clone is independent of its source.
      type: bool
    split_dependents:
      description: With O(state=absent), the volumes split before the deletion.
      type: list
      elements: dict
source_snapshot:
  description:
    - With O(running_source=snapshot), when the source was frozen for a new clone - the running domain, its disk,
      the source file (now a read-only base) and the new overlay the domain writes to (predicted in check mode).
  returned: when a running domain's disk was (or in check mode would be) frozen
  type: dict
  sample:
    domain: web1
    target: vda
    source: /var/lib/libvirt/images/web1.qcow2
    overlay: /var/lib/libvirt/images/web1.live-20260101T120000Z.qcow2
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import VolumeCloneService
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)

ARGUMENT_SPEC = {
    "name": {"type": "str"},
    "names": {"type": "list", "elements": "str"},
    "pool": {"type": "str", "required": True},
    "source": {"type": "str"},
    "source_pool": {"type": "str"},
    "mode": {"type": "str", "choices": ["linked", "full"], "default": "linked"},
    "split": {"type": "bool", "default": False},
    "format": {"type": "str", "choices": ["qcow2", "raw"]},
    "capacity": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "split_dependents": {"type": "bool", "default": False},
    "running_source": {"type": "str", "choices": ["refuse", "snapshot"], "default": "refuse"},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=libvirt_argument_spec(ARGUMENT_SPEC),
        supports_check_mode=True,
        mutually_exclusive=[("name", "names")],
        required_one_of=[("name", "names")],
        required_if=[("state", "present", ("source",))],
    )
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: VolumeCloneService(
        connection, module.params, module.check_mode, module.run_command).ensure())


if __name__ == "__main__":
    main()
