"""The moodle_stack role's proxmox target against fakepve, up to the creation of the containers.

What fakepve cannot show, and is therefore not tested here: writing /etc/inithooks.conf into the stopped
TurnKey container happens from the node's shell (pct mount), which a fake API has no equivalent of, and
TurnKey's first boot itself. The test checks the answers file the role renders for that step, and that
the container stays stopped (never started before the preseed).
"""

import importlib.util
import stat
from pathlib import Path

# The Proxmox fixtures (token, connection options, template seeding) live beside the module tests; load
# them from there rather than repeating them.
_SPEC = importlib.util.spec_from_file_location(
    "vlt_proxmox_fixtures", Path(__file__).resolve().parent.parent / "proxmox" / "conftest.py")
_FIXTURES = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_FIXTURES)
pve_token = _FIXTURES.pve_token
pve = _FIXTURES.pve
seed_template = _FIXTURES.seed_template

PLAYBOOK = "tests/integration/roles/moodle_stack_proxmox.yml"
TURNKEY = "debian-12-turnkey-moodle_18.0-1_amd64.tar.gz"


def _writes(fakepve):
    return [r for r in fakepve.requests if r[0] != "GET"]


def _create_body(fakepve, hostname):
    bodies = [r[2].decode() for r in fakepve.requests
              if r[0] == "POST" and r[1].endswith("/lxc") and ("hostname=" + hostname).encode() in r[2]]
    assert len(bodies) == 1, bodies
    return bodies[0]


def _debug_msg(result):
    task = [t for t in result["tasks"] if t["task"]["name"] == "The new hosts and their groups"][0]
    return task["hosts"]["localhost"]["msg"]


def _base(pve, unique_name, tmp_path, **extra):
    return dict({"vlt_pve": pve, "moodle_stack_target": "proxmox", "moodle_stack_name": unique_name,
                 "moodle_stack_secrets_dir": str(tmp_path / "secrets"), "moodle_stack_proxmox_node": "pve1",
                 "moodle_stack_proxmox_storage": "local-lvm", "moodle_stack_admin_email": "admin@example.org"},
                **extra)


def test_turnkey_created_stopped_with_preseed(run_playbook, fakepve, pve, unique_name, tmp_path):
    extra = _base(pve, unique_name, tmp_path, moodle_stack_proxmox_flavor="turnkey",
                  moodle_stack_proxmox_template_url="http://download.example.org/turnkey/" + TURNKEY,
                  moodle_stack_proxmox_ip={"web": "192.0.2.50/24"}, moodle_stack_proxmox_gateway="192.0.2.1",
                  moodle_stack_proxmox_domain="moodle.example.org", moodle_stack_proxmox_vlan=20)
    first = run_playbook(PLAYBOOK, extra)
    assert first["rc"] == 0, first["stdout"][-3000:]

    # the template came through download-url onto `local`, the container from it on local-lvm
    downloads = [r for r in fakepve.requests if r[0] == "POST" and r[1].endswith("/storage/local/download-url")]
    assert len(downloads) == 1 and TURNKEY.encode() in downloads[0][2], downloads
    body = _create_body(fakepve, unique_name)
    assert "ostemplate=local%3Avztmpl%2F" + TURNKEY in body, body
    assert "unprivileged=1" in body and "password=***" in body, body
    [ct] = [c for c in fakepve.cts if c.name == unique_name]
    assert ct.node == "pve1"
    assert ct.status == "stopped"          # not started before its first boot is preseeded
    assert ct.config["rootfs"].startswith("local-lvm:") and "size=16G" in ct.config["rootfs"]
    net0 = ct.config["net0"]
    for part in ("name=eth0", "bridge=vmbr0", "ip=192.0.2.50/24", "gw=192.0.2.1", "firewall=1", "tag=20"):
        assert part in net0, net0
    assert ct.config["cores"] == 2 and ct.config["memory"] == 2048 and ct.config["swap"] == 512
    assert "nesting=1" in ct.config["features"]

    secrets = tmp_path / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    values = {}
    for name in ("db_password", "admin_password", "root_password", "db_root_password"):
        path = secrets / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        values[name] = path.read_text().strip()
        assert len(values[name]) >= 24
        # never printed
        assert values[name] not in first["stdout"] + first["stderr"]
    answers = secrets / (unique_name + "-inithooks.conf")
    assert stat.S_IMODE(answers.stat().st_mode) == 0o600
    answers_text = answers.read_text()
    lines = set(answers_text.splitlines())
    for line in ("export ROOT_PASS=" + values["root_password"], "export DB_PASS=" + values["db_root_password"],
                 "export APP_PASS=" + values["admin_password"], "export APP_EMAIL=admin@example.org",
                 "export APP_DOMAIN=moodle.example.org", "export HUB_APIKEY=SKIP", "export SEC_UPDATES=SKIP"):
        assert line in lines, line
    assert "pct mount %d" % ct.vmid in first["stdout"]
    # not started, so not added to the inventory yet
    assert _debug_msg(first)["web"] == []

    writes = len(_writes(fakepve))
    second = run_playbook(PLAYBOOK, extra)
    assert second["rc"] == 0 and second["stats"]["changed"] == 0, second["stdout"][-3000:]
    assert len(_writes(fakepve)) == writes
    assert answers.read_text() == answers_text


def test_debian_two_containers_started_and_added(run_playbook, fakepve, pve, unique_name, tmp_path, seed_template):
    volid = seed_template()
    extra = _base(pve, unique_name, tmp_path, moodle_stack_proxmox_flavor="debian",
                  moodle_stack_proxmox_ostemplate=volid, moodle_stack_proxmox_split=True,
                  moodle_stack_proxmox_ip={"db": "192.0.2.61/24", "web": "192.0.2.62/24"},
                  moodle_stack_proxmox_gateway="192.0.2.1", moodle_stack_proxmox_nameservers=["192.0.2.53"],
                  moodle_stack_proxmox_ssh_public_keys=["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMoodleStackTestKey vlt"])
    first = run_playbook(PLAYBOOK, extra)
    assert first["rc"] == 0, first["stdout"][-3000:]
    cts = {c.name: c for c in fakepve.cts}
    assert set(cts) == {unique_name + "-db", unique_name + "-web"}
    for member, address in (("db", "192.0.2.61/24"), ("web", "192.0.2.62/24")):
        ct = cts[unique_name + "-" + member]
        assert ct.status == "running"
        assert "ip=" + address in ct.config["net0"] and "gw=192.0.2.1" in ct.config["net0"]
        assert ct.config["nameserver"] == "192.0.2.53"
        body = _create_body(fakepve, ct.name)
        assert "ostemplate=" + volid.replace(":", "%3A").replace("/", "%2F") in body
        assert "ssh-public-keys=" in body and "password=***" in body
    root_password = (tmp_path / "secrets" / "root_password").read_text().strip()
    assert root_password not in first["stdout"] + first["stderr"]

    added = _debug_msg(first)
    assert added["db"] == [unique_name + "-db"] and added["web"] == [unique_name + "-web"]
    assert added["addresses"] == ["192.0.2.61", "192.0.2.62"]
    assert added["db_hosts"] == [unique_name + "-db"] * 2

    writes = len(_writes(fakepve))
    second = run_playbook(PLAYBOOK, extra)
    assert second["rc"] == 0 and second["stats"]["changed"] == 0, second["stdout"][-3000:]
    assert len(_writes(fakepve)) == writes
    assert Path(tmp_path / "secrets" / "root_password").read_text().strip() == root_password
