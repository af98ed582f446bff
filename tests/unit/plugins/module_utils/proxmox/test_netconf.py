# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.guest import config_changes
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.netconf import (
    format_qemu_net,
    gib_number,
    join_props,
    lxc_network,
    parse_qemu_net,
    pve_size,
    size_bytes,
    split_props,
)

GIB = 1024 ** 3


def test_static_network_is_normalised():
    props = lxc_network({"bridge": "vmbr1", "ip": "192.0.2.10/24", "gw": "192.0.2.1", "tag": 20,
                         "firewall": True, "hwaddr": "bc-24-11-00-00-01"}, 0)
    assert props == {"name": "eth0", "bridge": "vmbr1", "ip": "192.0.2.10/24", "gw": "192.0.2.1", "tag": 20,
                     "firewall": 1, "hwaddr": "BC:24:11:00:00:01"}


@pytest.mark.parametrize("spec, option", [
    ({"ip": "192.0.2.0/24"}, "networks[0].ip"),          # the network address itself
    ({"ip": "192.0.2.255/24"}, "networks[0].ip"),        # broadcast
    ({"ip": "2001:db8::1/64"}, "networks[0].ip"),         # IPv6 in ip
    ({"ip6": "192.0.2.1/24"}, "networks[0].ip6"),
    ({"ip": "dhcp", "gw": "192.0.2.1"}, "networks[0].gw"),
    ({"ip": "192.0.2.10/24", "gw": "192.0.3.1"}, "networks[0].gw"),
    ({"rate": 0}, "networks[0].rate"),
    ({"mtu": 20}, "networks[0].mtu"),
    ({"bridge": "vmbr 0"}, "networks[0].bridge"),
])
def test_bad_networks_name_their_option(spec, option):
    with pytest.raises(ValidationError) as error:
        lxc_network(dict({"bridge": "vmbr0"}, **spec), 0)
    assert error.value.option == option


def test_slash_31_and_32_hosts_are_fine():
    assert lxc_network({"bridge": "b", "ip": "192.0.2.0/31"}, 0)["ip"] == "192.0.2.0/31"
    assert lxc_network({"bridge": "b", "ip": "192.0.2.7/32"}, 0)["ip"] == "192.0.2.7/32"


@pytest.mark.parametrize("value, expected", [(8, 8 * GIB), ("8", 8 * GIB), ("200G", 200 * GIB), ("512M", 512 * 1024 ** 2),
                                             ("0.5", GIB // 2), ("1T", 1024 * GIB)])
def test_sizes(value, expected):
    assert size_bytes(value, option="s") == expected


@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5K5"])
def test_bad_sizes(value):
    with pytest.raises(ValidationError):
        size_bytes(value, option="rootfs_size")


@given(st.integers(min_value=1, max_value=2 ** 45))
def test_pve_size_round_trips(size):
    assert size_bytes(pve_size(size), option="s", default_unit="") == size


def test_gib_number():
    assert gib_number(200 * GIB) == "200" and gib_number(GIB // 2) == "0.5"


def test_props_round_trip_and_qemu_net():
    text = "local-lvm:vm-100-disk-0,size=8G,backup=0"
    assert join_props(split_props(text, "volume"), "volume") == "local-lvm:vm-100-disk-0,backup=0,size=8G"
    parsed = parse_qemu_net("virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1")
    assert parsed == {"model": "virtio", "macaddr": "BC:24:11:00:00:01", "bridge": "vmbr0", "firewall": "1"}
    assert format_qemu_net(parsed) == "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"


def test_config_changes_compares_only_given_properties_and_keeps_the_rest():
    current = {"cores": 2, "memory": "1024", "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth"}
    same = config_changes(current, {"cores": 2, "memory": 1024,
                                    "net0": {"name": "eth0", "bridge": "vmbr0", "ip": "dhcp"}}, {})
    assert same == {}
    changed = config_changes(current, {"cores": 4, "net0": {"name": "eth0", "bridge": "vmbr1", "ip": "dhcp"}}, {})
    assert changed["cores"] == 4
    assert changed["net0"] == "name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth"
    assert config_changes({}, {"onboot": 1}, {}) == {"onboot": 1}
