"""The main job on the embedded local inventory runs, and a second run changes nothing."""

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
