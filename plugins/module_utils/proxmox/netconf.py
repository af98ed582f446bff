# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PVE property strings (``name=eth0,bridge=vmbr0,...``), sizes and validated network settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import parse_size
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

try:
    import netaddr
except ImportError:
    HAS_NETADDR = False
else:
    HAS_NETADDR = True

GIB = 1024 ** 3


def split_props(text: Any, first_key: Optional[str] = None) -> dict[str, str]:
    """``"local-lvm:vm-100-disk-0,size=8G"`` -> ``{first_key: "local-lvm:...", "size": "8G"}``."""
    props: dict[str, str] = {}
    for n, part in enumerate(str(text or "").split(",")):
        key, eq, value = part.partition("=")
        if eq:
            props[key] = value
        elif part and n == 0 and first_key:
            props[first_key] = part
    return props


def join_props(props: Mapping[str, Any], first_key: Optional[str] = None, order: tuple[str, ...] = ()) -> str:
    """The inverse of ``split_props``; ``order`` keys first, then the rest sorted."""
    parts = []
    if first_key and props.get(first_key) is not None:
        parts.append(str(props[first_key]))
    keys = [k for k in order if k in props] + sorted(k for k in props if k not in order)
    for key in keys:
        if key == first_key or props[key] is None:
            continue
        value = props[key]
        if isinstance(value, bool):
            value = int(value)
        parts.append("%s=%s" % (key, value))
    return ",".join(parts)


def size_bytes(value: Any, *, option: str, default_unit: str = "G") -> int:
    """A size in bytes; a bare number is in ``default_unit`` (PVE's disk sizes are GiB)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = "%s%s" % (value, default_unit)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = value.strip() + default_unit
    size = parse_size(value, option=option)
    if size <= 0:
        raise ValidationError("must be larger than 0", option=option)
    return size


def pve_size(size: int) -> str:
    """PVE's spelling of a size in bytes: the largest unit that divides it."""
    for unit, factor in (("T", 1024 ** 4), ("G", GIB), ("M", 1024 ** 2), ("K", 1024)):
        if size % factor == 0:
            return "%d%s" % (size // factor, unit)
    return str(size)


def gib_number(size: int) -> str:
    """A size as the GiB number a new volume takes (``storage:200``, ``storage:0.5``)."""
    text = "%.6f" % (size / GIB)
    return text.rstrip("0").rstrip(".")


def to_bool_flag(value: Any) -> Optional[int]:
    if value is None:
        return None
    return 1 if value in (True, 1, "1", "true", "yes", "on") else 0


# ----------------------------------------------------------------------------- addresses


def _require_netaddr() -> None:
    if not HAS_NETADDR:
        raise ValidationError("the netaddr Python library is required to validate addresses")


def check_cidr(value: str, *, version: int, option: str) -> str:
    """A host address with its prefix (``192.0.2.10/24``), normalised."""
    _require_netaddr()
    if "/" not in value:
        raise ValidationError("%r needs a prefix length (for example 192.0.2.10/24)" % value, option=option)
    try:
        network = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError("%r is not an IPv%d address with a prefix" % (value, version), option=option) from None
    if network.version != version:
        raise ValidationError("%r is not an IPv%d address" % (value, version), option=option)
    if version == 4 and network.prefixlen < 31 and network.ip in (network.network, network.broadcast):
        raise ValidationError("%r is the network or broadcast address of its subnet" % value, option=option)
    return "%s/%d" % (network.ip, network.prefixlen)


def check_address(value: str, *, version: Optional[int], option: str) -> str:
    _require_netaddr()
    try:
        address = netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError("%r is not an IP address" % (value,), option=option) from None
    if version is not None and address.version != version:
        raise ValidationError("%r is not an IPv%d address" % (value, version), option=option)
    return str(address)


def check_gateway(gateway: str, cidr: Optional[str], *, version: int, option: str) -> str:
    gw = check_address(gateway, version=version, option=option)
    if cidr and "/" in cidr and gw not in netaddr.IPNetwork(cidr):
        raise ValidationError("gateway %s is outside %s" % (gw, cidr), option=option)
    return gw


def check_mac(value: str, *, option: str) -> str:
    _require_netaddr()
    try:
        mac = netaddr.EUI(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValidationError("%r is not a MAC address" % (value,), option=option) from None
    if int(mac) & (1 << 40):
        raise ValidationError("%s is a multicast (group) address" % value, option=option)
    return str(mac).replace("-", ":").upper()


def lxc_network(spec: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A validated ``netN`` property dict of a container from one item of the ``networks`` option."""
    where = "networks[%d]" % index
    props: dict[str, Any] = {"name": spec.get("name") or "eth%d" % index, "bridge": spec["bridge"]}
    if not re.fullmatch(r"[-_.\w]+", props["bridge"]):
        raise ValidationError("%r is not a bridge name" % props["bridge"], option=where + ".bridge")
    ip = spec.get("ip")
    if ip is not None:
        props["ip"] = ip if ip in ("dhcp", "manual") else check_cidr(ip, version=4, option=where + ".ip")
    if spec.get("gw") is not None:
        if ip in (None, "dhcp"):
            raise ValidationError("a gateway needs a static ip", option=where + ".gw")
        props["gw"] = check_gateway(spec["gw"], props.get("ip"), version=4, option=where + ".gw")
    ip6 = spec.get("ip6")
    if ip6 is not None:
        props["ip6"] = ip6 if ip6 in ("dhcp", "auto", "manual") else check_cidr(ip6, version=6, option=where + ".ip6")
    if spec.get("gw6") is not None:
        if ip6 in (None, "dhcp", "auto"):
            raise ValidationError("an IPv6 gateway needs a static ip6", option=where + ".gw6")
        props["gw6"] = check_gateway(spec["gw6"], props.get("ip6"), version=6, option=where + ".gw6")
    if spec.get("tag") is not None:
        if not 1 <= spec["tag"] <= 4094:
            raise ValidationError("VLAN tag %s is outside 1-4094" % spec["tag"], option=where + ".tag")
        props["tag"] = spec["tag"]
    if spec.get("firewall") is not None:
        props["firewall"] = 1 if spec["firewall"] else 0
    if spec.get("rate") is not None:
        if spec["rate"] <= 0:
            raise ValidationError("must be positive (MB/s)", option=where + ".rate")
        props["rate"] = spec["rate"]
    if spec.get("mtu") is not None:
        if not 64 <= spec["mtu"] <= 65535:
            raise ValidationError("must be within 64-65535", option=where + ".mtu")
        props["mtu"] = spec["mtu"]
    if spec.get("hwaddr"):
        props["hwaddr"] = check_mac(spec["hwaddr"], option=where + ".hwaddr")
    return props


def normalise_prop(value: Any) -> str:
    """A property value compared as text (``1`` and ``1.0`` rates alike)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if re.fullmatch(r"\d+\.0+", text):
        return text.split(".", maxsplit=1)[0]
    return text


QEMU_NET_MODELS = ("e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b",
                   "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3")


def parse_qemu_net(text: Any) -> dict[str, str]:
    """``virtio=BC:24:11:..,bridge=vmbr0`` -> ``{"model": "virtio", "macaddr": "BC:..", "bridge": "vmbr0"}``."""
    props = split_props(text)
    out: dict[str, str] = {}
    for key, value in props.items():
        if key in QEMU_NET_MODELS:
            out["model"] = key
            out["macaddr"] = value
        elif key == "model":
            out["model"] = value
        else:
            out[key] = value
    return out


def format_qemu_net(props: Mapping[str, Any]) -> str:
    model = props.get("model") or "virtio"
    head = "%s=%s" % (model, props["macaddr"]) if props.get("macaddr") else model
    rest = {k: v for k, v in props.items() if k not in ("model", "macaddr") and v is not None}
    tail = join_props(rest, None, order=("bridge",))
    return head + ("," + tail if tail else "")


def qemu_network(spec: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A validated ``netN`` of a VM (model, bridge, tag, firewall, rate, mtu, MAC)."""
    where = "nics[%d]" % index
    model = spec.get("model") or "virtio"
    if model not in QEMU_NET_MODELS:
        raise ValidationError("unknown NIC model %r" % model, option=where + ".model")
    props: dict[str, Any] = {"model": model, "bridge": spec["bridge"]}
    if not re.fullmatch(r"[-_.\w]+", spec["bridge"]):
        raise ValidationError("%r is not a bridge name" % spec["bridge"], option=where + ".bridge")
    if spec.get("tag") is not None:
        if not 1 <= spec["tag"] <= 4094:
            raise ValidationError("VLAN tag %s is outside 1-4094" % spec["tag"], option=where + ".tag")
        props["tag"] = spec["tag"]
    if spec.get("firewall") is not None:
        props["firewall"] = 1 if spec["firewall"] else 0
    if spec.get("rate") is not None:
        if spec["rate"] <= 0:
            raise ValidationError("must be positive (MB/s)", option=where + ".rate")
        props["rate"] = spec["rate"]
    if spec.get("mtu") is not None:
        if not 1 <= spec["mtu"] <= 65520:
            raise ValidationError("must be within 1-65520", option=where + ".mtu")
        props["mtu"] = spec["mtu"]
    if spec.get("macaddr"):
        props["macaddr"] = check_mac(spec["macaddr"], option=where + ".macaddr")
    return props


def ipconfig(spec: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A validated cloud-init ``ipconfigN``."""
    where = "ipconfig[%d]" % index
    props: dict[str, Any] = {}
    ip = spec.get("ip")
    if ip is not None:
        props["ip"] = ip if ip == "dhcp" else check_cidr(ip, version=4, option=where + ".ip")
    if spec.get("gw") is not None:
        if ip in (None, "dhcp"):
            raise ValidationError("a gateway needs a static ip", option=where + ".gw")
        props["gw"] = check_gateway(spec["gw"], props.get("ip"), version=4, option=where + ".gw")
    ip6 = spec.get("ip6")
    if ip6 is not None:
        props["ip6"] = ip6 if ip6 in ("dhcp", "auto") else check_cidr(ip6, version=6, option=where + ".ip6")
    if spec.get("gw6") is not None:
        if ip6 in (None, "dhcp", "auto"):
            raise ValidationError("an IPv6 gateway needs a static ip6", option=where + ".gw6")
        props["gw6"] = check_gateway(spec["gw6"], props.get("ip6"), version=6, option=where + ".gw6")
    if not props:
        raise ValidationError("give ip and/or ip6", option=where)
    return props
