"""libvirt_devtest_clones against the real libvirtd: a golden ext4 image with known files, 10 clones,
isolation of writes, report figures against qemu-img and libvirt, refresh/opt-out, reset, split,
expire, teardown, foreign names, check mode and idempotence."""

import json
import os
import subprocess

import pytest

MiB = 1024 ** 2
BLOCK = 4096
USERS = ['u{0:02d}'.format(i) for i in range(10)]


def _run(argv, **kwargs):
    completed = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert completed.returncode == 0, '{0}: {1}{2}'.format(' '.join(argv), completed.stdout, completed.stderr)
    return completed.stdout


def make_ext4(path, files, size_mib=16):
    """A raw ext4 image of ``size_mib`` holding ``files`` ({name: bytes}) at its root (mkfs.ext4 -d)."""
    root = path + '.d'
    os.makedirs(root)
    for name, data in files.items():
        with open(os.path.join(root, name), 'wb') as handle:
            handle.write(data)
    _run(['mkfs.ext4', '-q', '-F', '-b', str(BLOCK), '-d', root, path, '{0}M'.format(size_mib)])


def read_file(image, fmt, name, tmp_path):
    """The content of /``name`` in the ext4 file system of ``image`` (qemu-img convert to raw, then debugfs)."""
    raw = str(tmp_path / 'read.raw')
    _run(['qemu-img', 'convert', '-U', '-f', fmt, '-O', 'raw', image, raw])
    try:
        completed = subprocess.run(['debugfs', '-R', 'cat /' + name, raw], capture_output=True, check=False)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout
    finally:
        os.unlink(raw)


def first_block(image, fmt, name, tmp_path):
    """File system block number of the first block of /``name``."""
    raw = str(tmp_path / 'bmap.raw')
    _run(['qemu-img', 'convert', '-U', '-f', fmt, '-O', 'raw', image, raw])
    try:
        out = _run(['debugfs', '-R', 'bmap /{0} 0'.format(name), raw])
    finally:
        os.unlink(raw)
    return int(out.strip().splitlines()[-1])


def rewrite_golden_file(image, name, data, tmp_path):
    """Replace /``name`` in a raw ext4 image in place (debugfs -w)."""
    source = tmp_path / 'new-content'
    source.write_bytes(data)
    _run(['debugfs', '-w', '-R', 'rm /' + name, image])
    _run(['debugfs', '-w', '-R', 'write {0} {1}'.format(source, name), image])


@pytest.fixture
def ext4_golden(cleanup, pool_name, run_module, tmp_path):
    """A raw volume holding a 16 MiB ext4 file system with hello.txt and 2 MiB of random data."""
    for tool in ('mkfs.ext4', 'debugfs'):
        if subprocess.run(['which', tool], capture_output=True, check=False).returncode != 0:
            pytest.fail('{0} is missing: apt-get install e2fsprogs (scripts/setup.sh)'.format(tool), pytrace=False)
    image = str(tmp_path / 'golden.raw')
    data = os.urandom(2 * MiB)
    make_ext4(image, {'hello.txt': b'golden v1\n', 'data.bin': data})
    name = cleanup + '-golden.raw'
    made = run_module('libvirt_volume', {'name': name, 'pool': pool_name, 'import_from': image})
    assert made['changed'] is True, made
    return {'name': name, 'path': made['volume']['path'], 'data': data}


def _volumes(storage_pool, prefix):
    storage_pool.refresh(0)
    return sorted(v for v in storage_pool.listVolumes() if v.startswith(prefix))


def test_devtest_clone_set_lifecycle(run_module, pool_name, storage_pool, ext4_golden, cleanup, tools, tmp_path):
    ledger_dir = str(tmp_path / 'ledger')
    stem = ext4_golden['name'][:-len('.raw')]
    names = {user: '{0}-qa-{1}.qcow2'.format(stem, user) for user in USERS}
    version_name = {label: '{0}-qa--{1}.qcow2'.format(stem, label) for label in ('v1', 'v2')}
    base = {'pool': pool_name, 'golden': ext4_golden['name'], 'set_name': 'qa', 'golden_version': 'v1',
            'ledger_dir': ledger_dir, 'address_pool': '10.77.0.0/24',
            'clones': [{'user': user} for user in USERS]}
    base['clones'][3]['refresh'] = False
    golden_sha = tools.sha256(ext4_golden['path'])

    # check mode: predicted, nothing made (no volume, no ledger)
    predicted = run_module('libvirt_devtest_clones', base, check=True, diff=True)
    assert predicted['changed'] is True, predicted
    assert len(predicted['diff']['after']['clones']) == 10 and predicted['diff']['before']['clones'] == []
    assert _volumes(storage_pool, cleanup) == [ext4_golden['name']]
    assert not os.path.exists(os.path.join(ledger_dir, pool_name, 'qa.json'))

    # 10 clones
    made = run_module('libvirt_devtest_clones', base)
    assert made['changed'] is True, made
    assert sorted(c['name'] for c in made['clones']) == sorted(names.values())
    assert {c['action'] for c in made['clones']} == {'created'}
    assert _volumes(storage_pool, cleanup) == sorted([ext4_golden['name'], version_name['v1']] + list(names.values()))
    addresses = {c['user']: c['address'] for c in made['clones']}
    assert addresses['u00'] == '10.77.0.1' and addresses['u09'] == '10.77.0.10'
    with open(os.path.join(ledger_dir, pool_name, 'qa.json')) as handle:
        ledger = json.load(handle)
    assert ledger['clones'][names['u05']]['user'] == 'u05' and ledger['clones'][names['u05']]['version'] == 'v1'

    # the report's numbers are those of qemu-img and libvirt
    version = made['versions'][0]
    version_info = tools.info(version['path'])
    assert version['allocated'] == version_info['actual-size'] == tools.allocated(version['path'])
    assert version['logical_size'] == version_info['virtual-size'] == 16 * MiB
    assert os.stat(version['path']).st_mode & 0o222 == 0, 'the version is not read-only'
    for clone in made['clones']:
        info = tools.info(clone['path'])
        assert info['backing-filename'] == version['path'], info
        assert clone['logical_size'] == info['virtual-size'] == 16 * MiB
        assert clone['added_bytes'] == info['actual-size'] == tools.allocated(clone['path'])
        vol = storage_pool.storageVolLookupByName(clone['name'])
        assert vol.info()[2] == clone['added_bytes']
    report = made['report']
    assert report['clone_count'] == 10
    assert report['shared_bytes'] == version['allocated']
    assert report['added_bytes'] == sum(c['added_bytes'] for c in made['clones'])
    assert report['full_copy_bytes'] == 10 * version['allocated']
    assert report['saved_bytes'] == report['full_copy_bytes'] - report['shared_bytes'] - report['added_bytes']
    assert report['saved_percent'] > 80, report
    assert names['u07'] in made['report_table'] and 'saved' in made['report_table']

    # idempotent
    again = run_module('libvirt_devtest_clones', base, diff=True)
    assert again['changed'] is False, again
    assert again['diff']['before'] == again['diff']['after']

    # a write in one clone is seen there only
    u03 = made['clones'][3]['path']
    block = first_block(u03, 'qcow2', 'hello.txt', tmp_path)
    tools.write(u03, 'qcow2', '0x58', block * BLOCK, BLOCK)
    assert read_file(u03, 'qcow2', 'hello.txt', tmp_path) == b'X' * 10
    assert read_file(ext4_golden['path'], 'raw', 'hello.txt', tmp_path) == b'golden v1\n'
    assert read_file(made['clones'][4]['path'], 'qcow2', 'hello.txt', tmp_path) == b'golden v1\n'
    assert read_file(made['clones'][4]['path'], 'qcow2', 'data.bin', tmp_path) == ext4_golden['data']
    assert tools.sha256(ext4_golden['path']) == golden_sha

    # a foreign volume with a clone's name is refused and left alone
    foreign = '{0}-qa-intruder.qcow2'.format(stem)
    assert run_module('libvirt_volume', {'name': foreign, 'pool': pool_name, 'capacity': '1M'})['changed']
    clash = dict(base, clones=base['clones'] + [{'user': 'intruder'}])
    refused = run_module('libvirt_devtest_clones', clash)
    assert refused.get('failed') is True, refused
    assert 'clones[10].name' in refused['msg'] and 'not in the ledger' in refused['msg']
    assert tools.info(storage_pool.storageVolLookupByName(foreign).path())['virtual-size'] == 1 * MiB

    # the golden changes; a new label freezes v2; present keeps everyone on v1
    rewrite_golden_file(ext4_golden['path'], 'hello.txt', b'golden v2\n', tmp_path)
    v2 = dict(base, golden_version='v2')
    frozen = run_module('libvirt_devtest_clones', v2)
    assert frozen['changed'] is True and {c['version'] for c in frozen['clones']} == {'v1'}
    assert [v['version'] for v in frozen['versions']] == ['v1', 'v2']
    assert read_file(made['clones'][0]['path'], 'qcow2', 'hello.txt', tmp_path) == b'golden v1\n'

    # refresh moves all but the opt-out u03 to v2; v1 stays while u03 uses it
    refreshed = run_module('libvirt_devtest_clones', dict(v2, action='refresh'))
    assert refreshed['changed'] is True, refreshed
    actions = {c['user']: c['action'] for c in refreshed['clones']}
    assert actions.pop('u03') == 'kept' and set(actions.values()) == {'refreshed'}
    assert read_file(made['clones'][0]['path'], 'qcow2', 'hello.txt', tmp_path) == b'golden v2\n'
    assert read_file(u03, 'qcow2', 'hello.txt', tmp_path) == b'X' * 10
    assert [v['version'] for v in refreshed['versions']] == ['v1', 'v2']
    assert {c['address'] for c in refreshed['clones']} == set(addresses.values()), 'addresses moved'
    assert run_module('libvirt_devtest_clones', dict(v2, action='refresh'))['changed'] is False

    # reset u03: its write is gone, it stays on its version (v1)
    reset = run_module('libvirt_devtest_clones', dict(v2, action='reset', targets=['u03']))
    assert reset['changed'] is True
    assert [c for c in reset['clones'] if c['user'] == 'u03'][0]['version'] == 'v1'
    assert read_file(u03, 'qcow2', 'hello.txt', tmp_path) == b'golden v1\n'

    # split u05: independent of v2, same content
    split = run_module('libvirt_devtest_clones', dict(v2, action='split', targets=['u05']))
    assert split['changed'] is True
    u05 = [c for c in split['clones'] if c['user'] == 'u05'][0]
    assert u05['split'] is True and 'backing-filename' not in tools.info(u05['path'])
    assert read_file(u05['path'], 'qcow2', 'data.bin', tmp_path) == ext4_golden['data']
    assert run_module('libvirt_devtest_clones', dict(v2, action='split', targets=['u05']))['changed'] is False

    # expire: u04's expiry moved into the past, then expired
    past = dict(v2, clones=[dict(c) for c in v2['clones']])
    past['clones'][4]['expires'] = '2020-01-01'
    updated = run_module('libvirt_devtest_clones', past)
    assert [c['action'] for c in updated['clones'] if c['user'] == 'u04'] == ['updated']
    expired = run_module('libvirt_devtest_clones', dict(past, action='expire'))
    assert [c['user'] for c in expired['clones'] if c['action'] == 'expired'] == ['u04']
    assert names['u04'] not in _volumes(storage_pool, cleanup)
    assert run_module('libvirt_devtest_clones', dict(past, action='expire'))['changed'] is False

    # teardown: check mode changes nothing; then only the set's volumes go
    before = _volumes(storage_pool, cleanup)
    planned = run_module('libvirt_devtest_clones', dict(v2, action='teardown'), check=True)
    assert planned['changed'] is True and _volumes(storage_pool, cleanup) == before
    gone = run_module('libvirt_devtest_clones', dict(v2, action='teardown'))
    assert gone['changed'] is True, gone
    assert _volumes(storage_pool, cleanup) == sorted([ext4_golden['name'], foreign])
    assert gone['versions'] == []
    assert read_file(ext4_golden['path'], 'raw', 'hello.txt', tmp_path) == b'golden v2\n'
    assert run_module('libvirt_devtest_clones', dict(v2, action='teardown'))['changed'] is False


def test_devtest_bad_input_makes_nothing(run_module, pool_name, storage_pool, ext4_golden, cleanup, tmp_path):
    base = {'pool': pool_name, 'golden': ext4_golden['name'], 'set_name': 'qa', 'golden_version': 'v1',
            'ledger_dir': str(tmp_path / 'ledger'), 'address_pool': '10.77.0.0/30',
            'clones': [{'user': 'a'}, {'user': 'b'}, {'user': 'c'}]}
    result = run_module('libvirt_devtest_clones', base)
    assert result.get('failed') is True and 'address_pool' in result['msg'], result
    result = run_module('libvirt_devtest_clones', dict(base, address_pool=None, golden=cleanup + '-missing'))
    assert result.get('failed') is True and result['msg'].startswith('golden:'), result
    result = run_module('libvirt_devtest_clones', dict(base, address_pool=None, clones=[{'user': 'a', 'expires': 'soon'}]))
    assert result.get('failed') is True and 'clones[0].expires' in result['msg'], result
    assert _volumes(storage_pool, cleanup) == [ext4_golden['name']]


DOMAIN_XML = """<domain type='{virt_type}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{path}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface>
  </devices>
</domain>"""


def _domain(conn, name):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(conn.lookupByName(name).XMLDesc(2))
    return {'uuid': root.findtext('uuid'), 'disk': root.find("devices/disk/source").get('file'),
            'driver': root.find("devices/disk/driver").get('type'),
            'mac': root.find("devices/interface/mac").get('address'),
            'devtest': root.find("metadata/{https://github.com/virtlab/infra/libvirt/devtest}devtest")}


def test_devtest_whole_domain_clones(run_module, libvirt_conn, pool_name, storage_pool, ext4_golden, cleanup,
                                     virt_type, tmp_path):
    golden_dom = cleanup + '-golden-dom'
    libvirt_conn.defineXML(DOMAIN_XML.format(virt_type=virt_type, name=golden_dom, path=ext4_golden['path']))
    golden = _domain(libvirt_conn, golden_dom)
    stem = ext4_golden['name'][:-len('.raw')]
    args = {'pool': pool_name, 'golden': ext4_golden['name'], 'golden_domain': golden_dom, 'set_name': 'vm',
            'golden_version': 'v1', 'ledger_dir': str(tmp_path / 'ledger'),
            'clones': [{'user': 'ann'}, {'user': 'ben'}]}
    names = ['{0}-vm-{1}'.format(stem, user) for user in ('ann', 'ben')]

    planned = run_module('libvirt_devtest_clones', args, check=True)
    assert planned['changed'] is True and [c['domain'] for c in planned['clones']] == names, planned
    assert not [d for d in libvirt_conn.listDefinedDomains() if d in names]

    made = run_module('libvirt_devtest_clones', args)
    assert made['changed'] is True, made
    domains = [_domain(libvirt_conn, name) for name in names]
    for clone, dom in zip(made['clones'], domains):
        assert clone['domain'] in names
        assert dom['disk'] == clone['path'] and dom['driver'] == 'qcow2'
        assert dom['uuid'] != golden['uuid'] and dom['mac'] != golden['mac']
        assert dom['devtest'].get('set') == 'vm' and dom['devtest'].get('user') == clone['user']
    assert domains[0]['mac'] != domains[1]['mac']
    assert run_module('libvirt_devtest_clones', args)['changed'] is False

    # a foreign domain with a clone's name is refused
    libvirt_conn.defineXML(DOMAIN_XML.format(virt_type=virt_type, name=stem + '-vm-cy', path=ext4_golden['path'])
                           .replace('52:54:00:aa:bb:01', '52:54:00:aa:bb:02'))
    refused = run_module('libvirt_devtest_clones', dict(args, clones=args['clones'] + [{'user': 'cy'}]))
    assert refused.get('failed') is True and 'clones[2].name' in refused['msg'] and 'domain' in refused['msg']

    gone = run_module('libvirt_devtest_clones', dict(args, action='teardown'))
    assert gone['changed'] is True, gone
    defined = libvirt_conn.listDefinedDomains()
    assert not [d for d in defined if d in names]
    assert golden_dom in defined and stem + '-vm-cy' in defined
    assert _domain(libvirt_conn, golden_dom) == golden
