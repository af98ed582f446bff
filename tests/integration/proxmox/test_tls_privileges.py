"""TLS verification and API token privileges against fakepve (issue #11).

TLS: a fakepve served with a certificate signed by a CA made here (the `cryptography` package), as a
cluster's pve-root-ca signs its nodes' certificates. Verification is on by default; the CA given in
ca_path makes it work; anything else is refused with a message naming the option, never a traceback.
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are set in this environment (FIELD-NOTES): every case sets or
clears them deliberately.

Privileges: fakepve enforces the privileges of PVE's permission checks once an ACL exists
(`grant()`), for users and their tokens. What it does NOT enforce: privilege separation of tokens
(a token gets the union of its own grants and its user's, where real PVE gives the intersection) --
so a token is tested here with its user holding the same limited rights. docs/security.md lists the
privileges each module needs, from the official API schema.
"""

import datetime
import ipaddress
import secrets

import pytest
from fakepve.pytest_plugin import _Serving  # the plugin's own "serve a FakePve on a private loop"
from fakepve.server import FakePve

NO_BUNDLES = {'REQUESTS_CA_BUNDLE': '', 'CURL_CA_BUNDLE': ''}


def assert_clean_failure(result, *words):
    assert result.get('failed'), result
    assert 'Traceback' not in result.get('module_stderr', '') + result['_stderr'], result
    for word in words:
        assert word in result['msg'], result['msg']


# ----------------------------------------------------------------------------------------- PKI


def _write(path, data):
    path.write_bytes(data)
    return str(path)


def make_ca(directory, name):
    """(ca certificate path, ca key, ca certificate) of a new self-signed CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = _write(directory / (name + '.pem'), cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_server_cert(directory, ca_key, ca_cert, host):
    """(cert path, key path) of a server certificate for host, signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'pve1')]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    certfile = _write(directory / 'pve1.pem', cert.public_bytes(serialization.Encoding.PEM))
    keyfile = _write(directory / 'pve1.key', key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    return certfile, keyfile


@pytest.fixture(scope='module')
def signed_pve(tmp_path_factory):
    """A FakePve whose certificate a private CA signed; yields (pve, ca path, other CA path)."""
    directory = tmp_path_factory.mktemp('tls')
    ca_path, ca_key, ca_cert = make_ca(directory, 'vlt-test-pve-root-ca')
    other_ca, _key, _cert = make_ca(directory, 'vlt-test-other-ca')
    certfile, keyfile = make_server_cert(directory, ca_key, ca_cert, '127.0.0.1')
    pve = FakePve(user='root@pam', password='secret', host='127.0.0.1', port=0)
    pve.time_scale = 0
    serving = _Serving(pve, certfile, keyfile)
    try:
        yield pve, ca_path, other_ca
    finally:
        serving.stop()


def _token(pve, user='root@pam'):
    tokenid = '%s!vlt%s' % (user, secrets.token_hex(3))
    secret = secrets.token_hex(16)
    pve.apitokens[tokenid] = secret
    return {'api_host': pve.host, 'api_port': pve.port, 'api_token_id': tokenid, 'api_token_secret': secret}


# ----------------------------------------------------------------------------------------- TLS


def test_trusted_through_the_ca_option(run_module, signed_pve):
    pve, ca_path, _other = signed_pve
    result = run_module('proxmox_guest_info', dict(_token(pve), ca_path=ca_path), env=NO_BUNDLES)
    assert not result.get('failed') and result['guests'] == [], result
    # the same CA from the environment variable of the option
    env = dict(NO_BUNDLES, PROXMOX_CA_PATH=ca_path)
    assert not run_module('proxmox_guest_info', _token(pve), env=env).get('failed')


def test_verification_is_on_by_default_and_refuses_cleanly(run_module, signed_pve):
    pve, _ca, _other = signed_pve
    refused = run_module('proxmox_guest_info', _token(pve), env=NO_BUNDLES)
    assert_clean_failure(refused, 'TLS verification', 'ca_path')
    assert refused['option'] == 'validate_certs', refused


def test_ca_path_wins_over_the_environment_bundles(run_module, signed_pve):
    """A wrong ca_path is refused even when REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE hold the right CA."""
    pve, ca_path, other_ca = signed_pve
    env = {'REQUESTS_CA_BUNDLE': ca_path, 'CURL_CA_BUNDLE': ca_path}
    wrong = run_module('proxmox_guest_info', dict(_token(pve), ca_path=other_ca), env=env)
    assert_clean_failure(wrong, 'TLS verification')
    # and an environment bundle without the CA does not make the module trust the cluster either
    other_env = {'REQUESTS_CA_BUNDLE': other_ca, 'CURL_CA_BUNDLE': other_ca}
    assert_clean_failure(run_module('proxmox_guest_info', _token(pve), env=other_env), 'TLS verification')


def test_name_mismatch_is_refused(run_module, signed_pve):
    """The certificate names 127.0.0.1 only: reaching the same server as localhost is refused."""
    pve, ca_path, _other = signed_pve
    args = dict(_token(pve), ca_path=ca_path, api_host='localhost')
    assert_clean_failure(run_module('proxmox_guest_info', args, env=NO_BUNDLES), 'TLS verification')


def test_validate_certs_false_is_an_explicit_opt_out(run_module, signed_pve):
    pve, _ca, _other = signed_pve
    result = run_module('proxmox_guest_info', dict(_token(pve), validate_certs=False), env=NO_BUNDLES)
    assert not result.get('failed'), result


# ----------------------------------------------------------------------------------------- privileges


def test_token_without_rights_fails_clearly_and_makes_nothing(run_module, fakepve, fakepve_cafile, seed_template):
    template = seed_template()
    fakepve.add_ct(500, 'audited', config={'cores': 1})
    user = 'auditor@pve'
    fakepve.users[user] = secrets.token_hex(8)
    fakepve.grant(user, '/', 'VM.Audit', 'Sys.Audit', 'Datastore.Audit')
    conn = dict(_token(fakepve, user), ca_path=fakepve_cafile)
    # reading is allowed
    seen = run_module('proxmox_guest_info', conn)
    assert not seen.get('failed') and [g['vmid'] for g in seen['guests']] == [500], seen
    # creating needs VM.Allocate (and Datastore.AllocateSpace): a 403 reported as such, nothing made
    made = run_module('proxmox_lxc', dict(conn, hostname='denied', ostemplate=template, storage='local-lvm'))
    assert_clean_failure(made, 'Permission check failed')
    assert made['status'] == 403, made
    assert [c.vmid for c in fakepve.cts] == [500]
    # changing a guest needs VM.Config.*: refused, config unchanged
    changed = run_module('proxmox_lxc', dict(conn, vmid=500, cores=4))
    assert_clean_failure(changed, 'Permission check failed')
    assert fakepve.ct(500).config['cores'] == 1
    # power needs VM.PowerMgmt
    assert_clean_failure(run_module('proxmox_lxc', dict(conn, vmid=500, state='started')), 'Permission check failed')
    assert fakepve.ct(500).status == 'stopped'


def test_token_with_the_documented_rights_works(run_module, fakepve, fakepve_cafile, seed_template):
    """The privileges docs/security.md lists for proxmox_lxc are enough to create and start a container."""
    template = seed_template()
    user = 'builder@pve'
    fakepve.users[user] = secrets.token_hex(8)
    fakepve.grant(user, '/', 'Sys.Audit')
    fakepve.grant(user, '/vms', 'VM.Allocate', 'VM.Audit', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Disk',
                  'VM.Config.Network', 'VM.Config.Options', 'VM.PowerMgmt')
    fakepve.grant(user, '/storage', 'Datastore.AllocateSpace', 'Datastore.Audit')
    fakepve.grant(user, '/sdn/zones', 'SDN.Use')
    fakepve.grant(user, '/nodes', 'Sys.Audit')
    conn = dict(_token(fakepve, user), ca_path=fakepve_cafile)
    made = run_module('proxmox_lxc', dict(conn, hostname='allowed', ostemplate=template, storage='local-lvm',
                                          networks=[{'bridge': 'vmbr0', 'ip': 'dhcp'}], state='started'))
    assert made['changed'] is True and not made.get('failed'), made
    assert fakepve.ct(made['vmid']).status == 'running'
