#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_lxc
short_description: Manage Proxmox VE LXC containers - create, clone, update in place, power and remove
version_added: 0.1.0
description:
  - Creates a container from an appliance template (the volume must already be on the storage; see
    M(virtlab.infra.proxmox_template)) or clones a template container, linked or full.
  - An existing container is found by O(vmid), else by O(hostname). Its configuration drift is updated in
    place and reported as a diff; a second identical run reports no change.
  - The root disk and mount points grow when asked for more; they are never shrunk (a warning says so).
  - Without O(vmid) a free id is taken from the cluster, safely when several runs create at the same time.
  - Without O(node) the container goes to the online node with the most free memory that has the storages.
  - A create or clone that fails on the way removes what it made.
  - Refuses, before any write, to touch a container that is not the one the task describes, naming the vmid
    and what it holds - when O(vmid) holds a container of another host name (unless O(rename=true)) or a VM;
    when the container found is the O(clone) source itself; when a task that creates (O(clone) or
    O(ostemplate)) finds a template and does not ask for O(state=template); when the container records another
    source (tag C(virtlab-clone-of-<vmid>), written on every clone) or is a linked clone of another template;
    when an O(ostemplate) task finds a clone; when the task gives no O(hostname) and the container carries no
    record of its O(clone) source. A container without such a record is recognised by its host name.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
options:
  state:
    description:
      - V(present) creates or updates; V(started), V(stopped), V(restarted) also set the power state
        (V(stopped) shuts down cleanly within O(shutdown_timeout), then stops when O(force_stop)).
      - V(template) converts the container into a template (stopping it first).
      - V(absent) stops and destroys the container with its disks.
    type: str
    choices: [present, started, stopped, restarted, absent, template]
    default: present
  vmid:
    description: The container id. Allocated from C(/cluster/nextid) when a new container has none.
    type: int
  hostname:
    description:
      - Host name of the container; also how an existing container is found when O(vmid) is not given.
      - Required to create from O(ostemplate).
    type: str
    aliases: [name]
  node:
    description:
      - Node to create the container on (a clone goes there as its target). Chosen by free memory among the
        online nodes that have the storages when not given.
    type: str
  ostemplate:
    description: Volume id of the appliance template, C(storage:vztmpl/file).
    type: str
  clone:
    description: Id or host name of the container to clone instead of creating from O(ostemplate).
    type: str
  full:
    description:
      - Full clone (a copy of the disks) instead of a linked clone. Default is linked when the source is a
        template and full otherwise. Linked clones need a template as source.
    type: bool
  storage:
    description:
      - Storage of the root disk (and default storage of O(mounts)); for a full clone, the target storage.
      - Defaults to C(local) for a new container.
    type: str
  rootfs_size:
    description:
      - Size of the root disk, as a number of GiB or with a unit (C(200G), C(512M)). Grows an existing
        disk; never shrinks it.
    type: str
    aliases: [disk_size]
  password:
    description: Root password inside a new container (used at creation only; it cannot be read back).
    type: str
  ssh_public_keys:
    description: SSH public keys for root in a new container (used at creation only).
    type: list
    elements: str
  unprivileged:
    description: Create an unprivileged container (cannot be changed later).
    type: bool
    default: true
  cores:
    description: Number of CPU cores.
    type: int
  cpulimit:
    description: CPU usage limit (V(0) means unlimited).
    type: float
  cpuunits:
    description: CPU weight relative to other guests.
    type: int
  memory:
    description: Memory in MiB.
    type: int
  swap:
    description: Swap in MiB.
    type: int
  networks:
    description:
      - Network interfaces, C(net0) first. Only the settings given are compared, so the MAC address
        chosen by Proxmox VE is kept.
    type: list
    elements: dict
    suboptions:
      index:
        description: Number N of the C(netN) key. Defaults to the position in the list.
        type: int
      name:
        description: Interface name inside the container. Defaults to C(ethN).
        type: str
      bridge:
        description: Bridge on the host (C(vmbr0)).
        type: str
        required: true
      tag:
        description: VLAN tag (1-4094).
        type: int
      ip:
        description: IPv4 address with prefix (C(192.0.2.10/24)), V(dhcp) or V(manual).
        type: str
      gw:
        description: IPv4 gateway, inside the subnet of O(networks[].ip).
        type: str
      ip6:
        description: IPv6 address with prefix, V(dhcp), V(auto) or V(manual).
        type: str
      gw6:
        description: IPv6 gateway.
        type: str
      firewall:
        description: Use the firewall rules of this interface.
        type: bool
      rate:
        description: Rate limit in MB/s.
        type: float
      mtu:
        description: MTU of the interface.
        type: int
      hwaddr:
        description: Fixed MAC address (otherwise Proxmox VE chooses one).
        type: str
  nameservers:
    description: DNS servers (IP addresses).
    type: list
    elements: str
  searchdomain:
    description: DNS search domain.
    type: str
  features:
    description: >-
      Container features, for example C({nesting: true, keyctl: true}) (nesting, keyctl, fuse, mknod,
      force_rw_sys, and mount with a C(;)-separated list of file systems).
    type: dict
  onboot:
    description: Start the container when its node boots.
    type: bool
  pool:
    description: Resource pool of a new container (at creation only).
    type: str
  tags:
    description:
      - Tags (lower-cased, compared as a set). The tag C(virtlab-clone-of-<vmid>) is the module's record of a
        clone's source; it is kept when the tags change and cannot be given here.
    type: list
    elements: str
  description:
    description: Notes shown in the web interface.
    type: str
  mounts:
    description: Additional mount points C(mpN), created on their storage; grown when their size grows.
    type: list
    elements: dict
    suboptions:
      id:
        description: Number N of the C(mpN) key. Defaults to the position in the list.
        type: int
      storage:
        description: Storage of the volume. Defaults to O(storage).
        type: str
      size:
        description: Size (GiB number or with a unit).
        type: str
        required: true
      path:
        description: Mount path inside the container.
        type: str
        required: true
      backup:
        description: Include the volume in backups.
        type: bool
      ro:
        description: Mount read-only.
        type: bool
  shutdown_timeout:
    description: Seconds a clean shutdown may take before O(force_stop) applies.
    type: int
    default: 60
  force_stop:
    description: Stop the container hard when the clean shutdown did not finish in time.
    type: bool
    default: true
  purge:
    description: With O(state=absent), also remove the container from backup jobs, HA and replication.
    type: bool
    default: true
  rename:
    description:
      - Rename the container found by O(vmid) to O(hostname) when its host name differs. Without it, a O(vmid)
        holding a container of another host name is refused as someone else's guest.
    type: bool
    default: false
notes:
  - Pool membership, O(password), O(ssh_public_keys) and O(unprivileged) apply when the container is created.
  - Containers are not migrated between nodes by this module; a different O(node) for an existing one warns.
seealso:
  - module: virtlab.infra.proxmox_template
  - module: virtlab.infra.proxmox_vm
"""

EXAMPLES = r"""
- name: Moodle appliance container, 8 cores, DHCP on vmbr1, started
  virtlab.infra.proxmox_lxc:
    api_host: pve1.example.org
    api_token_id: automation@pve!ansible
    api_token_secret: "{{ vault_pve_token }}"
    ca_path: /etc/ssl/pve-root-ca.pem
    hostname: moodle01
    ostemplate: local:vztmpl/debian-12-turnkey-moodle_18.0-1_amd64.tar.gz
    storage: local-lvm
    rootfs_size: 200G
    cores: 8
    memory: 2048
    swap: 2048
    networks:
      - bridge: vmbr1
        ip: dhcp
    nameservers: [192.0.2.53]
    features:
      nesting: true
    state: started

- name: Linked clone of a template container with a static address
  virtlab.infra.proxmox_lxc:
    hostname: web02
    clone: ct-template-web
    networks:
      - bridge: vmbr0
        tag: 20
        ip: 192.0.2.22/24
        gw: 192.0.2.1
    state: started

- name: Remove it
  virtlab.infra.proxmox_lxc:
    hostname: web02
    state: absent
"""

RETURN = r"""
vmid:
  description: Id of the container (null in check mode when a new id would be allocated).
  returned: always
  type: int
  sample: 105
node:
  description: Node the container lives on.
  returned: when the container exists or would be created
  type: str
  sample: pve1
hostname:
  description: Host name of the container.
  returned: when the container exists or would be created
  type: str
status:
  description: Power state after the run (V(running), V(stopped)).
  returned: when the container exists or would be created
  type: str
template:
  description: Whether the container is a template.
  returned: when the container exists or would be created
  type: bool
config:
  description: The container configuration as Proxmox VE reports it (in check mode, as predicted).
  returned: when the container exists or would be created
  type: dict
clone_of:
  description: Id of the source container of a new clone.
  returned: when a clone was made
  type: int
state:
  description: V(absent) after a removal.
  returned: when O(state=absent)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import proxmox_argument_spec
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.lxc import LxcRequest, LxcService
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module

NETWORK_OPTIONS = {
    "index": {"type": "int"},
    "name": {"type": "str"},
    "bridge": {"type": "str", "required": True},
    "tag": {"type": "int"},
    "ip": {"type": "str"},
    "gw": {"type": "str"},
    "ip6": {"type": "str"},
    "gw6": {"type": "str"},
    "firewall": {"type": "bool"},
    "rate": {"type": "float"},
    "mtu": {"type": "int"},
    "hwaddr": {"type": "str"},
}

MOUNT_OPTIONS = {
    "id": {"type": "int"},
    "storage": {"type": "str"},
    "size": {"type": "str", "required": True},
    "path": {"type": "str", "required": True},
    "backup": {"type": "bool"},
    "ro": {"type": "bool"},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "state": {"type": "str", "default": "present",
                      "choices": ["present", "started", "stopped", "restarted", "absent", "template"]},
            "vmid": {"type": "int"},
            "hostname": {"type": "str", "aliases": ["name"]},
            "node": {"type": "str"},
            "ostemplate": {"type": "str"},
            "clone": {"type": "str"},
            "full": {"type": "bool"},
            "storage": {"type": "str"},
            "rootfs_size": {"type": "str", "aliases": ["disk_size"]},
            "password": {"type": "str", "no_log": True},
            "ssh_public_keys": {"type": "list", "elements": "str", "no_log": False},
            "unprivileged": {"type": "bool", "default": True},
            "cores": {"type": "int"},
            "cpulimit": {"type": "float"},
            "cpuunits": {"type": "int"},
            "memory": {"type": "int"},
            "swap": {"type": "int"},
            "networks": {"type": "list", "elements": "dict", "options": NETWORK_OPTIONS},
            "nameservers": {"type": "list", "elements": "str"},
            "searchdomain": {"type": "str"},
            "features": {"type": "dict"},
            "onboot": {"type": "bool"},
            "pool": {"type": "str"},
            "tags": {"type": "list", "elements": "str"},
            "description": {"type": "str"},
            "mounts": {"type": "list", "elements": "dict", "options": MOUNT_OPTIONS},
            "shutdown_timeout": {"type": "int", "default": 60},
            "force_stop": {"type": "bool", "default": True},
            "purge": {"type": "bool", "default": True},
            "rename": {"type": "bool", "default": False},
        }),
        mutually_exclusive=[("ostemplate", "clone")],
        required_one_of=[("vmid", "hostname")],
        supports_check_mode=True,
    )
    run_service(module, lambda: LxcService(client_from_module(module, needs_netaddr=True),
                                           check_mode=module.check_mode).ensure(LxcRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
