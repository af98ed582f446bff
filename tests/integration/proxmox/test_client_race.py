"""The client's vmid allocation against fakepve over HTTPS, with the race made deterministic: the first
candidate id is taken by "another client" (the fake's Python API) between our /cluster/nextid and our create."""

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import BackendError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import ProxmoxClient


def test_lost_race_takes_the_next_id_and_never_returns_the_other_guest(fakepve, pve, seed_template):
    template = seed_template()
    client = ProxmoxClient.from_params(dict(pve, validate_certs=True, api_timeout=10, task_timeout=60,
                                            lock_timeout=10))
    attempts = []

    def create(vmid):
        attempts.append(vmid)
        if len(attempts) == 1:
            fakepve.add_ct(vmid, 'someone-else')      # the other client wins this id
        upid = client.post('nodes/pve1/lxc', vmid=vmid, hostname='mine', ostemplate=template, storage='local-lvm')
        client.wait_task(upid)

    vmid = client.create_with_vmid(None, create)
    assert attempts == [100, 101] and vmid == 101
    assert fakepve.ct(101).name == 'mine' and fakepve.ct(100).name == 'someone-else'


def test_given_vmid_that_exists_is_an_error_not_a_new_id(fakepve, pve, seed_template):
    template = seed_template()
    fakepve.add_ct(150, 'taken')
    client = ProxmoxClient.from_params(dict(pve, validate_certs=True, api_timeout=10, task_timeout=60,
                                            lock_timeout=10))
    try:
        client.create_with_vmid(150, lambda vmid: client.wait_task(client.post(
            'nodes/pve1/lxc', vmid=vmid, hostname='mine', ostemplate=template, storage='local-lvm')))
    except BackendError as error:
        assert error.status == 500
    else:
        raise AssertionError('creating over an existing id must fail')
    assert [c.name for c in fakepve.cts] == ['taken']


def test_password_login_is_renewed_when_the_ticket_is_gone(fakepve, pve_password):
    client = ProxmoxClient.from_params(dict(pve_password, validate_certs=True, api_timeout=10, task_timeout=60,
                                            lock_timeout=10))
    assert client.get('version')['version'] == fakepve.version
    fakepve.revoke_tickets()
    assert client.get('version')['version'] == fakepve.version
    logins = [r for r in fakepve.requests if r[1].endswith('/access/ticket')]
    assert len(logins) == 2


def test_a_refused_password_is_not_retried_forever(fakepve, pve_password):
    from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import AuthenticationError
    client = ProxmoxClient.from_params(dict(pve_password, api_password='wrong', validate_certs=True,
                                            api_timeout=10, task_timeout=60, lock_timeout=10))
    try:
        client.get('version')
    except AuthenticationError:
        pass
    else:
        raise AssertionError('a wrong password must fail')
    assert len([r for r in fakepve.requests if r[1].endswith('/access/ticket')]) == 1
