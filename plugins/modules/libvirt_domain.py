#!/usr/bin/python
# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_domain
short_description: Define libvirt domains and drive their state
version_added: 0.1.0
description:
  - Defines a domain from structured options (memory, vCPUs, disks from pool volumes, networks, cloud-init seed,
    serial console, machine type, firmware, direct kernel boot) or from raw O(xml), and brings it to O(state).
  - The definition is compared, not blindly replaced - what the options or O(xml) say is applied onto the domain's
    current persistent XML; libvirt's own defaults (controllers, PCI addresses, versioned machine types) never count
    as a change, a different memory size, disk or NIC does. Elements the options do not mention are kept.
  - Diff mode shows the normalised XML before and after (UUID, aliases, addresses and security labels left out).
  - Changes to a running domain's definition apply at its next boot; RV(restart_required) says so.
  - A domain this module defines records that in its C(<metadata>). A same-name domain without any virtlab.infra
    record there (made elsewhere) is left alone; a task that gives a definition (O(xml) or the structured options)
    then refuses, naming O(name) and saying what the domain holds, when that definition differs from the domain's -
    it is never redefined. A task whose definition already holds, or that gives none (only O(state), O(labels),
    O(autostart)), works on it as on its own. A C(<name>-cidata.iso) volume that the domain does not record as its
    seed is refused too (naming O(name)).
author:
  - virtlab.infra contributors (@virtlab)
options:
  name:
    description: Name of the domain.
    type: str
    required: true
  state:
    description:
      - V(present) defines the domain and leaves it running or not; V(running), V(paused) and V(shutdown) also set
        its run state; V(absent) destroys and undefines it (with O(remove_volumes), its disk volumes too).
      - V(shutdown) asks the guest to power off (ACPI) and waits up to O(shutdown_timeout) seconds, then destroys
        it (unless O(force=false)). A paused guest is destroyed at once.
    type: str
    choices: [present, running, paused, shutdown, absent]
    default: present
  xml:
    description:
      - A full or partial domain XML document. Mutually exclusive with the structured options.
      - Its C(<name>), when given, must be O(name).
    type: str
  virt_type:
    description:
      - Domain type. A new domain gets V(qemu) (TCG emulation, which works on every host) unless V(kvm) is asked for;
        an existing domain keeps its type unless this is given.
    type: str
    choices: [kvm, qemu]
  memory:
    description: Memory size, for example V(512M) or V(2G).
    type: str
  vcpus:
    description: Number of virtual CPUs.
    type: int
  arch:
    description: Guest architecture.
    type: str
    default: x86_64
  machine:
    description: Machine type, for example V(pc) or V(q35) (libvirt expands them into versioned names).
    type: str
  firmware:
    description: V(bios) or V(efi) (needs OVMF on the host).
    type: str
    choices: [bios, efi]
  kernel:
    description: Kernel file on the host for direct kernel boot.
    type: path
  initrd:
    description: Initial ramdisk for O(kernel).
    type: path
  cmdline:
    description: Kernel command line for O(kernel).
    type: str
  disks:
    description: Disks, in order (targets V(vda), V(vdb)... unless given).
    type: list
    elements: dict
    suboptions:
      pool:
        description: Pool of O(disks[].volume).
        type: str
      volume:
        description: A volume of O(disks[].pool) (its format is read from libvirt).
        type: str
      path:
        description: A file instead of a pool volume.
        type: path
      format:
        description: Image format; defaults to the volume's (or V(raw) for a path).
        type: str
        choices: [raw, qcow2, iso]
      device:
        description: Device type.
        type: str
        choices: [disk, cdrom]
        default: disk
      bus:
        description: Bus; V(virtio) for disks and V(sata) for CD-ROMs by default.
        type: str
        choices: [virtio, sata, scsi, ide, usb]
      target:
        description: Target device name, for example V(vdb).
        type: str
      readonly:
        description: Attach read-only (CD-ROMs always are).
        type: bool
        default: false
  networks:
    description: Network interfaces, in order.
    type: list
    elements: dict
    suboptions:
      type:
        description: V(network) (a libvirt network), V(bridge) (a host bridge) or V(user) (user-mode networking).
        type: str
        choices: [network, bridge, user]
        default: network
      source:
        description: Network name (default V(default)) or bridge name.
        type: str
      mac:
        description: MAC address; libvirt generates one when omitted.
        type: str
      model:
        description: NIC model.
        type: str
        default: virtio
  serial:
    description: A serial console on port 0.
    type: dict
    suboptions:
      type:
        description: V(pty) (reachable with C(virsh console)) or V(file) (appended to O(serial.path)).
        type: str
        choices: [pty, file]
        default: pty
      path:
        description: Log file of a V(file) console.
        type: path
  cloud_init:
    description:
      - A cloud-init NoCloud seed - an ISO (volume label C(cidata)) built with C(xorriso) on the managed host, uploaded
        as the volume C(<name>-cidata.iso) of O(cloud_init.pool) and attached as a CD-ROM.
      - Rebuilt when its content changes (a digest of it is kept in the domain's metadata).
    type: dict
    suboptions:
      pool:
        description: Pool of the seed volume.
        type: str
        required: true
      user_data:
        description: The C(user-data) document (for example C(#cloud-config) followed by YAML).
        type: str
      meta_data:
        description: The C(meta-data) document; by default the instance ID and host name are the domain's name.
        type: str
      network_config:
        description: The C(network-config) document (network config version 1 or 2).
        type: str
  autostart:
    description: Whether libvirtd starts the domain at boot. Omit to leave it as it is.
    type: bool
  labels:
    description:
      - Labels (key/value) kept in the domain's metadata; they replace the labels it had. The inventory plugin
        V(virtlab.infra.libvirt) groups domains by them. Omit to leave them as they are.
    type: dict
  shutdown_timeout:
    description: Seconds to wait for a graceful shutdown.
    type: int
    default: 120
  force:
    description: Destroy the domain when it has not shut down after O(shutdown_timeout); with V(false) that is an error.
    type: bool
    default: true
  remove_volumes:
    description:
      - With O(state=absent), delete the domain's disk volumes too (those in libvirt pools). Refused, before anything
        is removed, when another volume uses one of them as backing file.
    type: bool
    default: false
extends_documentation_fragment:
  - virtlab.infra.libvirt
  - virtlab.infra.libvirt.attributes
"""

EXAMPLES = r"""
- name: A small guest on a linked clone of the golden image, running
  virtlab.infra.libvirt_domain:
    name: dev-alice
    memory: 1G
    vcpus: 2
    machine: q35
    disks:
      - pool: virtlab
        volume: dev-alice.qcow2
    networks:
      - source: default
    serial:
      type: pty
    state: running

- name: From raw XML
  virtlab.infra.libvirt_domain:
    name: legacy
    xml: "{{ lookup('ansible.builtin.file', 'legacy.xml') }}"

- name: Graceful shutdown, at most 60 s, then power off
  virtlab.infra.libvirt_domain:
    name: dev-alice
    state: shutdown
    shutdown_timeout: 60

- name: Remove it with its disks
  virtlab.infra.libvirt_domain:
    name: dev-alice
    state: absent
    remove_volumes: true
"""

RETURN = r"""
domain:
  description: The domain after the task (only name and state in check mode when something changes, or when absent).
  returned: always
  type: dict
  contains:
    name:
      description: Domain name.
      type: str
    uuid:
      description: Domain UUID.
      type: str
    state:
      description: V(running), V(paused), V(shutdown), V(crashed) or V(absent).
      type: str
    autostart:
      description: Whether it starts with libvirtd.
      type: bool
    persistent:
      description: Whether it is defined (not transient).
      type: bool
    disks:
      description: Its disks (target, device, type, path or pool and volume).
      type: list
      elements: dict
    interfaces:
      description: Its network interfaces (type, MAC address).
      type: list
      elements: dict
    labels:
      description: Its labels.
      type: dict
  sample:
    name: dev-alice
    uuid: 0b4c1cb2-8a7a-4ad6-9b1a-7d36c8f4a1ff
    state: running
    autostart: false
    persistent: true
    disks: [{target: vda, device: disk, type: volume, pool: virtlab, volume: dev-alice.qcow2, path: null}]
    interfaces: [{type: network, mac: "52:54:00:12:34:56"}]
    labels: {team: db, env: dev}
changes:
  description: >-
    What changed - element paths of the definition, V(defined) for a new domain, V(labels), V(cloud_init) (the seed
    was rebuilt).
  returned: when the definition changed
  type: list
  elements: str
  sample: ["domain/memory", "domain/devices/disk[vdb] (added)"]
restart_required:
  description: The domain runs and its new definition applies at its next boot.
  returned: when a running domain was redefined
  type: bool
forced:
  description: Whether the shutdown had to destroy the domain (timeout, or a paused guest).
  returned: when O(state=shutdown) stopped the domain
  type: bool
removed_volumes:
  description: The volumes deleted with the domain (pool/name).
  returned: when O(state=absent) removed the domain
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.module import run_service
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    HAS_LIBVIRT,
    LIBVIRT_IMPORT_ERROR,
    LibvirtConnection,
    libvirt_argument_spec,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import DomainService

DISK_SPEC = {
    "pool": {"type": "str"},
    "volume": {"type": "str"},
    "path": {"type": "path"},
    "format": {"type": "str", "choices": ["raw", "qcow2", "iso"]},
    "device": {"type": "str", "choices": ["disk", "cdrom"], "default": "disk"},
    "bus": {"type": "str", "choices": ["virtio", "sata", "scsi", "ide", "usb"]},
    "target": {"type": "str"},
    "readonly": {"type": "bool", "default": False},
}
NETWORK_SPEC = {
    "type": {"type": "str", "choices": ["network", "bridge", "user"], "default": "network"},
    "source": {"type": "str"},
    "mac": {"type": "str"},
    "model": {"type": "str", "default": "virtio"},
}
CLOUD_INIT_SPEC = {
    "pool": {"type": "str", "required": True},
    "user_data": {"type": "str"},
    "meta_data": {"type": "str"},
    "network_config": {"type": "str"},
}
SERIAL_SPEC = {
    "type": {"type": "str", "choices": ["pty", "file"], "default": "pty"},
    "path": {"type": "path"},
}
ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "running", "paused", "shutdown", "absent"], "default": "present"},
    "xml": {"type": "str"},
    "virt_type": {"type": "str", "choices": ["kvm", "qemu"]},
    "memory": {"type": "str"},
    "vcpus": {"type": "int"},
    "arch": {"type": "str", "default": "x86_64"},
    "machine": {"type": "str"},
    "firmware": {"type": "str", "choices": ["bios", "efi"]},
    "kernel": {"type": "path"},
    "initrd": {"type": "path"},
    "cmdline": {"type": "str"},
    "disks": {"type": "list", "elements": "dict", "options": DISK_SPEC,
              "mutually_exclusive": [("volume", "path")]},
    "networks": {"type": "list", "elements": "dict", "options": NETWORK_SPEC},
    "serial": {"type": "dict", "options": SERIAL_SPEC},
    "cloud_init": {"type": "dict", "options": CLOUD_INIT_SPEC},
    "autostart": {"type": "bool"},
    "labels": {"type": "dict"},
    "shutdown_timeout": {"type": "int", "default": 120},
    "force": {"type": "bool", "default": True},
    "remove_volumes": {"type": "bool", "default": False},
}
STRUCTURED = ("memory", "vcpus", "machine", "firmware", "kernel", "disks", "networks", "serial", "cloud_init")


def main() -> None:
    module = AnsibleModule(
        argument_spec=libvirt_argument_spec(ARGUMENT_SPEC),
        supports_check_mode=True,
        mutually_exclusive=[("xml", option) for option in STRUCTURED],
        required_by={"initrd": "kernel", "cmdline": "kernel"},
    )
    if not HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib("libvirt-python"), exception=LIBVIRT_IMPORT_ERROR)
    connection = LibvirtConnection.from_params(module.params)
    run_service(module, lambda: DomainService(
        connection, module.params, module.check_mode, module.run_command).ensure())


if __name__ == "__main__":
    main()
