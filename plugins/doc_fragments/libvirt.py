# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options shared by every libvirt module: the documentation of LIBVIRT_COMMON_ARGS."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt connection URI, for example V(qemu:///system) or V(qemu+ssh://root@host/system).
      - Falls back to the environment variable E(LIBVIRT_DEFAULT_URI), then to V(qemu:///system).
    type: str
    default: qemu:///system
requirements:
  - libvirt-python
"""

    # the same option for plugins (inventory), which read the environment variable themselves
    PLUGIN = r"""
options:
  uri:
    description:
      - The libvirt connection URI, for example V(qemu:///system) or V(qemu+ssh://root@host/system).
    type: str
    default: qemu:///system
    env:
      - name: LIBVIRT_DEFAULT_URI
requirements:
  - libvirt-python
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Predicts the outcome without changing anything.
  diff_mode:
    support: full
    description: Returns the state before and after.
  idempotent:
    support: full
    description: A second run with the same arguments reports RV(ignore:changed=false).
  action_group:
    support: full
    membership: [virtlab.infra.libvirt]
    description: Use C(group/virtlab.infra.libvirt) in C(module_defaults) to set O(uri) once.
"""
