# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    LockedError,
    NotFoundError,
    TransientError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.retry import (
    RetryAttempt,
    RetryPolicy,
    call_with_retry,
    retry,
)

NO_JITTER = {"jitter": 0.0}


class Flaky:
    """Raises the given errors in order, then returns ``result``."""

    def __init__(self, errors, result="ok", clock=None, duration=0.0):
        self.errors = list(errors)
        self.result = result
        self.calls = 0
        self.raised = []
        self.clock = clock
        self.duration = duration

    def __call__(self):
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(self.duration)
        if self.errors:
            err = self.errors.pop(0)
            self.raised.append(err)
            raise err
        return self.result


def always_failing(clock=None, duration=0.0):
    return Flaky([TransientError(f"fail {i}") for i in range(1000)], clock=clock, duration=duration)


def run(func, policy, clock, **kwargs):
    return call_with_retry(func, policy, sleep=clock.sleep, clock=clock, **kwargs)


def test_success_on_first_call_does_not_sleep(fake_clock):
    func = Flaky([])
    assert run(func, RetryPolicy(), fake_clock) == "ok"
    assert func.calls == 1
    assert fake_clock.sleeps == []


def test_transient_errors_are_retried_until_success(fake_clock):
    func = Flaky([TransientError("a"), LockedError("b")], result=42)
    assert run(func, RetryPolicy(attempts=3, **NO_JITTER), fake_clock) == 42
    assert func.calls == 3
    assert len(fake_clock.sleeps) == 2


@pytest.mark.parametrize("error", [NotFoundError("gone"), ValueError("bug")])
def test_non_retryable_error_propagates_immediately(fake_clock, error):
    func = Flaky([error])
    with pytest.raises(type(error)) as excinfo:
        run(func, RetryPolicy(attempts=5), fake_clock)
    assert excinfo.value is error
    assert func.calls == 1
    assert fake_clock.sleeps == []


def test_exhausted_attempts_reraise_the_last_error(fake_clock):
    func = always_failing()
    with pytest.raises(TransientError) as excinfo:
        run(func, RetryPolicy(attempts=4), fake_clock)
    assert func.calls == 4
    assert excinfo.value is func.raised[-1]
    assert len(fake_clock.sleeps) == 3


def test_backoff_grows_exponentially_and_is_capped(fake_clock):
    policy = RetryPolicy(attempts=7, base_delay=1.0, multiplier=2.0, max_delay=5.0, **NO_JITTER)
    with pytest.raises(TransientError):
        run(always_failing(), policy, fake_clock)
    assert fake_clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "jitter, rng_value, expected",
    [
        (1.0, 0.0, 8.0),
        (1.0, 0.75, 2.0),
        (0.5, 0.0, 8.0),
        (0.5, 0.999, 8.0 * (1 - 0.5 * 0.999)),
        (0.0, 0.9, 8.0),
    ],
)
def test_jitter_scales_delay_within_its_fraction(jitter, rng_value, expected):
    policy = RetryPolicy(base_delay=8.0, max_delay=8.0, jitter=jitter)
    assert policy.delay(1, rng=lambda: rng_value) == pytest.approx(expected)


def test_rng_drives_sleeps(fake_clock):
    policy = RetryPolicy(attempts=3, base_delay=2.0, multiplier=2.0, max_delay=100.0, jitter=1.0)
    with pytest.raises(TransientError):
        run(always_failing(), policy, fake_clock, rng=lambda: 0.5)
    assert fake_clock.sleeps == [1.0, 2.0]


def test_deadline_is_never_overslept(fake_clock):
    start = fake_clock.now
    func = always_failing(clock=fake_clock, duration=1.0)
    policy = RetryPolicy(attempts=None, timeout=10.0, base_delay=4.0, multiplier=2.0, max_delay=60.0, **NO_JITTER)
    with pytest.raises(TransientError) as excinfo:
        run(func, policy, fake_clock)
    # t=0 call ends t=1, sleep 4 -> t=5; call ends t=6, sleep clipped to 4 -> t=10; final call at the deadline.
    assert fake_clock.sleeps == [4.0, 4.0]
    assert func.calls == 3
    assert excinfo.value is func.raised[-1]
    assert fake_clock.now - start == pytest.approx(11.0)


def test_attempt_limit_applies_before_timeout(fake_clock):
    func = always_failing()
    with pytest.raises(TransientError):
        run(func, RetryPolicy(attempts=2, timeout=1000.0), fake_clock)
    assert func.calls == 2


def test_zero_timeout_tries_exactly_once(fake_clock):
    func = always_failing()
    with pytest.raises(TransientError):
        run(func, RetryPolicy(attempts=None, timeout=0.0), fake_clock)
    assert func.calls == 1
    assert fake_clock.sleeps == []


def test_on_retry_receives_attempt_information(fake_clock):
    func = always_failing(clock=fake_clock, duration=0.5)
    seen = []
    policy = RetryPolicy(attempts=3, base_delay=1.0, multiplier=3.0, **NO_JITTER)
    with pytest.raises(TransientError):
        run(func, policy, fake_clock, on_retry=seen.append)
    assert seen == [
        RetryAttempt(attempt=1, error=func.raised[0], delay=1.0, elapsed=0.5),
        RetryAttempt(attempt=2, error=func.raised[1], delay=3.0, elapsed=2.0),
    ]


def test_custom_retry_on(fake_clock):
    func = Flaky([ValueError("x")])
    assert run(func, RetryPolicy(retry_on=(ValueError,)), fake_clock) == "ok"
    assert func.calls == 2
    with pytest.raises(TransientError):
        run(Flaky([TransientError("t")]), RetryPolicy(retry_on=(ValueError,)), fake_clock)


def test_decorator_retries_and_passes_arguments(fake_clock):
    calls = []

    @retry(RetryPolicy(attempts=3), sleep=fake_clock.sleep, clock=fake_clock)
    def add(a, b=0):
        """Add two numbers."""
        calls.append((a, b))
        if len(calls) < 3:
            raise LockedError("locked")
        return a + b

    assert add(2, b=3) == 5
    assert calls == [(2, 3)] * 3
    assert len(fake_clock.sleeps) == 2
    assert add.__name__ == "add"
    assert add.__doc__ == "Add two numbers."


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": None, "timeout": None},
        {"attempts": 0},
        {"timeout": -1.0},
        {"base_delay": -1.0},
        {"max_delay": -1.0},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_invalid_policy_is_rejected(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_retry_on_must_hold_exception_classes():
    with pytest.raises(TypeError):
        RetryPolicy(retry_on=("TransientError",))


def test_huge_attempt_numbers_do_not_overflow():
    assert RetryPolicy(base_delay=1.0, max_delay=30.0).backoff_cap(100000) == 30.0


policies = st.builds(
    RetryPolicy,
    base_delay=st.floats(min_value=0.0, max_value=1e6),
    max_delay=st.floats(min_value=0.0, max_value=1e6),
    multiplier=st.floats(min_value=1.0, max_value=100.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
unit_interval = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(policy=policies, attempt=st.integers(min_value=1, max_value=5000), rand=unit_interval)
def test_delay_always_within_zero_and_max_delay(policy, attempt, rand):
    delay = policy.delay(attempt, rng=lambda: rand)
    assert 0.0 <= delay <= policy.max_delay
    assert delay <= policy.backoff_cap(attempt)
    assert delay >= policy.backoff_cap(attempt) * (1.0 - policy.jitter) - 1e-9


@given(policy=policies, attempt=st.integers(min_value=1, max_value=5000))
def test_backoff_cap_never_decreases(policy, attempt):
    assert policy.backoff_cap(attempt) <= policy.backoff_cap(attempt + 1)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    timeout=st.floats(min_value=0.0, max_value=100.0),
    duration=st.floats(min_value=0.01, max_value=10.0),
    rand=st.floats(min_value=0.0, max_value=0.5),
)
def test_sleeps_never_pass_the_deadline(clock_factory, timeout, duration, rand):
    clock = clock_factory()
    policy = RetryPolicy(attempts=None, timeout=timeout, base_delay=0.5, max_delay=50.0)
    func = always_failing(clock=clock, duration=duration)
    deadline = clock.now + timeout
    with pytest.raises(TransientError):
        call_with_retry(func, policy, sleep=clock.sleep, clock=clock, rng=lambda: rand)
    woke_at = clock.now - duration  # the last call started right after the last sleep
    assert woke_at <= deadline + 1e-9
