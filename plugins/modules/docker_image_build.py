#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_build
short_description: Build a Docker image exactly when its inputs changed
version_added: 0.1.0
description:
  - Builds an image from a Dockerfile and a build context with the Docker SDK for Python (no buildx needed).
  - Computes a digest of the build inputs - the context after C(.dockerignore), the Dockerfile, build args,
    target, labels, platform and the image ID of every base image - and stores it as the image label
    C(io.virtlab.build-inputs-digest).
  - Builds only when no image with that digest exists (or when O(force=true)); an image built before from the
    same inputs is re-tagged instead of rebuilt.
  - Reports RV(ignore:changed) only when a tag now points at a different image ID.
  - A failed build fails with the failing step and the tail of the build log, and moves no tag.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.docker
  - virtlab.infra.docker.attributes
options:
  name:
    description:
      - Repository of the image, optionally with a registry and a tag (C(127.0.0.1:5000/web:1.0)).
      - A tag given here comes first in RV(tags).
    type: str
    required: true
  tags:
    description:
      - Tags to give the image. Defaults to C(latest) when neither O(name) nor this list has a tag.
    type: list
    elements: str
    default: []
  path:
    description: The build context directory.
    type: path
    required: true
  dockerfile:
    description:
      - Path of the Dockerfile, relative to O(path) or absolute. Defaults to C(Dockerfile) in the context.
    type: str
  dockerfile_content:
    description: The Dockerfile itself, inline. The context on disk is not modified.
    type: str
  build_args:
    description: Build-time variables (C(ARG)).
    type: dict
    default: {}
  target:
    description: The build stage to stop at.
    type: str
  labels:
    description: Labels to put on the image.
    type: dict
    default: {}
  pull:
    description: Pull newer base images before computing the digest and building.
    type: bool
    default: false
  no_cache:
    description: Do not use the engine's build cache when a build happens.
    type: bool
    default: false
  force:
    description:
      - Build even when an image with the same input digest exists. Tags still move only when the image ID changes.
    type: bool
    default: false
  network:
    description: Network mode for C(RUN) steps (for example C(host) or C(none)).
    type: str
  platform:
    description: Target platform (C(linux/amd64)) where the engine supports it.
    type: str
  log_lines:
    description: How many lines of the build log to return in RV(build_log).
    type: int
    default: 30
notes:
  - In check mode the digest is computed and compared, so the outcome is predicted exactly; nothing is built or tagged.
  - RUN steps that are not reproducible (for example C(apt-get update)) are not re-run while the inputs stay the same;
    use O(force) or a build arg to refresh them.
seealso:
  - module: virtlab.infra.docker_image_push
"""

EXAMPLES = r"""
- name: Build the web image from its directory
  virtlab.infra.docker_image_build:
    name: 127.0.0.1:5000/web
    tags: ["1.0", latest]
    path: /srv/build/web
    build_args:
      RELEASE: "1.0"

- name: Build from an inline Dockerfile
  virtlab.infra.docker_image_build:
    name: tools:bookworm
    path: /srv/build/empty
    dockerfile_content: |
      FROM virtlab/debian:bookworm
      RUN apt-get update && apt-get install -y --no-install-recommends curl
"""

RETURN = r"""
image_id:
  description: ID of the image the tags point at (in check mode, null when a build would be needed).
  returned: success
  type: str
  sample: sha256:3f5a0e4c...
tags:
  description: The full references the module manages.
  returned: success
  type: list
  elements: str
  sample: ["127.0.0.1:5000/web:1.0", "127.0.0.1:5000/web:latest"]
built:
  description: Whether a build was needed (in check mode, whether one would run).
  returned: success
  type: bool
inputs_digest:
  description: Digest of the build inputs, also stored in the image label C(io.virtlab.build-inputs-digest).
  returned: success
  type: str
  sample: sha256:9c1d...
base_images:
  description: Base images of the Dockerfile and their image IDs, as used in the digest.
  returned: success
  type: dict
  sample: {"virtlab/debian:bookworm": "sha256:1b2c..."}
build_log:
  description: The last O(log_lines) lines of the build output (empty when nothing was built).
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import client_from_module, docker_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.docker.image_build import BuildRequest, ImageBuildService


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec({
            "name": {"type": "str", "required": True},
            "tags": {"type": "list", "elements": "str", "default": []},
            "path": {"type": "path", "required": True},
            "dockerfile": {"type": "str"},
            "dockerfile_content": {"type": "str"},
            "build_args": {"type": "dict", "default": {}},
            "target": {"type": "str"},
            "labels": {"type": "dict", "default": {}},
            "pull": {"type": "bool", "default": False},
            "no_cache": {"type": "bool", "default": False},
            "force": {"type": "bool", "default": False},
            "network": {"type": "str"},
            "platform": {"type": "str"},
            "log_lines": {"type": "int", "default": 30},
        }),
        mutually_exclusive=[("dockerfile", "dockerfile_content")],
        supports_check_mode=True,
    )
    run_service(module, lambda: ImageBuildService(client_from_module(module), check_mode=module.check_mode).ensure(
        BuildRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
