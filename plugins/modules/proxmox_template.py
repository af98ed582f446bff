#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_template
short_description: Appliance templates and ISO images on a Proxmox VE storage
version_added: 0.1.0
description:
  - Lists what the appliance index (C(aplinfo)) of a node offers, for example C(turnkey-moodle) or
    C(debian-12-standard).
  - Puts a template or ISO on a storage - from the appliance index (O(appliance)), from a URL
    (O(url), downloaded by the node itself) or from a local file (O(src), uploaded) - and removes it.
  - Idempotent by volume id C(storage:content/filename) - nothing is transferred when it is already there.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
options:
  state:
    description: V(present) puts the file on the storage, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  node:
    description: Node doing the transfer; the first online node having O(storage) when not given.
    type: str
  storage:
    description: Storage receiving the file (it must allow the O(content) type).
    type: str
    default: local
  content:
    description: Content type of the file.
    type: str
    choices: [vztmpl, iso, import]
    default: vztmpl
  filename:
    description:
      - File name on the storage. Defaults to the last path element of O(url), the base name of O(src), or the
        template name of O(appliance).
    type: str
  url:
    description: Download the file from this URL on the node (C(download-url)).
    type: str
  checksum:
    description: Expected checksum of the download.
    type: str
  checksum_algorithm:
    description: Algorithm of O(checksum).
    type: str
    choices: [md5, sha1, sha224, sha256, sha384, sha512]
  verify_certificates:
    description: Verify the TLS certificate of O(url).
    type: bool
    default: true
  src:
    description: Local file to upload (kept under its base name).
    type: path
  appliance:
    description:
      - Appliance of the node's index to download, by template name, package name or name prefix
        (C(debian-12-standard), C(turnkey-moodle)); the newest matching version is taken.
    type: str
  list_appliances:
    description: Return the appliance index (filtered by O(appliance) when given) in RV(appliances).
    type: bool
    default: false
notes:
  - O(url), O(src) and O(appliance) are mutually exclusive.
seealso:
  - module: virtlab.infra.proxmox_lxc
"""

EXAMPLES = r"""
- name: Debian 12 container template from the appliance index
  virtlab.infra.proxmox_template:
    appliance: debian-12-standard
    storage: local

- name: TurnKey Moodle from a mirror, with its checksum
  virtlab.infra.proxmox_template:
    url: https://mirror.example.org/turnkey/debian-12-turnkey-moodle_18.0-1_amd64.tar.gz
    checksum: 0f6e...
    checksum_algorithm: sha256

- name: Upload an installer ISO
  virtlab.infra.proxmox_template:
    src: /srv/iso/debian-12.7.0-amd64-netinst.iso
    content: iso

- name: What the index offers
  virtlab.infra.proxmox_template:
    list_appliances: true
    appliance: turnkey
  register: offer
"""

RETURN = r"""
volid:
  description: Volume id of the file (C(local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst)).
  returned: when a file is named
  type: str
node:
  description: Node that was asked.
  returned: always
  type: str
storage:
  description: The storage.
  returned: always
  type: str
appliances:
  description: Entries of the appliance index (template, package, version, headline, ...).
  returned: when O(list_appliances=true)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.template import TemplateRequest, TemplateService


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "node": {"type": "str"},
            "storage": {"type": "str", "default": "local"},
            "content": {"type": "str", "default": "vztmpl", "choices": ["vztmpl", "iso", "import"]},
            "filename": {"type": "str"},
            "url": {"type": "str"},
            "checksum": {"type": "str"},
            "checksum_algorithm": {"type": "str", "choices": ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]},
            "verify_certificates": {"type": "bool", "default": True},
            "src": {"type": "path"},
            "appliance": {"type": "str"},
            "list_appliances": {"type": "bool", "default": False},
        }),
        mutually_exclusive=[("url", "src", "appliance")],
        supports_check_mode=True,
    )
    run_service(module, lambda: TemplateService(client_from_module(module), check_mode=module.check_mode).ensure(
        TemplateRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
