# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Adapter between the libvirt inventory plugin and the modules' connection helper.

``collect_domains`` reads what the inventory needs about every domain through the same
``LibvirtConnection`` (and the same typed errors) as the modules.
"""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.domain import (
    CLONE_NS,
    STATE_NAMES,
    disk_sources,
    domain_labels,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import parse_xml, scaled_int

# virDomainInterfaceAddressesSource
ADDRESS_SOURCES = {"lease": 0, "agent": 1, "arp": 2}
_IPV4 = 0


def _addresses(dom: Any, sources: list[str]) -> tuple[list[dict[str, Any]], Optional[str]]:
    """Interfaces with their addresses, from the first source that answers; and that source."""
    for source in sources:
        try:
            with translate_errors():
                found = dom.interfaceAddresses(ADDRESS_SOURCES[source], 0)
        except VirtlabError:
            continue            # no agent, no lease file...: try the next source
        interfaces = []
        for ifname, data in sorted((found or {}).items()):
            addrs = [{"address": a["addr"], "prefix": a["prefix"], "family": "ipv4" if a["type"] == _IPV4 else "ipv6"}
                     for a in (data.get("addrs") or [])]
            interfaces.append({"name": ifname, "mac": data.get("hwaddr"), "addresses": addrs})
        if any(i["addresses"] for i in interfaces):
            return interfaces, source
    return [], None


def collect_domains(connection: LibvirtConnection, address_sources: list[str]) -> list[dict[str, Any]]:
    """One dict per domain: name, uuid, state, vcpus, memory_mib, autostart, labels, clone_of, disks,
    interfaces (with addresses for running domains) and ansible_host (first IPv4 address, if any)."""
    with translate_errors("listing domains", option="uri"):
        domains = connection.conn.listAllDomains(0)
    found = []
    for dom in domains:
        with translate_errors(f"domain {dom.name()}"):
            root = parse_xml(dom.XMLDesc(0))
            state = STATE_NAMES.get(dom.state()[0], "unknown")
            entry: dict[str, Any] = {
                "name": dom.name(),
                "uuid": dom.UUIDString(),
                "state": state,
                "autostart": bool(dom.autostart()) if dom.isPersistent() else False,
                "persistent": bool(dom.isPersistent()),
            }
        entry["vcpus"] = int(root.findtext("vcpu") or 0)
        entry["memory_mib"] = (scaled_int(root.find("memory"), "KiB") or 0) // (1024 * 1024)
        entry["labels"] = domain_labels(root)
        clone = root.find(f"metadata/{{{CLONE_NS}}}clone")
        entry["clone_of"] = clone.get("source") if clone is not None else None
        entry["disks"] = disk_sources(root)
        macs = [m.get("address") for m in root.findall("devices/interface/mac")]
        interfaces, source = (_addresses(dom, address_sources) if state == "running" else ([], None))
        entry["interfaces"] = interfaces or [{"name": None, "mac": mac, "addresses": []} for mac in macs]
        entry["address_source"] = source
        ipv4 = [a["address"] for i in interfaces for a in i["addresses"]
                if a["family"] == "ipv4" and not a["address"].startswith("127.")]
        entry["ansible_host"] = ipv4[0] if ipv4 else None
        found.append(entry)
    return found
