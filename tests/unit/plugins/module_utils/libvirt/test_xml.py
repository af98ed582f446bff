# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import (
    normalise_domain_xml,
    parse_pool_xml,
    parse_volume_xml,
    pool_xml,
    scaled_int,
    volume_xml,
    xml_diff,
)

DOMAIN = """<domain type='qemu' id='7'>
  <name>web</name>
  <uuid>0b4c1cb2-8a7a-4ad6-9b1a-7d36c8f4a1ff</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/p/web.qcow2' index='1'/>
      <backingStore type='file' index='2'><format type='qcow2'/><source file='/p/golden.qcow2'/></backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>"""


@given(capacity=st.integers(min_value=1, max_value=2 ** 50), fmt=st.sampled_from(["raw", "qcow2"]),
       backing=st.one_of(st.none(), st.just("/p/golden.qcow2")))
def test_volume_xml_round_trip(capacity, fmt, backing):
    parsed = parse_volume_xml(volume_xml("v", capacity, fmt, backing_path=backing, backing_format="qcow2"))
    assert parsed["name"] == "v" and parsed["capacity"] == capacity and parsed["format"] == fmt
    assert parsed["backing"] == backing
    assert parsed["backing_format"] == ("qcow2" if backing else None)


def test_qcow2_volumes_use_compat_1_1():
    assert "<compat>1.1</compat>" in volume_xml("v", 1, "qcow2")
    assert "compat" not in volume_xml("v", 1, "raw")


@pytest.mark.parametrize("unit, factor", [("bytes", 1), ("KiB", 1024), ("M", 1024 ** 2), ("GB", 1000 ** 3)])
def test_scaled_int_units(unit, factor):
    import xml.etree.ElementTree as ET
    assert scaled_int(ET.fromstring("<capacity unit='%s'>3</capacity>" % unit)) == 3 * factor


def test_pool_xml_round_trip():
    spec = {"name": "nfs", "type": "netfs", "path": "/mnt/x", "source_host": "nas", "source_dir": "/export",
            "source_devices": [], "source_name": None, "source_format": "nfs"}
    assert parse_pool_xml(pool_xml(spec)) == spec
    with_uuid = pool_xml(dict(spec, type="dir"), uuid="0b4c1cb2-8a7a-4ad6-9b1a-7d36c8f4a1ff")
    assert "<uuid>0b4c1cb2" in with_uuid


def test_normalise_drops_what_libvirt_fills_in():
    text = normalise_domain_xml(DOMAIN)
    for noise in ("uuid", "alias", "address", "seclabel", "currentMemory", "emulator", "backingStore",
                  "index=", "id='7'"):
        assert noise not in text, noise
    assert "<source file=\"/p/web.qcow2\"" in text
    assert "machine=\"pc-i440fx-7.2\"" in text


def test_normalise_is_stable_and_order_insensitive_for_attributes():
    shuffled = DOMAIN.replace("<disk type='file' device='disk'>", "<disk device='disk' type='file'>")
    assert normalise_domain_xml(DOMAIN) == normalise_domain_xml(shuffled)
    once = normalise_domain_xml(DOMAIN)
    assert normalise_domain_xml(once) == once


def test_xml_diff_shows_the_change():
    changed = normalise_domain_xml(DOMAIN.replace("131072</memory>", "262144</memory>"))
    diff = xml_diff(normalise_domain_xml(DOMAIN), changed)
    assert "-  <memory unit=\"KiB\">131072</memory>" in diff
    assert "+  <memory unit=\"KiB\">262144</memory>" in diff
    assert xml_diff(changed, changed) == ""


def test_malformed_xml_names_the_option():
    with pytest.raises(ValidationError) as caught:
        normalise_domain_xml("<domain>", option="xml")
    assert caught.value.message.startswith("xml: ")


def test_apply_desired_ignores_libvirt_defaults():
    from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import apply_desired
    desired = ("<domain type='qemu'><name>web</name><memory unit='MiB'>128</memory>"
               "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
               "<devices><disk type='file' device='disk'><source file='/p/web.qcow2'/>"
               "<target dev='vda' bus='virtio'/></disk></devices></domain>")
    merged, changes = apply_desired(DOMAIN, desired)
    assert changes == [], changes            # 128 MiB == 131072 KiB, pc == pc-i440fx-7.2
    assert merged


def test_apply_desired_reports_and_applies_changes():
    from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import apply_desired
    desired = ("<domain><name>web</name><memory unit='MiB'>256</memory><devices>"
               "<disk type='file' device='disk'><target dev='vda' bus='sata'/></disk>"
               "<disk type='file' device='disk'><source file='/p/data.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
               "</devices></domain>")
    merged, changes = apply_desired(DOMAIN, desired)
    assert changes == ["domain/memory", "domain/devices/disk[vda]/target", "domain/devices/disk[vdb] (added)"]
    assert "262144" in merged or "256" in merged
    # the changed disk lost its PCI address (libvirt assigns one for the new bus), the rest is kept
    text = normalise_domain_xml(merged)
    assert 'bus="sata"' in text and "/p/data.qcow2" in text and "/p/web.qcow2" in text
    assert "slot=" not in merged.split("<target dev=\"vda\"")[0].split("<disk")[-1]
    again, none = apply_desired(merged, desired)
    assert none == []
