#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_archive
short_description: Save Docker images to a tar archive and load them back, only when needed
version_added: 0.1.0
description:
  - With O(state=saved), saves one or more images into one archive in the format of C(docker save), the seed
    of hosts without a registry. The archive is rewritten only when it does not already hold the same image IDs
    under the same tags. It is written to a temporary file beside O(path), checked, then renamed over O(path),
    so a failed save never leaves a partial archive and never damages the previous one.
  - With O(state=loaded), loads an archive into the engine, only when the engine lacks one of its images or one
    of its tags points elsewhere.
  - The images of an archive are read from its C(manifest.json) - each image configuration is named after its
    digest, which is the image ID - and every member it names must be present, so an incomplete or damaged
    archive is never taken for an up-to-date one.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.docker
  - virtlab.infra.docker.attributes
options:
  path:
    description:
      - The archive file. Its directory must exist.
      - With O(state=loaded), compressed archives (gzip, bzip2, xz) are accepted as C(docker load) accepts them.
    type: path
    required: true
  state:
    description:
      - V(saved) writes the images of O(images) into O(path).
      - V(loaded) loads every image of the archive at O(path) into the engine, with its tags.
    type: str
    choices: [saved, loaded]
    default: saved
  images:
    description:
      - Images to save, as C(repository:tag) references or image IDs. A reference without a tag means C(latest).
      - An image named by its ID is saved without a tag.
      - Required with O(state=saved); not allowed with O(state=loaded).
    type: list
    elements: str
    default: []
  force:
    description:
      - Save or load even when nothing differs.
      - A forced save rewrites O(path) and reports RV(ignore:changed); a forced load reports RV(ignore:changed) only
        when the engine's images or tags differed from the archive.
    type: bool
    default: false
notes:
  - A file at O(path) that is not a readable image archive is replaced by a save.
  - A new archive gets the default mode of new files (under the umask); a replaced one keeps its mode.
  - In check mode the archive's manifest and the engine's images are compared as in a real run, so the outcome
    is predicted exactly; nothing is written or loaded.
seealso:
  - module: virtlab.infra.docker_image_build
"""

EXAMPLES = r"""
- name: Save the stack's images for the offline hosts
  virtlab.infra.docker_image_archive:
    path: /srv/seed/stack.tar
    images:
      - 127.0.0.1:5000/web:1.0
      - virtlab/debian:bookworm

- name: Load them on an offline host
  virtlab.infra.docker_image_archive:
    path: /srv/seed/stack.tar
    state: loaded
"""

RETURN = r"""
path:
  description: The absolute path of the archive.
  returned: success
  type: str
  sample: /srv/seed/stack.tar
images:
  description:
    - The images of the archive (with O(state=saved), as written or as it would be written in check mode),
      each with its ID and the tags it carries in the archive.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The image ID.
      type: str
      sample: sha256:98840d31422d...
    tags:
      description: The tags of the image in the archive, C(repository:tag); empty for an image saved by ID.
      type: list
      elements: str
      sample: ["127.0.0.1:5000/web:1.0"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import client_from_module, docker_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.docker.image_archive import ArchiveRequest, ImageArchiveService


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec({
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["saved", "loaded"], "default": "saved"},
            "images": {"type": "list", "elements": "str", "default": []},
            "force": {"type": "bool", "default": False},
        }),
        supports_check_mode=True,
    )
    run_service(module, lambda: ImageArchiveService(client_from_module(module), check_mode=module.check_mode).ensure(
        ArchiveRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
