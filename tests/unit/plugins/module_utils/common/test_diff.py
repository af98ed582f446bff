# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import (
    apply_changes,
    dict_changes,
    make_diff,
    parse_size,
    values_equal,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

CURRENT = {
    "name": "web1",
    "cores": 2,
    "memory": 2048,
    "tags": ["a", "b"],
    "net": {"model": "virtio", "bridge": "vmbr0", "firewall": True},
}


# --- dict_changes -------------------------------------------------------------


def test_identical_desired_state_has_no_changes():
    assert dict_changes(CURRENT, {"name": "web1", "cores": 2, "net": {"model": "virtio"}}) == {}


def test_changed_scalar_is_reported_with_desired_value():
    assert dict_changes(CURRENT, {"cores": 4, "memory": 2048}) == {"cores": 4}


def test_key_missing_from_current_is_a_change():
    assert dict_changes(CURRENT, {"onboot": True}) == {"onboot": True}


def test_keys_only_in_current_are_ignored():
    assert dict_changes(CURRENT, {}) == {}


def test_none_in_desired_means_dont_care():
    assert dict_changes(CURRENT, {"cores": None, "memory": 4096}) == {"memory": 4096}


def test_none_is_compared_when_ignore_none_is_false():
    assert dict_changes(CURRENT, {"cores": None}, ignore_none=False) == {"cores": None}
    assert dict_changes(CURRENT, {"onboot": None}, ignore_none=False) == {}


def test_nested_dicts_report_only_changed_subkeys():
    desired = {"net": {"model": "virtio", "bridge": "vmbr1", "firewall": None}}
    assert dict_changes(CURRENT, desired) == {"net": {"bridge": "vmbr1"}}


def test_nested_dict_of_only_none_is_no_change():
    assert dict_changes(CURRENT, {"net": {"bridge": None}, "extra": {"x": None}}) == {}


def test_nested_dict_against_missing_or_scalar_current():
    current = {"scalar": "text"}
    desired = {"scalar": {"a": 1}, "missing": {"b": 2, "c": None}}
    assert dict_changes(current, desired) == {"scalar": {"a": 1}, "missing": {"b": 2}}


def test_deeply_nested_change():
    current = {"a": {"b": {"c": 1, "d": 2}}}
    assert dict_changes(current, {"a": {"b": {"c": 1, "d": 3}}}) == {"a": {"b": {"d": 3}}}


def test_lists_are_compared_whole_and_in_order():
    assert dict_changes(CURRENT, {"tags": ["a", "b"]}) == {}
    assert dict_changes(CURRENT, {"tags": ["b", "a"]}) == {"tags": ["b", "a"]}
    assert dict_changes(CURRENT, {"tags": ["a"]}) == {"tags": ["a"]}


def test_tuple_equals_list_with_same_items():
    assert dict_changes(CURRENT, {"tags": ("a", "b")}) == {}


def test_list_vs_scalar_is_a_change():
    assert dict_changes({"tags": "a"}, {"tags": ["a"]}) == {"tags": ["a"]}


def test_types_are_not_coerced():
    assert dict_changes({"cores": "2"}, {"cores": 2}) == {"cores": 2}


def test_values_equal_is_deep():
    assert values_equal({"a": [1, {"b": (2, 3)}]}, {"a": (1, {"b": [2, 3]})})
    assert not values_equal({"a": [1, 2]}, {"a": [1, 2], "b": None})
    assert not values_equal([1, 2], [1, 2, 3])


# --- apply_changes ------------------------------------------------------------


def test_apply_changes_merges_deeply_without_mutating_input():
    before = copy.deepcopy(CURRENT)
    merged = apply_changes(CURRENT, {"cores": 4, "net": {"bridge": "vmbr1"}, "new": {"x": 1}})
    assert merged["cores"] == 4
    assert merged["net"] == {"model": "virtio", "bridge": "vmbr1", "firewall": True}
    assert merged["new"] == {"x": 1}
    assert CURRENT == before


# --- make_diff ----------------------------------------------------------------


def test_make_diff_limits_to_changed_keys_plus_identity_keys():
    after = apply_changes(CURRENT, {"cores": 4})
    assert make_diff(CURRENT, after, identity_keys=["name"]) == {
        "before": {"name": "web1", "cores": 2},
        "after": {"name": "web1", "cores": 4},
    }


def test_make_diff_shows_whole_top_level_value_of_nested_change():
    after = apply_changes(CURRENT, {"net": {"bridge": "vmbr1"}})
    diff = make_diff(CURRENT, after)
    assert diff["before"] == {"net": CURRENT["net"]}
    assert diff["after"] == {"net": {"model": "virtio", "bridge": "vmbr1", "firewall": True}}


def test_make_diff_omits_absent_keys_per_side():
    diff = make_diff({"id": 1, "old": "x"}, {"id": 1, "new": "y"}, identity_keys=("id",))
    assert diff == {"before": {"id": 1, "old": "x"}, "after": {"id": 1, "new": "y"}}


def test_make_diff_of_equal_states_keeps_only_identity():
    assert make_diff(CURRENT, dict(CURRENT), identity_keys=["name"]) == {
        "before": {"name": "web1"},
        "after": {"name": "web1"},
    }


def test_make_diff_for_creation_from_empty():
    assert make_diff({}, {"name": "web1", "cores": 2}) == {"before": {}, "after": {"name": "web1", "cores": 2}}


# --- properties ---------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet="xyz", max_size=3))
keys = st.sampled_from(["a", "b", "c", "d"])
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)),
    max_leaves=10,
)
states = st.dictionaries(keys, values, max_size=4)


@given(current=states, desired=states)
def test_applying_changes_reaches_desired_state(current, desired):
    changes = dict_changes(current, desired)
    assert dict_changes(apply_changes(current, changes), desired) == {}


@given(state=states)
def test_a_state_has_no_changes_against_itself(state):
    assert dict_changes(state, state) == {}
    assert make_diff(state, state) == {"before": {}, "after": {}}


# --- parse_size ---------------------------------------------------------------

KIB = 1024
MIB = KIB ** 2
GIB = KIB ** 3
TIB = KIB ** 4


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, 0),
        (4096, 4096),
        ("4096", 4096),
        ("512B", 512),
        ("1K", KIB),
        ("1k", KIB),
        ("1KB", KIB),
        ("1KiB", KIB),
        ("512M", 512 * MIB),
        ("512MiB", 512 * MIB),
        ("10G", 10 * GIB),
        ("10gb", 10 * GIB),
        ("10 GiB", 10 * GIB),
        (" 2T ", 2 * TIB),
        ("1.5G", 3 * GIB // 2),
        ("0.5K", 512),
        (2048.0, 2048),
    ],
)
def test_parse_size_accepts(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "G", "abc", "10X", "10 G B", "-1G", "1e3", "10iB", "1.G", ".5G", "0.3K", "10P", "1,5G",
     "\u0661\u0662", -1, 1.5, float("nan"), float("inf"), True, None, ["1G"]],
)
def test_parse_size_rejects_and_names_the_option(value):
    with pytest.raises(ValidationError) as excinfo:
        parse_size(value, option="disk_size")
    assert excinfo.value.option == "disk_size"
    assert "disk_size" in str(excinfo.value)


def test_parse_size_without_option_still_raises_validation_error():
    with pytest.raises(ValidationError) as excinfo:
        parse_size("lots")
    assert excinfo.value.option is None
    assert "lots" in str(excinfo.value)


UNITS = [("", 0), ("B", 0), ("K", 1), ("KB", 1), ("KiB", 1), ("M", 2), ("MiB", 2), ("G", 3), ("GB", 3), ("T", 4), ("TiB", 4)]


@given(number=st.integers(min_value=0, max_value=10 ** 30), unit=st.sampled_from(UNITS),
       space=st.sampled_from(["", " "]), lower=st.booleans())
def test_parse_size_round_trips(number, unit, space, lower):
    suffix, power = unit
    text = f"{number}{space}{suffix}"
    assert parse_size(text.lower() if lower else text) == number * 1024 ** power


@given(number=st.integers(min_value=0, max_value=10 ** 30))
def test_parse_size_of_int_is_identity(number):
    assert parse_size(number) == number
