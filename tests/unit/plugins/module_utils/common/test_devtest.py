# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platform-neutral dev/test clone engine, against an in-memory backend (pure logic)."""

from __future__ import annotations

import copy
import datetime
from typing import Any, Optional

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import (
    CloneBackend,
    DevtestService,
    build_report,
    derive_stem,
    human_bytes,
    parse_duration,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

MIB = 1024 * 1024
NOW = datetime.datetime(2026, 11, 22, 8, 0, 0, tzinfo=datetime.timezone.utc)


class MemoryBackend(CloneBackend):
    """Clones and versions as dicts; ``foreign_names`` are objects of other owners."""

    name_suffix = ".qcow2"

    def __init__(self) -> None:
        self.golden_data = 20 * MIB
        self.versions: list[dict[str, Any]] = []
        self.clones: dict[str, dict[str, Any]] = {}
        self.foreign_names: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.finished = 0

    def golden(self) -> dict[str, Any]:
        return {"name": "golden-db.qcow2", "logical_size": 100 * MIB, "allocated": self.golden_data}

    def list_versions(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.versions)

    def list_clones(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.clones.values()))

    def foreign(self, name: str) -> Optional[str]:
        return self.foreign_names.get(name)

    def freeze_version(self, label: str) -> dict[str, Any]:
        self.calls.append(("freeze", label))
        version = {"version": label, "created": "2026-11-22T08:00:00Z", "logical_size": 100 * MIB,
                   "allocated": self.golden_data}
        self.versions.append(version)
        return dict(version)

    def delete_version(self, version: dict[str, Any]) -> None:
        self.calls.append(("delete_version", version["version"]))
        assert not any(c["version"] == version["version"] and not c["split"] for c in self.clones.values())
        self.versions = [v for v in self.versions if v["version"] != version["version"]]

    def create_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", clone["name"]))
        record = dict(clone, logical_size=version["logical_size"], added_bytes=196 * 1024)
        self.clones[clone["name"]] = record
        return dict(record)

    def delete_clone(self, clone: dict[str, Any]) -> None:
        self.calls.append(("delete", clone["name"]))
        del self.clones[clone["name"]]

    def split_clone(self, clone: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("split", clone["name"]))
        record = self.clones[clone["name"]]
        record.update(split=True, added_bytes=self.golden_data)
        return dict(record)

    def update_clone(self, clone: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("update", clone["name"]))
        self.clones[clone["name"]].update(changes)
        return dict(self.clones[clone["name"]])

    def finish(self) -> None:
        self.finished += 1


def params(**overrides: Any) -> dict[str, Any]:
    base = {"set_name": "qa", "golden_version": "v1", "action": "present", "targets": [],
            "address_pool": None, "default_lifetime": None,
            "clones": [{"user": u} for u in ("alice", "bob", "carol")]}
    base.update(overrides)
    return base


def run(backend: MemoryBackend, check_mode: bool = False, now: datetime.datetime = NOW, **overrides: Any):
    return DevtestService(backend, params(**overrides), check_mode=check_mode, now=lambda: now).run()


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


def test_create_is_idempotent_with_derived_names(backend):
    first = run(backend)
    assert first["changed"]
    assert sorted(backend.clones) == ["golden-db-qa-alice.qcow2", "golden-db-qa-bob.qcow2", "golden-db-qa-carol.qcow2"]
    assert [c["action"] for c in first["clones"]] == ["created"] * 3
    assert backend.calls[0] == ("freeze", "v1")
    calls = len(backend.calls)
    second = run(backend)
    assert not second["changed"]
    assert [c["action"] for c in second["clones"]] == ["kept"] * 3
    assert len(backend.calls) == calls
    assert second["diff"]["before"] == second["diff"]["after"]


def test_check_mode_changes_nothing(backend):
    result = run(backend, check_mode=True)
    assert result["changed"]
    assert not backend.clones and not backend.versions and not backend.calls
    assert len(result["diff"]["after"]["clones"]) == 3
    assert result["report"]["clone_count"] == 3


def test_report_counts_shared_version_once(backend):
    result = run(backend)
    report = result["report"]
    assert report["full_copy_bytes"] == 3 * 20 * MIB
    assert report["shared_bytes"] == 20 * MIB
    assert report["added_bytes"] == 3 * 196 * 1024
    assert report["saved_bytes"] == report["full_copy_bytes"] - report["clone_bytes"]
    assert 60 < report["saved_percent"] < 67
    assert "saved" in result["report_table"] and "golden-db-qa-bob.qcow2" in result["report_table"]


def test_refresh_replaces_older_clones_except_opt_out(backend):
    run(backend)
    clones = [{"user": "alice"}, {"user": "bob", "refresh": False}, {"user": "carol"}]
    present = run(backend, golden_version="v2", clones=clones)
    # present with a new label freezes it but replaces nothing
    assert {c["version"] for c in backend.clones.values()} == {"v1"}
    assert [v["version"] for v in backend.versions] == ["v1", "v2"]
    assert present["changed"]
    result = run(backend, golden_version="v2", action="refresh", clones=clones)
    actions = {c["user"]: c["action"] for c in result["clones"]}
    assert actions == {"alice": "refreshed", "bob": "kept", "carol": "refreshed"}
    assert backend.clones["golden-db-qa-bob.qcow2"]["version"] == "v1"
    assert backend.clones["golden-db-qa-alice.qcow2"]["version"] == "v2"
    # v1 is still used by bob: kept
    assert [v["version"] for v in backend.versions] == ["v1", "v2"]
    assert not run(backend, golden_version="v2", action="refresh", clones=clones)["changed"]
    # once bob opts in, v1 is refreshed away and pruned
    result = run(backend, golden_version="v2", action="refresh")
    assert [v["version"] for v in backend.versions] == ["v2"]
    assert ("delete_version", "v1") in backend.calls


def test_refresh_never_downgrades(backend):
    clones = [{"user": "alice"}, {"user": "bob", "refresh": False}]
    run(backend, clones=clones)
    run(backend, golden_version="v2", action="refresh", clones=clones)
    # v1 still exists (bob uses it): going back to its label does not move alice back
    result = run(backend, golden_version="v1", action="refresh", clones=clones)
    assert not result["changed"]
    assert backend.clones["golden-db-qa-alice.qcow2"]["version"] == "v2"


def test_reset_recreates_from_own_version(backend):
    run(backend)
    run(backend, golden_version="v2", clones=[{"user": "alice"}, {"user": "bob"}, {"user": "carol"}])
    result = run(backend, golden_version="v2", action="reset", targets=["bob"])
    assert {c["user"]: c["action"] for c in result["clones"]} == {"alice": "kept", "bob": "reset", "carol": "kept"}
    assert backend.clones["golden-db-qa-bob.qcow2"]["version"] == "v1"
    assert ("delete", "golden-db-qa-bob.qcow2") in backend.calls


def test_reset_and_split_need_targets(backend):
    for action in ("reset", "split"):
        with pytest.raises(ValidationError) as err:
            run(backend, action=action)
        assert err.value.option == "targets"
    with pytest.raises(ValidationError) as err:
        run(backend, action="reset", targets=["mallory"])
    assert "mallory" in str(err.value)


def test_split_then_refresh_leaves_split_clone(backend):
    run(backend)
    result = run(backend, action="split", targets=["carol"])
    assert result["changed"]
    assert backend.clones["golden-db-qa-carol.qcow2"]["split"] is True
    assert not run(backend, action="split", targets=["carol"])["changed"]
    run(backend, golden_version="v2", action="refresh")
    assert backend.clones["golden-db-qa-carol.qcow2"]["version"] == "v1"
    assert backend.clones["golden-db-qa-alice.qcow2"]["version"] == "v2"
    # v1 is only used by a split clone now: pruned
    assert [v["version"] for v in backend.versions] == ["v2"]


def test_teardown_targets_then_all(backend):
    run(backend)
    result = run(backend, action="teardown", targets=["alice"])
    assert sorted(backend.clones) == ["golden-db-qa-bob.qcow2", "golden-db-qa-carol.qcow2"]
    assert [v["version"] for v in backend.versions] == ["v1"]
    assert {c["action"] for c in result["clones"]} == {"removed", "kept"}
    run(backend, action="teardown")
    assert not backend.clones and not backend.versions
    assert not run(backend, action="teardown")["changed"]


def test_teardown_check_mode(backend):
    run(backend)
    calls = len(backend.calls)
    result = run(backend, action="teardown", check_mode=True)
    assert result["changed"] and result["diff"]["after"]["clones"] == []
    assert len(backend.calls) == calls and len(backend.clones) == 3


def test_expire_removes_only_past_expiry(backend):
    clones = [{"user": "alice", "expires": "1d"}, {"user": "bob", "expires": "2026-12-31"}, {"user": "carol"}]
    run(backend, clones=clones, default_lifetime="7d")
    assert backend.clones["golden-db-qa-alice.qcow2"]["expires"] == "2026-11-23T08:00:00Z"
    assert backend.clones["golden-db-qa-bob.qcow2"]["expires"] == "2026-12-31T00:00:00Z"
    assert backend.clones["golden-db-qa-carol.qcow2"]["expires"] == "2026-11-29T08:00:00Z"
    later = NOW + datetime.timedelta(days=3)
    result = run(backend, clones=clones, action="expire", now=later)
    assert sorted(backend.clones) == ["golden-db-qa-bob.qcow2", "golden-db-qa-carol.qcow2"]
    assert [c["action"] for c in result["clones"] if c["action"] == "expired"] == ["expired"]
    # an absolute expiry changed in the list is updated in place
    clones[1]["expires"] = "2027-01-31"
    result = run(backend, clones=clones, now=later)
    assert backend.clones["golden-db-qa-bob.qcow2"]["expires"] == "2027-01-31T00:00:00Z"
    assert [c for c in result["clones"] if c["action"] == "updated"][0]["user"] == "bob"


def test_addresses_fixed_first_then_pool_stable(backend):
    clones = [{"user": "alice"}, {"user": "bob", "address": "10.9.0.1"}, {"user": "carol"}]
    run(backend, clones=clones, address_pool="10.9.0.0/29")
    got = {c["user"]: c["address"] for c in backend.clones.values()}
    assert got == {"alice": "10.9.0.2", "bob": "10.9.0.1", "carol": "10.9.0.3"}
    # a new user before alice does not move anybody
    clones.insert(0, {"user": "dave"})
    run(backend, clones=clones, address_pool="10.9.0.0/29")
    got = {c["user"]: c["address"] for c in backend.clones.values()}
    assert got == {"alice": "10.9.0.2", "bob": "10.9.0.1", "carol": "10.9.0.3", "dave": "10.9.0.4"}


def test_address_pool_exhaustion_names_option(backend):
    clones = [{"user": f"u{i}"} for i in range(3)]
    with pytest.raises(ValidationError) as err:
        run(backend, clones=clones, address_pool="10.9.0.0/30")
    assert err.value.option == "address_pool"
    assert not backend.calls


@pytest.mark.parametrize("overrides, option", [
    ({"address_pool": "10.9.0.0/33"}, "address_pool"),
    ({"clones": [{"user": "a", "address": "nope"}]}, "clones[0].address"),
    ({"clones": [{"user": "a", "address": "10.0.0.1"}, {"user": "b", "address": "10.0.0.1"}]},
     "clones[1].address"),
    ({"clones": [{"user": "a"}, {"user": "a"}]}, "clones[1].user"),
    ({"clones": [{"user": "a", "name": "x"}, {"user": "b", "name": "x"}]}, "clones[1].name"),
    ({"clones": [{"user": "a b"}]}, "clones[0].user"),
    ({"clones": [{"user": "a", "name": "../x"}]}, "clones[0].name"),
    ({"clones": [{"user": "a", "expires": "tomorrow"}]}, "clones[0].expires"),
    ({"default_lifetime": "2026-01-01"}, "default_lifetime"),
    ({"golden_version": "v 2"}, "golden_version"),
    ({"set_name": ""}, "set_name"),
])
def test_bad_input_names_the_option(backend, overrides, option):
    with pytest.raises(ValidationError) as err:
        run(backend, **overrides)
    assert err.value.option == option
    assert not backend.calls


def test_foreign_name_refused(backend):
    backend.foreign_names["golden-db-qa-bob.qcow2"] = "a volume not made for set qa"
    with pytest.raises(ValidationError) as err:
        run(backend)
    assert err.value.option == "clones[1].name"
    assert not backend.calls


def test_teardown_ignores_foreign_names_it_would_not_create(backend):
    run(backend)
    backend.foreign_names["golden-db-qa-dave.qcow2"] = "somebody's volume"
    clones = [{"user": u} for u in ("alice", "bob", "carol", "dave")]
    result = run(backend, clones=clones, action="teardown")
    assert result["changed"] and not backend.clones


def test_clone_of_other_user_refused(backend):
    run(backend, clones=[{"user": "alice", "name": "shared"}])
    with pytest.raises(ValidationError) as err:
        run(backend, clones=[{"user": "bob", "name": "shared"}])
    assert err.value.option == "clones[0].user"


def test_teardown_ignores_list_and_keeps_golden_version_of_other_runs(backend):
    run(backend)
    run(backend, clones=[])
    assert len(backend.clones) == 3   # present never removes unlisted clones
    run(backend, clones=[], action="teardown")
    assert not backend.clones


def test_helpers():
    assert derive_stem("golden-db.qcow2", ".qcow2") == "golden-db"
    assert derive_stem("registry:5000/app/db:15", "") == "db"
    assert human_bytes(1536) == "1.5 KiB" and human_bytes(10) == "10 B"
    assert parse_duration("2w", option="x") == datetime.timedelta(days=14)
    report = build_report([], {}, [], {"allocated": 5})
    assert report["saved_percent"] == 0.0 and report["clone_count"] == 0
