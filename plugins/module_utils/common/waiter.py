# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The single polling waiter used by every module and plugin.

``wait_until(fetch, predicate, timeout=...)`` repeatedly calls ``fetch()`` to
observe the current state and returns that value as soon as
``predicate(value)`` is true. ``predicate`` may raise (for example
``TaskFailedError``) to abort the wait; that error propagates unchanged, as do
errors from ``fetch``. To tolerate transient fetch failures, wrap ``fetch`` with
``call_with_retry``. When time runs out, ``WaitTimeoutError`` is raised with the
last observed state.

Example::

    status = wait_until(
        lambda: api.task_status(upid),
        task_finished,  # returns True when done; raises TaskFailedError on a bad exit status
        timeout=module.params["timeout"],
        description=f"task {upid}",
        describe=lambda s: s.get("status"),
    )
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Optional, TypeVar

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import WaitTimeoutError

T = TypeVar("T")


def wait_until(
    fetch: Callable[[], T],
    predicate: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 1.0,
    max_interval: Optional[float] = None,
    backoff: float = 1.0,
    description: str = "",
    describe: Optional[Callable[[T], Any]] = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Poll ``fetch()`` until ``predicate(value)`` holds; return that value.

    ``fetch`` is always called at least once, and once more at the deadline.
    Sleeps start at ``interval``, are multiplied by ``backoff`` after each poll,
    are capped by ``max_interval`` and never extend past the deadline.
    On timeout raises ``WaitTimeoutError`` whose ``last_state`` is
    ``describe(value)`` (or the value itself) of the last poll; keep it
    JSON-serialisable, as it ends up in ``fail_json`` output.
    """
    if timeout < 0:
        raise ValueError("timeout must not be negative")
    if interval <= 0:
        raise ValueError("interval must be positive")
    if backoff < 1:
        raise ValueError("backoff must be at least 1")
    if max_interval is not None and max_interval < interval:
        raise ValueError("max_interval must not be smaller than interval")

    deadline = clock() + timeout
    delay = interval
    while True:
        value = fetch()
        if predicate(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            last_state = describe(value) if describe is not None else value
            what = description or "condition"
            raise WaitTimeoutError(
                f"Timed out after {timeout:g}s waiting for {what}",
                last_state=last_state,
            )
        sleep(min(delay, remaining))
        delay = delay * backoff
        if max_interval is not None:
            delay = min(delay, max_interval)
