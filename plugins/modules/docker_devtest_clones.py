#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_devtest_clones
short_description: Private copy-on-write clones of a golden Docker data volume, one per developer or tester
version_added: 0.1.0
description:
  - Gives every user of a clone set a private, writable clone of a golden environment made of an image
    (O(image)) and a data volume (O(golden_volume)), for example a database server image and a copy of a
    production database directory.
  - A new O(golden_version) freezes the golden volume into a B(version) volume
    C(<golden_volume>-<set_name>-v-<golden_version>), copied once with C(cp -a) in a short-lived helper container
    (O(helper_image)), so the golden can keep changing while clones use the version.
  - A B(clone) is a container named after the clone, of image O(image), whose O(mount_path) is a C(local) driver
    volume C(<clone>-data) of type C(overlay) - the version's directory as the read-only lower layer and the
    clone's private volume C(<clone>-delta) as the upper layer. A clone is ready in about a second whatever the
    size of the data, and its real added disk is what it wrote (the size of its delta).
  - Clones run on the user network O(network) with their address; the module creates that network when it is
    missing (subnet O(address_pool), gateway its last host address) and removes it with the set's last clone.
  - Every object carries labels C(io.virtlab.devtest.*) (set, user, version, created, expiry, address); the
    module finds the clones of a set again from them, and never touches an object of another set or an
    unlabelled one.
  - Refuses, naming O(clones[].name) and saying what it holds, a container C(<clone>) or volume C(<clone>-data),
    C(<clone>-delta) or C(<clone>-split) without this set's and clone's labels, and, naming O(golden_version), a
    version volume without the labels of that version of O(golden_volume) in this set; all are left as they are.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.devtest
  - virtlab.infra.docker
options:
  image:
    description: The golden image the clones' containers run (it must be on the engine).
    type: str
    required: true
  golden_volume:
    description:
      - The golden data volume (a plain C(local) volume). It is only read, when a new version is frozen.
      - Stop the processes writing to it first for a consistent version (for example the golden database).
    type: str
    required: true
  mount_path:
    description: Where the clone's data appears inside its container.
    type: str
    default: /data
  network:
    description:
      - User network the clones join, each with its address (O(address_pool), O(clones[].address)).
      - Created when missing, as a bridge network with O(address_pool) as its subnet. An existing network must
        have a subnet holding O(address_pool).
      - Without it the clones use the engine's default bridge and addresses are not set.
    type: str
  command:
    description: Command of the clones' containers (default the image's).
    type: list
    elements: str
  env:
    description: Environment variables of the clones' containers.
    type: dict
    default: {}
  helper_image:
    description:
      - Image of the short-lived containers that copy data (C(cp -a)) when a version is frozen or a clone is split.
      - Defaults to O(image); it needs C(cp).
    type: str
  start:
    description: Start the clones' containers when they are created.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Plans every step (versions to freeze, clones to create, replace or remove) and changes nothing.
  diff_mode:
    support: full
    description: Returns the set's clones before and after.
  idempotent:
    support: partial
    description:
      - A second run with the same arguments reports RV(ignore:changed=false), except O(action=reset),
        which destroys and re-clones its targets every time.
  action_group:
    support: full
    membership: [virtlab.infra.docker]
    description: Use C(group/virtlab.infra.docker) in C(module_defaults) to set the connection options once.
notes:
  - The engine must run on Linux with overlayfs, and must see the volumes' directories (the C(local) driver) - the
    overlay mount is made by the engine, with the host paths of the volumes. It works with the C(overlay2) storage
    driver on ext4 or xfs; a data root on a filesystem overlayfs cannot use as an upper layer (overlayfs itself,
    some network filesystems) does not work.
  - overlayfs copies a whole file into the clone's delta on its first write, so a clone grows by the size of each
    file it changes, not by the blocks written. Databases with large files (InnoDB's C(ibdata1)) grow by those files.
  - Sizes come from the engine's disk-usage API (C(docker system df)), which counts the apparent size of the files
    in a volume (hard links once). It walks every volume of the engine, so it takes longer on engines with much data.
  - O(action=split) stops the clone's container, copies its data into a plain volume C(<clone>-split), and recreates
    the container on it (same name and address, a new container ID); the clone then no longer needs its version.
  - A version volume is protected while it exists - a container that never runs, C(<version volume>-hold), mounts
    it, so the engine refuses C(docker volume rm). The module removes the holder and the version when no clone uses
    the version any more and it is not the current one.
  - A new expiry or address of an existing clone recreates its container on the same data volume (same name, image
    and data at O(mount_path); a new container ID). Files the container wrote outside O(mount_path) are lost then.
  - The clones' containers get the restart policy C(unless-stopped).
seealso:
  - module: virtlab.infra.proxmox_devtest_clones
"""

EXAMPLES = r"""
- name: One clone of the golden database per developer
  virtlab.infra.docker_devtest_clones:
    image: mariadb:11
    golden_volume: golden-db
    mount_path: /var/lib/mysql
    network: devtest-db
    address_pool: 10.77.0.0/24
    set_name: team-a
    golden_version: "2026-11"
    default_lifetime: 14d
    clones:
      - user: alice
      - user: bob
        refresh: false
  register: devtest

- name: Show the savings
  ansible.builtin.debug:
    msg: "{{ devtest.report_table }}"

- name: Move the set to a new golden version (bob keeps his clone)
  virtlab.infra.docker_devtest_clones:
    image: mariadb:11
    golden_volume: golden-db
    mount_path: /var/lib/mysql
    network: devtest-db
    address_pool: 10.77.0.0/24
    set_name: team-a
    golden_version: "2026-12"
    action: refresh
    clones:
      - user: alice
      - user: bob
        refresh: false

- name: Throw away alice's changes
  virtlab.infra.docker_devtest_clones:
    image: mariadb:11
    golden_volume: golden-db
    set_name: team-a
    golden_version: "2026-12"
    action: reset
    targets: [alice]
    clones:
      - user: alice

- name: Remove the whole set (the golden volume stays)
  virtlab.infra.docker_devtest_clones:
    image: mariadb:11
    golden_volume: golden-db
    set_name: team-a
    golden_version: "2026-12"
    action: teardown
"""

RETURN = r"""
set_name:
  description: The clone set.
  returned: always
  type: str
golden_version:
  description: The current golden version label.
  returned: always
  type: str
action:
  description: The action carried out.
  returned: always
  type: str
clones:
  description: One entry per clone acted on, with its metadata, sizes and what was done.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Clone name.
      type: str
    user:
      description: Owner.
      type: str
    version:
      description: Label of the version the clone was made from.
      type: str
    address:
      description: Address assigned to the clone.
      type: str
    created:
      description: Creation time (UTC, ISO 8601).
      type: str
    expires:
      description: Expiry (UTC, ISO 8601) or none.
      type: str
    split:
      description: Whether the clone is independent of its version.
      type: bool
    logical_size:
      description: Size the clone shows to its user, in bytes.
      type: int
    added_bytes:
      description: Real disk the clone adds beyond its version, in bytes.
      type: int
    action:
      description: V(created), V(kept), V(updated), V(refreshed), V(reset), V(split), V(removed) or V(expired).
      type: str
    seconds:
      description: Wall time of the action on this clone.
      type: float
    container:
      description: Name of the clone's container.
      type: str
    container_id:
      description: ID of the clone's container (null in check mode).
      type: str
    state:
      description: State of the container (V(running), V(created), V(exited)...).
      type: str
    data_volume:
      description: The volume mounted at O(mount_path) - C(<clone>-data) (overlay), or C(<clone>-split) once split.
      type: str
    delta_volume:
      description: The volume holding the clone's writes, C(<clone>-delta) (null once split).
      type: str
versions:
  description: The set's frozen versions after the run (version, created, volume, logical_size, allocated).
  returned: always
  type: list
  elements: dict
golden:
  description: The golden source (name, volume, image, logical_size, allocated).
  returned: always
  type: dict
report:
  description:
    - Savings of the set after the run. O(clones) cost C(shared_bytes) (each version in use, once) plus
      C(added_bytes); as full copies they would cost C(full_copy_bytes) (each clone a copy of its version's data).
  returned: always
  type: dict
  contains:
    clones:
      description: Per clone name, user, version, split, logical_size, added_bytes, seconds.
      type: list
      elements: dict
    savings_known:
      description:
        - Whether every figure below was measured. False when the platform reports no real disk usage for some
          volume; the byte totals, savings and percentages are then null, never guessed.
      type: bool
    clone_count:
      description: Number of clones in the set.
      type: int
    logical_bytes:
      description: Sum of the clones' logical sizes.
      type: int
    shared_bytes:
      description: Real disk of the versions in use.
      type: int
    added_bytes:
      description: Real disk added by the clones.
      type: int
    clone_bytes:
      description: C(shared_bytes) + C(added_bytes).
      type: int
    full_copy_bytes:
      description: Disk the same clones would take as full copies.
      type: int
    saved_bytes:
      description: C(full_copy_bytes) - C(clone_bytes).
      type: int
    saved_percent:
      description: Saved share of C(full_copy_bytes).
      type: float
    clone_percent:
      description: C(clone_bytes) as a share of C(full_copy_bytes).
      type: float
    seconds:
      description: Wall time spent on clone actions.
      type: float
report_table:
  description: RV(report) as a text table (clones, full copies against clones, savings).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import devtest_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import client_from_module, docker_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.docker.devtest import run_docker_devtest


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec(devtest_argument_spec({
            "image": {"type": "str", "required": True},
            "golden_volume": {"type": "str", "required": True},
            "mount_path": {"type": "str", "default": "/data"},
            "network": {"type": "str"},
            "command": {"type": "list", "elements": "str"},
            "env": {"type": "dict", "default": {}},
            "helper_image": {"type": "str"},
            "start": {"type": "bool", "default": True},
        })),
        supports_check_mode=True,
    )
    run_service(module, lambda: run_docker_devtest(client_from_module(module), module.params,
                                                   check_mode=module.check_mode))


if __name__ == "__main__":
    main()
