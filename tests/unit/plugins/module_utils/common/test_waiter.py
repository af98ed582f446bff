# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    NotFoundError,
    TaskFailedError,
    WaitTimeoutError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.waiter import wait_until


class Sequence:
    """A fetch callable returning the given states in order, then repeating the last one."""

    def __init__(self, *states):
        self.states = list(states)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.states[min(self.calls, len(self.states)) - 1]


def is_running(state):
    return state["status"] == "running"


def wait(fetch, predicate, clock, **kwargs):
    return wait_until(fetch, predicate, sleep=clock.sleep, clock=clock, **kwargs)


def test_returns_immediately_when_condition_already_holds(fake_clock):
    fetch = Sequence({"status": "running"})
    assert wait(fetch, is_running, fake_clock, timeout=10) == {"status": "running"}
    assert fetch.calls == 1
    assert fake_clock.sleeps == []


def test_returns_the_value_that_satisfied_the_predicate(fake_clock):
    fetch = Sequence({"status": "stopped"}, {"status": "starting"}, {"status": "running", "pid": 7})
    result = wait(fetch, is_running, fake_clock, timeout=60, interval=2.0)
    assert result == {"status": "running", "pid": 7}
    assert fetch.calls == 3
    assert fake_clock.sleeps == [2.0, 2.0]


def test_timeout_raises_with_last_state_and_description(fake_clock):
    start = fake_clock.now
    fetch = Sequence({"status": "stopped", "n": 1}, {"status": "stopped", "n": 2}, {"status": "stopped", "n": 3})
    with pytest.raises(WaitTimeoutError) as excinfo:
        wait(fetch, is_running, fake_clock, timeout=5, interval=2.0, description="VM 100 to start")
    err = excinfo.value
    assert err.last_state == {"status": "stopped", "n": 3}
    assert err.to_fail_kwargs()["last_state"] == {"status": "stopped", "n": 3}
    assert "VM 100 to start" in err.message
    # polls at t=0, 2, 4 and a final one at the deadline (t=5)
    assert fake_clock.sleeps == [2.0, 2.0, 1.0]
    assert fetch.calls == 4
    assert fake_clock.now - start == 5.0


def test_describe_controls_last_state(fake_clock):
    with pytest.raises(WaitTimeoutError) as excinfo:
        wait(Sequence({"status": "stopped", "blob": object()}), is_running, fake_clock,
             timeout=1, describe=lambda s: s["status"])
    assert excinfo.value.last_state == "stopped"


def test_zero_timeout_polls_once_without_sleeping(fake_clock):
    fetch = Sequence({"status": "stopped"})
    with pytest.raises(WaitTimeoutError):
        wait(fetch, is_running, fake_clock, timeout=0)
    assert fetch.calls == 1
    assert fake_clock.sleeps == []


def test_predicate_can_abort_the_wait(fake_clock):
    fetch = Sequence({"status": "running"}, {"status": "stopped", "exitstatus": "ERROR: no space"})

    def task_done(state):
        if state["status"] == "stopped" and state["exitstatus"] != "OK":
            raise TaskFailedError("task failed", exit_status=state["exitstatus"])
        return state["status"] == "stopped"

    with pytest.raises(TaskFailedError) as excinfo:
        wait(fetch, task_done, fake_clock, timeout=60)
    assert excinfo.value.exit_status == "ERROR: no space"
    assert fetch.calls == 2


def test_fetch_errors_propagate(fake_clock):
    def fetch():
        raise NotFoundError("VM 100 does not exist")

    with pytest.raises(NotFoundError):
        wait(fetch, is_running, fake_clock, timeout=60)
    assert fake_clock.sleeps == []


def test_interval_backs_off_up_to_max_interval(fake_clock):
    with pytest.raises(WaitTimeoutError):
        wait(Sequence({"status": "stopped"}), is_running, fake_clock,
             timeout=30, interval=1.0, backoff=2.0, max_interval=5.0)
    assert fake_clock.sleeps[:6] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert sum(fake_clock.sleeps) == 30.0


def test_backoff_without_max_interval_keeps_growing(fake_clock):
    with pytest.raises(WaitTimeoutError):
        wait(Sequence({"status": "stopped"}), is_running, fake_clock, timeout=100, interval=1.0, backoff=3.0)
    assert fake_clock.sleeps == [1.0, 3.0, 9.0, 27.0, 60.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": -1},
        {"timeout": 10, "interval": 0},
        {"timeout": 10, "backoff": 0.5},
        {"timeout": 10, "interval": 5.0, "max_interval": 1.0},
    ],
)
def test_invalid_arguments_are_rejected(fake_clock, kwargs):
    fetch = Sequence({"status": "running"})
    with pytest.raises(ValueError):
        wait(fetch, is_running, fake_clock, **kwargs)
    assert fetch.calls == 0


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    timeout=st.floats(min_value=0.0, max_value=500.0),
    interval=st.floats(min_value=0.1, max_value=50.0),
    backoff=st.floats(min_value=1.0, max_value=4.0),
    fetch_cost=st.floats(min_value=0.0, max_value=3.0),
)
def test_total_wait_never_exceeds_timeout_plus_last_fetch(clock_factory, timeout, interval, backoff, fetch_cost):
    clock = clock_factory()
    start = clock.now

    def fetch():
        clock.advance(fetch_cost)
        return {"status": "stopped"}

    with pytest.raises(WaitTimeoutError):
        wait_until(fetch, is_running, timeout=timeout, interval=interval, backoff=backoff,
                   max_interval=max(interval, 10.0), sleep=clock.sleep, clock=clock)
    assert clock.now - start <= timeout + fetch_cost + 1e-9
