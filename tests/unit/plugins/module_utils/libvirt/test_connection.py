# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransientError,
    ValidationError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LIBVIRT_COMMON_ARGS,
    LibvirtConnection,
    libvirt_argument_spec,
    translate_error,
    translate_errors,
)


class CodedError:
    """Stands in for a libvirtError with a given code (translate_error only reads the code)."""

    def __init__(self, code, message="the message text is never parsed"):
        self.code = code
        self.message = message

    def get_error_code(self):
        return self.code

    def get_error_message(self):
        return self.message

    def get_error_domain(self):
        return 0


@pytest.mark.parametrize("code, expected", [
    (libvirt.VIR_ERR_NO_DOMAIN, NotFoundError),
    (libvirt.VIR_ERR_NO_STORAGE_VOL, NotFoundError),
    (libvirt.VIR_ERR_NO_STORAGE_POOL, NotFoundError),
    (libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT, NotFoundError),
    (libvirt.VIR_ERR_OPERATION_INVALID, ConflictError),
    (libvirt.VIR_ERR_XML_ERROR, ValidationError),
    (libvirt.VIR_ERR_OPERATION_DENIED, PermissionDeniedError),
    (libvirt.VIR_ERR_OPERATION_TIMEOUT, TransientError),
    (libvirt.VIR_ERR_INTERNAL_ERROR, BackendError),
])
def test_translation_is_by_code(code, expected):
    error = translate_error(CodedError(code), what="doing it")
    assert isinstance(error, expected) and type(error).__mro__[0] is expected
    assert error.message.startswith("doing it: ")
    assert error.details["libvirt_code"] == code


def test_same_text_different_codes_differ():
    text = "domain not found"  # text says "not found", the code says otherwise: the code wins
    assert isinstance(translate_error(CodedError(libvirt.VIR_ERR_INTERNAL_ERROR, text)), BackendError)
    assert isinstance(translate_error(CodedError(libvirt.VIR_ERR_NO_DOMAIN, "whatever")), NotFoundError)


def test_validation_error_names_the_option():
    error = translate_error(CodedError(libvirt.VIR_ERR_XML_ERROR, "bad"), option="xml")
    assert error.message.startswith("xml: ") and error.option == "xml"


def test_real_errors_from_the_test_driver(connection, name):
    with pytest.raises(NotFoundError):
        with translate_errors():
            connection.conn.lookupByName(name)
    with pytest.raises(ValidationError) as caught:
        with translate_errors("defining", option="xml"):
            connection.conn.defineXML("<domain type='test'><name>x</name>")
    assert caught.value.option == "xml"
    with pytest.raises(ConflictError):
        with translate_errors():
            connection.pool("default-pool").create(0)   # already active


def test_lookups_answer_none_when_missing(connection, name):
    assert connection.domain("test") is not None
    assert connection.domain(name) is None
    pool = connection.pool("default-pool")
    assert pool is not None and connection.pool(name) is None
    assert connection.volume(pool, name) is None
    assert connection.volume_by_path("/nowhere/" + name) is None
    with pytest.raises(ValidationError) as caught:
        connection.require_pool(name, option="source_pool")
    assert caught.value.message.startswith("source_pool: ")


def test_uri_option_and_fallback(monkeypatch):
    assert set(LIBVIRT_COMMON_ARGS) == {"uri"}
    spec = libvirt_argument_spec({"name": {"type": "str"}})
    assert "uri" in spec and "name" in spec
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    assert LibvirtConnection(None).uri == "test:///default"
    assert LibvirtConnection("qemu:///session").uri == "qemu:///session"
    assert LibvirtConnection("qemu:///system").is_local
    assert not LibvirtConnection("qemu+ssh://root@host/system").is_local


def test_unreachable_uri_is_a_typed_error():
    with pytest.raises(BackendError) as caught:
        LibvirtConnection("qemu+tcp://127.0.0.1:1/system").conn.close()
    assert "qemu+tcp://127.0.0.1:1/system" in caught.value.message
