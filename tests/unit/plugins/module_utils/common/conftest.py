# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the common module_utils tests."""

from __future__ import annotations

import pytest


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` or ``advance`` is called."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise AssertionError(f"negative sleep {seconds}")
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fresh fake clock; pass ``fake_clock`` as clock and ``fake_clock.sleep`` as sleep."""
    return FakeClock()


@pytest.fixture
def clock_factory() -> type[FakeClock]:
    """The stateless FakeClock class, for hypothesis tests that need a fresh clock per example."""
    return FakeClock
