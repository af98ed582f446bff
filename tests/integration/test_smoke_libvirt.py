"""Smoke test of libvirt: a base volume, a qcow2 overlay backed by it, and a domain that runs on the overlay."""

import json
import subprocess
import time
from xml.sax.saxutils import escape

import libvirt
import pytest

MiB = 1024 ** 2
BASE_CAPACITY = 64 * MiB

BASE_XML = '''\
<volume>
  <name>{name}</name>
  <capacity unit='bytes'>{capacity}</capacity>
  <allocation unit='bytes'>0</allocation>
  <target><format type='raw'/></target>
</volume>
'''

OVERLAY_XML = '''\
<volume>
  <name>{name}</name>
  <capacity unit='bytes'>{capacity}</capacity>
  <target><format type='qcow2'/></target>
  <backingStore>
    <path>{backing}</path>
    <format type='raw'/>
  </backingStore>
</volume>
'''

# No <graphics>: a headless guest has none (type='none' is not valid). Nothing boots from the blank
# disk: the firmware keeps trying, which is all a "running" domain needs.
DOMAIN_XML = '''\
<domain type='{virt_type}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
'''


def _delete_volume(pool, name):
    try:
        pool.storageVolLookupByName(name).delete(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise


def _remove_domain(conn, name):
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return
        raise
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def _leftovers(conn, pool, prefix):
    pool.refresh(0)
    volumes = [v for v in pool.listVolumes() if v.startswith(prefix)]
    domains = [d.name() for d in conn.listAllDomains() if d.name().startswith(prefix)]
    return volumes, domains


class Volumes(object):
    """The volumes a test creates in the pool; delete_all() removes them, the overlays first."""

    def __init__(self, pool):
        self.pool = pool
        self.created = []

    def create(self, xml):
        vol = self.pool.createXML(xml, 0)
        self.created.append(vol.name())
        return vol

    def delete_all(self):
        errors = []
        while self.created:
            name = self.created.pop()
            try:
                _delete_volume(self.pool, name)
            except libvirt.libvirtError as exc:
                errors.append(exc)
        assert not errors, errors


@pytest.fixture
def volumes(storage_pool):
    """A Volumes tracker: whatever the test created is deleted at its end, even when it fails."""
    tracker = Volumes(storage_pool)
    yield tracker
    tracker.delete_all()


def test_overlay_volume_and_domain(libvirt_conn, storage_pool, virt_type, unique_name, volumes):
    base = volumes.create(BASE_XML.format(name=escape(unique_name + '-base.img'), capacity=BASE_CAPACITY))
    overlay = volumes.create(OVERLAY_XML.format(name=escape(unique_name + '-overlay.qcow2'), capacity=BASE_CAPACITY,
                                                backing=escape(base.path())))

    # the overlay is thin: its own allocation is a few qcow2 metadata clusters
    _vol_type, capacity, allocation = overlay.info()
    assert capacity == BASE_CAPACITY
    assert allocation < capacity / 16, (allocation, capacity)

    info = json.loads(subprocess.run(['qemu-img', 'info', '--force-share', '--output=json', overlay.path()],
                                     check=True, capture_output=True, text=True).stdout)
    assert info['format'] == 'qcow2'
    assert info['virtual-size'] == BASE_CAPACITY
    assert info['backing-filename'] == base.path()
    assert info.get('backing-filename-format') == 'raw'

    # libvirt reads the chain back too
    assert '<backingStore>' in overlay.XMLDesc(0) and base.path() in overlay.XMLDesc(0)

    name = unique_name
    try:
        dom = libvirt_conn.defineXML(DOMAIN_XML.format(virt_type=virt_type, name=escape(name),
                                                       disk=escape(overlay.path())))
        assert not dom.isActive()
        dom.create()
        deadline = time.monotonic() + 30
        while dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING and time.monotonic() < deadline:
            time.sleep(0.5)
        assert dom.isActive()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert "type='{0}'".format(virt_type) in dom.XMLDesc(0)
        dom.destroy()
        assert not dom.isActive()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        dom.undefine()
        with pytest.raises(libvirt.libvirtError) as missing:
            libvirt_conn.lookupByName(name)
        assert missing.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    finally:
        _remove_domain(libvirt_conn, name)

    volumes.delete_all()
    assert _leftovers(libvirt_conn, storage_pool, unique_name) == ([], [])
