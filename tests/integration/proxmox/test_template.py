"""proxmox_template against fakepve: download-url and upload are stateful there; its appliance index
(aplinfo) is not (it answers [{}] and stores nothing), so only the empty index and the refusal of an
unknown appliance are checked here."""

import pytest

URL = 'http://mirror.example.org/images/debian-12-standard_12.7-1_amd64.tar.zst'
VOLID = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'


def template(run_module, pve, check=False, diff=False, spec=None, **args):
    return run_module('proxmox_template', dict(pve, **dict(spec or {}, **args)), check=check, diff=diff)


def stored(fakepve, storage='local'):
    return sorted(fakepve.storages[storage].get('volumes', {}))


def test_download_check_idempotent_remove(run_module, pve, fakepve):
    predicted = template(run_module, pve, check=True, diff=True, url=URL)
    assert predicted['changed'] is True and predicted['volid'] == VOLID
    assert predicted['diff'] == {'before': {}, 'after': {'volid': VOLID}}
    assert stored(fakepve) == []

    done = template(run_module, pve, url=URL)
    assert done['changed'] is True and done['node'] == 'pve1'
    assert stored(fakepve) == ['vztmpl/debian-12-standard_12.7-1_amd64.tar.zst']
    assert len([t for t in fakepve.tasklog if t['type'] == 'download']) == 1

    again = template(run_module, pve, url=URL)
    assert again['changed'] is False
    assert len([t for t in fakepve.tasklog if t['type'] == 'download']) == 1

    assert template(run_module, pve, check=True, state='absent', filename=VOLID.split('/')[1])['changed'] is True
    assert stored(fakepve) != []
    removed = template(run_module, pve, state='absent', filename=VOLID.split('/')[1])
    assert removed['changed'] is True and stored(fakepve) == []
    assert template(run_module, pve, state='absent', filename=VOLID.split('/')[1])['changed'] is False


def test_upload_iso(run_module, pve, fakepve, tmp_path):
    iso = tmp_path / 'netinst.iso'
    iso.write_bytes(b'\0' * 4096)
    done = template(run_module, pve, src=str(iso), content='iso')
    assert done['changed'] is True and done['volid'] == 'local:iso/netinst.iso', done
    assert fakepve.uploaded['filename'] == 'netinst.iso' and len(fakepve.uploaded['data']) == 4096
    assert template(run_module, pve, src=str(iso), content='iso')['changed'] is False


@pytest.mark.parametrize('args, option', [
    ({'url': URL, 'storage': 'local-lvm'}, 'does not hold vztmpl'),
    ({'url': URL, 'storage': 'nfs'}, 'storage'),
    ({'url': URL, 'checksum': 'abc'}, 'checksum_algorithm'),
    ({'src': '/nonexistent/file.iso', 'content': 'iso'}, 'src'),
    ({'url': 'http://x.example/a b'}, 'filename'),
    ({'appliance': 'turnkey-moodle'}, 'appliance'),
    ({}, 'state'),
])
def test_bad_input(run_module, pve, fakepve, args, option):
    result = template(run_module, pve, spec=args)
    assert result.get('failed'), result
    assert option in result['msg'], result['msg']
    assert stored(fakepve) == []


def test_empty_appliance_index(run_module, pve):
    listing = template(run_module, pve, list_appliances=True)
    assert listing['changed'] is False and listing['appliances'] == []
