# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""libvirt XML: build and parse volume/pool XML; normalise and diff domain XML.

Pure functions on strings and dicts, no libvirt calls: unit-testable without a daemon.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

_UNIT_FACTORS = {
    "b": 1, "bytes": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024 ** 2, "mib": 1024 ** 2, "mb": 1000 ** 2,
    "g": 1024 ** 3, "gib": 1024 ** 3, "gb": 1000 ** 3,
    "t": 1024 ** 4, "tib": 1024 ** 4, "tb": 1000 ** 4,
}


def parse_xml(text: str, *, option: Optional[str] = None) -> ET.Element:
    """An element tree from ``text``; malformed XML is a ``ValidationError`` naming ``option``."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValidationError(f"not well-formed XML: {exc}", option=option) from None


def scaled_int(element: Optional[ET.Element], default_unit: str = "bytes") -> Optional[int]:
    """The value of a libvirt scaled integer (``<capacity unit='KiB'>``) in bytes."""
    if element is None or element.text is None:
        return None
    unit = (element.get("unit") or default_unit).lower()
    return int(element.text.strip()) * _UNIT_FACTORS.get(unit, 1)


# ------------------------------------------------------------------ volumes


def volume_xml(
    name: str,
    capacity: int,
    fmt: str,
    *,
    backing_path: Optional[str] = None,
    backing_format: Optional[str] = None,
    allocation: Optional[int] = None,
) -> str:
    """The XML of a new volume, optionally a qcow2 overlay on ``backing_path``."""
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(int(capacity))
    if allocation is not None:
        ET.SubElement(root, "allocation", unit="bytes").text = str(int(allocation))
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=fmt)
    if fmt == "qcow2":
        # libvirt's default is the old 0.10 format; 1.1 has zero clusters and lazy refcounts
        ET.SubElement(target, "compat").text = "1.1"
    if backing_path:
        backing = ET.SubElement(root, "backingStore")
        ET.SubElement(backing, "path").text = backing_path
        ET.SubElement(backing, "format", type=backing_format or "raw")
    return ET.tostring(root, encoding="unicode")


def parse_volume_xml(text: str) -> dict[str, Any]:
    """name, path, format, capacity, allocation, backing and backing_format of a volume's XML."""
    root = parse_xml(text)
    fmt = root.find("target/format")
    backing_path = root.findtext("backingStore/path")
    backing_format = root.find("backingStore/format")
    return {
        "name": root.findtext("name"),
        "path": root.findtext("target/path"),
        "format": fmt.get("type") if fmt is not None else None,
        "capacity": scaled_int(root.find("capacity")),
        "allocation": scaled_int(root.find("allocation")),
        "backing": backing_path or None,
        "backing_format": backing_format.get("type") if backing_path and backing_format is not None else None,
    }


# ------------------------------------------------------------------ pools


def pool_xml(spec: dict[str, Any], uuid: Optional[str] = None) -> str:
    """The XML of a storage pool from ``spec`` (name, type, path, source_host, source_dir,
    source_devices, source_name, source_format); ``uuid`` to redefine an existing pool."""
    root = ET.Element("pool", type=spec["type"])
    ET.SubElement(root, "name").text = spec["name"]
    if uuid:
        ET.SubElement(root, "uuid").text = uuid
    source = ET.SubElement(root, "source")
    if spec.get("source_host"):
        ET.SubElement(source, "host", name=spec["source_host"])
    if spec.get("source_dir"):
        ET.SubElement(source, "dir", path=spec["source_dir"])
    for device in spec.get("source_devices") or []:
        ET.SubElement(source, "device", path=device)
    if spec.get("source_name"):
        ET.SubElement(source, "name").text = spec["source_name"]
    if spec.get("source_format"):
        ET.SubElement(source, "format", type=spec["source_format"])
    if spec.get("path"):
        target = ET.SubElement(root, "target")
        ET.SubElement(target, "path").text = spec["path"]
    return ET.tostring(root, encoding="unicode")


def parse_pool_xml(text: str) -> dict[str, Any]:
    """The comparable part of a pool's XML, with the keys of ``pool_xml``'s spec."""
    root = parse_xml(text)
    host = root.find("source/host")
    sdir = root.find("source/dir")
    sformat = root.find("source/format")
    return {
        "name": root.findtext("name"),
        "type": root.get("type"),
        "path": root.findtext("target/path"),
        "source_host": host.get("name") if host is not None else None,
        "source_dir": sdir.get("path") if sdir is not None else None,
        "source_devices": [d.get("path") for d in root.findall("source/device")],
        "source_name": root.findtext("source/name"),
        "source_format": sformat.get("type") if sformat is not None else None,
    }


# ------------------------------------------------------------------ domains

# elements and attributes libvirt fills in or changes by itself: they say nothing about
# what the user asked for, so they never make a domain "changed"
_VOLATILE_DOMAIN_PATHS = (
    "uuid", "id", "seclabel", "resource", "currentMemory", "devices/emulator",
    "cpu/feature", "metadata",
)
_VOLATILE_ATTRS = {"id", "alias", "index"}


def _strip(element: ET.Element) -> None:
    for child in list(element):
        if child.tag in ("alias", "address", "backingStore") and element.tag != "domain":
            element.remove(child)
            continue
        _strip(child)
    for attr in _VOLATILE_ATTRS & set(element.attrib):
        if element.tag != "domain" or attr == "id":
            del element.attrib[attr]
    if element.text is not None and not element.text.strip():
        element.text = None
    element.tail = None


def _indent(element: ET.Element, level: int = 0) -> None:
    pad = "\n" + "  " * level
    if len(element):
        element.text = pad + "  "
        for child in element:
            _indent(child, level + 1)
        element[-1].tail = pad
    if level:
        element.tail = pad


def normalise_domain_xml(text: str, *, drop: Iterable[str] = (), option: Optional[str] = None) -> str:
    """A canonical, indented form of a domain's XML without what libvirt fills in itself
    (UUID, ids, aliases, PCI addresses, security labels, ...) and without the paths in ``drop``.
    Attributes are sorted, so equal definitions give equal strings."""
    root = parse_xml(text, option=option)
    for path in tuple(_VOLATILE_DOMAIN_PATHS) + tuple(drop):
        parent_path, _sep, tag = path.rpartition("/")
        parents = [root] if not parent_path else root.findall(parent_path)
        for parent in parents:
            for child in parent.findall(tag):
                parent.remove(child)
    _strip(root)
    _sort_attributes(root)
    _indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _sort_attributes(element: ET.Element) -> None:
    items = sorted(element.attrib.items())
    element.attrib.clear()
    element.attrib.update(items)
    for child in element:
        _sort_attributes(child)


def xml_diff(before: str, after: str, *, before_header: str = "before", after_header: str = "after") -> str:
    """A unified diff of two XML strings ('' when equal)."""
    import difflib

    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=before_header, tofile=after_header,
    ))


# ------------------------------------------------------------------ desired onto current (domains)

# how to find "the same" child among several of one tag; others are matched by position
_CHILD_KEYS = {
    "disk": ("target", "dev"),
    "interface": ("mac", "address"),
    "hostdev": ("source/address", "bus"),
    "serial": ("target", "port"),
    "console": ("target", "port"),
    "controller": (None, "type"),
}
# scaled integers (value + unit): compared by value in bytes
_SCALED = {"memory": "KiB", "currentMemory": "KiB", "maxMemory": "KiB", "capacity": "bytes", "size": "KiB"}
# short machine names that libvirt expands into versioned ones (pc -> pc-i440fx-7.2)
_MACHINE_ALIASES = {"pc": "pc-i440fx-", "q35": "pc-q35-"}


def _child_key(element: ET.Element) -> Any:
    spec = _CHILD_KEYS.get(element.tag)
    if spec is None:
        return None
    child_path, attr = spec
    holder = element if child_path is None else element.find(child_path)
    return None if holder is None else holder.get(attr)


def _same_value(tag: str, attr: Optional[str], want: Optional[str], have: Optional[str]) -> bool:
    if want == have:
        return True
    if tag == "type" and attr == "machine" and want in _MACHINE_ALIASES and have:
        return have.startswith(_MACHINE_ALIASES[want])
    return False


def _apply(want: ET.Element, have: ET.Element, path: str, changes: list[str]) -> None:
    """Make ``have`` carry everything ``want`` says (attributes, text, children); record what changed."""
    changed_here = False
    if want.tag in _SCALED and want.text and want.text.strip():
        unit = _SCALED[want.tag]
        if scaled_int(want, unit) != scaled_int(have, unit):
            have.text = want.text.strip()
            have.set("unit", want.get("unit") or unit)
            changed_here = True
        attrs = {k: v for k, v in want.attrib.items() if k != "unit"}
    else:
        attrs = dict(want.attrib)
        if want.text and want.text.strip() and (have.text or "").strip() != want.text.strip():
            have.text = want.text.strip()
            changed_here = True
    for attr, value in attrs.items():
        if not _same_value(want.tag, attr, value, have.get(attr)):
            have.set(attr, value)
            changed_here = True
    if changed_here:
        changes.append(path)
    positions: dict[str, int] = {}
    for child in want:
        if child.tag == "uuid":
            continue
        key = _child_key(child)
        candidates = have.findall(child.tag)
        if key is not None:
            match = next((c for c in candidates if _child_key(c) == key), None)
        else:
            index = positions.get(child.tag, 0)
            positions[child.tag] = index + 1
            match = candidates[index] if index < len(candidates) else None
        label = f"{path}/{child.tag}" + (f"[{key}]" if key is not None else "")
        if match is None:
            have.append(_copy(child))
            changes.append(label + " (added)")
            continue
        before = len(changes)
        _apply(child, match, label, changes)
        if len(changes) > before and want.tag == "devices":
            # a changed device gets a new address from libvirt (a bus change would clash otherwise)
            for address in match.findall("address"):
                match.remove(address)


def _copy(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))


def apply_desired(current: str, desired: str, *, option: Optional[str] = None) -> tuple[str, list[str]]:
    """``current`` domain XML with everything ``desired`` specifies put in; and the list of what changed
    (empty: ``current`` already satisfies ``desired``). What ``desired`` leaves out is kept as it is."""
    have = parse_xml(current)
    want = parse_xml(desired, option=option)
    changes: list[str] = []
    _apply(want, have, want.tag, changes)
    return ET.tostring(have, encoding="unicode"), changes
