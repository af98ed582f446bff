"""docker_devtest_clones against the real engine: overlay copy-on-write clones of a golden data volume.

The golden is the base image plus a volume holding a small MariaDB-like data directory (known files).
Checked: clones are made and isolated (a write in one is invisible in the golden and the others), the
report's numbers equal the sizes of the volumes' files on disk, refresh to a new version (with an
opt-out), reset, split, expire, teardown leaving the golden and foreign objects alone, check mode, a
second run without change, foreign names refused and bad input naming the option.
"""

import io
import os
import secrets
import tarfile

import docker.errors
import pytest

LABEL_SET = 'io.virtlab.devtest.set'
GOLDEN_FILES = {
    'ibdata1': b'\0' * (256 * 1024),
    'mysql/db.opt': b'default-character-set=utf8mb4\n',
    'shop/customers.ibd': b'alice;bob;carol\n' * 1024,
    'VERSION': b'golden-1\n',
}


def _tar(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _file_bytes(directory):
    """What the engine's df counts for a volume: the apparent size of its files, each inode once."""
    seen, total = set(), 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            stat = os.lstat(os.path.join(root, name))
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_size
    return total


@pytest.fixture
def golden(docker_client, debian_image, unique_name):
    """A golden data volume with known files, a network name, a set name; everything of the set removed after."""
    volume = docker_client.volumes.create(unique_name + '-golden')
    holder = docker_client.containers.create(debian_image, 'true', volumes={volume.name: {'bind': '/g'}})
    try:
        assert holder.put_archive('/g', _tar(GOLDEN_FILES))
    finally:
        holder.remove(force=True)
    octet = secrets.randbelow(50) + 200, secrets.randbelow(250)
    made = {'volume': volume.name, 'image': debian_image, 'set': unique_name[len('vlt-test-'):],
            'network': unique_name + '-net', 'pool': '10.{0}.{1}.0/26'.format(*octet), 'foreign': []}
    yield made
    for container in docker_client.containers.list(all=True, filters={'label': LABEL_SET + '=' + made['set']}):
        container.remove(force=True)
    for container in docker_client.containers.list(all=True, filters={'name': unique_name}):
        container.remove(force=True)
    for item in docker_client.volumes.list(filters={'label': LABEL_SET + '=' + made['set']}):
        item.remove(force=True)
    for name in [volume.name] + made['foreign']:
        try:
            docker_client.volumes.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    for network in docker_client.networks.list(names=[made['network']]):
        network.remove()


def _args(golden, **extra):
    args = {'image': golden['image'], 'golden_volume': golden['volume'], 'mount_path': '/var/lib/mysql',
            'network': golden['network'], 'address_pool': golden['pool'], 'command': ['sleep', 'infinity'],
            'set_name': golden['set'], 'golden_version': '1'}
    args.update(extra)
    return args


def _run(run_module, golden, check=False, diff=False, **extra):
    return run_module('docker_devtest_clones', _args(golden, **extra), check=check, diff=diff)


def _ok(result):
    assert not result.get('failed'), result.get('msg')
    assert 'Traceback' not in result.get('module_stderr', ''), result
    return result


def _cat(docker_client, container, path):
    code, output = docker_client.containers.get(container).exec_run(['cat', path])
    return output.decode() if code == 0 else None


def _write(docker_client, container, path, text):
    code, output = docker_client.containers.get(container).exec_run(['sh', '-c', 'printf %s "$0" > "$1"', text, path])
    assert code == 0, output


def _volume_dir(docker_client, name):
    return docker_client.volumes.get(name).attrs['Mountpoint']


def _set_objects(docker_client, golden):
    label = {'label': LABEL_SET + '=' + golden['set']}
    return ([c.name for c in docker_client.containers.list(all=True, filters=label)]
            + [v.name for v in docker_client.volumes.list(filters=label)]
            + [n.name for n in docker_client.networks.list(names=[golden['network']])])


def _golden_content(docker_client, golden):
    directory = _volume_dir(docker_client, golden['volume'])
    with open(os.path.join(directory, 'VERSION'), 'rb') as handle:
        version = handle.read()
    return version, sorted(os.listdir(directory))


def test_clones_isolated_refresh_reset_teardown(run_module, docker_client, golden):
    users = [{'user': 'alice'}, {'user': 'bob', 'refresh': False}, {'user': 'carol'}, {'user': 'dave'}]
    golden_before = _golden_content(docker_client, golden)

    predicted = _ok(_run(run_module, golden, check=True, diff=True, clones=users))
    assert predicted['changed'] is True and [c['action'] for c in predicted['clones']] == ['created'] * 4
    assert _set_objects(docker_client, golden) == [], 'check mode made something'

    created = _ok(_run(run_module, golden, diff=True, clones=users))
    assert created['changed'] is True
    names = {c['user']: c['name'] for c in created['clones']}
    assert names['alice'] == '{0}-{1}-alice'.format(golden['volume'], golden['set'])
    network = docker_client.networks.get(golden['network'])
    for clone in created['clones']:
        container = docker_client.containers.get(clone['name'])
        assert container.status == 'running'
        assert container.labels['io.virtlab.devtest.owner'] == clone['user']
        assert container.labels['io.virtlab.devtest.version'] == '1'
        assert container.labels['io.virtlab.devtest.created'] and clone['address'].startswith(golden['pool'][:-5])
        assert container.attrs['NetworkSettings']['Networks'][network.name]['IPAddress'] == clone['address']
        assert _cat(docker_client, clone['name'], '/var/lib/mysql/VERSION') == 'golden-1\n'
        assert docker_client.volumes.get(clone['name'] + '-data').attrs['Options']['type'] == 'overlay'
    assert len({c['address'] for c in created['clones']}) == 4

    # a write in one clone is invisible in the golden and in the other clones
    _write(docker_client, names['alice'], '/var/lib/mysql/shop/customers.ibd', 'only-alice')
    _write(docker_client, names['alice'], '/var/lib/mysql/scratch', 'x' * 5000)
    assert _cat(docker_client, names['alice'], '/var/lib/mysql/shop/customers.ibd') == 'only-alice'
    for other in ('bob', 'carol', 'dave'):
        assert _cat(docker_client, names[other], '/var/lib/mysql/shop/customers.ibd').startswith('alice;bob;carol')
        assert _cat(docker_client, names[other], '/var/lib/mysql/scratch') is None
    assert _golden_content(docker_client, golden) == golden_before

    again = _ok(_run(run_module, golden, clones=users))
    assert again['changed'] is False and {c['action'] for c in again['clones']} == {'kept'}

    # the report's numbers are the sizes of the volumes' files
    with pytest.raises(docker.errors.APIError, match='in use'):
        docker_client.volumes.get(again['versions'][0]['volume']).remove()
    version_dir = _volume_dir(docker_client, again['versions'][0]['volume'])
    version_bytes = _file_bytes(version_dir)
    assert version_bytes == sum(len(data) for data in GOLDEN_FILES.values())
    rows = {r['name']: r for r in again['report']['clones']}
    for user, name in names.items():
        delta = _file_bytes(_volume_dir(docker_client, name + '-delta'))
        assert rows[name]['added_bytes'] == delta, user
        assert rows[name]['logical_size'] == version_bytes
    assert rows[names['alice']]['added_bytes'] == len('only-alice') + 5000
    assert rows[names['bob']]['added_bytes'] == 0
    report = again['report']
    assert report['full_copy_bytes'] == 4 * version_bytes
    assert report['clone_bytes'] == version_bytes + 5010
    assert report['saved_bytes'] == 3 * version_bytes - 5010
    assert names['alice'] in again['report_table']

    # a new golden version: refresh replaces all clones but bob's, which keeps version 1 and his data
    holder = docker_client.containers.create(golden['image'], 'true', volumes={golden['volume']: {'bind': '/g'}})
    try:
        assert holder.put_archive('/g', _tar({'VERSION': b'golden-2\n'}))
    finally:
        holder.remove(force=True)
    _write(docker_client, names['bob'], '/var/lib/mysql/bob-notes', 'keep me')
    refreshed = _ok(_run(run_module, golden, golden_version='2', action='refresh', clones=users))
    actions = {c['user']: c['action'] for c in refreshed['clones']}
    assert actions == {'alice': 'refreshed', 'bob': 'kept', 'carol': 'refreshed', 'dave': 'refreshed'}
    assert _cat(docker_client, names['alice'], '/var/lib/mysql/VERSION') == 'golden-2\n'
    assert _cat(docker_client, names['alice'], '/var/lib/mysql/scratch') is None
    assert _cat(docker_client, names['bob'], '/var/lib/mysql/VERSION') == 'golden-1\n'
    assert _cat(docker_client, names['bob'], '/var/lib/mysql/bob-notes') == 'keep me'
    assert sorted(v['version'] for v in refreshed['versions']) == ['1', '2'], 'version 1 is kept for bob'
    assert _ok(_run(run_module, golden, golden_version='2', action='refresh', clones=users))['changed'] is False

    # reset throws carol's writes away and keeps her version and address
    _write(docker_client, names['carol'], '/var/lib/mysql/VERSION', 'broken')
    address = docker_client.containers.get(names['carol']).labels['io.virtlab.devtest.address']
    reset = _ok(_run(run_module, golden, golden_version='2', action='reset', targets=['carol'], clones=users))
    assert reset['changed'] is True and {c['user']: c['action'] for c in reset['clones']}['carol'] == 'reset'
    assert _cat(docker_client, names['carol'], '/var/lib/mysql/VERSION') == 'golden-2\n'
    assert docker_client.containers.get(names['carol']).labels['io.virtlab.devtest.address'] == address

    # teardown: the set's clones, versions and network go; the golden and a foreign volume stay
    foreign = docker_client.volumes.create(golden['volume'] + '-' + golden['set'] + '-v-3')
    golden['foreign'].append(foreign.name)
    check = _ok(_run(run_module, golden, check=True, golden_version='2', action='teardown'))
    assert check['changed'] is True and len(_set_objects(docker_client, golden)) > 0
    gone = _ok(_run(run_module, golden, golden_version='2', action='teardown'))
    assert gone['changed'] is True and sorted(c['action'] for c in gone['clones']) == ['removed'] * 4
    assert _set_objects(docker_client, golden) == []
    assert docker_client.volumes.get(foreign.name).name == foreign.name
    assert _golden_content(docker_client, golden)[0] == b'golden-2\n'
    assert _ok(_run(run_module, golden, golden_version='2', action='teardown'))['changed'] is False


def test_split_update_and_expire(run_module, docker_client, golden):
    created = _ok(_run(run_module, golden, clones=[{'user': 'erin'}, {'user': 'frank'}], network=None,
                       address_pool=None))
    names = {c['user']: c['name'] for c in created['clones']}
    assert {c['user']: c['expires'] for c in created['clones']} == {'erin': None, 'frank': None}

    # a new expiry recreates erin's container on the same data
    _write(docker_client, names['erin'], '/var/lib/mysql/erin', 'still here')
    users = [{'user': 'erin', 'expires': '2020-01-01'}, {'user': 'frank'}]
    updated = _ok(_run(run_module, golden, clones=users, network=None, address_pool=None))
    assert {c['user']: c['action'] for c in updated['clones']} == {'erin': 'updated', 'frank': 'kept'}
    container = docker_client.containers.get(names['erin'])
    assert container.labels['io.virtlab.devtest.expiry'].startswith('2020-01-01') and container.status == 'running'
    assert _cat(docker_client, names['erin'], '/var/lib/mysql/erin') == 'still here'
    assert _ok(_run(run_module, golden, clones=users, network=None, address_pool=None))['changed'] is False

    _write(docker_client, names['frank'], '/var/lib/mysql/frank', 'mine')
    # a container removed by hand is made again on the clone's volumes: its data survives
    docker_client.containers.get(names['frank']).remove(force=True)
    healed = _ok(_run(run_module, golden, clones=users, network=None, address_pool=None))
    assert {c['user']: c['action'] for c in healed['clones']}['frank'] == 'created'
    assert _cat(docker_client, names['frank'], '/var/lib/mysql/frank') == 'mine'
    split = _ok(_run(run_module, golden, clones=users, network=None, address_pool=None, action='split',
                     targets=['frank']))
    record = {c['user']: c for c in split['clones']}['frank']
    assert record['action'] == 'split' and record['split'] is True
    assert _cat(docker_client, names['frank'], '/var/lib/mysql/frank') == 'mine'
    assert _cat(docker_client, names['frank'], '/var/lib/mysql/VERSION') == 'golden-1\n'
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(names['frank'] + '-delta')
    split_dir = _volume_dir(docker_client, names['frank'] + '-split')
    assert record['added_bytes'] == _file_bytes(split_dir) == sum(map(len, GOLDEN_FILES.values())) + 4
    assert _ok(_run(run_module, golden, clones=users, network=None, address_pool=None, action='split',
                    targets=['frank']))['changed'] is False

    expired = _ok(_run(run_module, golden, clones=users, network=None, address_pool=None, action='expire'))
    assert {c['user']: c['action'] for c in expired['clones']} == {'erin': 'expired', 'frank': 'kept'}
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(names['erin'])
    assert docker_client.containers.get(names['frank']).status == 'running'
    # no clone uses version 1 any more (frank is split), but it is the current version: kept
    assert [v['version'] for v in expired['versions']] == ['1']


def test_foreign_name_refused_and_bad_input(run_module, docker_client, golden):
    foreign = docker_client.volumes.create('{0}-{1}-mallory-delta'.format(golden['volume'], golden['set']))
    golden['foreign'].append(foreign.name)
    result = _run(run_module, golden, clones=[{'user': 'mallory'}])
    assert result.get('failed') and 'clones[0].name' in result['msg'], result
    assert _set_objects(docker_client, golden) == [] and not docker_client.volumes.get(foreign.name).attrs['Labels']

    for extra, option in (({'golden_volume': golden['volume'] + '-nosuch'}, 'golden_volume'),
                          ({'mount_path': 'relative'}, 'mount_path'),
                          ({'image': 'vlt-test-nosuch:1'}, 'image'),
                          ({'address_pool': '10.1.2.0/33'}, 'address_pool'),
                          ({'clones': [{'user': 'a b'}]}, 'clones[0].user')):
        failed = _run(run_module, golden, **extra)
        assert failed.get('failed') and option in failed['msg'], (extra, failed)
        assert 'Traceback' not in failed.get('module_stderr', ''), failed
    assert _set_objects(docker_client, golden) == []


def _volume_print(docker_client, name):
    """A volume's inspect (driver, labels, options, mount point, creation time) and a hash of its content."""
    import hashlib

    attrs = docker_client.volumes.get(name).attrs
    digest = hashlib.sha256()
    directory = attrs['Mountpoint']
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for entry in sorted(files) + dirs:
            path = os.path.join(root, entry)
            stat = os.lstat(path)
            digest.update('{0} {1:o} {2} {3}\n'.format(os.path.relpath(path, directory), stat.st_mode,
                                                       stat.st_size, stat.st_mtime_ns).encode())
            if entry in files:
                with open(path, 'rb') as handle:
                    digest.update(handle.read())
    return {key: attrs.get(key) for key in ('Name', 'Driver', 'Labels', 'Options', 'Mountpoint', 'CreatedAt',
                                            'Scope')}, digest.hexdigest()


def _container_print(docker_client, name):
    attrs = docker_client.containers.get(name).attrs
    return {'Id': attrs['Id'], 'Created': attrs['Created'], 'Image': attrs['Config']['Image'],
            'Labels': attrs['Config']['Labels'], 'State': attrs['State'], 'Mounts': attrs['Mounts'],
            'Binds': attrs['HostConfig']['Binds'], 'RestartCount': attrs['RestartCount']}


def test_foreign_objects_left_byte_for_byte(run_module, docker_client, golden):
    """Issue #17: a clone's container or volume name, or the version volume's name, held by an object that is
    not this set's: the task fails naming the option and saying what the object holds; the object's inspect and
    content are as they were; nothing of the set is made."""
    prefix = '{0}-{1}-'.format(golden['volume'], golden['set'])
    # a container named like carl's clone (of another owner, running), a volume named like dora's data volume
    # (with content and mount options of its own), and a volume named like version 9 that carries this set's
    # version labels but for another golden volume (it used to be adopted as the version)
    squatter = docker_client.containers.run(golden['image'], ['sleep', 'infinity'], name=prefix + 'carl',
                                            labels={'owner': 'somebody-else'}, detach=True)
    data = docker_client.volumes.create(prefix + 'dora-data', labels={'owner': 'somebody-else'})
    version = docker_client.volumes.create(prefix + 'v-9', labels={
        'io.virtlab.devtest.role': 'version', 'io.virtlab.devtest.set': golden['set'],
        'io.virtlab.devtest.golden': golden['volume'] + '-other', 'io.virtlab.devtest.version': '9'})
    golden['foreign'] += [data.name, version.name]
    for volume, text in ((data, b'dora-elsewhere\n'), (version, b'other-golden\n')):
        holder = docker_client.containers.create(golden['image'], 'true', volumes={volume.name: {'bind': '/v'}})
        try:
            assert holder.put_archive('/v', _tar({'VERSION': text, 'sub/file': text * 100}))
        finally:
            holder.remove(force=True)
    try:
        before = {'carl': _container_print(docker_client, squatter.name),
                  'dora': _volume_print(docker_client, data.name),
                  'version': _volume_print(docker_client, version.name),
                  'golden': _volume_print(docker_client, golden['volume'])}
        objects = _set_objects(docker_client, golden)
        assert objects == [version.name]

        cases = [
            ({'clones': [{'user': 'carl'}]}, 'clones[0].name',
             ['container ' + squatter.name, 'no dev/test labels', 'running']),
            ({'clones': [{'user': 'ann'}, {'user': 'dora'}]}, 'clones[1].name',
             ['volume ' + data.name, 'driver local']),
            ({'golden_version': '9', 'clones': [{'user': 'ann'}]}, 'golden_version',
             ['volume ' + version.name, 'golden=' + golden['volume'] + '-other', 'left alone']),
        ]
        for check in (True, False):
            for extra, option, words in cases:
                result = _run(run_module, golden, check=check, **extra)
                assert result.get('failed') is True, (extra, result)
                assert result['msg'].startswith(option + ':'), result['msg']
                for word in words:
                    assert word in result['msg'], (word, result['msg'])
                assert 'Traceback' not in result.get('module_stderr', ''), result

        after = {'carl': _container_print(docker_client, squatter.name),
                 'dora': _volume_print(docker_client, data.name),
                 'version': _volume_print(docker_client, version.name),
                 'golden': _volume_print(docker_client, golden['volume'])}
        assert after == before, 'a refused task touched a foreign object'
        assert _set_objects(docker_client, golden) == objects, 'a refused task made something'
        assert not docker_client.containers.list(all=True, filters={'name': prefix + 'ann'})
    finally:
        squatter.remove(force=True)
