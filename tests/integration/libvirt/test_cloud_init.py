"""libvirt_domain's cloud-init seed against the real libvirtd: built, attached, rebuilt only on change."""

import secrets
import subprocess


def _extract(iso, member, tmp_path):
    out = tmp_path / (member + secrets.token_hex(4))
    subprocess.run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', '/' + member, str(out)],
                   check=True, capture_output=True)
    return out.read_text()


def test_cloud_init_seed(run_module, libvirt_conn, pool_name, cleanup, storage_pool, tmp_path):
    name = cleanup + '-ci'
    seed = name + '-cidata.iso'
    user_data = '#cloud-config\npassword: {0}\n'.format(cleanup)
    args = {'name': name, 'memory': '64M', 'cloud_init': {'pool': pool_name, 'user_data': user_data}}

    predicted = run_module('libvirt_domain', args, check=True)
    assert predicted['changed'] is True and 'cloud_init' in predicted['changes'], predicted
    storage_pool.refresh(0)
    assert seed not in storage_pool.listVolumes(), 'check mode made the seed'

    made = run_module('libvirt_domain', args)
    assert made['changed'] is True, made
    cdrom = [d for d in made['domain']['disks'] if d['device'] == 'cdrom']
    assert cdrom == [{'device': 'cdrom', 'path': None, 'pool': pool_name, 'target': 'sda', 'type': 'volume',
                      'volume': seed}], made['domain']['disks']
    iso = storage_pool.storageVolLookupByName(seed).path()
    assert _extract(iso, 'user-data', tmp_path) == user_data
    assert 'local-hostname: ' + name in _extract(iso, 'meta-data', tmp_path)
    assert run_module('libvirt_domain', args)['changed'] is False

    changed = dict(args, cloud_init={'pool': pool_name, 'user_data': user_data + 'ssh_pwauth: true\n'})
    assert run_module('libvirt_domain', changed, check=True)['changed'] is True
    assert _extract(iso, 'user-data', tmp_path) == user_data
    assert run_module('libvirt_domain', changed)['changes'] == ['cloud_init']
    iso = storage_pool.storageVolLookupByName(seed).path()
    assert _extract(iso, 'user-data', tmp_path).endswith('ssh_pwauth: true\n')
    assert run_module('libvirt_domain', changed)['changed'] is False

    gone = run_module('libvirt_domain', {'name': name, 'state': 'absent', 'remove_volumes': True})
    assert gone['removed_volumes'] == [pool_name + '/' + seed], gone
