#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_domain_clone
short_description: Clone a libvirt domain with linked or full copies of its disks
version_added: 0.1.0
description:
  - Makes a new domain from an existing, shut off one - the same definition with a new name, a new UUID, new MAC
    addresses and its own NVRAM, and a clone of each writable disk, named C(<name>-<target>.qcow2).
  - O(mode=linked) makes each disk a qcow2 overlay on the source's disk (seconds, whatever the size); the source's
    disks then become backing files - keep the source shut off as a template, and its disks are protected from
    deletion while clones use them. O(mode=full) copies the disks.
  - CD-ROMs and read-only disks are shared, not copied.
  - Refuses, naming O(name) and leaving it as it is, a same-name domain without the clone record of this module,
    and an existing volume named like one of the clone's disks; refuses, naming O(source), a source whose disks
    another running domain has attached writable (the copy would not be consistent).
  - The clone records its source in its metadata, so a re-run changes nothing and an existing domain of that name
    made from another source is an error naming O(source).
  - Remove a clone with M(virtlab.infra.libvirt_domain) (O(virtlab.infra.libvirt_domain#module:state=absent),
    O(virtlab.infra.libvirt_domain#module:remove_volumes=true)).
author:
  - virtlab.infra contributors (@virtlab)
options:
  name:
    description: Name of the new domain.
    type: str
    required: true
  source:
    description: Name of the domain to clone; it must be shut off.
    type: str
    required: true
  mode:
    description: V(linked) (copy-on-write disks) or V(full) (independent copies).
    type: str
    choices: [linked, full]
    default: linked
  pool:
    description: Pool for the cloned disks; by default each disk's clone goes to the pool of its source disk.
    type: str
  start:
    description: Start the clone.
    type: bool
    default: false
extends_documentation_fragment:
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
"""

EXAMPLES = r"""
- name: A private copy of the golden test machine for each tester, started
  virtlab.infra.libvirt_domain_clone:
    name: "test-{{ item }}"
    source: golden-app
    start: true
  loop: [alice, bob, carol]

- name: An independent copy in another pool
  virtlab.infra.libvirt_domain_clone:
    name: archive-app
    source: golden-app
    mode: full
    pool: archive
"""

RETURN = r"""
domain:
  description: The clone (only name and state in check mode for a new clone).
  returned: always
  type: dict
  sample:
    name: test-alice
    uuid: 6f1c2cb2-8a7a-4ad6-9b1a-7d36c8f4a1ff
    state: running
    autostart: false
    persistent: true
    disks: [{target: vda, device: disk, type: volume, pool: virtlab, volume: test-alice-vda.qcow2, path: null}]
    interfaces: [{type: network, mac: "52:54:00:3a:1b:07"}]
disks:
  description: The disks cloned by this run (empty when the clone existed).
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: Target device (V(vda)...).
      type: str
    source:
      description: Path of the source's disk.
      type: str
    pool_name:
      description: Pool of the cloned disk.
      type: str
    volume:
      description: Name of the cloned disk volume.
      type: str
    path:
      description: Path of the cloned disk (none in check mode).
      type: str
    format:
      description: Format of the cloned disk.
      type: str
    mode:
      description: V(linked) or V(full).
      type: str
    type:
      description: Disk type in the domain XML (V(file) or V(volume)).
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
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain_clone import DomainCloneService

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "source": {"type": "str", "required": True},
    "mode": {"type": "str", "choices": ["linked", "full"], "default": "linked"},
    "pool": {"type": "str"},
    "start": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(argument_spec=libvirt_argument_spec(ARGUMENT_SPEC), supports_check_mode=True)
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: DomainCloneService(connection, module.params, module.check_mode).ensure())


if __name__ == "__main__":
    main()
