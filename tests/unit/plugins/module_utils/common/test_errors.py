# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    LockedError,
    NotFoundError,
    PermissionDeniedError,
    TaskFailedError,
    TransientError,
    ValidationError,
    VirtlabError,
    WaitTimeoutError,
)

ALL_ERRORS = [
    ValidationError,
    NotFoundError,
    ConflictError,
    TransientError,
    LockedError,
    WaitTimeoutError,
    TaskFailedError,
    AuthenticationError,
    PermissionDeniedError,
    BackendError,
]


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_is_a_virtlab_error_with_its_message(cls):
    err = cls("boom")
    assert isinstance(err, VirtlabError)
    assert str(err) == "boom"
    assert err.to_fail_kwargs()["msg"] == "boom"


@pytest.mark.parametrize("cls", [c for c in ALL_ERRORS if c not in (TransientError, LockedError)])
def test_only_transient_errors_are_transient(cls):
    assert not isinstance(cls("x"), TransientError)


def test_locked_error_is_transient():
    assert isinstance(LockedError("vm 100 locked"), TransientError)


def test_fail_kwargs_contain_msg_and_details():
    err = VirtlabError("failed", details={"vmid": 100, "node": "pve1"})
    assert err.to_fail_kwargs() == {"msg": "failed", "vmid": 100, "node": "pve1"}


def test_fail_kwargs_msg_wins_over_a_details_key_named_msg():
    err = VirtlabError("real message", details={"msg": "shadow"})
    assert err.to_fail_kwargs()["msg"] == "real message"


def test_details_are_copied_in_and_out():
    source = {"a": 1}
    err = VirtlabError("m", details=source)
    source["b"] = 2
    err.to_fail_kwargs()["c"] = 3
    assert err.details == {"a": 1}
    assert err.to_fail_kwargs() == {"msg": "m", "a": 1}


def test_details_default_to_empty():
    assert VirtlabError("m").details == {}
    assert VirtlabError("m").to_fail_kwargs() == {"msg": "m"}


def test_validation_error_names_the_option():
    err = ValidationError("must be positive", option="cores", details={"value": -1})
    assert err.option == "cores"
    assert "cores" in str(err)
    assert "must be positive" in str(err)
    assert err.to_fail_kwargs() == {"msg": str(err), "option": "cores", "value": -1}


def test_validation_error_without_option_keeps_message():
    err = ValidationError("bad input")
    assert err.option is None
    assert str(err) == "bad input"
    assert "option" not in err.to_fail_kwargs()


def test_wait_timeout_error_carries_last_state():
    err = WaitTimeoutError("timed out", last_state={"status": "running"})
    assert err.last_state == {"status": "running"}
    assert err.to_fail_kwargs()["last_state"] == {"status": "running"}


def test_task_failed_error_carries_exit_status_and_log_tail():
    log = ["line 1", "ERROR: disk full"]
    err = TaskFailedError("task failed", exit_status="ERROR: disk full", log_tail=log)
    log.append("later")
    assert err.exit_status == "ERROR: disk full"
    assert err.log_tail == ["line 1", "ERROR: disk full"]
    kwargs = err.to_fail_kwargs()
    assert kwargs["exit_status"] == "ERROR: disk full"
    assert kwargs["log_tail"] == ["line 1", "ERROR: disk full"]


def test_task_failed_error_log_tail_defaults_to_empty_list():
    assert TaskFailedError("x").log_tail == []


def test_backend_error_carries_status():
    err = BackendError("unexpected reply", status=502, details={"body": "bad gateway"})
    assert err.status == 502
    assert err.to_fail_kwargs() == {"msg": "unexpected reply", "status": 502, "body": "bad gateway"}
