# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers to decide ``changed`` and build ``diff`` output, plus size parsing.

Comparison is by Python equality after the caller has normalised types
(e.g. ``"1"`` and ``1`` differ, lists and tuples with equal items do not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ValidationError

_SIZE_UNITS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*", re.IGNORECASE | re.ASCII)


def values_equal(left: Any, right: Any) -> bool:
    """Deep equality that treats lists and tuples with equal items as equal."""
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right))
    return bool(left == right)


def dict_changes(current: Mapping[str, Any], desired: Mapping[str, Any], *, ignore_none: bool = True) -> dict[str, Any]:
    """Return the part of ``desired`` that differs from ``current``; empty means unchanged.

    Nested mappings are compared recursively and only their differing keys are
    returned; lists are compared whole. With ``ignore_none`` a ``None`` in
    ``desired`` means "don't care"; otherwise it must match, with a missing key
    in ``current`` counting as ``None``. A nested mapping in ``desired`` whose
    counterpart in ``current`` is missing or not a mapping is compared against ``{}``.
    """
    changes: dict[str, Any] = {}
    for key, want in desired.items():
        if want is None and ignore_none:
            continue
        have = current.get(key)
        if isinstance(want, Mapping):
            nested = dict_changes(have if isinstance(have, Mapping) else {}, want, ignore_none=ignore_none)
            if nested:
                changes[key] = nested
        elif not values_equal(have, want):
            changes[key] = want
    return changes


def apply_changes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``current`` with ``changes`` (as from ``dict_changes``) merged in deeply."""
    merged = dict(current)
    for key, value in changes.items():
        existing = merged.get(key)
        if isinstance(value, Mapping) and isinstance(existing, Mapping):
            merged[key] = apply_changes(existing, value)
        elif isinstance(value, Mapping):
            merged[key] = apply_changes({}, value)
        else:
            merged[key] = value
    return merged


def make_diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    identity_keys: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Build Ansible ``diff`` output limited to changed top-level keys plus ``identity_keys``.

    A key absent from one side is left out of that side.
    """
    identity = list(identity_keys)
    all_keys = list(before) + [k for k in after if k not in before]
    keys = identity + [k for k in all_keys if k not in identity and _key_differs(before, after, k)]
    return {
        "before": {k: before[k] for k in keys if k in before},
        "after": {k: after[k] for k in keys if k in after},
    }


def _key_differs(before: Mapping[str, Any], after: Mapping[str, Any], key: str) -> bool:
    if (key in before) != (key in after):
        return True
    return not values_equal(before[key], after[key])


def parse_size(value: Any, *, option: Optional[str] = None) -> int:
    """Parse a size such as ``"10G"``, ``"512MiB"``, ``"1.5 GB"`` or ``1024`` into bytes.

    Units K/M/G/T are binary (powers of 1024) with an optional ``B`` or ``iB``
    suffix, case-insensitive; a bare number or a ``B`` suffix means bytes. The
    result must be a whole, non-negative number of bytes. Raises
    ``ValidationError`` naming ``option``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"expected a size, got {type(value).__name__}", option=option)
    if isinstance(value, str):
        match = _SIZE_RE.fullmatch(value)
        if match is None:
            raise ValidationError(
                f"invalid size {value!r}; expected a number with an optional K, M, G or T unit",
                option=option,
            )
        size = Fraction(match.group(1)) * 1024 ** _SIZE_UNITS[(match.group(2) or "").upper()]
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"size must be finite, got {value!r}", option=option)
    else:
        size = Fraction(value)
    if size < 0:
        raise ValidationError(f"size must not be negative, got {value!r}", option=option)
    if size.denominator != 1:
        raise ValidationError(f"size {value!r} is not a whole number of bytes", option=option)
    return int(size)
