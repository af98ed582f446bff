# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: libvirt
short_description: libvirt domains as inventory hosts
version_added: 0.1.0
description:
  - One host per libvirt domain, named after the domain.
  - Groups - C(libvirt_<state>) (running, shutdown, paused, crashed), C(label_<key>_<value>) for each label set with
    M(virtlab.infra.libvirt_domain) O(virtlab.infra.libvirt_domain#module:labels), and C(clones_of_<source>) for
    domains made by M(virtlab.infra.libvirt_domain_clone).
  - C(ansible_host) is the first IPv4 address of a running domain, from the sources in O(address_sources) in order
    (the DHCP leases of libvirt networks, the QEMU guest agent, the host's ARP table).
  - Host variables C(libvirt_uuid), C(libvirt_state), C(libvirt_vcpus), C(libvirt_memory_mib), C(libvirt_autostart),
    C(libvirt_labels), C(libvirt_clone_of), C(libvirt_disks), C(libvirt_interfaces), C(libvirt_address_source).
  - The inventory file's name must end with C(libvirt.yml) or C(libvirt.yaml).
author:
  - virtlab.infra contributors (@virtlab)
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [virtlab.infra.libvirt]
  address_sources:
    description: Where addresses come from, in order; the first source that has one wins.
    type: list
    elements: str
    choices: [lease, agent, arp]
    default: [lease, agent]
  states:
    description: Only domains in these states become hosts; empty means all.
    type: list
    elements: str
    choices: [running, paused, shutdown, crashed]
    default: []
extends_documentation_fragment:
  - virtlab.infra.libvirt.plugin
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
"""

EXAMPLES = r"""
# inventory/dev.libvirt.yml
plugin: virtlab.infra.libvirt
uri: qemu:///system
states: [running]
keyed_groups:
  - key: libvirt_labels.team | default('none')
    prefix: team
compose:
  ansible_user: "'debian'"
"""

from ansible.errors import AnsibleError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import HAS_LIBVIRT, LibvirtConnection
from ansible_collections.virtlab.infra.plugins.plugin_utils.libvirt import collect_domains


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "virtlab.infra.libvirt"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("libvirt.yml", "libvirt.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        domains = None
        if use_cache:
            try:
                domains = self._cache[cache_key]
            except KeyError:
                domains = None
        if domains is None:
            domains = self._fetch()
            if self.get_option("cache"):
                self._cache[cache_key] = domains
        self._populate(domains)

    def _fetch(self):
        if not HAS_LIBVIRT:
            raise AnsibleError("the virtlab.infra.libvirt inventory needs libvirt-python on the controller")
        connection = LibvirtConnection(self.get_option("uri"))
        try:
            return collect_domains(connection, self.get_option("address_sources"))
        except VirtlabError as exc:
            raise AnsibleError(f"virtlab.infra.libvirt inventory ({connection.uri}): {exc}") from None
        finally:
            connection.close()

    def _populate(self, domains):
        wanted_states = set(self.get_option("states") or [])
        strict = self.get_option("strict")
        for domain in domains:
            if wanted_states and domain["state"] not in wanted_states:
                continue
            host = self.inventory.add_host(domain["name"])
            for key in ("uuid", "state", "vcpus", "memory_mib", "autostart", "labels", "clone_of", "disks",
                        "interfaces", "address_source"):
                self.inventory.set_variable(host, "libvirt_" + key, domain[key])
            if domain["ansible_host"]:
                self.inventory.set_variable(host, "ansible_host", domain["ansible_host"])
            groups = ["libvirt_" + domain["state"]]
            groups += [f"label_{key}_{value}" for key, value in sorted(domain["labels"].items())]
            if domain["clone_of"]:
                groups.append("clones_of_" + domain["clone_of"])
            for group in groups:
                self.inventory.add_child(self.inventory.add_group(to_safe_group_name(group)), host)
            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
