"""The devtest_clones role on the real libvirtd: check mode makes nothing, converge, idempotence, the report
returned as a fact (JSON) and printed as a table, teardown leaves the golden."""

import xml.etree.ElementTree as ET

import pytest

PLAYBOOK = "tests/integration/roles/devtest_clones.yml"


def _volumes(pool, prefix):
    pool.refresh(0)
    return sorted(v for v in pool.listVolumes() if v.startswith(prefix))


def _remove(pool, prefix):
    """Overlays before their backing files."""
    for _round in range(5):
        pool.refresh(0)
        mine = [pool.storageVolLookupByName(n) for n in pool.listVolumes() if n.startswith(prefix)]
        backings = {ET.fromstring(v.XMLDesc(0)).findtext("backingStore/path") for v in mine}
        for vol in mine:
            if vol.path() not in backings:
                vol.delete(0)


@pytest.fixture
def golden_volume(run_module, storage_pool, unique_name):
    name = unique_name + "-golden.qcow2"
    made = run_module("libvirt_volume", {"name": name, "pool": storage_pool.name(), "capacity": "8M"})
    assert made["changed"] is True, made
    try:
        yield name
    finally:
        _remove(storage_pool, unique_name)
        assert _volumes(storage_pool, unique_name) == []


def _report(result):
    for task in result["tasks"]:
        host = task["hosts"].get("localhost", {})
        if "devtest_clones_report" in host:
            return host["devtest_clones_report"]
    raise AssertionError("no devtest_clones_report in the play's output")


def test_role_converges_idempotently_and_reports(run_playbook, storage_pool, golden_volume, unique_name, tmp_path):
    extra = {
        "devtest_clones_platform": "libvirt",
        "devtest_clones_set_name": "roletest",
        "devtest_clones_golden_version": "r1",
        "devtest_clones_address_pool": "10.88.0.0/29",
        "devtest_clones_libvirt": {"pool": storage_pool.name(), "golden": golden_volume,
                                   "ledger_dir": str(tmp_path / "ledger")},
        "devtest_clones_clones": [{"user": "ann"}, {"user": "ben", "refresh": False}, {"user": "cy"}],
    }
    stem = golden_volume[:-len(".qcow2")]
    clones = ["{0}-roletest-{1}.qcow2".format(stem, u) for u in ("ann", "ben", "cy")]

    planned = run_playbook(PLAYBOOK, extra, check=True)
    assert planned["rc"] == 0, planned["stdout"] + planned["stderr"]
    assert planned["stats"]["changed"] >= 1
    assert _report(planned)["clone_count"] == 3
    assert _volumes(storage_pool, unique_name) == [golden_volume], "check mode made volumes"

    made = run_playbook(PLAYBOOK, extra)
    assert made["rc"] == 0, made["stdout"] + made["stderr"]
    assert made["stats"]["changed"] >= 1
    report = _report(made)
    assert report["changed"] is True and report["clone_count"] == 3
    assert sorted(c["name"] for c in report["clones_detail"]) == clones
    assert {c["address"] for c in report["clones_detail"]} == {"10.88.0.1", "10.88.0.2", "10.88.0.3"}
    assert report["full_copy_bytes"] == 3 * report["shared_bytes"]
    assert report["saved_bytes"] == report["full_copy_bytes"] - report["clone_bytes"]
    assert "saved" in report["table"] and clones[0] in report["table"]
    assert _volumes(storage_pool, unique_name) == sorted(clones + [golden_volume, stem + "-roletest--r1.qcow2"])

    again = run_playbook(PLAYBOOK, extra)
    assert again["rc"] == 0 and again["stats"]["changed"] == 0, again["stdout"]
    assert _report(again)["changed"] is False

    gone = run_playbook(PLAYBOOK, dict(extra, devtest_clones_action="teardown"))
    assert gone["rc"] == 0 and gone["stats"]["changed"] >= 1, gone["stdout"] + gone["stderr"]
    assert _volumes(storage_pool, unique_name) == [golden_volume]


def test_role_rejects_missing_platform_settings(run_playbook, tmp_path):
    result = run_playbook(PLAYBOOK, {"devtest_clones_platform": "docker"})
    assert result["rc"] != 0
    assert "devtest_clones_docker" in result["stdout"], result["stdout"]


def _module_result(result):
    for task in result["tasks"]:
        host = task["hosts"].get("localhost", {})
        if "Clone set of a golden" in task["task"]["name"]:
            return host
    raise AssertionError("the platform module never ran:\n" + result["stdout"])


def test_role_hands_docker_settings_to_the_docker_module(run_playbook, unique_name):
    """The role's docker dispatch reaches docker_devtest_clones with options it accepts (its own error about
    the missing golden volume, not Ansible's 'Unsupported parameters')."""
    result = run_playbook(PLAYBOOK, {
        "devtest_clones_platform": "docker",
        "devtest_clones_set_name": "roletest",
        "devtest_clones_docker": {"image": "virtlab/debian:bookworm", "golden_volume": unique_name + "-missing",
                                  "mount_path": "/data", "start": False},
        "devtest_clones_clones": [{"user": "ann"}],
    }, check=True)
    host = _module_result(result)
    assert host.get("failed") is True
    assert "Unsupported parameters" not in host["msg"] and "golden_volume" in host["msg"], host["msg"]


def test_role_hands_proxmox_settings_to_the_proxmox_module(run_playbook):
    """The proxmox dispatch reaches proxmox_devtest_clones, which fails on the unreachable API (port 9)."""
    result = run_playbook(PLAYBOOK, {
        "devtest_clones_platform": "proxmox",
        "devtest_clones_set_name": "roletest",
        "devtest_clones_proxmox": {"api_host": "127.0.0.1", "api_port": 9, "api_user": "root@pam",
                                   "api_password": "secret", "validate_certs": False, "golden": "9000",
                                   "storage": "local", "bridge": "vmbr0", "start": False},
        "devtest_clones_clones": [{"user": "ann"}],
    }, check=True)
    host = _module_result(result)
    assert host.get("failed") is True
    assert "Unsupported parameters" not in host["msg"], host["msg"]
    assert "secret" not in result["stdout"].replace("api_token_secret", ""), "the password leaked"
