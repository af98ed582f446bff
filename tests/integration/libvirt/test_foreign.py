"""Issue #17 against the real libvirtd: a module that creates never changes what the task did not make.

Each test points a module at an existing *foreign* object of the requested name (made with libvirt or
qemu-img directly, never by the module) and proves that the task fails naming the option and saying what
the object holds, that the object is byte-for-byte as it was (``fingerprint``: sha256 + qemu-img info +
libvirt XML of a volume; full inactive XML + state of a domain) and that nothing was created.
"""

import os
import subprocess

import libvirt

MiB = 1024 ** 2

FOREIGN_DOMAIN = '''<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>48</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='{fmt}'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>'''


def _failed(result, option, *words):
    assert result.get('failed') is True, result
    assert result['msg'].startswith(option + ':'), result['msg']
    for word in words:
        assert word in result['msg'], (word, result['msg'])
    assert 'Traceback' not in result['msg'] + result.get('_stderr', '')


def _qemu_img(*argv):
    subprocess.run(['qemu-img'] + list(argv), check=True, capture_output=True)


def _raw_volume(storage_pool, name, size, tools, pattern='0x42'):
    """A raw volume made with libvirt (not by a module), with some data."""
    vol = storage_pool.createXML("<volume><name>{0}</name><capacity>{1}</capacity><target><format type='raw'/>"
                                 "</target></volume>".format(name, size), 0)
    tools.write(vol.path(), 'raw', pattern, 0, MiB)
    return vol.path()


def test_volume_refuses_foreign(run_module, pool_name, pool_path, storage_pool, cleanup, tools, fingerprint,
                                golden, tmp_path):
    raw = cleanup + '-foreign.img'
    _raw_volume(storage_pool, raw, 8 * MiB, tools)
    overlay = cleanup + '-overlay.qcow2'
    _qemu_img('create', '-f', 'qcow2', '-F', 'qcow2', '-b', golden['path'], os.path.join(pool_path, overlay))
    # a file put into the pool's directory by hand, not yet a volume for libvirt (no refresh)
    by_hand = cleanup + '-byhand.qcow2'
    with open(os.path.join(pool_path, by_hand), 'wb') as handle:
        handle.write(b'not an image, somebody else\'s data\n' * 1000)
    image = str(tmp_path / 'image.qcow2')
    _qemu_img('create', '-f', 'qcow2', image, '4M')
    before = {name: fingerprint.volume(pool_name, name) for name in (raw, overlay, by_hand, golden['name'])}
    names = fingerprint.names(cleanup)

    cases = [
        # an empty qcow2 volume asked: a raw one of that name is foreign, even when the task would grow it
        ({'name': raw, 'capacity': '16M'}, 'name', ['raw', str(8 * MiB) + ' bytes', 'no backing file']),
        ({'name': raw, 'capacity': '16M'}, 'name', ['raw']),     # check mode: the same answer
        ({'name': raw, 'capacity': '16M', 'format': 'qcow2'}, 'format', ['raw']),
        # an overlay (a linked clone made elsewhere) is never taken for an empty or imported volume
        ({'name': overlay, 'capacity': '2G'}, 'name', ['overlay of ' + golden['path']]),
        ({'name': overlay, 'import_from': image, 'force': True}, 'name', ['overlay of ' + golden['path']]),
        # an imported qcow2 image asked, with force: the raw volume of that name is not overwritten
        ({'name': raw, 'import_from': image, 'force': True}, 'name', ['raw', 'qcow2 image']),
        ({'name': by_hand, 'capacity': '16M'}, 'name', ['raw']),
    ]
    for index, (args, option, words) in enumerate(cases):
        result = run_module('libvirt_volume', dict(args, pool=pool_name), check=index == 1)
        _failed(result, option, *words)

    after = {name: fingerprint.volume(pool_name, name) for name in before}
    assert after == before, 'a refused task touched a foreign volume'
    assert fingerprint.names(cleanup) == names, 'a refused task created something'

    # its own volume (same format, no backing file) is still grown, and a re-run is no change
    own = cleanup + '-own.qcow2'
    assert run_module('libvirt_volume', {'name': own, 'pool': pool_name, 'capacity': '8M'})['changed'] is True
    assert run_module('libvirt_volume', {'name': own, 'pool': pool_name, 'capacity': '16M'})['changed'] is True
    assert run_module('libvirt_volume', {'name': own, 'pool': pool_name, 'capacity': '16M'})['changed'] is False


def test_volume_clone_refuses_foreign(run_module, pool_name, pool_path, storage_pool, cleanup, tools, fingerprint,
                                      golden):
    other = cleanup + '-other.img'
    _raw_volume(storage_pool, other, 4 * MiB, tools, pattern='0x17')
    elsewhere = cleanup + '-elsewhere.qcow2'        # an overlay of another file
    _qemu_img('create', '-f', 'qcow2', '-F', 'raw', '-b', os.path.join(pool_path, other),
              os.path.join(pool_path, elsewhere))
    plain = cleanup + '-plain.img'                  # an independent raw volume, smaller than the golden
    _raw_volume(storage_pool, plain, 8 * MiB, tools)
    watched = (other, elsewhere, plain, golden['name'])
    before = {name: fingerprint.volume(pool_name, name) for name in watched}
    names = fingerprint.names(cleanup)      # (refreshes the pool)
    # a file put into the pool's directory by hand after the last refresh: libvirt does not list it yet
    late = cleanup + '-late.qcow2'
    late_path = os.path.join(pool_path, late)
    with open(late_path, 'wb') as handle:
        handle.write(b'appeared after the last refresh\n' * 512)
    late_before = (tools.sha256(late_path), os.stat(late_path))
    assert late not in storage_pool.listVolumes()
    source = {'pool': pool_name, 'source': golden['name']}
    cases = [
        ({'name': late}, 'mode', ['raw', 'no backing file']),
        ({'name': elsewhere}, 'source', ['overlay of ' + os.path.join(pool_path, other), 'left alone']),
        ({'name': elsewhere, 'split': True, 'capacity': '2G'}, 'source', ['overlay of']),
        ({'name': plain}, 'mode', ['raw', 'no backing file']),
        ({'name': plain, 'mode': 'full', 'capacity': '2G'}, 'name', ['raw', str(8 * MiB) + ' bytes']),
        ({'name': plain, 'split': True}, 'name', ['raw']),
        ({'names': [cleanup + '-new1.qcow2', plain], 'mode': 'full'}, 'names', ['raw']),
        ({'name': late, 'mode': 'full', 'format': 'qcow2'}, 'name', ['raw']),
    ]
    for index, (args, option, words) in enumerate(cases):
        result = run_module('libvirt_volume_clone', dict(source, **args), check=index == 2)
        _failed(result, option, *words)
    after = {name: fingerprint.volume(pool_name, name) for name in watched}
    assert after == before, 'a refused task touched a foreign volume'
    late_after = (tools.sha256(late_path), os.stat(late_path))
    assert late_after[0] == late_before[0] and late_after[1].st_ino == late_before[1].st_ino
    assert late_after[1].st_mtime_ns == late_before[1].st_mtime_ns
    assert late_after[1].st_ctime_ns == late_before[1].st_ctime_ns
    assert fingerprint.names(cleanup) == sorted(names + [late]), 'a refused task created something'


def test_domain_refuses_foreign(run_module, libvirt_conn, pool_name, storage_pool, cleanup, tools, fingerprint,
                                golden):
    disk = cleanup + '-fdisk.img'
    path = _raw_volume(storage_pool, disk, 8 * MiB, tools)
    name = cleanup + '-foreign'
    libvirt_conn.defineXML(FOREIGN_DOMAIN.format(name=name, fmt='raw', disk=path))
    before = fingerprint.domain(name)
    disk_before = fingerprint.volume(pool_name, disk)
    names = fingerprint.names(cleanup)

    args = {'name': name, 'memory': '64M', 'vcpus': 2, 'disks': [{'pool': pool_name, 'volume': disk}]}
    for check in (True, False):
        refused = run_module('libvirt_domain', args, check=check)
        _failed(refused, 'name', 'not defined by virtlab.infra', '48 MiB', 'vda=' + path, 'domain/memory',
                'left alone')
    refused = run_module('libvirt_domain', dict(args, state='running', labels={'team': 'x'}, autostart=True))
    _failed(refused, 'name', 'not defined by virtlab.infra')
    xml = FOREIGN_DOMAIN.format(name=name, fmt='raw', disk=path).replace('48</memory>', '96</memory>')
    _failed(run_module('libvirt_domain', {'name': name, 'xml': xml}), 'name', 'domain/memory')
    # a cloud-init seed for it would replace the domain's definition: refused before any seed is made
    _failed(run_module('libvirt_domain', dict(args, memory='48M', vcpus=1,
                                              cloud_init={'pool': pool_name})), 'name')
    assert fingerprint.domain(name) == before, 'a refused task touched the foreign domain'
    assert fingerprint.volume(pool_name, disk) == disk_before
    assert fingerprint.names(cleanup) == names, 'a refused task created something'

    # a definition that already holds is no change (a re-run stays a no-op) and writes nothing
    assert run_module('libvirt_domain', {'name': name, 'xml': FOREIGN_DOMAIN.format(
        name=name, fmt='raw', disk=path)})['changed'] is False
    assert fingerprint.domain(name) == before

    # a new domain's cloud-init seed volume name taken by a foreign volume: refused, nothing made
    new = cleanup + '-ci'
    seed = new + '-cidata.iso'
    _raw_volume(storage_pool, seed, MiB, tools, pattern='0x99')
    seed_before = fingerprint.volume(pool_name, seed)
    names = fingerprint.names(cleanup)
    refused = run_module('libvirt_domain', {'name': new, 'memory': '64M', 'cloud_init': {'pool': pool_name}})
    _failed(refused, 'name', seed, 'raw', 'not the cloud-init seed')
    assert fingerprint.volume(pool_name, seed) == seed_before
    assert fingerprint.names(cleanup) == names

    # the module's own domains carry the record: they are redefined as before
    own = cleanup + '-own'
    made = run_module('libvirt_domain', {'name': own, 'memory': '64M'})
    assert made['changed'] is True, made
    record = libvirt_conn.lookupByName(own).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert 'https://github.com/virtlab/infra/libvirt/domain' in record
    assert run_module('libvirt_domain', {'name': own, 'memory': '96M'})['changed'] is True
    assert run_module('libvirt_domain', {'name': own, 'memory': '96M'})['changed'] is False


def test_domain_clone_refuses_foreign(run_module, libvirt_conn, pool_name, storage_pool, cleanup, tools,
                                      fingerprint, golden):
    disk = cleanup + '-src.qcow2'
    made = run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': disk})
    source = cleanup + '-src'
    libvirt_conn.defineXML(FOREIGN_DOMAIN.format(name=source, fmt='qcow2', disk=made['volume']['path']))

    # a foreign domain with the clone's name
    taken = cleanup + '-taken'
    other_disk = cleanup + '-takendisk.img'
    libvirt_conn.defineXML(FOREIGN_DOMAIN.format(name=taken, fmt='raw',
                                                 disk=_raw_volume(storage_pool, other_disk, 4 * MiB, tools)))
    # a foreign volume with the name of the second clone's disk
    second = cleanup + '-second'
    squatter = second + '-vda.qcow2'
    _raw_volume(storage_pool, squatter, 4 * MiB, tools, pattern='0x33')

    before = {'domains': {n: fingerprint.domain(n) for n in (source, taken)},
              'volumes': {n: fingerprint.volume(pool_name, n) for n in (disk, other_disk, squatter)}}
    names = fingerprint.names(cleanup)
    for check in (True, False):
        refused = run_module('libvirt_domain_clone', {'name': taken, 'source': source, 'start': True}, check=check)
        _failed(refused, 'name', 'not a clone made by this module', 'vda=' + fingerprint.volume(
            pool_name, other_disk)['path'], 'left alone')
        refused = run_module('libvirt_domain_clone', {'name': second, 'source': source}, check=check)
        _failed(refused, 'name', squatter, 'raw', 'left alone')
    after = {'domains': {n: fingerprint.domain(n) for n in (source, taken)},
             'volumes': {n: fingerprint.volume(pool_name, n) for n in (disk, other_disk, squatter)}}
    assert after == before, 'a refused task touched a foreign object'
    assert fingerprint.names(cleanup) == names, 'a refused task created something'


def test_devtest_clones_refuse_foreign(run_module, libvirt_conn, pool_name, pool_path, storage_pool, cleanup,
                                       tools, fingerprint, golden, tmp_path):
    from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import derive_stem

    stem = derive_stem(golden['name'], '.qcow2')
    args = {'pool': pool_name, 'golden': golden['name'], 'set_name': 'fx', 'golden_version': 'v1',
            'ledger_dir': str(tmp_path / 'ledger')}
    name = '{0}-fx-{1}.qcow2'.format(stem, 'ann')

    # 1. a foreign volume with a clone's name, and one with the version's name
    _raw_volume(storage_pool, name, 4 * MiB, tools, pattern='0x21')
    version = '{0}-fx--v2.qcow2'.format(stem)
    _raw_volume(storage_pool, version, 4 * MiB, tools, pattern='0x22')
    before = {n: fingerprint.volume(pool_name, n) for n in (name, version, golden['name'])}
    names = fingerprint.names(cleanup)
    for check in (True, False):
        refused = run_module('libvirt_devtest_clones', dict(args, clones=[{'user': 'ann'}]), check=check)
        _failed(refused, 'clones[0].name', 'raw', 'not in the ledger', 'left alone')
    for check in (True, False):
        refused = run_module('libvirt_devtest_clones', dict(args, golden_version='v2', clones=[{'user': 'bob'}]),
                             check=check)
        _failed(refused, 'golden_version', version, 'raw', 'left alone')
    assert {n: fingerprint.volume(pool_name, n) for n in before} == before
    assert fingerprint.names(cleanup) == names
    storage_pool.storageVolLookupByName(name).delete(0)
    storage_pool.storageVolLookupByName(version).delete(0)

    # 2. the set's own clone, replaced behind its back by a foreign volume of the same name
    made = run_module('libvirt_devtest_clones', dict(args, clones=[{'user': 'ann'}]))
    assert made['changed'] is True, made
    path = made['clones'][0]['path']
    storage_pool.storageVolLookupByName(name).delete(0)
    _raw_volume(storage_pool, name, 4 * MiB, tools, pattern='0x23')
    before = fingerprint.volume(pool_name, name)
    names = fingerprint.names(cleanup)
    refused = run_module('libvirt_devtest_clones', dict(args, clones=[{'user': 'ann'}]))
    _failed(refused, 'clones[0].name', 'replaced the clone', 'raw')
    left = run_module('libvirt_devtest_clones', dict(args, action='teardown'))
    assert not left.get('failed'), left
    assert name not in [c['name'] for c in left['clones'] if c.get('action') == 'removed'], left
    assert fingerprint.volume(pool_name, name) == before and before['path'] == path
