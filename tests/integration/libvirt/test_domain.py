"""libvirt_domain against the real libvirtd: define, idempotence, drift, check mode, raw XML, states, absent."""

import re
import xml.etree.ElementTree as ET

import libvirt

MiB = 1024 ** 2


def _memory_kib(dom):
    return int(ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findtext('memory'))


def test_domain_define_drift_check_mode_absent(run_module, libvirt_conn, pool_name, golden, cleanup, storage_pool):
    disk = cleanup + '-disk.qcow2'
    assert run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': disk})['changed']
    name = cleanup + '-dom'
    args = {'name': name, 'memory': '192M', 'vcpus': 2, 'machine': 'pc',
            'disks': [{'pool': pool_name, 'volume': disk}], 'networks': [{'type': 'user'}],
            'serial': {'type': 'pty'}}

    predicted = run_module('libvirt_domain', args, check=True, diff=True)
    assert predicted['changed'] is True, predicted
    assert '<memory unit="KiB">196608</memory>' in predicted['diff']['after']
    assert name not in [d.name() for d in libvirt_conn.listAllDomains()], 'check mode defined the domain'

    made = run_module('libvirt_domain', args, diff=True)
    assert made['changed'] is True and made['changes'] == ['defined'], made
    assert made['domain']['state'] == 'shutdown'
    assert made['domain']['disks'][0]['volume'] == disk and made['domain']['disks'][0]['target'] == 'vda'
    assert re.match(r'^52:54:00(:[0-9a-f]{2}){3}$', made['domain']['interfaces'][0]['mac'])
    dom = libvirt_conn.lookupByName(name)
    assert _memory_kib(dom) == 196608 and dom.XMLDesc(0).count("<vcpu placement='static'>2</vcpu>") == 1
    assert "type='qemu'" in dom.XMLDesc(0), 'a new domain defaults to qemu (TCG), never kvm'

    again = run_module('libvirt_domain', args, diff=True)
    assert again['changed'] is False, again
    assert again['diff']['before'] == again['diff']['after']

    # drift made outside Ansible: seen, reported by check mode without touching, then corrected
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).replace('196608', '262144')
    libvirt_conn.defineXML(xml)
    assert _memory_kib(dom) == 262144
    predicted = run_module('libvirt_domain', args, check=True, diff=True)
    assert predicted['changed'] is True and 'domain/memory' in predicted['changes'], predicted
    assert '-  <memory unit="KiB">262144</memory>' in _unified(predicted['diff'])
    assert _memory_kib(libvirt_conn.lookupByName(name)) == 262144, 'check mode changed the domain'
    fixed = run_module('libvirt_domain', args)
    assert fixed['changed'] is True and _memory_kib(libvirt_conn.lookupByName(name)) == 196608
    assert run_module('libvirt_domain', args)['changed'] is False

    # a second disk added through the options
    extra = cleanup + '-extra.qcow2'
    run_module('libvirt_volume', {'name': extra, 'pool': pool_name, 'capacity': '16M'})
    more = dict(args, disks=args['disks'] + [{'pool': pool_name, 'volume': extra}])
    added = run_module('libvirt_domain', more)
    assert added['changed'] is True and 'domain/devices/disk[vdb] (added)' in added['changes'], added
    assert run_module('libvirt_domain', more)['changed'] is False

    # state and autostart only, without definition options
    assert run_module('libvirt_domain', {'name': name, 'autostart': True})['changed'] is True
    assert libvirt_conn.lookupByName(name).autostart() == 1
    assert run_module('libvirt_domain', {'name': name, 'autostart': True})['changed'] is False

    # absent: check mode keeps it; remove_volumes deletes its disks but never the golden
    assert run_module('libvirt_domain', {'name': name, 'state': 'absent'}, check=True)['changed'] is True
    assert libvirt_conn.lookupByName(name)
    gone = run_module('libvirt_domain', {'name': name, 'state': 'absent', 'remove_volumes': True})
    assert gone['changed'] is True, gone
    assert sorted(gone['removed_volumes']) == sorted([pool_name + '/' + disk, pool_name + '/' + extra])
    assert name not in [d.name() for d in libvirt_conn.listAllDomains()]
    storage_pool.refresh(0)
    assert disk not in storage_pool.listVolumes() and golden['name'] in storage_pool.listVolumes()
    assert run_module('libvirt_domain', {'name': name, 'state': 'absent'})['changed'] is False


def _unified(diff):
    import difflib
    return ''.join(difflib.unified_diff(diff['before'].splitlines(True), diff['after'].splitlines(True)))


RAW = '''<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>'''


def test_domain_from_raw_xml_and_protection(run_module, libvirt_conn, pool_name, golden, cleanup, storage_pool):
    clone = cleanup + '-raw.qcow2'
    made_clone = run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': clone})
    name = cleanup + '-raw'
    xml = RAW.format(name=name, disk=made_clone['volume']['path'])
    made = run_module('libvirt_domain', {'name': name, 'xml': xml})
    assert made['changed'] is True, made
    assert run_module('libvirt_domain', {'name': name, 'xml': xml})['changed'] is False
    bigger = run_module('libvirt_domain', {'name': name, 'xml': xml.replace('64</memory>', '96</memory>')})
    assert bigger['changed'] is True and bigger['changes'] == ['domain/memory'], bigger
    assert _memory_kib(libvirt_conn.lookupByName(name)) == 96 * 1024

    # a domain whose disk is the golden itself: removing it with its volumes is refused (clones use it)
    base = cleanup + '-base'
    run_module('libvirt_domain', {'name': base, 'xml': RAW.format(name=base, disk=golden['path'])})
    refused = run_module('libvirt_domain', {'name': base, 'state': 'absent', 'remove_volumes': True})
    assert refused.get('failed') is True and clone in refused['msg'], refused
    assert refused['msg'].startswith('remove_volumes:')
    assert libvirt_conn.lookupByName(base), 'the refused removal removed the domain'

    bad = [
        ({'name': name, 'xml': RAW.format(name='other', disk='/x')}, 'xml'),
        ({'name': name, 'xml': '<domain><name>'}, 'xml'),
        ({'name': name, 'xml': xml, 'memory': '1G'}, 'memory'),
        ({'name': cleanup + '-new', 'memory': 'lots'}, 'memory'),
        ({'name': cleanup + '-new', 'memory': '64M', 'disks': [{'pool': pool_name, 'volume': cleanup + '-nope'}]},
         'disks[0].volume'),
        ({'name': cleanup + '-new', 'memory': '64M', 'vcpus': 0}, 'vcpus'),
        ({'name': cleanup + '-new', 'state': 'running'}, 'xml'),
    ]
    for args, option in bad:
        result = run_module('libvirt_domain', args)
        assert result.get('failed') is True and option in result['msg'], (args, result)
        assert 'Traceback' not in result['msg'] + result['_stderr']
    assert cleanup + '-new' not in [d.name() for d in libvirt_conn.listAllDomains()]

    # defined, but it cannot start: the task fails and takes its new domain away again
    broken = run_module('libvirt_domain', {'name': cleanup + '-new', 'memory': '64M', 'state': 'running',
                                           'kernel': '/nonexistent/' + cleanup + '/vmlinuz'})
    assert broken.get('failed') is True and 'Traceback' not in broken['msg'], broken
    assert cleanup + '-new' not in [d.name() for d in libvirt_conn.listAllDomains()]


def test_guest_boots_reports_and_shuts_down_gracefully(run_module, libvirt_conn, pool_name, golden, cleanup,
                                                       boot_files, wait_for, tools):
    """The one boot test: a real guest (host kernel + busybox initramfs under TCG) reports its vCPUs, memory and
    kernel command line on its serial console, pauses, resumes and powers off on the ACPI button."""
    disk = cleanup + '-boot.qcow2'
    run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': disk})
    console = '{0}/{1}.log'.format(boot_files['dir'], cleanup)
    name = cleanup + '-boot'
    args = {'name': name, 'memory': '192M', 'vcpus': 2, 'kernel': boot_files['kernel'],
            'initrd': boot_files['initrd'], 'cmdline': 'console=ttyS0 quiet panic=-1 vltmarker=' + cleanup,
            'serial': {'type': 'file', 'path': console}, 'disks': [{'pool': pool_name, 'volume': disk}],
            'state': 'running'}
    started = run_module('libvirt_domain', args)
    assert started['changed'] is True and started['domain']['state'] == 'running', started

    output = wait_for(console, 'VIRTLAB-BOOTED')
    line = next(x for x in output.splitlines() if x.startswith('VIRTLAB-BOOTED'))
    assert 'cpus=2 ' in line, line
    assert 'vltmarker=' + cleanup in line, line
    memkb = int(re.search(r'memkb=(\d+)', line).group(1))
    assert 100 * 1024 < memkb <= 192 * 1024, line        # the guest sees (a bit less than) 192 MiB

    assert run_module('libvirt_domain', args)['changed'] is False
    paused = run_module('libvirt_domain', dict(args, state='paused'))
    assert paused['changed'] is True and libvirt_conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_PAUSED
    assert run_module('libvirt_domain', args)['changed'] is True
    assert libvirt_conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_RUNNING

    check = run_module('libvirt_domain', {'name': name, 'state': 'shutdown'}, check=True)
    assert check['changed'] is True and libvirt_conn.lookupByName(name).isActive()
    down = run_module('libvirt_domain', {'name': name, 'state': 'shutdown', 'shutdown_timeout': 60})
    assert down['changed'] is True and down['forced'] is False, down
    assert 'VIRTLAB-ACPI-POWEROFF' in wait_for(console, 'VIRTLAB-ACPI-POWEROFF', timeout=5)
    assert libvirt_conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert run_module('libvirt_domain', {'name': name, 'state': 'shutdown'})['changed'] is False

    gone = run_module('libvirt_domain', {'name': name, 'state': 'absent', 'remove_volumes': True})
    assert gone['changed'] is True and gone['removed_volumes'] == [pool_name + '/' + disk]
    assert tools.info(golden['path'])['format'] == 'qcow2'
