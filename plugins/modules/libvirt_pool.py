#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_pool
short_description: Manage libvirt storage pools declaratively
version_added: 0.1.0
description:
  - Defines, builds, starts, stops and removes libvirt storage pools of type V(dir), V(netfs) or V(logical).
  - An existing pool whose definition differs is redefined when it is inactive; an active one is left alone
    and the task fails, naming the differing option (stop it first with O(active=false)).
  - Removing a pool (O(state=absent)) stops and undefines it; the volumes stay on disk.
author:
  - virtlab.infra contributors (@virtlab)
options:
  name:
    description: Name of the pool.
    type: str
    required: true
  state:
    description: Whether the pool is defined.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: Pool type.
    type: str
    choices: [dir, netfs, logical]
    default: dir
  path:
    description:
      - Target path, the directory of a V(dir) pool or the mount point of a V(netfs) pool.
      - Required for V(dir) and V(netfs) pools.
    type: path
  source_host:
    description: NFS server of a V(netfs) pool.
    type: str
  source_dir:
    description: Exported directory of a V(netfs) pool.
    type: str
  source_format:
    description: Source format, for example V(nfs) for a V(netfs) pool or V(lvm2) for a V(logical) pool.
    type: str
  source_devices:
    description: Physical volumes of a V(logical) pool.
    type: list
    elements: str
  source_name:
    description: Volume group name of a V(logical) pool.
    type: str
  build:
    description:
      - Build the pool after defining it (create the directory of a V(dir) pool, the mount point of a V(netfs)
        pool, the volume group of a V(logical) pool). Only when the pool is first defined.
    type: bool
    default: true
  active:
    description: Whether the pool runs.
    type: bool
    default: true
  autostart:
    description: Whether libvirtd starts the pool at boot. Omit to leave it as it is.
    type: bool
extends_documentation_fragment:
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
"""

EXAMPLES = r"""
- name: A directory pool that starts with libvirtd
  virtlab.infra.libvirt_pool:
    name: images
    path: /srv/images
    autostart: true

- name: An NFS pool
  virtlab.infra.libvirt_pool:
    name: shared
    type: netfs
    source_host: nas.example.com
    source_dir: /export/images
    path: /mnt/shared

- name: Remove a pool (its files stay)
  virtlab.infra.libvirt_pool:
    name: images
    state: absent
"""

RETURN = r"""
pool:
  description: The pool after the task (predicted in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: Pool name.
      type: str
    state:
      description: V(present) or V(absent).
      type: str
    type:
      description: Pool type.
      type: str
    path:
      description: Target path.
      type: str
    active:
      description: Whether it runs.
      type: bool
    autostart:
      description: Whether it starts at boot.
      type: bool
    capacity:
      description: Size in bytes (when present and active).
      type: int
    allocation:
      description: Bytes in use.
      type: int
    available:
      description: Bytes free.
      type: int
  sample:
    name: images
    state: present
    type: dir
    path: /srv/images
    active: true
    autostart: true
    capacity: 270553174016
    allocation: 25601949696
    available: 244951224320
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.pool import PoolService

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "type": {"type": "str", "choices": ["dir", "netfs", "logical"], "default": "dir"},
    "path": {"type": "path"},
    "source_host": {"type": "str"},
    "source_dir": {"type": "str"},
    "source_format": {"type": "str"},
    "source_devices": {"type": "list", "elements": "str"},
    "source_name": {"type": "str"},
    "build": {"type": "bool", "default": True},
    "active": {"type": "bool", "default": True},
    "autostart": {"type": "bool"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=libvirt_argument_spec(ARGUMENT_SPEC), supports_check_mode=True)
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: PoolService(connection, module.params, module.check_mode).ensure())


if __name__ == "__main__":
    main()
