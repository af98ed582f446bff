"""Smoke test of proxmoxer with an API token against fakepve (its pytest plugin serves a fake PVE over TLS).

fakepve's fixtures (fakepve 0.5.0, plugin `fakepve.pytest_plugin`): `fakepve` is a FakePve started for the
test on 127.0.0.1 with a free port (root@pam / secret, time_scale 0), `fakepve_url` its https://host:port,
`fakepve_cafile` the self-signed certificate it serves, to verify TLS with.

TLS: REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are set in this environment, and requests lets them override a
*session*-level `verify` (session.verify = cafile, or False, is ignored). A *request*-level verify wins,
and proxmoxer passes `verify_ssl` per request, so verify_ssl=<fakepve_cafile> really verifies.
"""

import secrets

import pytest
import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import AuthenticationError, ResourceException

USER = 'root@pam'


def _api(fakepve, fakepve_cafile, token_name, token_value):
    return ProxmoxAPI(fakepve.host, port=fakepve.port, user=USER, token_name=token_name, token_value=token_value,
                      verify_ssl=fakepve_cafile, timeout=10)


@pytest.fixture
def api_token(fakepve, fakepve_url, fakepve_cafile, unique_name):
    """(token name, secret) of an API token of root@pam that the fake accepts.

    The token is asked for through the API with a ticket, as a client does on PVE. fakepve answers that
    POST from the schema only (a synthesised {"value": "fake"}) and stores nothing, so the token is then
    registered with the fake's Python API: FakePve.apitokens maps 'user@realm!tokenid' to its secret.
    """
    login = requests.post(fakepve_url + '/api2/json/access/ticket', data={'username': USER, 'password': 'secret'},
                          verify=fakepve_cafile, timeout=10)
    assert login.status_code == 200, login.text
    ticket = login.json()['data']
    created = requests.post(fakepve_url + '/api2/json/access/users/{0}/token/{1}'.format(USER, unique_name),
                            data={'privsep': 0}, verify=fakepve_cafile, timeout=10,
                            cookies={'PVEAuthCookie': ticket['ticket']},
                            headers={'CSRFPreventionToken': ticket['CSRFPreventionToken']})
    assert created.status_code == 200, created.text
    assert 'value' in created.json()['data']

    value = secrets.token_hex(16)
    fakepve.apitokens['{0}!{1}'.format(USER, unique_name)] = value
    return unique_name, value


def test_token_lists_version_nodes_and_nextid(fakepve, fakepve_cafile, api_token):
    fakepve.add_vm(100, 'vlt-test-vm', status='stopped')
    api = _api(fakepve, fakepve_cafile, *api_token)

    version = api.version.get()
    assert version['version'] == fakepve.version
    assert version['release'] == fakepve.release_version

    nodes = api.nodes.get()
    assert [n['node'] for n in nodes] == sorted(fakepve.nodes)
    assert all(n['status'] == 'online' for n in nodes)

    # 100 is taken by the VM added above
    assert int(api.cluster.nextid.get()) == 101

    # the answers came from this fake, and proxmoxer never logged in with a password: one ticket, the fixture's
    paths = [r[1] for r in fakepve.requests]
    for path in ('/api2/json/version', '/api2/json/nodes', '/api2/json/cluster/nextid'):
        assert path in paths, paths
    assert paths.count('/api2/json/access/ticket') == 1, paths
    assert len(fakepve.tickets) == 1


def test_wrong_token_secret_is_refused(fakepve, fakepve_cafile, api_token):
    name, value = api_token
    api = _api(fakepve, fakepve_cafile, name, value + '0')
    with pytest.raises(ResourceException) as refused:
        api.version.get()
    # a token is checked on each request (401), not at a login: proxmoxer raises ResourceException,
    # never AuthenticationError (that one is for a failed ticket login with a password)
    assert not isinstance(refused.value, AuthenticationError)
    assert refused.value.status_code == 401
    assert 'authentication failure' in str(refused.value)

    # an unknown token name is refused too, and the right secret still works
    with pytest.raises(ResourceException) as unknown:
        _api(fakepve, fakepve_cafile, name + 'x', value).version.get()
    assert unknown.value.status_code == 401
    assert _api(fakepve, fakepve_cafile, name, value).version.get()['version'] == fakepve.version


def test_tls_is_verified_against_the_fake_certificate(fakepve, fakepve_cafile, api_token):
    # the system CA bundle does not know the fake's self-signed certificate: verification is real
    api = ProxmoxAPI(fakepve.host, port=fakepve.port, user=USER, token_name=api_token[0],
                     token_value=api_token[1], verify_ssl=True, timeout=10)
    with pytest.raises(requests.exceptions.SSLError):
        api.version.get()
