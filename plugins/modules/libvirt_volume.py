#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_volume
short_description: Manage libvirt storage volumes
version_added: 0.1.0
description:
  - Creates an empty qcow2 or raw volume, or one with the content of an image file; grows it; deletes it.
  - Reports the volume's capacity and its real allocation on disk.
  - A volume that other volumes use as their backing file (a golden image with linked clones) is protected
    it is neither deleted nor overwritten while they exist; the task fails and lists them, unless
    O(split_dependents=true) makes them independent first.
  - To clone volumes, use M(virtlab.infra.libvirt_volume_clone).
  - Refuses, naming O(name) (O(format) when given), and leaves it as it is, an existing volume of that name that is
    not what the task makes - one with a backing file (an overlay such as a linked clone) or of another format than
    O(format), the image's format with O(import_from), or V(qcow2); only such a volume of its own is grown or,
    with O(force=true), overwritten.
author:
  - virtlab.infra contributors (@virtlab)
options:
  name:
    description: Name of the volume (its file name in a directory pool).
    type: str
    required: true
  pool:
    description: Name of the active storage pool holding the volume.
    type: str
    required: true
  state:
    description: Whether the volume exists.
    type: str
    choices: [present, absent]
    default: present
  format:
    description:
      - Volume format. Defaults to V(qcow2) for a new empty volume and to the image's format for O(import_from).
      - The format of an existing volume cannot change; a different value fails.
    type: str
    choices: [qcow2, raw]
  capacity:
    description:
      - Virtual size, a number of bytes or a size such as V(10G) or V(512MiB).
      - Required to create an empty volume. A larger value than the current one grows the volume;
        a smaller one fails (volumes are never shrunk).
    type: str
  import_from:
    description:
      - An image file (raw or qcow2 without backing file) on the managed host whose content becomes the
        content of a new volume, uploaded through libvirt.
      - An existing volume is left alone unless O(force=true).
    type: path
  force:
    description:
      - With O(import_from), overwrite the content of an existing volume with the image (reported as changed
        at every run). Refused for a volume that other volumes use as backing file.
    type: bool
    default: false
  split_dependents:
    description:
      - With O(state=absent), make the volumes that use this one as backing file independent (flatten them
        in place) before deleting it, instead of failing.
    type: bool
    default: false
extends_documentation_fragment:
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
notes:
  - Splitting runs C(qemu-img rebase) on the libvirt host, so O(split_dependents) needs a local O(uri).
"""

EXAMPLES = r"""
- name: An empty 20 GiB qcow2 volume
  virtlab.infra.libvirt_volume:
    name: data.qcow2
    pool: virtlab
    capacity: 20G

- name: A golden image from a file
  virtlab.infra.libvirt_volume:
    name: golden-debian12.qcow2
    pool: virtlab
    import_from: /srv/images/debian-12-genericcloud-amd64.qcow2

- name: Grow it
  virtlab.infra.libvirt_volume:
    name: data.qcow2
    pool: virtlab
    capacity: 40G

- name: Delete a golden image, making its clones independent first
  virtlab.infra.libvirt_volume:
    name: golden-debian12.qcow2
    pool: virtlab
    state: absent
    split_dependents: true
"""

RETURN = r"""
volume:
  description: The volume after the task (predicted in check mode); empty when it is absent.
  returned: always
  type: dict
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
      description: V(qcow2) or V(raw).
      type: str
    capacity:
      description: Virtual size in bytes.
      type: int
    allocation:
      description: Bytes really allocated on disk.
      type: int
    backing:
      description: Path of the backing file, none for an independent volume.
      type: str
    backing_format:
      description: Format of the backing file.
      type: str
  sample:
    name: data.qcow2
    pool: virtlab
    path: /var/lib/libvirt/images/data.qcow2
    format: qcow2
    capacity: 21474836480
    allocation: 200704
    backing: null
    backing_format: null
split_dependents:
  description: The dependent volumes that were split before the deletion (O(split_dependents=true)).
  returned: when O(state=absent) and the volume existed
  type: list
  elements: dict
  sample: [{pool: virtlab, name: dev1.qcow2, path: /var/lib/libvirt/images/dev1.qcow2}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.volume import VolumeService

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "pool": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "format": {"type": "str", "choices": ["qcow2", "raw"]},
    "capacity": {"type": "str"},
    "import_from": {"type": "path"},
    "force": {"type": "bool", "default": False},
    "split_dependents": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(argument_spec=libvirt_argument_spec(ARGUMENT_SPEC), supports_check_mode=True)
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: VolumeService(
        connection, module.params, module.check_mode, module.run_command).ensure())


if __name__ == "__main__":
    main()
