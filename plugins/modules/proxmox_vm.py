#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_vm
short_description: Manage Proxmox VE QEMU virtual machines - create, clone, cloud-init, update, power, migrate
version_added: 0.1.0
description:
  - Creates a VM, or clones one from a template (linked or full, to another node and storage), by vmid or name.
  - An existing VM is found by O(vmid), else by O(name). Its configuration is compared with the options given;
    only differences are written, so a second identical run reports no change (diff mode shows them).
  - Refuses, before any write, to touch a VM that is not the one the task describes, naming the vmid and what
    it holds - when O(vmid) holds a VM of another name (unless O(rename=true)) or a container; when the VM
    found is the O(clone) source itself; when a task that creates (O(clone) or O(disks)) finds a template
    and does not ask for O(state=template); when the VM records another source (tag
    C(virtlab-clone-of-<vmid>), written on every clone) or is a linked clone of another template. A VM without
    such a record is recognised by its name.
  - Disks grow when asked for more and are never shrunk.
  - O(state=stopped) shuts the guest down cleanly within O(shutdown_timeout), then stops it when O(force_stop).
  - A VM on another node than O(node) is migrated (online when it runs) unless O(migrate=false).
  - A create or clone that fails on the way removes what it made.
author:
  - virtlab.infra contributors (@virtlab)
extends_documentation_fragment:
  - virtlab.infra.proxmox
  - virtlab.infra.proxmox.attributes
options:
  state:
    description:
      - V(present) creates or updates; V(started), V(stopped) and V(restarted) also set the power state;
        V(template) converts the VM into a template; V(absent) stops and destroys it with its disks.
    type: str
    choices: [present, started, stopped, restarted, absent, template]
    default: present
  vmid:
    description: Id of the VM. Allocated from C(/cluster/nextid) when a new VM has none.
    type: int
  name:
    description: Name of the VM; how an existing VM is found without O(vmid). Required to create or clone.
    type: str
  node:
    description:
      - Node of the VM. A new VM goes to the online node with the most free memory having its storages when not
        given; an existing VM elsewhere is migrated there.
    type: str
  migrate:
    description: Migrate an existing VM found on another node than O(node).
    type: bool
    default: true
  rename:
    description:
      - Rename the VM found by O(vmid) to O(name) when its name differs. Without it, a O(vmid) holding a VM
        of another name is refused as someone else's guest.
    type: bool
    default: false
  clone:
    description: Id or name of the VM or template to clone.
    type: str
  full:
    description: Full clone instead of linked. Default is linked for a template source, full otherwise.
    type: bool
  storage:
    description: Target storage of a full clone, and default storage of O(disks).
    type: str
  format:
    description: Disk format of a full clone.
    type: str
    choices: [raw, qcow2, vmdk]
  pool:
    description: Resource pool of a new VM (at creation only).
    type: str
  cores:
    description: CPU cores per socket.
    type: int
  sockets:
    description: CPU sockets.
    type: int
  cpu:
    description: CPU type (C(host), C(x86-64-v2-AES), ...).
    type: str
  memory:
    description: Memory in MiB.
    type: int
  balloon:
    description: Minimum memory in MiB for the balloon device (V(0) disables it).
    type: int
  ostype:
    description: Guest OS type (C(l26), C(win11), ...).
    type: str
  scsihw:
    description: SCSI controller model (C(virtio-scsi-single), ...).
    type: str
  agent:
    description: Enable the QEMU guest agent device.
    type: bool
  onboot:
    description: Start the VM when its node boots.
    type: bool
  tags:
    description:
      - Tags (lower-cased, compared as a set). The tag C(virtlab-clone-of-<vmid>) is the module's record of a
        clone's source; it is kept when the tags change and cannot be given here.
    type: list
    elements: str
  description:
    description: Notes shown in the web interface.
    type: str
  boot:
    description: Boot order, a list of devices (C([scsi0, net0])).
    type: list
    elements: str
  disks:
    description: Disks; missing ones are added, existing ones grown and their options updated.
    type: list
    elements: dict
    suboptions:
      slot:
        description: Bus and number (C(scsi0), C(virtio1), C(sata0)).
        type: str
        required: true
      storage:
        description: Storage of a new disk. Defaults to O(storage).
        type: str
      size:
        description: Size, as a GiB number or with a unit.
        type: str
        required: true
      format:
        description: Format of a new disk.
        type: str
        choices: [raw, qcow2, vmdk]
      cache:
        description: Cache mode.
        type: str
        choices: [none, writethrough, writeback, unsafe, directsync]
      discard:
        description: V(on) passes discard/trim to the storage.
        type: str
        choices: ["on", ignore]
      ssd:
        description: Present the disk as an SSD.
        type: bool
      iothread:
        description: Own I/O thread for the disk.
        type: bool
      backup:
        description: Include the disk in backups.
        type: bool
  nics:
    description: Network devices, C(net0) first. The MAC address stays as Proxmox VE chose it unless given.
    type: list
    elements: dict
    suboptions:
      index:
        description: Number N of C(netN). Defaults to the position in the list.
        type: int
      model:
        description: NIC model.
        type: str
        default: virtio
      bridge:
        description: Bridge on the host.
        type: str
        required: true
      tag:
        description: VLAN tag (1-4094).
        type: int
      firewall:
        description: Use the firewall of this NIC.
        type: bool
      rate:
        description: Rate limit in MB/s.
        type: float
      mtu:
        description: MTU (virtio only).
        type: int
      macaddr:
        description: Fixed MAC address.
        type: str
  cloudinit_storage:
    description: Storage of the cloud-init drive; adds one when the VM has none.
    type: str
  ciuser:
    description: Cloud-init user name.
    type: str
  cipassword:
    description:
      - Cloud-init password. Proxmox VE keeps only a hash, so it is set when the VM is created or cloned, not
        compared afterwards.
    type: str
  sshkeys:
    description: Cloud-init SSH public keys.
    type: list
    elements: str
  ipconfig:
    description: Cloud-init network settings, C(ipconfig0) first.
    type: list
    elements: dict
    suboptions:
      ip:
        description: IPv4 address with prefix, or V(dhcp).
        type: str
      gw:
        description: IPv4 gateway, inside the subnet of O(ipconfig[].ip).
        type: str
      ip6:
        description: IPv6 address with prefix, V(dhcp) or V(auto).
        type: str
      gw6:
        description: IPv6 gateway.
        type: str
  nameservers:
    description: Cloud-init DNS servers.
    type: list
    elements: str
  searchdomain:
    description: Cloud-init DNS search domain.
    type: str
  shutdown_timeout:
    description: Seconds a clean (ACPI) shutdown may take before O(force_stop) applies.
    type: int
    default: 120
  force_stop:
    description: Stop the VM hard when the clean shutdown did not finish in time.
    type: bool
    default: true
  purge:
    description: With O(state=absent), also remove the VM from backup jobs, HA and replication.
    type: bool
    default: true
seealso:
  - module: virtlab.infra.proxmox_lxc
  - module: virtlab.infra.proxmox_guests
  - module: virtlab.infra.proxmox_snapshot
"""

EXAMPLES = r"""
- name: Linked clone of the Debian template with cloud-init, started
  virtlab.infra.proxmox_vm:
    name: dev-alice
    clone: debian-12-cloud
    ciuser: alice
    sshkeys: ["ssh-ed25519 AAAAC3... alice@laptop"]
    ipconfig:
      - ip: 192.0.2.31/24
        gw: 192.0.2.1
    nameservers: [192.0.2.53]
    cores: 2
    memory: 4096
    state: started

- name: A new VM with a disk and a NIC
  virtlab.infra.proxmox_vm:
    name: build01
    node: pve2
    cores: 4
    memory: 8192
    scsihw: virtio-scsi-single
    disks:
      - slot: scsi0
        storage: local-lvm
        size: 64G
        discard: "on"
        iothread: true
    nics:
      - bridge: vmbr0
        tag: 30
    boot: [scsi0]
    agent: true

- name: Graceful shutdown, at most 3 minutes, then stop
  virtlab.infra.proxmox_vm:
    name: build01
    state: stopped
    shutdown_timeout: 180
"""

RETURN = r"""
vmid:
  description: Id of the VM (null in check mode when a new id would be allocated).
  returned: always
  type: int
node:
  description: Node of the VM.
  returned: when the VM exists or would be created
  type: str
name:
  description: Name of the VM.
  returned: when the VM exists or would be created
  type: str
status:
  description: Power state after the run.
  returned: when the VM exists or would be created
  type: str
template:
  description: Whether the VM is a template.
  returned: when the VM exists or would be created
  type: bool
config:
  description: Configuration of the VM with pending changes applied (in check mode, as predicted).
  returned: when the VM exists or would be created
  type: dict
clone_of:
  description: Id of the source of a new clone.
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
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.module import client_from_module
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.vm import VmRequest, VmService

DISK_OPTIONS = {
    "slot": {"type": "str", "required": True},
    "storage": {"type": "str"},
    "size": {"type": "str", "required": True},
    "format": {"type": "str", "choices": ["raw", "qcow2", "vmdk"]},
    "cache": {"type": "str", "choices": ["none", "writethrough", "writeback", "unsafe", "directsync"]},
    "discard": {"type": "str", "choices": ["on", "ignore"]},
    "ssd": {"type": "bool"},
    "iothread": {"type": "bool"},
    "backup": {"type": "bool"},
}

NIC_OPTIONS = {
    "index": {"type": "int"},
    "model": {"type": "str", "default": "virtio"},
    "bridge": {"type": "str", "required": True},
    "tag": {"type": "int"},
    "firewall": {"type": "bool"},
    "rate": {"type": "float"},
    "mtu": {"type": "int"},
    "macaddr": {"type": "str"},
}

IPCONFIG_OPTIONS = {"ip": {"type": "str"}, "gw": {"type": "str"}, "ip6": {"type": "str"}, "gw6": {"type": "str"}}


def main() -> None:
    module = AnsibleModule(
        argument_spec=proxmox_argument_spec({
            "state": {"type": "str", "default": "present",
                      "choices": ["present", "started", "stopped", "restarted", "absent", "template"]},
            "vmid": {"type": "int"},
            "name": {"type": "str"},
            "node": {"type": "str"},
            "migrate": {"type": "bool", "default": True},
            "rename": {"type": "bool", "default": False},
            "clone": {"type": "str"},
            "full": {"type": "bool"},
            "storage": {"type": "str"},
            "format": {"type": "str", "choices": ["raw", "qcow2", "vmdk"]},
            "pool": {"type": "str"},
            "cores": {"type": "int"},
            "sockets": {"type": "int"},
            "cpu": {"type": "str"},
            "memory": {"type": "int"},
            "balloon": {"type": "int"},
            "ostype": {"type": "str"},
            "scsihw": {"type": "str"},
            "agent": {"type": "bool"},
            "onboot": {"type": "bool"},
            "tags": {"type": "list", "elements": "str"},
            "description": {"type": "str"},
            "boot": {"type": "list", "elements": "str"},
            "disks": {"type": "list", "elements": "dict", "options": DISK_OPTIONS},
            "nics": {"type": "list", "elements": "dict", "options": NIC_OPTIONS},
            "cloudinit_storage": {"type": "str"},
            "ciuser": {"type": "str"},
            "cipassword": {"type": "str", "no_log": True},
            "sshkeys": {"type": "list", "elements": "str", "no_log": False},
            "ipconfig": {"type": "list", "elements": "dict", "options": IPCONFIG_OPTIONS},
            "nameservers": {"type": "list", "elements": "str"},
            "searchdomain": {"type": "str"},
            "shutdown_timeout": {"type": "int", "default": 120},
            "force_stop": {"type": "bool", "default": True},
            "purge": {"type": "bool", "default": True},
        }),
        required_one_of=[("vmid", "name")],
        supports_check_mode=True,
    )
    run_service(module, lambda: VmService(client_from_module(module, needs_netaddr=True),
                                          check_mode=module.check_mode).ensure(VmRequest.from_params(module.params)))


if __name__ == "__main__":
    main()
