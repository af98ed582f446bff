"""Fixtures of the libvirt integration tests (real libvirtd, real qcow2 volumes in the virtlab pool).

Everything a test makes is named after its ``unique_name`` (vlt-test-XXXXXXXX) and removed at its end
by the ``cleanup`` fixture, even when the test fails: domains first, then volumes (overlays before
their backing files), then pools.
"""

import json
import os
import subprocess

import libvirt
import pytest

MiB = 1024 ** 2


class Tools(object):
    """qemu-img / qemu-io helpers used to look at volumes from outside libvirt."""

    @staticmethod
    def info(path):
        out = subprocess.run(['qemu-img', 'info', '--force-share', '--output=json', path],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    @staticmethod
    def qemu_io(path, fmt, *commands):
        """Run qemu-io commands; returns stdout. A failing pattern check makes qemu-io print 'Pattern verification failed'."""
        argv = ['qemu-io', '-f', fmt]
        for command in commands:
            argv += ['-c', command]
        completed = subprocess.run(argv + [path], capture_output=True, text=True, check=False)
        assert completed.returncode == 0, completed.stderr + completed.stdout
        assert 'failed' not in completed.stdout.lower(), completed.stdout
        return completed.stdout

    @classmethod
    def write(cls, path, fmt, pattern, offset, length, chunk=16 * MiB):
        """Write ``length`` bytes of ``pattern`` in chunks (qemu-io rejects huge single writes)."""
        commands = ['write -P {0} {1} {2}'.format(pattern, pos, min(chunk, offset + length - pos))
                    for pos in range(offset, offset + length, chunk)]
        return cls.qemu_io(path, fmt, *commands)

    @classmethod
    def check(cls, path, fmt, pattern, offset, length):
        return cls.qemu_io(path, fmt, 'read -P {0} {1} {2}'.format(pattern, offset, length))

    @staticmethod
    def compare(left, right):
        """qemu-img compare: 0 identical, 1 different."""
        return subprocess.run(['qemu-img', 'compare', '--force-share', left, right],
                              capture_output=True, text=True, check=False).returncode

    @staticmethod
    def sha256(path):
        out = subprocess.run(['sha256sum', path], check=True, capture_output=True, text=True).stdout
        return out.split()[0]

    @staticmethod
    def allocated(path):
        return os.stat(path).st_blocks * 512


@pytest.fixture(scope='session')
def tools():
    return Tools


def _without_atime(xml):
    """A volume's XML without its access time (reading the file to hash it may move it)."""
    import re
    return re.sub(r'<atime>[^<]*</atime>', '', xml)


def volume_fingerprint(conn, pool_name, name):
    """Everything that shows whether a volume was touched: sha256 of the file, qemu-img's format, virtual size
    and backing file, the file's inode, mode, mtime and ctime, and libvirt's XML of it (without atime)."""
    pool = conn.storagePoolLookupByName(pool_name)
    pool.refresh(0)
    vol = pool.storageVolLookupByName(name)
    path = vol.path()
    xml = _without_atime(vol.XMLDesc(0))
    info = Tools.info(path)
    stat = os.stat(path)
    return {'path': path, 'sha256': Tools.sha256(path), 'format': info['format'],
            'virtual-size': info['virtual-size'], 'backing': info.get('backing-filename'),
            'backing-format': info.get('backing-filename-format'), 'inode': stat.st_ino,
            'mode': stat.st_mode, 'mtime': stat.st_mtime_ns, 'ctime': stat.st_ctime_ns, 'xml': xml}


def domain_fingerprint(conn, name):
    """Everything that shows whether a domain was touched: its full inactive XML (XMLDesc, with secure parts),
    state, autostart, persistence and, while it runs, its live XML."""
    dom = conn.lookupByName(name)
    active = bool(dom.isActive())
    return {'inactive_xml': dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE),
            'state': dom.state()[0], 'autostart': dom.autostart(), 'persistent': dom.isPersistent(),
            'live_xml': dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE) if active else None}


@pytest.fixture(scope='session')
def fingerprint(libvirt_conn):
    """``fingerprint.volume(pool, name)`` and ``fingerprint.domain(name)``: compare them before/after a task."""
    class Fingerprint(object):
        @staticmethod
        def volume(pool, name):
            return volume_fingerprint(libvirt_conn, pool, name)

        @staticmethod
        def domain(name):
            return domain_fingerprint(libvirt_conn, name)

        @staticmethod
        def names(prefix):
            """Domains and volumes (of every active pool) whose names start with ``prefix``, sorted."""
            return sorted(leftovers(libvirt_conn, prefix))
    return Fingerprint


@pytest.fixture(scope='session')
def pool_name(storage_pool):
    return storage_pool.name()


@pytest.fixture(scope='session')
def pool_path(storage_pool):
    import xml.etree.ElementTree as ET
    return ET.fromstring(storage_pool.XMLDesc(0)).findtext('target/path')


def _vol_backing(vol):
    import xml.etree.ElementTree as ET
    return ET.fromstring(vol.XMLDesc(0)).findtext('backingStore/path')


def remove_everything(conn, prefix):
    """Remove domains, volumes (in any active pool) and pools whose names start with ``prefix``."""
    errors = []
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            try:
                if dom.isActive():
                    dom.destroy()
                flags = getattr(libvirt, 'VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA', 0) | \
                    getattr(libvirt, 'VIR_DOMAIN_UNDEFINE_NVRAM', 0)
                dom.undefineFlags(flags)
            except libvirt.libvirtError as exc:
                errors.append(exc)
    for net in conn.listAllNetworks():
        if net.name().startswith(prefix):
            try:
                persistent = net.isPersistent()
                if net.isActive():
                    net.destroy()
                if persistent:
                    net.undefine()
            except libvirt.libvirtError as exc:
                errors.append(exc)
    pools = [p for p in conn.listAllStoragePools() if p.isActive()]
    for pool in pools:
        pool.refresh(0)
        mine = [v for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]
        # overlays first: repeatedly delete volumes no remaining volume is backed by
        for _round in range(20):
            if not mine:
                break
            backings = set(filter(None, (_vol_backing(v) for v in mine)))
            for vol in [v for v in mine if v.path() not in backings]:
                try:
                    vol.delete(0)
                except libvirt.libvirtError as exc:
                    errors.append(exc)
                mine.remove(vol)
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(prefix):
            try:
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
            except libvirt.libvirtError as exc:
                errors.append(exc)
    return errors


def leftovers(conn, prefix):
    found = [d.name() for d in conn.listAllDomains() if d.name().startswith(prefix)]
    found += ['network ' + n.name() for n in conn.listAllNetworks() if n.name().startswith(prefix)]
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(prefix):
            found.append('pool ' + pool.name())
        elif pool.isActive():
            pool.refresh(0)
            found += [v.name() for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]
    return found


@pytest.fixture
def cleanup(libvirt_conn, unique_name):
    """Removes everything named after this test's unique_name at its end, even when it fails."""
    yield unique_name
    errors = remove_everything(libvirt_conn, unique_name)
    assert not errors, errors
    assert leftovers(libvirt_conn, unique_name) == []


@pytest.fixture
def golden(cleanup, pool_name, run_module, tools):
    """A 1 GiB qcow2 golden volume with 0xcd in its first 64 MiB, made through libvirt_volume."""
    name = cleanup + '-golden.qcow2'
    result = run_module('libvirt_volume', {'name': name, 'pool': pool_name, 'capacity': '1G'})
    assert result['changed'] is True, result
    path = result['volume']['path']
    tools.write(path, 'qcow2', '0xcd', 0, 64 * MiB)
    return {'name': name, 'path': path, 'capacity': 1024 * MiB}


# ------------------------------------------------------------------ a tiny bootable guest

GUEST_INIT = r'''#!/bin/busybox sh
# mount devtmpfs first: /dev/ttyS0 exists only then
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
# the ACPI power button (modules of the host's kernel) + busybox acpid = a graceful shutdown
/bin/busybox insmod /evdev.ko
/bin/busybox insmod /button.ko
# an e1000 NIC (if the domain has one) asks DHCP for an address and reports it
/bin/busybox insmod /e1000.ko
/bin/busybox ip link set eth0 up 2>/dev/null && /bin/busybox udhcpc -i eth0 -q -t 20 -s /udhcpc.sh >/dev/null 2>&1 &
/bin/busybox sleep 1
/bin/busybox acpid -c /etc/acpi -l /dev/null
MEM=$(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ' | /bin/busybox cut -d' ' -f2)
/bin/busybox echo "VIRTLAB-BOOTED cpus=$(/bin/busybox nproc) memkb=$MEM cmdline=$(/bin/busybox cat /proc/cmdline)" > /dev/ttyS0
while true; do /bin/busybox sleep 60; done
'''

DHCP_SCRIPT = '''#!/bin/busybox sh
if [ "$1" = bound ]; then
    /bin/busybox ip addr add "$ip/${mask:-24}" dev "$interface"
    /bin/busybox echo "VIRTLAB-IP $ip" > /dev/ttyS0
fi
'''

POWER_BUTTON = '''#!/bin/busybox sh
/bin/busybox echo VIRTLAB-ACPI-POWEROFF > /dev/ttyS0
/bin/busybox poweroff -f
'''


@pytest.fixture(scope='session')
def boot_files():
    """{'kernel', 'initrd', 'dir'}: the host's Debian kernel and a busybox initramfs whose /init prints
    'VIRTLAB-BOOTED cpus=N memkb=N cmdline=...' on ttyS0 and powers off on the ACPI power button.
    In a world-readable directory (qemu runs as libvirt-qemu)."""
    import glob
    import shutil
    import tempfile

    kernels = sorted(glob.glob('/boot/vmlinuz-*'))
    if not kernels:
        pytest.fail('no kernel in /boot (package linux-image-amd64)', pytrace=False)
    release = os.path.basename(kernels[-1])[len('vmlinuz-'):]
    modules = ['/lib/modules/{0}/kernel/drivers/input/evdev.ko'.format(release),
               '/lib/modules/{0}/kernel/drivers/acpi/button.ko'.format(release),
               '/lib/modules/{0}/kernel/drivers/net/ethernet/intel/e1000/e1000.ko'.format(release)]
    directory = tempfile.mkdtemp(prefix='vlt-test-boot-')
    os.chmod(directory, 0o755)
    try:
        root = os.path.join(directory, 'root')
        for sub in ('bin', 'dev', 'proc', 'sys', 'etc/acpi/PWRF'):
            os.makedirs(os.path.join(root, sub))
        shutil.copy('/bin/busybox', os.path.join(root, 'bin/busybox'))
        for module in modules:
            shutil.copy(module, root)
        for path, text in (('init', GUEST_INIT), ('etc/acpi/PWRF/00000080', POWER_BUTTON),
                           ('udhcpc.sh', DHCP_SCRIPT)):
            with open(os.path.join(root, path), 'w') as handle:
                handle.write(text)
            os.chmod(os.path.join(root, path), 0o755)
        initrd = os.path.join(directory, 'initrd.gz')
        subprocess.run('cd {0} && find . | cpio -o -H newc --quiet | gzip -1 > {1}'.format(root, initrd),
                       shell=True, check=True)
        kernel = os.path.join(directory, 'vmlinuz')
        shutil.copy(kernels[-1], kernel)
        for path in (kernel, initrd):
            os.chmod(path, 0o644)
        yield {'kernel': kernel, 'initrd': initrd, 'dir': directory}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_text(path, text, timeout=120):
    """The content of ``path`` once it holds ``text`` (fails after ``timeout`` seconds)."""
    import time
    deadline = time.monotonic() + timeout
    content = ''
    while time.monotonic() < deadline:
        try:
            with open(path, errors='replace') as handle:
                content = handle.read()
        except OSError:
            content = ''
        if text in content:
            return content
        time.sleep(0.5)
    raise AssertionError('{0!r} not in {1} after {2} s; it holds:\n{3}'.format(text, path, timeout, content[-2000:]))


@pytest.fixture(scope='session')
def wait_for():
    return wait_for_text


def pytest_configure(config):
    config.addinivalue_line('markers', 'restarts_libvirtd: the test restarts libvirtd; it runs last in the session, '
                                       'after every test that holds a libvirt connection')


def pytest_collection_modifyitems(items):
    """Move the tests that restart libvirtd to the end: session fixtures' connections die with the daemon."""
    items.sort(key=lambda item: item.get_closest_marker('restarts_libvirtd') is not None)
