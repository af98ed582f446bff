"""proxmox_snapshot against fakepve, for a container and a VM."""

import pytest


def snap(run_module, pve, check=False, diff=False, spec=None, **args):
    return run_module('proxmox_snapshot', dict(pve, **dict(spec or {}, **args)), check=check, diff=diff)


@pytest.fixture(params=['lxc', 'qemu'])
def guest(request, fakepve):
    if request.param == 'lxc':
        return fakepve.add_ct(310, 'snapct', config={'cores': 1})
    return fakepve.add_vm(310, 'snapvm', status='running',
                          config={'scsi0': 'local-lvm:vm-310-disk-0,size=8G', 'cores': 1})


def test_create_describe_rollback_delete(run_module, pve, fakepve, guest):
    args = dict(vmid=310, snapname='clean', description='fresh install')
    predicted = snap(run_module, pve, check=True, diff=True, spec=args)
    assert predicted['changed'] is True and predicted['diff']['before'] == {}
    assert guest.snapshots == {}

    made = snap(run_module, pve, spec=args)
    assert made['changed'] is True and made['snapshots'] == ['clean'], (made.get('msg'), made.get('log_tail'))
    assert guest.snapshots['clean']['description'] == 'fresh install'
    assert snap(run_module, pve, spec=args)['changed'] is False

    described = snap(run_module, pve, diff=True, spec=dict(args, description='fresh install, patched'))
    assert described['changed'] is True
    assert described['diff']['before']['description'] == 'fresh install'
    assert guest.snapshots['clean']['description'] == 'fresh install, patched'

    guest.config['cores'] = 4
    assert snap(run_module, pve, check=True, vmid=310, snapname='clean', state='rollback')['changed'] is True
    assert guest.config['cores'] == 4
    rolled = snap(run_module, pve, vmid=310, snapname='clean', state='rollback')
    assert rolled['changed'] is True and guest.config['cores'] == 1

    missing = snap(run_module, pve, vmid=310, snapname='nosuch', state='rollback')
    assert missing.get('failed') and 'snapname' in missing['msg'] and 'clean' in missing['msg']

    gone = snap(run_module, pve, vmid=310, snapname='clean', state='absent')
    assert gone['changed'] is True and guest.snapshots == {}
    assert snap(run_module, pve, vmid=310, snapname='clean', state='absent')['changed'] is False


def test_vmstate_only_for_vms(run_module, pve, fakepve):
    fakepve.add_ct(311, 'ct311')
    result = snap(run_module, pve, name='ct311', snapname='withram', vmstate=True)
    assert result.get('failed') and 'vmstate' in result['msg']
    vm = fakepve.add_vm(312, 'vm312', status='running', config={'scsi0': 'local-lvm:vm-312-disk-0,size=8G'})
    made = snap(run_module, pve, name='vm312', snapname='withram', vmstate=True)
    assert made['changed'] is True, made
    assert 'vmstate' in vm.snapshots['withram'] or vm.snapshots['withram'].get('vmstate')


@pytest.mark.parametrize('args, option', [
    ({'vmid': 999, 'snapname': 'x1'}, 'vmid'),
    ({'name': 'nobody', 'snapname': 'x1'}, 'name'),
    ({'vmid': 313, 'snapname': '1bad'}, 'snapname'),
    ({'vmid': 313, 'snapname': 'current'}, 'snapname'),
])
def test_bad_input(run_module, pve, fakepve, args, option):
    fakepve.add_ct(313, 'ct313')
    result = snap(run_module, pve, spec=args)
    assert result.get('failed') and option in result['msg'], result
    assert fakepve.ct(313).snapshots == {}
