# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: proxmox
short_description: Proxmox VE guests (QEMU VMs and LXC containers) as inventory hosts
version_added: 0.1.0
description:
  - One host per guest of one or several Proxmox VE clusters. Guests and nodes come from one C(/cluster/resources)
    and one C(/cluster/status) call per cluster, whatever the number of guests.
  - Optional per-guest look-ups (O(lookups)) run concurrently on at most O(lookup_workers) threads, each request
    waiting at most O(lookup_timeout) seconds. A look-up that fails leaves its host in the inventory with the error in
    C(proxmox_lookup_errors); it never fails the inventory.
  - Host names are the guest names; when several guests share a name, the one with the lowest vmid keeps it and the
    others are named C(<name>-<vmid>) (C(<name>-<cluster>-<vmid>) if that clashes too). Guests without a name are
    C(guest-<vmid>). Names are decided over all guests before filtering, so a filter never renames a host.
  - Groups (prefixed with O(group_prefix)) - C(node_<node>), C(qemu) and C(lxc), the status (C(running), C(stopped),
    ...), C(pool_<pool>) (a nested pool C(a/b) is C(pool_a_b), a child of C(pool_a)), C(tag_<tag>) for each tag,
    C(template) for templates, and C(cluster_<name>) for each entry of O(clusters).
  - Host variables C(proxmox_vmid), C(proxmox_name), C(proxmox_node), C(proxmox_type), C(proxmox_status),
    C(proxmox_template), C(proxmox_tags), C(proxmox_pool), C(proxmox_lock), C(proxmox_cluster), C(proxmox_maxcpu),
    C(proxmox_maxmem), C(proxmox_maxdisk), C(proxmox_node_ip); with look-ups C(proxmox_config),
    C(proxmox_interfaces), C(proxmox_static_address), C(proxmox_address_source) and, for a failed look-up,
    C(proxmox_lookup_errors).
  - The connection options have the names of the modules' options (doc fragment C(virtlab.infra.proxmox)) and the
    same environment fallbacks. Values may be templates (for example a vaulted variable).
  - The cache (O(cache)) holds everything, failed look-ups included, so a run from the cache makes no API request.
  - The inventory file's name must end with C(proxmox.yml) or C(proxmox.yaml).
author:
  - virtlab.infra contributors (@virtlab)
requirements:
  - proxmoxer >= 2.0
  - requests
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [virtlab.infra.proxmox]
  clusters:
    description:
      - Several clusters in one inventory. Each entry is a dictionary of the connection options above (O(api_host),
        O(api_token_id), ...) plus an optional C(name) (default the cluster's own name); what an entry omits is taken
        from the top-level options, and a key set to V(null) in an entry unsets the top-level value.
      - Empty means one cluster, described by the top-level options.
    type: list
    elements: dict
    default: []
  lookups:
    description:
      - Per-guest look-ups. V(config) reads each guest's configuration (C(proxmox_config), and the static address
        of its network configuration); V(interfaces) reads the interfaces of running containers; V(agent) asks the
        QEMU guest agent for the interfaces of running VMs whose agent is enabled (this needs their config).
      - Empty means none - the whole inventory then costs two requests per cluster.
    type: list
    elements: str
    choices: [config, interfaces, agent]
    default: []
  lookup_workers:
    description:
      - Look-ups running at once (per cluster), each on its own kept-alive connection. Lower it for a small or
        busy cluster.
    type: int
    default: 16
  lookup_timeout:
    description: Seconds to wait for the answer of one look-up request (a stuck guest agent costs at most this).
    type: int
    default: 10
  address_order:
    description:
      - Where C(ansible_host) comes from, in order; the first source with an address wins. V(interfaces) is an address
        read by the V(interfaces) or V(agent) look-up, V(static) the static address of the network configuration
        (needs the V(config) look-up), V(name) the host name itself.
      - A host with no address from these sources gets no C(ansible_host).
    type: list
    elements: str
    choices: [interfaces, static, name]
    default: [interfaces, static]
  statuses:
    description: Only guests in these states (for example V(running)); empty means all.
    type: list
    elements: str
    default: []
  types:
    description: Only guests of these types; empty means both.
    type: list
    elements: str
    choices: [qemu, lxc]
    default: []
  tags:
    description: Only guests with at least one of these tags; empty means all.
    type: list
    elements: str
    default: []
  pools:
    description: Only guests in these pools (or in pools nested below them); empty means all.
    type: list
    elements: str
    default: []
  nodes:
    description: Only guests on these nodes; empty means all.
    type: list
    elements: str
    default: []
  exclude_templates:
    description: Leave templates out of the inventory.
    type: bool
    default: false
  group_prefix:
    description: Prefix of the groups this plugin makes (not of those of O(groups) and O(keyed_groups)).
    type: str
    default: proxmox_
extends_documentation_fragment:
  - virtlab.infra.proxmox.plugin
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
"""

EXAMPLES = r"""
# inventory/lab.proxmox.yml - also usable as an AWX/Tower inventory source (source from project),
# with the token secret from a credential exposed as PROXMOX_TOKEN_SECRET
plugin: virtlab.infra.proxmox
api_host: pve1.example.org
api_token_id: inventory@pve!ansible
ca_path: /etc/ssl/pve-root-ca.pem
lookups: [config, interfaces, agent]
statuses: [running]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/virtlab-proxmox
cache_timeout: 300
keyed_groups:
  - key: proxmox_config.ostype | default('unknown')
    prefix: os
compose:
  ansible_user: "'root' if proxmox_type == 'lxc' else 'debian'"

---
# inventory/all.proxmox.yml - two clusters, one token name
plugin: virtlab.infra.proxmox
api_token_id: inventory@pve!ansible
api_token_secret: "{{ lookup('ansible.builtin.env', 'PVE_INVENTORY_SECRET') }}"
clusters:
  - name: paris
    api_host: pve-paris.example.org
  - name: lyon
    api_host: pve-lyon.example.org
tags: [web, db]
"""

import os

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import HAS_PROXMOXER, ProxmoxClient
from ansible_collections.virtlab.infra.plugins.plugin_utils.proxmox import (
    CONNECTION_OPTIONS,
    client_params,
    collect_cluster,
    first_address,
    lookup_client_for,
)

_HOSTVARS = ("vmid", "name", "node", "type", "status", "template", "tags", "pool", "lock", "cluster", "maxcpu",
             "maxmem", "maxdisk")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "virtlab.infra.proxmox"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("proxmox.yml", "proxmox.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        clusters = None
        if use_cache:
            try:
                clusters = self._cache[cache_key]
            except KeyError:
                clusters = None
        if clusters is None:
            clusters = [self._fetch(entry) for entry in self._cluster_entries()]
            if self.get_option("cache"):
                self._cache[cache_key] = clusters
        self._populate(clusters)

    # ------------------------------------------------------------------ reading

    def _templated(self, value):
        if isinstance(value, str) and self.templar.is_template(value):
            return self.templar.template(value)
        return value

    def _cluster_entries(self):
        top = {name: self.get_option(name) for name in CONNECTION_OPTIONS}
        entries = self.get_option("clusters") or [{}]
        out = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise AnsibleParserError("clusters[%d]: must be a dictionary of connection options" % index)
            unknown = set(entry) - set(CONNECTION_OPTIONS) - {"name"}
            if unknown:
                raise AnsibleParserError("clusters[%d]: unknown option(s) %s" % (index, ", ".join(sorted(unknown))))
            options = dict(top)
            # a key given as null in an entry unsets the top-level value (for example a token, for a password login)
            options.update(entry)
            options = {k: self._templated(v) for k, v in options.items()}
            if not options.get("api_host"):
                raise AnsibleParserError("%sapi_host is required" % ("clusters[%d]: " % index if entry else ""))
            out.append(options)
        return out

    def _wanted(self, guest):
        statuses = self.get_option("statuses")
        types = self.get_option("types")
        tags = self.get_option("tags")
        pools = self.get_option("pools")
        nodes = self.get_option("nodes")
        if statuses and guest["status"] not in statuses:
            return False
        if types and guest["type"] not in types:
            return False
        if tags and not set(tags) & set(guest["tags"]):
            return False
        if pools and not any(guest["pool"] == p or str(guest["pool"] or "").startswith(p + "/") for p in pools):
            return False
        if nodes and guest["node"] not in nodes:
            return False
        return not (self.get_option("exclude_templates") and guest["template"])

    def _fetch(self, options):
        if not HAS_PROXMOXER:
            raise AnsibleParserError("the virtlab.infra.proxmox inventory needs proxmoxer and requests on the controller")
        if options.get("ca_path") and not os.path.isfile(options["ca_path"]):
            raise AnsibleParserError("virtlab.infra.proxmox inventory (%s): ca_path: no such file %s"
                                     % (options["api_host"], options["ca_path"]))
        try:
            client = ProxmoxClient.from_params(client_params(options))
            lookups = self.get_option("lookups")
            return collect_cluster(client, cluster=options.get("name") or "", lookups=lookups,
                                   lookup_client=lookup_client_for(client, self.get_option("lookup_timeout")),
                                   workers=self.get_option("lookup_workers"), want=self._wanted)
        except VirtlabError as error:
            raise AnsibleParserError("virtlab.infra.proxmox inventory (%s): %s" % (options["api_host"], error)) from None

    # ------------------------------------------------------------------ populating

    @staticmethod
    def _host_names(clusters):
        """Unique host names: the lowest vmid keeps a shared name, the others get their vmid appended."""
        guests = [g for c in clusters for g in c["guests"]]
        taken = {}
        for guest in guests:
            taken.setdefault(guest["name"] or "guest-%d" % guest["vmid"], guest)
        names = {}
        used = set()
        for guest in guests:
            base = guest["name"] or "guest-%d" % guest["vmid"]
            name = base if taken[base] is guest else "%s-%d" % (base, guest["vmid"])
            if name in used or (name != base and name in taken):
                name = "%s-%s-%d" % (base, guest["cluster"], guest["vmid"])
            used.add(name)
            names[id(guest)] = name
        return names

    def _group(self, name, parent=None):
        key = (name, parent)
        if key not in self._groups:
            group = self.inventory.add_group(to_safe_group_name(self.get_option("group_prefix") + name))
            if parent:
                self.inventory.add_child(parent, group)
            self._groups[key] = group
        return self._groups[key]

    def _populate(self, clusters):
        strict = self.get_option("strict")
        order = self.get_option("address_order")
        names = self._host_names(clusters)
        self._groups = {}
        compose, composed, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        # a host's variables are gathered only for the constructed options (costly on thousands of hosts)
        constructed = bool(compose or composed or keyed)
        for cluster in clusters:
            cluster_group = self._group("cluster_" + cluster["cluster"]) if len(clusters) > 1 else None
            node_ips = {}
            for node in cluster["nodes"]:
                node_ips[node["node"]] = node["ip"]
                group = self._group("node_" + node["node"])
                self.inventory.set_variable(group, "proxmox_node_status", node["status"])
            for guest in cluster["guests"]:
                if not guest["wanted"]:
                    continue
                host = self.inventory.add_host(names[id(guest)])
                for key in _HOSTVARS:
                    self.inventory.set_variable(host, "proxmox_" + key, guest[key])
                self.inventory.set_variable(host, "proxmox_node_ip", node_ips.get(guest["node"]))
                for key in ("config", "interfaces", "static_address"):
                    if guest[key] is not None:
                        self.inventory.set_variable(host, "proxmox_" + key, guest[key])
                if guest["lookup_errors"]:
                    self.inventory.set_variable(host, "proxmox_lookup_errors", guest["lookup_errors"])
                address, source = self._address(guest, host, order)
                if address:
                    self.inventory.set_variable(host, "ansible_host", address)
                    self.inventory.set_variable(host, "proxmox_address_source", source)
                groups = ["node_" + guest["node"], guest["type"], guest["status"]]
                groups += ["tag_" + tag for tag in guest["tags"]]
                if guest["template"]:
                    groups.append("template")
                for group in groups:
                    self.inventory.add_child(self._group(group), host)
                if guest["pool"]:
                    parent = None
                    parts = guest["pool"].split("/")
                    for depth in range(1, len(parts) + 1):
                        parent = self._group("pool_" + "_".join(parts[:depth]), parent)
                    self.inventory.add_child(parent, host)
                if cluster_group:
                    self.inventory.add_child(cluster_group, host)
                if constructed:
                    hostvars = self.inventory.get_host(host).get_vars()
                    self._set_composite_vars(compose, hostvars, host, strict=strict)
                    self._add_host_to_composed_groups(composed, hostvars, host, strict=strict)
                    self._add_host_to_keyed_groups(keyed, hostvars, host, strict=strict)

    @staticmethod
    def _address(guest, host, order):
        for source in order:
            if source == "interfaces" and guest["interfaces"]:
                address = first_address(guest["interfaces"])
            elif source == "static":
                address = guest["static_address"]
            elif source == "name":
                address = host
            else:
                address = None
            if address:
                return address, source
        return None, None
