# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed error hierarchy shared by all virtlab.infra modules and plugins.

Backend adapters translate backend exceptions into these types exactly once;
everything downstream (retry, waiters, modules) decides by type, never by
matching message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union


class VirtlabError(Exception):
    """Base class of every error raised by virtlab.infra code."""

    def __init__(self, message: str, *, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def to_fail_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``module.fail_json(**kwargs)``: ``msg`` plus details."""
        kwargs = dict(self.details)
        kwargs["msg"] = self.message
        return kwargs


class ValidationError(VirtlabError):
    """A user-supplied value is invalid; the message names the offending option.

    Pass the problem without repeating the option name; it is prefixed here.
    """

    def __init__(
        self,
        message: str,
        *,
        option: Optional[str] = None,
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        merged = dict(details or {})
        if option is not None:
            message = f"{option}: {message}"
            merged["option"] = option
        super().__init__(message, details=merged)
        self.option = option


class NotFoundError(VirtlabError):
    """The requested resource does not exist."""


class ConflictError(VirtlabError):
    """The resource already exists or is in use."""


class TransientError(VirtlabError):
    """A temporary failure worth retrying (lock held, 5xx, connection reset)."""


class ConnectionDroppedError(TransientError):
    """The connection broke before an answer arrived (reset, refused); the request may or may not have run."""


class LockedError(TransientError):
    """The resource is locked by another operation."""


class WaitTimeoutError(VirtlabError):
    """A wait ran out of time; ``last_state`` is the last observed state."""

    def __init__(
        self,
        message: str,
        *,
        last_state: Any = None,
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        merged = dict(details or {})
        merged["last_state"] = last_state
        super().__init__(message, details=merged)
        self.last_state = last_state


class TaskFailedError(VirtlabError):
    """An asynchronous backend task finished unsuccessfully."""

    def __init__(
        self,
        message: str,
        *,
        exit_status: Optional[Union[int, str]] = None,
        log_tail: Optional[list[str]] = None,
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        tail = list(log_tail or [])
        merged = dict(details or {})
        merged["exit_status"] = exit_status
        merged["log_tail"] = list(tail)
        super().__init__(message, details=merged)
        self.exit_status = exit_status
        self.log_tail: list[str] = tail


class AuthenticationError(VirtlabError):
    """Credentials were missing or rejected."""


class PermissionDeniedError(VirtlabError):
    """Authenticated, but not allowed to perform the operation."""


class BackendError(VirtlabError):
    """The backend answered in an unexpected way; ``status`` is its status code."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        merged = dict(details or {})
        merged["status"] = status
        super().__init__(message, details=merged)
        self.status = status
