"""libvirt_volume against the real libvirtd: create, check mode, idempotence, grow, import, delete."""

import os

MiB = 1024 ** 2


def test_volume_lifecycle(run_module, pool_name, cleanup, storage_pool, tools):
    name = cleanup + '-vol.qcow2'
    args = {'name': name, 'pool': pool_name, 'capacity': '256M'}

    predicted = run_module('libvirt_volume', args, check=True, diff=True)
    assert predicted['changed'] is True and predicted['volume']['capacity'] == 256 * MiB, predicted
    assert predicted['diff']['before']['state'] == 'absent' and predicted['diff']['after']['state'] == 'present'
    storage_pool.refresh(0)
    assert name not in storage_pool.listVolumes()

    made = run_module('libvirt_volume', args)
    assert made['changed'] is True, made
    vol = made['volume']
    assert vol['format'] == 'qcow2' and vol['capacity'] == 256 * MiB and vol['allocation'] < MiB
    assert tools.info(vol['path'])['virtual-size'] == 256 * MiB
    assert run_module('libvirt_volume', args, diff=True)['changed'] is False

    # grow: check mode predicts, then it happens; the same size again is no change
    bigger = dict(args, capacity='512MiB')
    predicted = run_module('libvirt_volume', bigger, check=True, diff=True)
    assert predicted['changed'] is True and predicted['diff']['after']['capacity'] == 512 * MiB
    assert tools.info(vol['path'])['virtual-size'] == 256 * MiB
    assert run_module('libvirt_volume', bigger)['changed'] is True
    assert tools.info(vol['path'])['virtual-size'] == 512 * MiB
    assert run_module('libvirt_volume', bigger)['changed'] is False

    # refused: shrinking, changing the format; both name the option and change nothing
    shrink = run_module('libvirt_volume', dict(args, capacity='128M'))
    assert shrink.get('failed') and shrink['msg'].startswith('capacity:'), shrink
    reformat = run_module('libvirt_volume', dict(bigger, format='raw'))
    assert reformat.get('failed') and reformat['msg'].startswith('format:'), reformat
    assert tools.info(vol['path'])['virtual-size'] == 512 * MiB

    gone_check = run_module('libvirt_volume', {'name': name, 'pool': pool_name, 'state': 'absent'}, check=True)
    assert gone_check['changed'] is True and os.path.exists(vol['path'])
    gone = run_module('libvirt_volume', {'name': name, 'pool': pool_name, 'state': 'absent'})
    assert gone['changed'] is True and not os.path.exists(vol['path'])
    assert run_module('libvirt_volume', {'name': name, 'pool': pool_name, 'state': 'absent'})['changed'] is False


def test_volume_import_and_bad_input(run_module, pool_name, cleanup, storage_pool, tools, tmp_path):
    image = str(tmp_path / 'image.raw')
    with open(image, 'wb') as handle:
        handle.truncate(8 * MiB)
    tools.write(image, 'raw', '0x3c', MiB, 2 * MiB)
    name = cleanup + '-imported.raw'
    args = {'name': name, 'pool': pool_name, 'import_from': image}
    made = run_module('libvirt_volume', args)
    assert made['changed'] is True, made
    assert made['volume']['format'] == 'raw' and made['volume']['capacity'] == 8 * MiB
    assert tools.compare(image, made['volume']['path']) == 0
    assert run_module('libvirt_volume', args)['changed'] is False

    qcow = str(tmp_path / 'image.qcow2')
    tools_out = __import__('subprocess').run(['qemu-img', 'convert', '-O', 'qcow2', image, qcow], check=True)
    assert tools_out.returncode == 0
    made = run_module('libvirt_volume', {'name': cleanup + '-imported.qcow2', 'pool': pool_name,
                                         'import_from': qcow, 'capacity': '16M'})
    assert made['changed'] is True and made['volume']['format'] == 'qcow2', made
    assert made['volume']['capacity'] == 16 * MiB
    tools.check(made['volume']['path'], 'qcow2', '0x3c', MiB, 2 * MiB)

    bad = [
        ({'name': cleanup + '-x', 'pool': pool_name}, 'capacity'),
        ({'name': cleanup + '-x', 'pool': pool_name, 'capacity': '12 parsecs'}, 'capacity'),
        ({'name': cleanup + '-x', 'pool': pool_name, 'import_from': image, 'format': 'qcow2'}, 'format'),
        ({'name': cleanup + '-x', 'pool': pool_name, 'import_from': str(tmp_path / 'nope')}, 'import_from'),
        ({'name': cleanup + '-x', 'pool': cleanup + '-nopool', 'capacity': '1M'}, 'pool'),
    ]
    for case, option in bad:
        result = run_module('libvirt_volume', case)
        assert result.get('failed') is True and option in result['msg'], (case, result)
        assert 'Traceback' not in result['msg'] + result['_stderr']
    storage_pool.refresh(0)
    assert cleanup + '-x' not in storage_pool.listVolumes()
