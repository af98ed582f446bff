"""The main job on the embedded local inventory runs, and a second run changes nothing."""

import os

import requests


def test_site_is_idempotent_and_serves(run_playbook):
    first = run_playbook("playbooks/site.yml", inventory="inventories/local")
    assert first["rc"] == 0, first["stdout"][-3000:]
    second = run_playbook("playbooks/site.yml", inventory="inventories/local")
    assert second["rc"] == 0
    assert second["stats"]["changed"] == 0, [
        task["task"]["name"] for task in second["tasks"] if task["hosts"].get("localhost", {}).get("changed")]
    summary = [task for task in second["tasks"] if task["task"]["name"] == "Show what runs where"][0]
    lines = summary["hosts"]["localhost"]["msg"]
    urls = [line.split(" ", 1)[1] for line in lines if line.startswith("httpd: ")]
    assert urls, lines
    for url in urls:
        assert requests.get(url, timeout=5).status_code == 200
    # the dev/test clone set on libvirt: its line and its table, one row per demo user
    assert any(line.startswith('devtest set demo: 3 clones') for line in lines), lines
    rows = [line for line in lines if line.startswith('virtlab-demo-')]
    assert sorted(row.split()[1] for row in rows) == ['alice', 'bob', 'carol'], lines
    # no cluster configured on the local inventory: the Proxmox part says it was skipped
    assert any(line.startswith('proxmox: skipped') for line in lines), lines
    # Moodle on Docker: the web answers; without Moodle's code the summary says the app step was skipped
    moodle = [line for line in lines if line.startswith('moodle: http://')]
    assert len(moodle) == 1, lines
    assert requests.get(moodle[0].split()[1], timeout=10).status_code < 500
    if not os.environ.get('MOODLE_SRC'):
        assert any(line.startswith('moodle: application step skipped') for line in lines), lines
