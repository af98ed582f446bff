# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retry with capped, jittered exponential backoff.

Only exception types listed in ``RetryPolicy.retry_on`` are retried (by
default ``TransientError`` and its subclasses such as ``LockedError``); any
other exception propagates at once. Time is read through injectable
``clock``/``sleep``/``rng`` callables so tests never really sleep.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryAttempt:
    """What ``on_retry`` is told before each backoff sleep.

    ``attempt`` is the 1-based number of the attempt that just failed, ``delay``
    the seconds about to be slept, ``elapsed`` the seconds since the first attempt.
    """

    attempt: int
    error: BaseException
    delay: float
    elapsed: float


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    Stops after ``attempts`` calls or once ``timeout`` seconds have passed,
    whichever comes first (``None`` disables that limit; at least one must be set).
    The delay before retry *n* is ``min(max_delay, base_delay * multiplier ** (n - 1))``,
    of which a ``jitter`` fraction is randomised: ``1.0`` is full jitter (anywhere in
    ``[0, cap]``), ``0.0`` is no jitter.
    """

    attempts: Optional[int] = 5
    timeout: Optional[float] = None
    base_delay: float = 0.5
    max_delay: float = 10.0
    multiplier: float = 2.0
    jitter: float = 1.0
    retry_on: tuple[type[BaseException], ...] = (TransientError,)

    def __post_init__(self) -> None:
        if self.attempts is None and self.timeout is None:
            raise ValueError("RetryPolicy needs attempts or timeout")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.timeout is not None and self.timeout < 0:
            raise ValueError("timeout must not be negative")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if not all(isinstance(cls, type) and issubclass(cls, BaseException) for cls in self.retry_on):
            raise TypeError("retry_on must be a tuple of exception classes")

    def backoff_cap(self, attempt: int) -> float:
        """Un-jittered delay after failed attempt ``attempt`` (1-based), capped by ``max_delay``."""
        if self.base_delay == 0:
            return 0.0
        try:
            raw = self.base_delay * self.multiplier ** (attempt - 1)
        except OverflowError:
            return self.max_delay
        return min(self.max_delay, raw)

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Jittered delay after failed attempt ``attempt``; always within ``[0, max_delay]``.

        ``rng`` returns a float in ``[0, 1)`` like ``random.random``.
        """
        cap = self.backoff_cap(attempt)
        return min(cap, max(0.0, cap * (1.0 - self.jitter * rng())))


def call_with_retry(
    func: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    on_retry: Optional[Callable[[RetryAttempt], Any]] = None,
) -> T:
    """Call ``func()`` until it succeeds, retrying errors in ``policy.retry_on``.

    Sleeps never extend past the policy's deadline. When attempts or time run
    out, the last error is re-raised unchanged; errors not in ``retry_on``
    propagate immediately.
    """
    start = clock()
    deadline = None if policy.timeout is None else start + policy.timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            return func()
        except policy.retry_on as exc:
            if policy.attempts is not None and attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt, rng)
            now = clock()
            if deadline is not None:
                remaining = deadline - now
                if remaining <= 0:
                    raise
                delay = min(delay, remaining)
            if on_retry is not None:
                on_retry(RetryAttempt(attempt=attempt, error=exc, delay=delay, elapsed=now - start))
            sleep(delay)


def retry(
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    on_retry: Optional[Callable[[RetryAttempt], Any]] = None,
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form of :func:`call_with_retry`."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return call_with_retry(
                lambda: func(*args, **kwargs),
                policy,
                sleep=sleep,
                clock=clock,
                rng=rng,
                on_retry=on_retry,
            )

        return wrapper

    return decorate
