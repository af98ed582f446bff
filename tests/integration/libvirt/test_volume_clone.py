"""libvirt_volume_clone against the real libvirtd: linked, full, split, parent protection, many names."""

import os

MiB = 1024 ** 2


def _clone(run_module, pool_name, golden, name, **extra):
    args = {'pool': pool_name, 'source': golden['name'], 'name': name}
    args.update(extra)
    return args


def test_linked_clone_is_copy_on_write(run_module, pool_name, golden, cleanup, tools, libvirt_conn, storage_pool):
    name = cleanup + '-linked.qcow2'
    args = _clone(run_module, pool_name, golden, name)
    golden_sha = tools.sha256(golden['path'])

    predicted = run_module('libvirt_volume_clone', args, check=True, diff=True)
    assert predicted['changed'] is True, predicted
    assert predicted['diff']['after'][name]['backing'] == golden['path']
    storage_pool.refresh(0)
    assert name not in storage_pool.listVolumes(), 'check mode created the clone'

    made = run_module('libvirt_volume_clone', args)
    assert made['changed'] is True, made
    vol = made['volume']
    assert vol['backing'] == golden['path'] and vol['format'] == 'qcow2' and vol['split'] is False
    assert vol['capacity'] == golden['capacity']
    assert vol['allocation'] < 1 * MiB, vol            # metadata only
    info = tools.info(vol['path'])
    assert info['backing-filename'] == golden['path'] and info['format'] == 'qcow2'

    again = run_module('libvirt_volume_clone', args, diff=True)
    assert again['changed'] is False, again
    assert again['diff'] == {'before': {}, 'after': {}}

    # the clone reads the golden's data, takes writes for itself, and grows by what is written
    tools.check(vol['path'], 'qcow2', '0xcd', 0, 64 * MiB)
    before = tools.allocated(vol['path'])
    tools.write(vol['path'], 'qcow2', '0xab', 16 * MiB, 32 * MiB)       # over golden data (COW)
    tools.write(vol['path'], 'qcow2', '0x5a', 512 * MiB, 16 * MiB)      # where the golden is empty
    grown = tools.allocated(vol['path']) - before
    assert 48 * MiB <= grown <= 48 * MiB + 1 * MiB, grown
    tools.check(vol['path'], 'qcow2', '0xab', 16 * MiB, 32 * MiB)
    tools.check(vol['path'], 'qcow2', '0xcd', 0, 16 * MiB)
    assert tools.sha256(golden['path']) == golden_sha, 'writing to the clone changed the golden volume'
    tools.check(golden['path'], 'qcow2', '0xcd', 0, 64 * MiB)

    # libvirt's own view of the allocation agrees
    reported = run_module('libvirt_volume_clone', args)
    assert reported['changed'] is False
    assert abs(reported['volume']['allocation'] - tools.allocated(vol['path'])) < 1 * MiB


def test_full_clone_equals_source(run_module, pool_name, golden, cleanup, tools):
    name = cleanup + '-full.qcow2'
    args = _clone(run_module, pool_name, golden, name, mode='full')
    assert run_module('libvirt_volume_clone', args, check=True)['changed'] is True
    made = run_module('libvirt_volume_clone', args)
    assert made['changed'] is True, made
    assert made['volume']['backing'] is None
    assert 'backing-filename' not in tools.info(made['volume']['path'])
    assert tools.compare(golden['path'], made['volume']['path']) == 0
    # independent: writing to the copy leaves the source alone and makes them differ
    tools.write(made['volume']['path'], 'qcow2', '0x11', 0, 1 * MiB)
    assert tools.compare(golden['path'], made['volume']['path']) == 1
    tools.check(golden['path'], 'qcow2', '0xcd', 0, 64 * MiB)
    assert run_module('libvirt_volume_clone', args)['changed'] is False
    # a linked request for a volume that is a full copy is refused, naming the option
    linked = run_module('libvirt_volume_clone', dict(args, mode='linked'))
    assert linked.get('failed') and linked['msg'].startswith('mode:'), linked


def test_split_makes_clone_independent(run_module, pool_name, golden, cleanup, tools):
    name = cleanup + '-split.qcow2'
    args = _clone(run_module, pool_name, golden, name)
    made = run_module('libvirt_volume_clone', args)
    path = made['volume']['path']
    tools.write(path, 'qcow2', '0xab', 64 * MiB, 32 * MiB)

    predicted = run_module('libvirt_volume_clone', dict(args, split=True), check=True, diff=True)
    assert predicted['changed'] is True
    assert predicted['diff']['before'][name]['backing'] == golden['path']
    assert predicted['diff']['after'][name]['backing'] is None
    assert tools.info(path).get('backing-filename') == golden['path'], 'check mode split the clone'

    split = run_module('libvirt_volume_clone', dict(args, split=True))
    assert split['changed'] is True, split
    assert split['volume']['backing'] is None and split['volume']['split'] is True
    assert split['volume']['path'] == path
    assert 'backing-filename' not in tools.info(path)
    assert run_module('libvirt_volume_clone', dict(args, split=True))['changed'] is False

    # the golden can go now, and the split clone keeps both its inherited and its own data
    gone = run_module('libvirt_volume', {'name': golden['name'], 'pool': pool_name, 'state': 'absent'})
    assert gone['changed'] is True, gone
    tools.check(path, 'qcow2', '0xcd', 0, 64 * MiB)
    tools.check(path, 'qcow2', '0xab', 64 * MiB, 32 * MiB)
    tools.check(path, 'qcow2', '0x00', 96 * MiB, 64 * MiB)


def test_parent_is_protected(run_module, pool_name, pool_path, golden, cleanup, tools, storage_pool):
    names = [cleanup + '-dep1.qcow2', cleanup + '-dep2.qcow2']
    made = run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'names': names})
    assert made['changed'] is True and len(made['volumes']) == 2, made
    tools.write(made['volumes'][0]['path'], 'qcow2', '0xab', 0, 1 * MiB)

    refused = run_module('libvirt_volume', {'name': golden['name'], 'pool': pool_name, 'state': 'absent'})
    assert refused.get('failed') is True, refused
    for name in names:
        assert name in refused['msg']
    assert 'split_dependents' in refused['msg']
    assert sorted(d['name'] for d in refused['dependents']) == sorted(names)
    assert 'Traceback' not in refused['msg'] + refused.get('_stderr', '')
    storage_pool.refresh(0)
    assert golden['name'] in storage_pool.listVolumes()

    # overwriting the golden's content is refused too
    image = tools.info(golden['path'])
    assert image['format'] == 'qcow2'
    overwrite = run_module('libvirt_volume', {'name': golden['name'], 'pool': pool_name,
                                              'import_from': golden['path'], 'force': True})
    assert overwrite.get('failed') is True and names[0] in overwrite['msg'], overwrite

    # the clone module protects its clones the same way: a clone of a clone
    grandchild = cleanup + '-grand.qcow2'
    run_module('libvirt_volume_clone', {'pool': pool_name, 'source': names[1], 'name': grandchild})
    refused = run_module('libvirt_volume_clone', {'pool': pool_name, 'name': names[1], 'state': 'absent'})
    assert refused.get('failed') is True and grandchild in refused['msg'], refused

    # check mode predicts the split and deletion but does nothing
    predicted = run_module('libvirt_volume', {'name': golden['name'], 'pool': pool_name, 'state': 'absent',
                                              'split_dependents': True}, check=True)
    assert predicted['changed'] is True and len(predicted['split_dependents']) == 2, predicted
    assert tools.info(made['volumes'][0]['path'])['backing-filename'] == golden['path']

    done = run_module('libvirt_volume', {'name': golden['name'], 'pool': pool_name, 'state': 'absent',
                                         'split_dependents': True})
    assert done['changed'] is True, done
    storage_pool.refresh(0)
    assert golden['name'] not in storage_pool.listVolumes()
    first = made['volumes'][0]['path']
    assert 'backing-filename' not in tools.info(first)
    tools.check(first, 'qcow2', '0xab', 0, 1 * MiB)
    tools.check(first, 'qcow2', '0xcd', 1 * MiB, 63 * MiB)
    # the grandchild still reads through its (now independent) parent
    grand_path = os.path.join(pool_path, grandchild)
    assert tools.info(grand_path)['backing-filename'] == made['volumes'][1]['path']
    tools.check(grand_path, 'qcow2', '0xcd', 0, 64 * MiB)


def test_different_source_is_an_error(run_module, pool_name, pool_path, golden, cleanup, tools):
    other = cleanup + '-other.qcow2'
    assert run_module('libvirt_volume', {'name': other, 'pool': pool_name, 'capacity': '1G'})['changed']
    name = cleanup + '-clone.qcow2'
    run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': name})
    wrong = run_module('libvirt_volume_clone', {'pool': pool_name, 'source': other, 'name': name})
    assert wrong.get('failed') is True, wrong
    assert wrong['msg'].startswith('source:') and golden['path'] in wrong['msg'], wrong
    assert tools.info(os.path.join(pool_path, name))['backing-filename'] == golden['path']


def test_bad_input_names_the_option(run_module, pool_name, golden, cleanup, storage_pool):
    name = cleanup + '-bad.qcow2'
    cases = [
        ({'pool': pool_name, 'source': golden['name'], 'name': name, 'capacity': 'lots'}, 'capacity'),
        ({'pool': pool_name, 'source': golden['name'], 'name': name, 'capacity': '1M'}, 'capacity'),
        ({'pool': pool_name, 'source': cleanup + '-missing', 'name': name}, 'source'),
        ({'pool': cleanup + '-nopool', 'source': golden['name'], 'name': name}, 'pool'),
        ({'pool': pool_name, 'source': golden['name'], 'names': [name, name]}, 'names'),
        ({'pool': pool_name, 'name': name}, 'source'),
    ]
    for args, option in cases:
        result = run_module('libvirt_volume_clone', args)
        assert result.get('failed') is True, (args, result)
        assert option in result['msg'], (args, result['msg'])
        assert 'Traceback' not in result['msg'] + result['_stderr'], result['_stderr']
    storage_pool.refresh(0)
    assert name not in storage_pool.listVolumes(), 'a failed task left a volume behind'


def test_many_clones_in_one_task(run_module, pool_name, golden, cleanup, storage_pool):
    names = ['{0}-many{1:02d}.qcow2'.format(cleanup, i) for i in range(10)]
    args = {'pool': pool_name, 'source': golden['name'], 'names': names}
    assert run_module('libvirt_volume_clone', args, check=True)['changed'] is True
    storage_pool.refresh(0)
    assert not set(names) & set(storage_pool.listVolumes())
    made = run_module('libvirt_volume_clone', args)
    assert made['changed'] is True and [v['name'] for v in made['volumes']] == names
    assert all(v['backing'] == golden['path'] and v['allocation'] < MiB for v in made['volumes'])
    assert run_module('libvirt_volume_clone', args)['changed'] is False
    # one more name: only that one is new
    more = run_module('libvirt_volume_clone', dict(args, names=names + [cleanup + '-many10.qcow2']), diff=True)
    assert more['changed'] is True and list(more['diff']['after']) == [cleanup + '-many10.qcow2']
    gone = run_module('libvirt_volume_clone', {'pool': pool_name, 'names': names, 'state': 'absent'})
    assert gone['changed'] is True
    storage_pool.refresh(0)
    assert not set(names) & set(storage_pool.listVolumes())
    assert run_module('libvirt_volume_clone', {'pool': pool_name, 'names': names, 'state': 'absent'})[
        'changed'] is False
