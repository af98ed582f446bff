"""Issue #17: a task that creates never changes a guest it did not make (fakepve, no mocks of proxmoxer).

Every refusal is checked the same way: the task fails naming the option, the vmid and what the guest holds;
the fake saw no write at all; and the foreign guest's fingerprint (name, status, config, pending, snapshots,
lock, pool) is the same before and after. The positive side: a clone records its source, a re-run is
idempotent, ``rename=true`` renames, the record survives a change of tags, a guest made by hand (no record)
is still recognised by its name. Last, PVE's 500 "can't lock file ... got timeout" (the config lock held by
another task, invisible in the status) is waited out within lock_timeout.
"""

import asyncio
import threading
import time

import pytest

TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'   # what the seed_template fixture puts there
DB01 = {'cores': 4, 'memory': 4096, 'swap': 512, 'rootfs': 'local-lvm:vm-150-disk-0,size=32G',
        'net0': 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:50,ip=192.0.2.50/24,gw=192.0.2.1,type=veth',
        'description': 'production database'}


def lxc(run_module, pve, **args):
    return run_module('proxmox_lxc', dict(pve, **args))


def vm(run_module, pve, **args):
    return run_module('proxmox_vm', dict(pve, **args))


def writes(fakepve, since):
    return [r for r in fakepve.requests[since:] if r[0] != 'GET']


def assert_refused(result, fakepve, since, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result.get('_stderr', ''), result
    for word in words:
        assert word in result['msg'], (word, result['msg'])
    assert 'nothing was changed' in result['msg'], result['msg']
    assert writes(fakepve, since) == [], writes(fakepve, since)


@pytest.fixture
def tpl_ct(fakepve):
    return fakepve.add_ct(900, 'ct-tmpl', template=True,
                          config={'rootfs': 'local-lvm:base-900-disk-0,size=8G', 'cores': 1, 'memory': 512,
                                  'net0': 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:09:00,ip=dhcp,type=veth'})


@pytest.fixture
def db01(fakepve):
    ct = fakepve.add_ct(150, 'db01', status='running', config=dict(DB01))
    ct.snapshots['before-upgrade'] = {'snaptime': 1700000000, 'description': 'keep me'}
    return ct


@pytest.fixture
def tpl_vm(fakepve):
    return fakepve.add_vm(9000, 'vm-tmpl', template=True, config={
        'scsi0': 'local-lvm:base-9000-disk-0,size=8G', 'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
        'memory': 2048, 'cores': 1, 'scsihw': 'virtio-scsi-single', 'boot': 'order=scsi0'})


# ----------------------------------------------------------------------------- proxmox_lxc refusals

# (task arguments, words the message must hold, the vmid whose fingerprint must not move)
LXC_REFUSALS = {
    # the case: clone onto an id that holds an unrelated running container
    'clone-onto-foreign-vmid': (dict(hostname='web02', clone='ct-tmpl', vmid=150, cores=1, memory=512),
                                ('vmid', '150', 'db01', 'rename=true'), 150),
    # vmid set to the template's own id: the template would have been renamed
    'clone-onto-the-template-id': (dict(hostname='web02', clone='ct-tmpl', vmid=900, cores=1),
                                   ('vmid', '900', 'ct-tmpl'), 900),
    # same id and same name as the source: still the source, never the clone
    'clone-is-its-source': (dict(hostname='ct-tmpl', clone='ct-tmpl', vmid=900, cores=2),
                            ('900', 'clone source itself'), 900),
    # a create from an appliance template onto a foreign id
    'ostemplate-onto-foreign-vmid': (dict(hostname='web02', ostemplate=TEMPLATE, vmid=150, memory=512),
                                     ('vmid', '150', 'db01'), 150),
    # no host name to recognise a guest by: the id's holder is not adopted as the clone
    'clone-without-hostname': (dict(clone='ct-tmpl', vmid=150, cores=1), ('hostname', '150', 'db01'), 150),
    # a removal that names another guest than the id holds
    'absent-with-another-name': (dict(hostname='web02', vmid=150, state='absent'), ('vmid', '150', 'db01'), 150),
    # found by name: a template of that name is not the container the task creates
    'clone-named-like-a-template': (dict(hostname='ct-tmpl2', clone='ct-tmpl', cores=2),
                                    ('clone', 'template', 'ct-tmpl2'), 901),
    # found by name: a container recorded as the clone of another source
    'clone-recorded-from-another-source': (dict(hostname='web03', clone='ct-tmpl', cores=2),
                                           ('clone', 'web03', 'cloned from guest 777'), 152),
    # found by name: a linked clone of another template, created from an appliance template
    'ostemplate-finds-a-linked-clone': (dict(hostname='web04', ostemplate=TEMPLATE, memory=256),
                                        ('ostemplate', 'web04', 'clone of guest 777'), 153),
}


@pytest.mark.parametrize('case', sorted(LXC_REFUSALS))
def test_lxc_refuses_a_guest_it_did_not_make(run_module, pve, fakepve, fingerprint, seed_template, tpl_ct, db01,
                                             case):
    seed_template()
    fakepve.add_ct(901, 'ct-tmpl2', template=True, config={'rootfs': 'local-lvm:base-901-disk-0,size=8G'})
    fakepve.add_ct(152, 'web03', config={'tags': 'virtlab-clone-of-777;web', 'cores': 1})
    fakepve.add_ct(153, 'web04', config={'rootfs': 'local-lvm:base-777-disk-0/vm-153-disk-0,size=8G'})
    args, words, vmid = LXC_REFUSALS[case]
    before = {g: fingerprint(g) for g in (150, 900, 901, 152, 153)}
    since = len(fakepve.requests)
    result = lxc(run_module, pve, **args)
    assert_refused(result, fakepve, since, *words)
    assert fingerprint(vmid) == before[vmid]
    assert {g: fingerprint(g) for g in before} == before
    assert sorted(c.vmid for c in fakepve.cts) == [150, 152, 153, 900, 901]
    # check mode refuses alike
    checked = run_module('proxmox_lxc', dict(pve, **args), check=True)
    assert_refused(checked, fakepve, since, *words)


# ----------------------------------------------------------------------------- proxmox_lxc: what still works


def test_lxc_clone_records_its_source_reruns_renames_and_keeps_the_record(
        run_module, pve, fakepve, fingerprint, tpl_ct):
    fakepve.ct(900).config['tags'] = 'golden;virtlab-clone-of-42'    # the template's own record is not inherited
    made = lxc(run_module, pve, hostname='web02', clone='ct-tmpl', vmid=160, cores=2)
    assert made['changed'] is True and made['clone_of'] == 900, made
    assert fakepve.ct(160).config['tags'] == 'golden;virtlab-clone-of-900'

    again = lxc(run_module, pve, hostname='web02', clone='ct-tmpl', vmid=160, cores=2)
    assert again['changed'] is False, again

    # new user tags: the record stays; a tag in the record's namespace is refused, naming the option
    tagged = lxc(run_module, pve, hostname='web02', clone='ct-tmpl', vmid=160, tags=['web', 'lab'])
    assert tagged['changed'] is True and fakepve.ct(160).config['tags'] == 'lab;virtlab-clone-of-900;web'
    since = len(fakepve.requests)
    bad = lxc(run_module, pve, hostname='web02', vmid=160, tags=['virtlab-clone-of-1'])
    assert bad.get('failed') and bad['msg'].startswith('tags:'), bad
    assert writes(fakepve, since) == []

    # a rename is refused unless asked for, and then done
    held = fingerprint(160)
    since = len(fakepve.requests)
    assert_refused(lxc(run_module, pve, hostname='web-two', vmid=160), fakepve, since, 'vmid', '160', 'web02')
    assert fingerprint(160) == held
    renamed = lxc(run_module, pve, hostname='web-two', vmid=160, rename=True)
    assert renamed['changed'] is True and fakepve.ct(160).config['hostname'] == 'web-two', renamed
    assert lxc(run_module, pve, hostname='web-two', vmid=160, rename=True)['changed'] is False

    # the clone with the record is recognised even by a task that gives no host name
    assert lxc(run_module, pve, clone='ct-tmpl', vmid=160, cores=2)['changed'] is False


def test_lxc_guest_made_by_hand_is_recognised_by_name(run_module, pve, fakepve, seed_template, tpl_ct):
    """No record (made by hand, or by 0.1.0): the name is the identity, as before."""
    volid = seed_template()
    fakepve.add_ct(170, 'legacy', config={'cores': 2, 'memory': 512})
    assert lxc(run_module, pve, hostname='legacy', clone='ct-tmpl', cores=2)['changed'] is False
    assert lxc(run_module, pve, hostname='legacy', vmid=170, ostemplate=volid, cores=2)['changed'] is False
    updated = lxc(run_module, pve, hostname='legacy', vmid=170, ostemplate=volid, cores=3)
    assert updated['changed'] is True and fakepve.ct(170).config['cores'] == 3


def test_lxc_template_state_rerun_is_its_own(run_module, pve, fakepve, tpl_ct):
    """A clone the task turned into a template is still the task's own on the next run."""
    args = dict(hostname='tpl-child', clone='ct-tmpl', vmid=161, state='template')
    assert lxc(run_module, pve, **args)['changed'] is True
    assert fakepve.ct(161).template
    assert lxc(run_module, pve, **args)['changed'] is False


# ----------------------------------------------------------------------------- proxmox_vm


VM_REFUSALS = {
    'clone-onto-foreign-vmid': (dict(name='dev-bob', clone='vm-tmpl', vmid=500, memory=1024),
                                ('vmid', '500', 'someone-else', 'rename=true'), 500),
    'clone-onto-the-template-id': (dict(name='dev-bob', clone='vm-tmpl', vmid=9000), ('vmid', '9000', 'vm-tmpl'),
                                   9000),
    'clone-is-its-source': (dict(name='vm-tmpl', clone='vm-tmpl', vmid=9000, memory=512),
                            ('9000', 'clone source itself'), 9000),
    'create-onto-foreign-vmid': (dict(name='build01', vmid=500, memory=1024,
                                      disks=[{'slot': 'scsi0', 'storage': 'local-lvm', 'size': '8G'}]),
                                 ('vmid', '500', 'someone-else'), 500),
    'clone-recorded-from-another-source': (dict(name='dev-carol', clone='vm-tmpl', cores=4),
                                           ('clone', 'dev-carol', 'cloned from guest 8000'), 502),
    'clone-named-like-a-template': (dict(name='vm-tmpl2', clone='vm-tmpl'), ('clone', 'template', 'vm-tmpl2'), 9001),
    'absent-with-another-name': (dict(name='dev-bob', vmid=500, state='absent'), ('vmid', '500', 'someone-else'),
                                 500),
}


@pytest.mark.parametrize('case', sorted(VM_REFUSALS))
def test_vm_refuses_a_guest_it_did_not_make(run_module, pve, fakepve, fingerprint, tpl_vm, case):
    fakepve.add_vm(500, 'someone-else', status='running', config={'memory': 8192, 'cores': 8,
                                                                  'scsi0': 'local-lvm:vm-500-disk-0,size=64G'})
    fakepve.add_vm(502, 'dev-carol', config={'tags': 'virtlab-clone-of-8000', 'cores': 1})
    fakepve.add_vm(9001, 'vm-tmpl2', template=True, config={'scsi0': 'local-lvm:base-9001-disk-0,size=8G'})
    args, words, vmid = VM_REFUSALS[case]
    before = {g: fingerprint(g) for g in (500, 502, 9000, 9001)}
    since = len(fakepve.requests)
    assert_refused(vm(run_module, pve, **args), fakepve, since, *words)
    assert fingerprint(vmid) == before[vmid]
    assert {g: fingerprint(g) for g in before} == before
    assert [t for t in fakepve.tasklog if t['type'] == 'qmclone'] == []


def test_vm_clone_records_its_source_and_reruns(run_module, pve, fakepve, tpl_vm):
    args = dict(name='dev-dave', clone='vm-tmpl', vmid=510, cores=2)
    made = vm(run_module, pve, **args)
    assert made['changed'] is True and fakepve.vm(510).config['tags'] == 'virtlab-clone-of-9000', made
    assert vm(run_module, pve, **args)['changed'] is False
    renamed = vm(run_module, pve, name='dev-dave2', vmid=510, rename=True)
    assert renamed['changed'] is True and fakepve.vm(510).name == 'dev-dave2'


# ----------------------------------------------------------------------------- proxmox_guests


def test_guests_batch_refuses_the_foreign_item_and_does_the_rest(run_module, pve, fakepve, fingerprint, tpl_vm,
                                                                 db01):
    held = fingerprint(150)
    result = run_module('proxmox_guests', dict(pve, guests=[
        {'name': 'student-01', 'clone': 'vm-tmpl'},
        {'type': 'lxc', 'name': 'web02', 'vmid': 150, 'memory': 512},
        {'name': 'student-02', 'clone': 'vm-tmpl', 'vmid': 150},
    ]))
    assert result.get('failed') and result['summary'] == {'total': 3, 'changed': 1, 'failed': 2}, result
    outcomes = {o['key']: o for o in result['guests']}
    assert 'db01' in outcomes['lxc/web02']['msg'] and '150' in outcomes['lxc/web02']['msg']
    assert 'vmid 150' in outcomes['qemu/student-02']['msg']   # a VM task at a container's id
    assert fingerprint(150) == held
    assert sorted(v.name for v in fakepve.vms) == ['student-01', 'vm-tmpl']


# ----------------------------------------------------------------------------- the config lock


def _hold_config_lock(fakepve, vmid):
    # fakepve's hold_config_lock is a coroutine; with no time limit it only marks the lock as held
    asyncio.run(fakepve.hold_config_lock(vmid, None))


def test_config_lock_held_by_another_task_is_waited_out(run_module, pve, fakepve):
    fakepve.add_ct(200, 'busy', config={'cores': 1})
    _hold_config_lock(fakepve, 200)
    timer = threading.Timer(2.0, fakepve.release_config_lock, args=(200,))
    timer.start()
    try:
        began = time.monotonic()
        result = lxc(run_module, pve, vmid=200, hostname='busy', cores=3)
        elapsed = time.monotonic() - began
    finally:
        timer.cancel()
    assert result['changed'] is True, result
    assert fakepve.ct(200).config['cores'] == 3
    assert elapsed >= 2.0
    puts = [r for r in fakepve.requests if r[0] == 'PUT' and r[1].endswith('/lxc/200/config')]
    assert len(puts) >= 2, 'the write was not refused while the lock was held, then repeated: %r' % puts


def test_config_lock_never_released_fails_after_lock_timeout(run_module, pve, fakepve, fingerprint):
    fakepve.add_ct(201, 'stuck', config={'cores': 1})
    _hold_config_lock(fakepve, 201)
    held = fingerprint(201)
    began = time.monotonic()
    result = lxc(run_module, pve, vmid=201, hostname='stuck', cores=3, lock_timeout=3)
    assert result.get('failed') and "can't lock file" in result['msg'] and 'another task' in result['msg'], result
    assert 3 <= time.monotonic() - began < 30
    assert fingerprint(201) == held
