"""Issue #18, hosts target: the same rules as on Docker, on a real Debian host (a systemd container made here).

The stand-in Moodle tree (see test_moodle_stack_docker.py) as three releases A < B < C on one host with
MariaDB and Apache: install A; a run without a source leaves the code directory exactly as it is and says
which release stays; B is upgraded from the staged code (the deployed tree's CLI scripts are taken away
first, so the upgrade cannot lean on them); C's upgrade dies half-way: the run fails saying so, the database
is restored, maintenance mode is off and the deployed code is still B's.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

PLAYBOOK = "tests/integration/roles/moodle_stack_hosts.yml"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def host(docker_client, unique_name):
    container = docker_client.containers.run(
        "virtlab/debian-systemd:bookworm", ["/lib/systemd/systemd"], name=unique_name, detach=True,
        cgroupns="host", volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
        tmpfs={"/run": "", "/run/lock": "", "/tmp": ""}, labels={"io.virtlab.test": unique_name})
    try:
        deadline = time.monotonic() + 60
        while container.exec_run(["systemctl", "is-system-running"]).output.decode().strip() not in (
                "running", "degraded"):
            assert time.monotonic() < deadline, "systemd did not start in the test host"
            time.sleep(1)
        yield container
    finally:
        container.remove(force=True)


def _play(host, tmp_path, src=None):
    # the connection is the host's own (in the inventory): tasks delegated to localhost stay local
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n"
                         % host.name)
    extra = {"moodle_stack_target": "hosts", "moodle_stack_src": src or "",
             "moodle_stack_secrets_dir": str(tmp_path / "secrets"), "moodle_stack_admin_email": "admin@example.org"}
    completed = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "-e", json.dumps(extra), PLAYBOOK], capture_output=True,
        text=True, cwd=ROOT, check=False,
        env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1"))
    report = json.loads(completed.stdout[completed.stdout.index("{"):])
    tasks = [t for play in report["plays"] for t in play["tasks"]]
    return {"rc": completed.returncode, "stats": report["stats"].get(host.name, {}), "tasks": tasks,
            "stdout": completed.stdout}


def _get(host, path):
    """(status, body) of http://localhost<path> asked from inside the host."""
    script = ("import urllib.request, urllib.error\ntry:\n r = urllib.request.urlopen('http://localhost%s')\n"
              " print(r.status); print(r.read().decode())\nexcept urllib.error.HTTPError as e:\n"
              " print(e.code); print(e.read().decode())\n" % path)
    result = host.exec_run(["python3", "-c", script])
    assert result.exit_code == 0, result.output
    status, _newline, body = result.output.decode().partition("\n")
    return int(status), body


def _sql(host, query):
    result = host.exec_run(["mariadb", "-N", "-B", "-e", query])
    assert result.exit_code == 0, result.output
    return result.output.decode().strip()


def _code_tree(host):
    """Every file of the deployed code with its checksum (config.php too)."""
    result = host.exec_run(["sh", "-c", "cd /var/www/moodle && find . -type f -exec sha256sum {} + | sort"])
    assert result.exit_code == 0, result.output
    return result.output.decode()


def _messages(result):
    return [h.get("msg") for t in result["tasks"] for h in t["hosts"].values() if h.get("msg")]


def test_hosts_site_keeps_serving(host, tmp_path, moodle_release, moodle_db_version):
    first = _play(host, tmp_path, moodle_release("A"))
    assert first["rc"] == 0, first["stdout"][-4000:]
    status, text = _get(host, "/")
    assert status == 200 and "4.5 release A" in text and "database version: " + moodle_db_version["A"] in text, text

    # no source: the code directory stays byte for byte, the run says which release stays
    tree = _code_tree(host)
    kept = _play(host, tmp_path)
    assert kept["rc"] == 0, kept["stdout"][-4000:]
    assert kept["stats"]["changed"] == 0, [t["task"]["name"] for t in kept["tasks"]
                                           if t["hosts"].get(host.name, {}).get("changed")]
    assert _code_tree(host) == tree
    assert any("The deployed release stays: 4.5 release A" in str(m) for m in _messages(kept)), _messages(kept)
    assert _get(host, "/")[0] == 200

    # B: upgraded from the staged code; the deployed tree's CLI scripts are gone beforehand
    assert host.exec_run(["rm", "-rf", "/var/www/moodle/admin"]).exit_code == 0
    upgraded = _play(host, tmp_path, moodle_release("B"))
    assert upgraded["rc"] == 0, upgraded["stdout"][-4000:]
    status, text = _get(host, "/")
    assert status == 200 and "4.5 release B" in text and "database version: " + moodle_db_version["B"] in text, text
    assert host.exec_run(["test", "-e", "/var/lib/moodledata/climaintenance.html"]).exit_code == 1
    assert host.exec_run(["stat", "-c", "%a", "/var/cache/virtlab-moodle/pre-upgrade.sql"]).output.strip() == b"600"

    # C dies half-way: failed run, database restored, maintenance off, B's code still deployed and serving
    tree_b = _code_tree(host)
    failed = _play(host, tmp_path, moodle_release("C", fail_halfway=True))
    assert failed["rc"] != 0
    assert "The upgrade of Moodle to 2024100900.00 failed" in failed["stdout"], failed["stdout"][-4000:]
    assert _code_tree(host) == tree_b
    status, text = _get(host, "/")
    assert status == 200 and "4.5 release B" in text and "database version: " + moodle_db_version["B"] in text, text
    assert _sql(host, "SHOW TABLES FROM moodle LIKE 'mdl_upgrade_partial'") == ""
    assert host.exec_run(["test", "-e", "/var/lib/moodledata/climaintenance.html"]).exit_code == 1
