# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options shared by every Proxmox VE module: the documentation of PROXMOX_COMMON_ARGS."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_host:
    description:
      - Host name or address of a Proxmox VE node (any node of the cluster answers for all of it).
      - Falls back to the environment variable E(PROXMOX_HOST).
    type: str
    required: true
  api_port:
    description: Port of the API. Falls back to E(PROXMOX_PORT).
    type: int
    default: 8006
  api_user:
    description:
      - User with its realm (C(root@pam), C(automation@pve)) for a password login, or the owner of the token.
      - Not needed with a full token id in O(api_token_id). Falls back to E(PROXMOX_USER).
    type: str
  api_password:
    description:
      - Password of O(api_user); the module logs in for a ticket (with its CSRF token).
      - Falls back to E(PROXMOX_PASSWORD).
    type: str
  api_token_id:
    description:
      - API token id, either the full C(user@realm!tokenid) or just C(tokenid) with O(api_user).
      - Takes precedence over O(api_password). Falls back to E(PROXMOX_TOKEN_ID).
    type: str
  api_token_secret:
    description: Secret of the API token (a UUID). Falls back to E(PROXMOX_TOKEN_SECRET).
    type: str
  validate_certs:
    description:
      - Verify the API's TLS certificate (against O(ca_path), or the system CA bundle).
      - Falls back to E(PROXMOX_VALIDATE_CERTS). Switching it off is for throw-away labs only.
    type: bool
    default: true
  ca_path:
    description:
      - CA certificate file (PEM) to verify the API with, for example the cluster's C(/etc/pve/pve-root-ca.pem).
      - Falls back to E(PROXMOX_CA_PATH).
    type: path
  api_timeout:
    description: Seconds to wait for one answer of the API.
    type: int
    default: 30
  task_timeout:
    description:
      - Seconds to wait for each asynchronous task (create, clone, start, destroy...) to end. Clones of big
        disks are slow; the default is generous.
    type: int
    default: 900
  lock_timeout:
    description:
      - Seconds to keep retrying, with backoff, while the guest is locked by another operation (backup,
        snapshot, clone, migration).
    type: int
    default: 120
requirements:
  - proxmoxer >= 2.0
  - requests
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Predicts the outcome from the cluster's current state without changing anything.
  diff_mode:
    support: full
    description: Returns the configuration and state before and after.
  idempotent:
    support: full
    description: A second run with the same arguments reports RV(ignore:changed=false).
  action_group:
    support: full
    membership: [virtlab.infra.proxmox]
    description: Use C(group/virtlab.infra.proxmox) in C(module_defaults) to set the connection options once.
"""

    # The connection options of the inventory plugin: the modules' names, read from the inventory file
    # or the same environment variables.
    PLUGIN = r"""
options:
  api_host:
    description:
      - Host name or address of a Proxmox VE node. Required unless every entry of O(clusters) gives it.
    type: str
    env:
      - name: PROXMOX_HOST
  api_port:
    description: Port of the API.
    type: int
    default: 8006
    env:
      - name: PROXMOX_PORT
  api_user:
    description: User with its realm (C(root@pam)) for a password login, or the owner of a short O(api_token_id).
    type: str
    env:
      - name: PROXMOX_USER
  api_password:
    description: Password of O(api_user) (a ticket login). An API token is preferred for inventories.
    type: str
    env:
      - name: PROXMOX_PASSWORD
  api_token_id:
    description: API token id, C(user@realm!tokenid) or just C(tokenid) with O(api_user).
    type: str
    env:
      - name: PROXMOX_TOKEN_ID
  api_token_secret:
    description: Secret of the API token.
    type: str
    env:
      - name: PROXMOX_TOKEN_SECRET
  validate_certs:
    description: Verify the API's TLS certificate (against O(ca_path) or the system CA bundle).
    type: bool
    default: true
    env:
      - name: PROXMOX_VALIDATE_CERTS
  ca_path:
    description: CA certificate file (PEM) to verify the API with.
    type: path
    env:
      - name: PROXMOX_CA_PATH
  api_timeout:
    description: Seconds to wait for one answer of the cluster-wide calls.
    type: int
    default: 30
"""
