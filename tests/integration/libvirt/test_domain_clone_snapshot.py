"""libvirt_domain_clone and libvirt_snapshot against the real libvirtd."""

import re

MiB = 1024 ** 2


def _define_source(run_module, pool_name, golden, cleanup, extra=None):
    disk = cleanup + '-src.qcow2'
    run_module('libvirt_volume_clone', {'pool': pool_name, 'source': golden['name'], 'name': disk})
    name = cleanup + '-src'
    args = {'name': name, 'memory': '128M', 'disks': [{'pool': pool_name, 'volume': disk}],
            'networks': [{'type': 'user'}]}
    args.update(extra or {})
    made = run_module('libvirt_domain', args)
    assert made['changed'] is True, made
    return name, made


def test_domain_clone_linked_and_full(run_module, libvirt_conn, pool_name, golden, cleanup, storage_pool, tools):
    source, made = _define_source(run_module, pool_name, golden, cleanup)
    source_disk = tools.info(storage_pool.storageVolLookupByName(cleanup + '-src.qcow2').path())['filename']
    name = cleanup + '-clone'
    args = {'name': name, 'source': source}

    predicted = run_module('libvirt_domain_clone', args, check=True, diff=True)
    assert predicted['changed'] is True and predicted['disks'][0]['volume'] == name + '-vda.qcow2', predicted
    assert '<name>{0}</name>'.format(name) in predicted['diff']['after']
    assert name not in [d.name() for d in libvirt_conn.listAllDomains()]
    storage_pool.refresh(0)
    assert name + '-vda.qcow2' not in storage_pool.listVolumes()

    cloned = run_module('libvirt_domain_clone', args)
    assert cloned['changed'] is True, cloned
    dom = libvirt_conn.lookupByName(name)
    assert dom.UUIDString() != made['domain']['uuid']
    assert cloned['domain']['interfaces'][0]['mac'] != made['domain']['interfaces'][0]['mac']
    assert re.match(r'^52:54:00', cloned['domain']['interfaces'][0]['mac'])
    clone_disk = cloned['disks'][0]['path']
    assert tools.info(clone_disk)['backing-filename'] == source_disk
    assert tools.allocated(clone_disk) < MiB
    assert run_module('libvirt_domain_clone', args)['changed'] is False

    # another source for the same clone name is an error naming the option
    other, _made = _define_source(run_module, pool_name, golden, cleanup + '-o')
    wrong = run_module('libvirt_domain_clone', {'name': name, 'source': other})
    assert wrong.get('failed') is True and wrong['msg'].startswith('source:'), wrong

    # a running source is refused (its disks would change under the clone)
    libvirt_conn.lookupByName(source).create()
    busy = run_module('libvirt_domain_clone', {'name': cleanup + '-busy', 'source': source})
    assert busy.get('failed') is True and 'shut it down' in busy['msg'], busy
    libvirt_conn.lookupByName(source).destroy()
    assert cleanup + '-busy' not in [d.name() for d in libvirt_conn.listAllDomains()]

    # full clone: equal content, no backing file; started on request
    full = run_module('libvirt_domain_clone', {'name': cleanup + '-full', 'source': source, 'mode': 'full',
                                               'start': True})
    assert full['changed'] is True and full['domain']['state'] == 'running', full
    full_disk = full['disks'][0]['path']
    assert 'backing-filename' not in tools.info(full_disk)
    assert tools.compare(source_disk, full_disk) == 0

    # the source's disk is protected while the linked clone uses it
    refused = run_module('libvirt_domain', {'name': source, 'state': 'absent', 'remove_volumes': True})
    assert refused.get('failed') is True and name + '-vda.qcow2' in refused['msg'], refused
    gone = run_module('libvirt_domain', {'name': name, 'state': 'absent', 'remove_volumes': True})
    assert gone['changed'] is True and gone['removed_volumes'] == [pool_name + '/' + name + '-vda.qcow2']
    assert run_module('libvirt_domain', {'name': source, 'state': 'absent', 'remove_volumes': True})['changed']


def test_snapshot_create_revert_delete(run_module, libvirt_conn, pool_name, golden, cleanup, storage_pool, tools):
    domain, _made = _define_source(run_module, pool_name, golden, cleanup)
    disk = storage_pool.storageVolLookupByName(cleanup + '-src.qcow2').path()
    args = {'domain': domain, 'name': 'before', 'description': 'golden data only'}

    predicted = run_module('libvirt_snapshot', args, check=True, diff=True)
    assert predicted['changed'] is True and predicted['snapshots'] == ['before'], predicted
    assert libvirt_conn.lookupByName(domain).snapshotNum(0) == 0, 'check mode made a snapshot'
    made = run_module('libvirt_snapshot', args)
    assert made['changed'] is True and made['snapshot']['current'] is True, made
    assert made['snapshot']['description'] == 'golden data only' and made['snapshot']['memory'] is False
    assert run_module('libvirt_snapshot', args)['changed'] is False

    # a destructive change to the disk, then the revert brings the golden data back
    tools.write(disk, 'qcow2', '0xee', 0, 8 * MiB)
    tools.check(disk, 'qcow2', '0xee', 0, 8 * MiB)
    check = run_module('libvirt_snapshot', dict(args, state='reverted'), check=True)
    assert check['changed'] is True
    tools.check(disk, 'qcow2', '0xee', 0, 8 * MiB)
    reverted = run_module('libvirt_snapshot', dict(args, state='reverted'))
    assert reverted['changed'] is True and reverted['domain_state'] == 'shutdown', reverted
    tools.check(disk, 'qcow2', '0xcd', 0, 64 * MiB)
    tools.check(golden['path'], 'qcow2', '0xcd', 0, 64 * MiB)

    bad = [({'domain': cleanup + '-nope', 'name': 'x'}, 'domain'),
           ({'domain': domain, 'name': 'nope', 'state': 'reverted'}, 'name')]
    for case, option in bad:
        result = run_module('libvirt_snapshot', case)
        assert result.get('failed') is True and result['msg'].startswith(option + ':'), result

    assert run_module('libvirt_snapshot', dict(args, state='absent'), check=True)['changed'] is True
    assert libvirt_conn.lookupByName(domain).snapshotNum(0) == 1
    gone = run_module('libvirt_snapshot', dict(args, state='absent'))
    assert gone['changed'] is True and gone['snapshots'] == []
    assert run_module('libvirt_snapshot', dict(args, state='absent'))['changed'] is False


def test_snapshot_with_memory_of_a_running_guest(run_module, libvirt_conn, pool_name, golden, cleanup,
                                                 boot_files, wait_for):
    console = '{0}/{1}.log'.format(boot_files['dir'], cleanup)
    domain, _made = _define_source(run_module, pool_name, golden, cleanup, {
        'kernel': boot_files['kernel'], 'initrd': boot_files['initrd'], 'cmdline': 'console=ttyS0 quiet',
        'serial': {'type': 'file', 'path': console}, 'memory': '160M', 'state': 'running'})
    wait_for(console, 'VIRTLAB-BOOTED')
    made = run_module('libvirt_snapshot', {'domain': domain, 'name': 'live'})
    assert made['changed'] is True and made['snapshot']['memory'] is True, made
    assert made['snapshot']['domain_state'] == 'running'
    run_module('libvirt_domain', {'name': domain, 'state': 'shutdown', 'shutdown_timeout': 60})
    assert not libvirt_conn.lookupByName(domain).isActive()
    reverted = run_module('libvirt_snapshot', {'domain': domain, 'name': 'live', 'state': 'reverted'})
    assert reverted['changed'] is True and reverted['domain_state'] == 'running', reverted
    # the guest resumed where it was (no second boot): one boot marker, and it still answers the power button
    down = run_module('libvirt_domain', {'name': domain, 'state': 'shutdown', 'shutdown_timeout': 60})
    assert down['forced'] is False, down
    with open(console) as handle:
        log = handle.read()
    assert log.count('VIRTLAB-BOOTED') == 1 and log.count('VIRTLAB-ACPI-POWEROFF') == 2, log
