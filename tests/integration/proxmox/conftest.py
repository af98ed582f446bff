"""Fixtures of the Proxmox VE module tests: connection options for the per-test fakepve.

fakepve (a schema-validating fake of the PVE API over TLS) is started per test by its own pytest
plugin (`fakepve`, `fakepve_cafile`); the modules talk to it exactly as to a real cluster. TLS is
verified against the fake's self-signed certificate (`ca_path`), never disabled.
"""

import secrets

import pytest

USER = 'root@pam'


@pytest.fixture
def pve_token(fakepve):
    """(full token id, secret) of an API token of root@pam the fake accepts.

    fakepve stores no token created through the API, so the token is registered through its Python API.
    """
    tokenid = 'vlt{0}'.format(secrets.token_hex(3))
    secret = secrets.token_hex(16)
    fakepve.apitokens['{0}!{1}'.format(USER, tokenid)] = secret
    return '{0}!{1}'.format(USER, tokenid), secret


@pytest.fixture
def pve(fakepve, fakepve_cafile, pve_token):
    """Connection options of the modules for the fake: token auth, TLS verified against its certificate."""
    return {'api_host': fakepve.host, 'api_port': fakepve.port, 'api_token_id': pve_token[0],
            'api_token_secret': pve_token[1], 'ca_path': fakepve_cafile}


@pytest.fixture
def pve_password(fakepve, fakepve_cafile):
    """Connection options with a password login (ticket + CSRF token)."""
    return {'api_host': fakepve.host, 'api_port': fakepve.port, 'api_user': USER, 'api_password': 'secret',
            'ca_path': fakepve_cafile}


@pytest.fixture
def seed_template(fakepve):
    """Put an appliance template on `local` through fakepve's Python API (its aplinfo is stateless).

    Returns the volid. Tests of the real download path use proxmox_template/download-url instead.
    """
    def seed(name='debian-12-standard_12.7-1_amd64.tar.zst', storage='local'):
        fakepve.store_file(storage, name, 120 * 1024 ** 2, content='vztmpl')
        return '{0}:vztmpl/{1}'.format(storage, name)
    return seed


@pytest.fixture
def fingerprint(fakepve):
    """fingerprint(vmid): everything the fake keeps of a guest (name, node, power state, template flag, lock,
    pool, config, pending changes, snapshots), copied; two are equal only when nothing of the guest changed."""
    import copy

    def take(vmid):
        guest = fakepve.guest(vmid)
        assert guest is not None, 'guest {0} is gone'.format(vmid)
        return copy.deepcopy({key: getattr(guest, key, None) for key in (
            'vmid', 'name', 'node', 'status', 'template', 'lock', 'pool', 'config', 'pending', 'snapshots')})
    return take
