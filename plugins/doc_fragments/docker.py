# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options shared by every Docker module: the documentation of DOCKER_COMMON_ARGS."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker engine to talk to, as a URL (C(unix:///path/to/socket), C(tcp://host:2376)).
      - Falls back to the environment variable E(DOCKER_HOST).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Talk to the engine over TLS without verifying its certificate (unless O(validate_certs) is set).
      - Falls back to E(DOCKER_TLS).
    type: bool
    default: false
  validate_certs:
    description:
      - Talk over TLS and verify the engine's certificate against O(ca_path).
      - Falls back to E(DOCKER_TLS_VERIFY).
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description: CA certificate file to verify the engine with.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description: Client certificate file for TLS client authentication.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description: Client key file for TLS client authentication.
    type: path
    aliases: [tls_client_key, key_path]
  api_version:
    description:
      - Docker API version to use; V(auto) negotiates with the engine.
      - Falls back to E(DOCKER_API_VERSION).
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for an answer of the engine. Falls back to E(DOCKER_TIMEOUT).
    type: int
    default: 60
requirements:
  - docker (the Docker SDK for Python) >= 7.0
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Predicts the outcome exactly without changing anything.
  diff_mode:
    support: full
    description: Returns what would change (image IDs of tags, digests).
  idempotent:
    support: full
    description: A second run with the same arguments reports RV(ignore:changed=false).
  action_group:
    support: full
    membership: [virtlab.infra.docker]
    description: Use C(group/virtlab.infra.docker) in C(module_defaults) to set the connection options once.
"""
