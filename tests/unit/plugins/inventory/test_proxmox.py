# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Proxmox inventory's pure logic: option mapping, tags, addresses, unique host names.

The plugin as a whole runs against fakepve in tests/integration/proxmox/test_inventory.py.
"""

from __future__ import annotations

from ansible_collections.virtlab.infra.plugins.inventory.proxmox import InventoryModule
from ansible_collections.virtlab.infra.plugins.plugin_utils.proxmox import (
    agent_enabled,
    agent_interfaces,
    client_params,
    first_address,
    parse_tags,
    static_address,
)


def test_client_params_take_the_modules_defaults():
    params = client_params({"api_host": "pve1", "api_token_id": "a@pve!t", "api_token_secret": "s"})
    assert params["api_port"] == 8006 and params["validate_certs"] is True and params["api_timeout"] == 30
    assert "task_timeout" not in params


def test_parse_tags():
    assert parse_tags("web;prod,web db") == ["web", "prod", "db"]
    assert parse_tags(None) == []


def test_agent_enabled():
    assert agent_enabled({"agent": "1"})
    assert agent_enabled({"agent": "enabled=1,fstrim_cloned_disks=1"})
    assert not agent_enabled({"agent": "0"})
    assert not agent_enabled({"agent": "enabled=0"})
    assert not agent_enabled({})


def test_static_address_of_lxc_and_cloud_init():
    assert static_address({"net1": "name=eth1,ip=10.0.0.2/24", "net0": "name=eth0,ip=dhcp"}, "lxc") == "10.0.0.2"
    assert static_address({"ipconfig0": "ip=dhcp,ip6=2001:db8::5/64"}, "qemu") == "2001:db8::5"
    assert static_address({"net0": "virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0"}, "qemu") is None


def test_first_address_prefers_usable_ipv4():
    interfaces = agent_interfaces({"result": [
        {"name": "lo", "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]},
        {"name": "eth0", "hardware-address": "aa:bb:cc:dd:ee:ff",
         "ip-addresses": [{"ip-address": "fe80::1", "ip-address-type": "ipv6", "prefix": 64},
                          {"ip-address": "2001:db8::1", "ip-address-type": "ipv6", "prefix": 64},
                          {"ip-address": "192.0.2.7", "ip-address-type": "ipv4", "prefix": 24}]}]})
    assert interfaces[1]["mac"] == "aa:bb:cc:dd:ee:ff"
    assert first_address(interfaces) == "192.0.2.7"
    assert first_address(interfaces[:1]) is None
    # LXC's /interfaces spells the families inet/inet6 and the prefix as a string
    lxc = agent_interfaces([{"name": "eth0", "hwaddr": "aa:bb:cc:dd:ee:01",
                             "ip-addresses": [{"ip-address": "2001:db8::9", "ip-address-type": "inet6", "prefix": "64"}]}])
    assert lxc[0]["addresses"] == [{"address": "2001:db8::9", "prefix": 64, "family": "ipv6"}]


def _guest(cluster, vmid, name):
    return {"cluster": cluster, "vmid": vmid, "name": name}


def test_host_names_are_unique_and_stable():
    one = [_guest("one", 100, "web"), _guest("one", 101, "web"), _guest("one", 102, ""), _guest("one", 103, "web-101")]
    two = [_guest("two", 101, "web")]
    names = InventoryModule._host_names([{"guests": one}, {"guests": two}])
    # a real name wins over a made-up one: "web-101" is a guest's own name, so vmid 101 needs its cluster's too
    assert [names[id(g)] for g in one + two] == ["web", "web-one-101", "guest-102", "web-101", "web-two-101"]
    assert len(set(names.values())) == 5
