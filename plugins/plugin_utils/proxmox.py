# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Adapter between the Proxmox VE inventory plugin and the modules' ``ProxmoxClient``.

``client_params`` turns plugin options into the client's parameters (the same option names as the
modules' ``PROXMOX_COMMON_ARGS``); ``collect_cluster`` reads guests and nodes with one
``/cluster/resources`` and one ``/cluster/status`` call, then the optional per-guest look-ups on a
bounded thread pool. A look-up that fails is recorded on its guest (``lookup_errors``) and never
fails the whole collection. The result is plain data (JSON-safe), so an inventory cache can hold it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import VirtlabError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import (
    PROXMOX_COMMON_ARGS,
    ProxmoxClient,
)
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import split_props

# the connection options an inventory needs (no tasks and no locks: it only reads)
CONNECTION_OPTIONS = ("api_host", "api_port", "api_user", "api_password", "api_token_id", "api_token_secret",
                      "validate_certs", "ca_path", "api_timeout")
LOOKUPS = ("config", "interfaces", "agent")


def client_params(options: Mapping[str, Any]) -> dict[str, Any]:
    """The client's parameters from the plugin's options (missing ones take the modules' defaults)."""
    params = {}
    for name in CONNECTION_OPTIONS:
        value = options.get(name)
        if value is None:
            value = PROXMOX_COMMON_ARGS[name].get("default")
        params[name] = value
    return params


def parse_tags(text: Any) -> list[str]:
    """PVE keeps tags as one string separated by ``;`` (``,`` and spaces are accepted too)."""
    out: list[str] = []
    for part in str(text or "").replace(",", ";").replace(" ", ";").split(";"):
        if part and part not in out:
            out.append(part)
    return out


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def agent_interfaces(result: Any) -> list[dict[str, Any]]:
    """``network-get-interfaces`` of the QEMU agent (or an LXC ``/interfaces`` answer) as name, mac, addresses."""
    data = result.get("result", result) if isinstance(result, Mapping) else result
    interfaces = []
    for item in data or []:
        addresses = []
        for addr in item.get("ip-addresses") or []:
            family = str(addr.get("ip-address-type") or "")
            addresses.append({"address": addr.get("ip-address"),
                              "prefix": int(addr["prefix"]) if str(addr.get("prefix", "")).isdigit() else None,
                              "family": "ipv6" if family in ("ipv6", "inet6") else "ipv4"})
        interfaces.append({"name": item.get("name"), "mac": item.get("hardware-address") or item.get("hwaddr"),
                           "addresses": addresses})
    return interfaces


def first_address(interfaces: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The first usable IPv4 address of the interfaces, else the first usable IPv6 one."""
    found = [(a["family"], a["address"]) for i in interfaces for a in i.get("addresses") or []
             if a.get("address") and _usable(a["address"])]
    for family in ("ipv4", "ipv6"):
        for fam, address in found:
            if fam == family:
                return address
    return None


def static_address(config: Mapping[str, Any], kind: str) -> Optional[str]:
    """The first static address of the network config: LXC ``netN: ip=``, QEMU cloud-init ``ipconfigN: ip=``."""
    keys = sorted((k for k in config if k.startswith("net" if kind == "lxc" else "ipconfig") and k[-1].isdigit()),
                  key=lambda k: int("".join(c for c in k if c.isdigit()) or 0))
    for family in ("ip", "ip6"):
        for key in keys:
            value = split_props(config[key]).get(family, "")
            address = value.split("/", 1)[0]
            if address and _usable(address):
                return address
    return None


def agent_enabled(config: Mapping[str, Any]) -> bool:
    """QEMU's ``agent`` option: ``1`` or ``enabled=1,...``."""
    value = str(config.get("agent", "0"))
    first = value.split(",", 1)[0]
    if "=" not in first:
        return first in ("1", "true", "yes", "on")
    return split_props(value).get("enabled", "0") in ("1", "true", "yes", "on")


def _guest(item: Mapping[str, Any], cluster: str) -> dict[str, Any]:
    return {
        "cluster": cluster, "vmid": int(item["vmid"]), "type": str(item["type"]), "node": str(item["node"]),
        "name": str(item.get("name") or ""), "status": str(item.get("status") or "unknown"),
        "template": bool(item.get("template")), "tags": parse_tags(item.get("tags")),
        "pool": item.get("pool") or None, "lock": item.get("lock") or None, "hastate": item.get("hastate"),
        "maxcpu": item.get("maxcpu"), "maxmem": item.get("maxmem"), "maxdisk": item.get("maxdisk"),
        "uptime": item.get("uptime"), "config": None, "interfaces": None, "static_address": None,
        "lookup_errors": {},
    }


def _look_up(guest: dict[str, Any], client: ProxmoxClient, lookups: set[str]) -> dict[str, Any]:
    """Fill config / interfaces of one guest; each failure is noted on the guest, never raised."""
    base = "nodes/%s/%s/%d" % (guest["node"], guest["type"], guest["vmid"])
    running = guest["status"] == "running"
    config: Optional[Mapping[str, Any]] = None
    # the agent look-up needs the config to know whether the agent is enabled
    if "config" in lookups or ("agent" in lookups and guest["type"] == "qemu" and running):
        try:
            config = client.get(base + "/config") or {}
        except VirtlabError as error:
            guest["lookup_errors"]["config"] = str(error)
        else:
            if "config" in lookups:
                guest["config"] = dict(config)
            guest["static_address"] = static_address(config, guest["type"])
    if not running:
        return guest
    try:
        if guest["type"] == "lxc" and "interfaces" in lookups:
            guest["interfaces"] = agent_interfaces(client.get(base + "/interfaces"))
        elif guest["type"] == "qemu" and "agent" in lookups and config is not None and agent_enabled(config):
            guest["interfaces"] = agent_interfaces(client.get(base + "/agent/network-get-interfaces"))
    except VirtlabError as error:
        guest["lookup_errors"]["interfaces"] = str(error)
    return guest


def collect_cluster(client: ProxmoxClient, *, cluster: str = "", lookups: Iterable[str] = (),
                    lookup_client: Optional[ProxmoxClient] = None, workers: int = 16,
                    want: Optional[Callable[[dict[str, Any]], bool]] = None) -> dict[str, Any]:
    """Nodes and guests of one cluster.

    Every guest is listed (so that host names do not depend on filters); ``wanted`` is what ``want`` said of
    it, and only wanted guests are looked up. ``lookup_client`` (default ``client``) makes the
    look-ups, usually with a shorter ``api_timeout``. Errors of the two cluster-wide calls propagate.
    """
    resources = client.get("cluster/resources")
    status = client.get("cluster/status") or []
    name = cluster
    node_ips = {}
    for item in status:
        if item.get("type") == "cluster" and not name:
            name = str(item.get("name") or "")
        elif item.get("type") == "node":
            node_ips[item.get("name")] = item.get("ip")
    nodes = [{"node": item["node"], "status": item.get("status") or "unknown", "ip": node_ips.get(item["node"])}
             for item in resources or [] if item.get("type") == "node"]
    guests = [_guest(item, name) for item in resources or [] if item.get("type") in ("qemu", "lxc")]
    guests.sort(key=lambda g: g["vmid"])
    for guest in guests:
        guest["wanted"] = want is None or bool(want(guest))
    wanted = set(lookups)
    chosen = [g for g in guests if g["wanted"]]
    if wanted and chosen:
        (lookup_client or client).share_connections(workers)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            # list(): re-raises on this thread whatever a look-up did not expect
            list(pool.map(lambda g: _look_up(g, lookup_client or client, wanted), chosen))
    return {"cluster": name, "nodes": sorted(nodes, key=lambda n: n["node"]), "guests": guests}


def lookup_client_for(client: ProxmoxClient, timeout: int) -> ProxmoxClient:
    """A client like ``client`` whose requests wait at most ``timeout`` seconds (for the per-guest look-ups)."""
    if timeout == client.settings.api_timeout:
        return client
    return ProxmoxClient(dataclasses.replace(client.settings, api_timeout=timeout))
