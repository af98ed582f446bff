"""Issue #18: the moodle_stack role's Docker target keeps the site serving through every run.

A stand-in Moodle tree (tests/integration/roles/files/moodle-standin: the CLI scripts the role calls,
answering like Moodle's, against the stack's real MariaDB) is deployed as three releases A < B < C:

1. install release A; the page names A; a re-run changes nothing;
2. a run without a source keeps what is deployed: no change, the web and cron containers are the same
   ones, the site still serves A and the summary names it; a run with A again changes nothing either;
3. the code is taken out of the running web container (the state the issue found), then release B is
   deployed: maintenance mode and upgrade.php run from the new code in one-off containers, the site
   serves B and the database holds B's version;
4. release C's upgrade dies half-way (an intermediate version and a new table written): the run fails
   saying so, the database is restored, maintenance mode is off, the same web container serves B, and
   no one-off container is left.
"""

import socket

import pytest
import requests

PLAYBOOK = "tests/integration/roles/moodle_stack_docker.yml"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _page(port):
    response = requests.get("http://127.0.0.1:%d/" % port, timeout=10)
    return response.status_code, response.text


def _db_query(docker_client, name, sql):
    result = docker_client.containers.get(name + "-db").exec_run(["mariadb", "-N", "-B", "-e", sql])
    assert result.exit_code == 0, result.output
    return result.output.decode().strip()


def _summary(result):
    [task] = [t for t in result["tasks"] if t["task"]["name"] == "The summary"]
    return task["hosts"]["localhost"]["msg"]


@pytest.fixture
def stack(run_playbook, docker_client, unique_name, tmp_path):
    port = _free_port()
    base = {"moodle_stack_target": "docker", "moodle_stack_name": unique_name,
            "moodle_stack_docker_http_port": port, "moodle_stack_docker_build_root": str(tmp_path / "build"),
            "moodle_stack_secrets_dir": str(tmp_path / "secrets"), "moodle_stack_admin_email": "admin@example.org"}

    def run(src=None, **extra):
        return run_playbook(PLAYBOOK, dict(base, moodle_stack_src=src or "", **extra))

    yield {"run": run, "port": port, "name": unique_name}
    # "true" as a string, as `-e moodle_stack_docker_remove_volumes=true` (the documented command) gives it
    removed = run_playbook(PLAYBOOK, dict(base, moodle_stack_state="absent", moodle_stack_docker_remove_volumes="true"))
    assert removed["rc"] == 0, removed["stdout"][-3000:]
    ours = {"label": "io.virtlab.moodle-stack=" + unique_name}
    assert docker_client.containers.list(all=True, filters=ours) == []
    assert docker_client.volumes.list(filters=ours) == []


def test_site_keeps_serving_without_source_through_upgrade_and_failed_upgrade(
        stack, docker_client, moodle_release, moodle_db_version):
    run, port, name = stack["run"], stack["port"], stack["name"]
    release_a = moodle_release("A")

    # 1. install A, then a re-run changes nothing
    first = run(release_a)
    assert first["rc"] == 0, first["stdout"][-4000:]
    status, text = _page(port)
    assert status == 200 and "4.5 release A" in text and "database version: " + moodle_db_version["A"] in text, text
    assert "release 4.5 release A installed" in _summary(first)[1]
    again = run(release_a)
    assert again["rc"] == 0 and again["stats"]["changed"] == 0, again["stdout"][-4000:]

    web = docker_client.containers.get(name + "-web")
    cron = docker_client.containers.get(name + "-cron")

    # 2. no source: what is deployed stays, and is reported
    kept = run()
    assert kept["rc"] == 0, kept["stdout"][-4000:]
    assert kept["stats"]["changed"] == 0, [t["task"]["name"] for t in kept["tasks"]
                                           if t["hosts"].get("localhost", {}).get("changed")]
    assert docker_client.containers.get(name + "-web").id == web.id
    assert docker_client.containers.get(name + "-cron").id == cron.id
    status, text = _page(port)
    assert status == 200 and "4.5 release A" in text, text
    assert requests.get("http://127.0.0.1:%d/login/index.php" % port, timeout=10).status_code == 200
    assert "the deployed release stays: 4.5 release A" in _summary(kept)[1], _summary(kept)
    # ... and the source again afterwards changes nothing either
    back = run(release_a)
    assert back["rc"] == 0 and back["stats"]["changed"] == 0, back["stdout"][-4000:]

    # 3. the running container loses its code (as the issue found it); the upgrade to B runs from the new code
    assert web.exec_run(["rm", "-rf", "/var/www/moodle/admin"]).exit_code == 0
    upgraded = run(moodle_release("B"))
    assert upgraded["rc"] == 0, upgraded["stdout"][-4000:]
    status, text = _page(port)
    assert status == 200 and "4.5 release B" in text and "database version: " + moodle_db_version["B"] in text, text
    assert "upgraded from database version " + moodle_db_version["A"] in _summary(upgraded)[1], _summary(upgraded)
    web_b = docker_client.containers.get(name + "-web")
    assert web_b.id != web.id
    assert web_b.exec_run(["test", "-e", "/var/lib/moodledata/climaintenance.html"]).exit_code == 1

    # 4. C's upgrade dies half-way: the run fails, the database is restored, B keeps serving
    failed = run(moodle_release("C", fail_halfway=True))
    assert failed["rc"] != 0
    assert "The upgrade of Moodle to 4.5 release C failed" in failed["stdout"], failed["stdout"][-4000:]
    assert "database was restored" in failed["stdout"]
    assert docker_client.containers.get(name + "-web").id == web_b.id
    status, text = _page(port)
    assert status == 200 and "4.5 release B" in text and "database version: " + moodle_db_version["B"] in text, text
    assert _db_query(docker_client, name, "SHOW TABLES FROM moodle LIKE 'mdl_upgrade_partial'") == ""
    assert _db_query(docker_client, name, "SELECT value FROM moodle.mdl_config WHERE name = 'version'") == moodle_db_version["B"]
    assert web_b.exec_run(["test", "-e", "/var/lib/moodledata/climaintenance.html"]).exit_code == 1
    leftovers = [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(name + "-upgrade")]
    assert leftovers == []
