"""Issue #17 against the real libvirtd: a clone of a volume that a RUNNING domain has attached writable.

A real tiny guest (host kernel + busybox initramfs under TCG) runs with the source volume as its
writable disk. libvirt_volume_clone refuses it by default (naming ``source`` and the domain; volume
and domain untouched). With ``running_source=snapshot`` an external disk-only snapshot moves the
domain onto a new overlay first: the clone holds the source's content at clone time, the domain keeps
running, and what the domain writes afterwards (through QEMU's own block layer, HMP ``qemu-io``) lands
in its overlay and never shows in the clone or the frozen source. libvirt_domain_clone and
libvirt_devtest_clones refuse such a source too.
"""

import libvirt
import libvirt_qemu

MiB = 1024 ** 2


def _hmp(dom, command):
    return libvirt_qemu.qemuMonitorCommand(dom, command, libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)


def _disk_alias(dom):
    import xml.etree.ElementTree as ET
    return ET.fromstring(dom.XMLDesc(0)).find("devices/disk/alias").get('name')


def _disk_source(dom, flags=0):
    import xml.etree.ElementTree as ET
    source = ET.fromstring(dom.XMLDesc(flags)).find("devices/disk/source")
    return source.get('file') or '{0}/{1}'.format(source.get('pool'), source.get('volume'))


def test_clone_of_running_source(run_module, libvirt_conn, pool_name, storage_pool, cleanup, boot_files, wait_for,
                                 tools, fingerprint, tmp_path):
    source = cleanup + '-src.qcow2'
    made = run_module('libvirt_volume', {'name': source, 'pool': pool_name, 'capacity': '64M'})
    assert made['changed'] is True, made
    source_path = made['volume']['path']
    tools.write(source_path, 'qcow2', '0xaa', 0, 4 * MiB)

    name = cleanup + '-run'
    console = '{0}/{1}.log'.format(boot_files['dir'], cleanup)
    started = run_module('libvirt_domain', {
        'name': name, 'memory': '128M', 'vcpus': 1, 'kernel': boot_files['kernel'], 'initrd': boot_files['initrd'],
        'cmdline': 'console=ttyS0 quiet panic=-1', 'serial': {'type': 'file', 'path': console},
        'disks': [{'pool': pool_name, 'volume': source}], 'state': 'running'})
    assert started['changed'] is True and started['domain']['state'] == 'running', started
    wait_for(console, 'VIRTLAB-BOOTED')
    dom = libvirt_conn.lookupByName(name)

    clone = cleanup + '-clone.qcow2'
    args = {'pool': pool_name, 'source': source, 'name': clone}
    domain_before = fingerprint.domain(name)
    volume_before = fingerprint.volume(pool_name, source)
    names = fingerprint.names(cleanup)

    # refused by default (also in check mode, and for a full copy): nothing changes, nothing is made
    for extra, check in (({}, True), ({}, False), ({'mode': 'full'}, False)):
        refused = run_module('libvirt_volume_clone', dict(args, **extra), check=check)
        assert refused.get('failed') is True, refused
        assert refused['msg'].startswith('source:') and name in refused['msg'] and 'vda' in refused['msg'], refused
        assert 'running_source=snapshot' in refused['msg']
        assert refused['domains'] == [{'domain': name, 'target': 'vda', 'path': source_path}]
    # a domain clone whose source disk another running domain writes, and a devtest version of it: refused
    other = cleanup + '-stopped'
    assert run_module('libvirt_domain', {'name': other, 'memory': '64M',
                                         'disks': [{'pool': pool_name, 'volume': source}]})['changed'] is True
    names = fingerprint.names(cleanup)
    domain_clone = run_module('libvirt_domain_clone', {'name': cleanup + '-dc', 'source': other})
    assert domain_clone.get('failed') and domain_clone['msg'].startswith('source:') and name in domain_clone['msg']
    for check in (True, False):
        devtest = run_module('libvirt_devtest_clones', {
            'pool': pool_name, 'golden': source, 'set_name': 'run', 'golden_version': 'v1',
            'ledger_dir': str(tmp_path / 'ledger'), 'clones': [{'user': 'ann'}]}, check=check)
        assert devtest.get('failed') and devtest['msg'].startswith('golden:') and name in devtest['msg'], devtest
    assert fingerprint.domain(name) == domain_before, 'a refused task touched the running domain'
    assert fingerprint.volume(pool_name, source) == volume_before, 'a refused task touched the source'
    assert fingerprint.names(cleanup) == names, 'a refused task made something'

    # snapshot, check mode: predicted, nothing written
    predicted = run_module('libvirt_volume_clone', dict(args, running_source='snapshot'), check=True)
    assert predicted['changed'] is True, predicted
    overlay = predicted['source_snapshot']['overlay']
    assert predicted['source_snapshot']['domain'] == name and predicted['source_snapshot']['source'] == source_path
    assert overlay.startswith(source_path[:-len('.qcow2')] + '.live-') and overlay.endswith('.qcow2')
    assert fingerprint.domain(name) == domain_before and fingerprint.volume(pool_name, source) == volume_before
    assert fingerprint.names(cleanup) == names

    # snapshot: the domain moves onto a new overlay, keeps running; the clone is made on the frozen source
    made = run_module('libvirt_volume_clone', dict(args, running_source='snapshot'))
    assert made['changed'] is True, made
    overlay = made['source_snapshot']['overlay']
    assert dom.isActive() and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert _disk_source(dom) == overlay
    assert _disk_source(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == overlay, 'the persistent definition moved too'
    info = tools.info(overlay)
    assert info['format'] == 'qcow2' and info['backing-filename'] == source_path
    assert made['volume']['backing'] == source_path and tools.info(made['volume']['path'])['format'] == 'qcow2'
    assert tools.compare(made['volume']['path'], source_path) == 0, 'the clone holds the source at clone time'
    tools.check(made['volume']['path'], 'qcow2', '0xaa', 0, 4 * MiB)
    frozen = fingerprint.volume(pool_name, source)
    assert {k: frozen[k] for k in ('sha256', 'format', 'virtual-size', 'backing')} == \
        {k: volume_before[k] for k in ('sha256', 'format', 'virtual-size', 'backing')}

    # the domain writes (through QEMU's block layer): into its overlay, never into the source or the clone
    # (HMP qemu-io prints nothing back through libvirt; the overlay is read once the domain is off)
    _hmp(dom, 'qemu-io -d /machine/peripheral/{0}/virtio-backend "write -P 0x77 0 1M"'.format(_disk_alias(dom)))
    tools.check(made['volume']['path'], 'qcow2', '0xaa', 0, 4 * MiB)
    assert fingerprint.volume(pool_name, source)['sha256'] == frozen['sha256'], 'the frozen source changed'
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING

    # a re-run is no change; the frozen source is protected while the overlay and the clone use it
    again = run_module('libvirt_volume_clone', dict(args, running_source='snapshot'))
    assert again['changed'] is False and 'source_snapshot' not in again, again
    kept = run_module('libvirt_volume', {'name': source, 'pool': pool_name, 'state': 'absent'})
    assert kept.get('failed') is True and clone in kept['msg'], kept

    # clean up in order: the domains, then the overlay and the clone, then the source
    for domain in (name, other):
        assert run_module('libvirt_domain', {'name': domain, 'state': 'absent'})['changed'] is True
    tools.check(overlay, 'qcow2', '0x77', 0, MiB)            # the domain's write is in its overlay ...
    tools.check(overlay, 'qcow2', '0xaa', MiB, 3 * MiB)      # ... over the frozen source's data
    tools.check(made['volume']['path'], 'qcow2', '0xaa', 0, 4 * MiB)
    tools.check(source_path, 'qcow2', '0xaa', 0, 4 * MiB)
    assert run_module('libvirt_volume_clone', {'pool': pool_name, 'state': 'absent',
                                               'names': [clone, overlay.rsplit('/', 1)[1]]})['changed'] is True
    assert run_module('libvirt_volume', {'name': source, 'pool': pool_name, 'state': 'absent'})['changed'] is True
