"""The devtest report when a platform cannot measure real disk usage (a storage reporting no used bytes)."""

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import build_report, report_table


def _clone(name, added):
    return {"name": name, "user": name, "version": "1", "split": False, "logical_size": 8 << 30, "added_bytes": added}


def test_unknown_usage_gives_unknown_savings_not_guesses():
    versions = {"1": {"version": "1", "allocated": None, "logical_size": 8 << 30}}
    report = build_report([_clone("a", None), _clone("b", None)], versions, [], {"allocated": None})
    assert report["savings_known"] is False
    for key in ("shared_bytes", "added_bytes", "clone_bytes", "full_copy_bytes", "saved_bytes", "saved_percent",
                "clone_percent"):
        assert report[key] is None, key
    assert report["logical_bytes"] == 2 * (8 << 30)
    table = report_table(report, "qa", "1")
    assert "savings unknown" in table and "saved" not in table.split("savings unknown", maxsplit=1)[0].splitlines()[-1]


def test_one_unmeasured_clone_makes_the_totals_unknown():
    versions = {"1": {"version": "1", "allocated": 1000, "logical_size": 1000}}
    report = build_report([_clone("a", 10), _clone("b", None)], versions, [], {"allocated": 1000})
    assert report["savings_known"] is False and report["saved_bytes"] is None


def test_measured_usage_keeps_the_figures():
    versions = {"1": {"version": "1", "allocated": 1000, "logical_size": 1000}}
    report = build_report([_clone("a", 10), _clone("b", 0)], versions, [], {"allocated": 1000})
    assert report["savings_known"] is True
    assert (report["full_copy_bytes"], report["clone_bytes"], report["saved_bytes"]) == (2000, 1010, 990)
    assert "saved" in report_table(report, "qa", "1")
