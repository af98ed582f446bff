#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_commit
short_description: Commit a Docker container's filesystem into an image, only when the container changed
version_added: 0.1.0
description:
  - Snapshots a container's filesystem into an image, like C(docker commit), with a commit message (O(comment)),
    an author and Dockerfile instructions such as C(CMD) applied to the image's configuration.
  - Computes a digest of the commit source - the container ID, the engine's list of the container's changed paths
    and their kinds (added, changed, deleted), O(changes), O(comment) and O(author) - and stores it as the image
    label C(io.virtlab.commit-source).
  - Commits only when the tag O(name) does not already point at an image with that digest (or when O(force=true)).
  - Reports RV(ignore:changed) only when the tag now points at a different image ID.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.docker
  - virtlab.infra.docker.attributes
options:
  container:
    description: Name or ID of the container to commit.
    type: str
    required: true
  name:
    description:
      - Repository of the new image with an optional tag, C(repository[:tag]); the tag defaults to C(latest).
    type: str
    required: true
  comment:
    description:
      - Commit message (C(docker commit --message)), stored as the image's C(Comment).
      - Named O(comment) because ansible-core reserves the option name C(message) for itself.
    type: str
  author:
    description: Author of the image, for example C(Jane Doe <jane@example.com>).
    type: str
  changes:
    description:
      - Dockerfile instructions to apply to the image's configuration, one per item, for example
        C(CMD ["/start"]) or C(ENV MODE=prod).
      - Allowed are C(CMD), C(ENTRYPOINT), C(ENV), C(EXPOSE), C(HEALTHCHECK), C(LABEL), C(ONBUILD), C(USER),
        C(VOLUME) and C(WORKDIR).
    type: list
    elements: str
    default: []
  pause:
    description: Pause a running container while its filesystem is committed.
    type: bool
    default: true
  force:
    description:
      - Commit even when the tag already points at an image with the same commit-source digest.
    type: bool
    default: false
notes:
  - The engine lists which paths of the container changed, not their contents. Editing again a file the container
    had already added or changed does not alter the list, so it is B(not seen) and the next run reports
    RV(ignore:changed=false); set O(force=true) to commit such edits. A new, changed or deleted path is seen.
  - A running container that keeps writing new paths (logs, caches) is committed again at each run.
  - In check mode the digest is computed and compared, so the outcome is predicted exactly; nothing is committed.
    Each item of O(changes) is checked for a known instruction with arguments; the arguments themselves (for example
    the port of C(EXPOSE)) are parsed by the engine, so only a real run reports an invalid one.
seealso:
  - module: virtlab.infra.docker_image_build
  - module: virtlab.infra.docker_image_archive
"""

EXAMPLES = r"""
- name: Snapshot the configured app container
  virtlab.infra.docker_image_commit:
    container: app
    name: 127.0.0.1:5000/app:configured
    comment: after the first-boot set-up
    author: Ops <ops@example.com>
    changes:
      - CMD ["/start"]
      - EXPOSE 80
"""

RETURN = r"""
image_id:
  description: ID of the image the tag points at (in check mode, null when a commit would be needed).
  returned: success
  type: str
  sample: sha256:5d0da3dc9764...
name:
  description: The full reference of the image, C(repository:tag).
  returned: success
  type: str
  sample: 127.0.0.1:5000/app:configured
committed:
  description: Whether a commit was needed (in check mode, whether one would happen).
  returned: success
  type: bool
container_id:
  description: Full ID of the committed container.
  returned: success
  type: str
source_digest:
  description: Digest of the commit source, also stored in the image label C(io.virtlab.commit-source).
  returned: success
  type: str
  sample: sha256:2c26b46b68ff...
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import client_from_module, docker_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.docker.image_commit import CommitRequest, ImageCommitService


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec({
            "container": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "comment": {"type": "str"},
            "author": {"type": "str"},
            "changes": {"type": "list", "elements": "str", "default": []},
            "pause": {"type": "bool", "default": True},
            "force": {"type": "bool", "default": False},
        }),
        supports_check_mode=True,
    )
    run_service(module, lambda: ImageCommitService(client_from_module(module), check_mode=module.check_mode).ensure(
        CommitRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
