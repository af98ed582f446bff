#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_push
short_description: Push image tags to a registry only when the registry lacks them
version_added: 0.1.0
description:
  - Pushes one or more tags of a local image to its registry (the registry named in O(name)).
  - Before pushing, asks the registry for the tag's manifest digest and compares it with the digests the engine
    recorded for the local image; when they match nothing is pushed and RV(ignore:changed) is false.
  - Check mode makes the same comparison and pushes nothing.
  - Returns the pushed manifest digests, read back from the registry.
  - Transient registry errors (connection refused, HTTP 5xx or 429, an upload broken off) are retried with
    exponential backoff and jitter; wrong credentials fail at once with an error naming the registry.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.docker
  - virtlab.infra.docker.attributes
options:
  name:
    description: Repository of the image including its registry (C(127.0.0.1:5000/web)), optionally with a tag.
    type: str
    required: true
  tags:
    description: Tags to push. Defaults to C(latest) when neither O(name) nor this list has a tag.
    type: list
    elements: str
    default: []
  username:
    description:
      - Registry user. Without it, credentials come from the Docker configuration (O(docker_config)), if any.
    type: str
  password:
    description: Password or token of O(username).
    type: str
  docker_config:
    description:
      - Directory or file of an existing Docker client configuration with stored logins
        (default C($DOCKER_CONFIG/config.json) or C(~/.docker/config.json)).
    type: path
  retries:
    description: How many times a transient registry error is retried before the module fails.
    type: int
    default: 3
notes:
  - An image that was never pushed from this engine has no recorded registry digest, so the module pushes it
    even when the registry holds identical content; the registry then keeps its digest and RV(ignore:changed) is false.
seealso:
  - module: virtlab.infra.docker_image_build
"""

EXAMPLES = r"""
- name: Push two tags with credentials
  virtlab.infra.docker_image_push:
    name: 127.0.0.1:5000/web
    tags: ["1.0", latest]
    username: ci
    password: "{{ registry_password }}"

- name: Push with a login stored by docker login
  virtlab.infra.docker_image_push:
    name: registry.example.com/team/app:2.3
"""

RETURN = r"""
registry:
  description: The registry the tags were pushed to.
  returned: success
  type: str
  sample: 127.0.0.1:5000
images:
  description: One entry per tag.
  returned: success
  type: list
  elements: dict
  contains:
    reference:
      description: The full reference.
      type: str
    image_id:
      description: ID of the local image.
      type: str
    digest:
      description: Manifest digest in the registry after the push (a placeholder in check mode when a push would happen).
      type: str
    changed:
      description: Whether this tag was (or would be) pushed.
      type: bool
digests:
  description: Manifest digest per reference.
  returned: success
  type: dict
  sample: {"127.0.0.1:5000/web:1.0": "sha256:a1b2..."}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import client_from_module, docker_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.docker.image_push import ImagePushService, PushRequest


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec({
            "name": {"type": "str", "required": True},
            "tags": {"type": "list", "elements": "str", "default": []},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
            "docker_config": {"type": "path"},
            "retries": {"type": "int", "default": 3},
        }),
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    if module.params["retries"] < 0:
        module.fail_json(msg="retries: must not be negative")
    run_service(module, lambda: ImagePushService(client_from_module(module), check_mode=module.check_mode).ensure(
        PushRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
