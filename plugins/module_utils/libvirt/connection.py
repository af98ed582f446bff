# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one libvirt connection helper of the collection.

* ``LIBVIRT_COMMON_ARGS`` is the shared option set (documented by the doc fragment
  ``virtlab.infra.libvirt``); ``libvirt_argument_spec()`` merges it into a module's spec.
* ``LibvirtConnection`` opens the URI lazily and offers lookups that answer ``None`` for
  "not found" instead of raising.
* ``translate_error`` turns a ``libvirt.libvirtError`` into the typed errors of
  ``common.errors`` by its error *code*, never by its message; ``translate_errors`` is the
  context manager used around every call into libvirt.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Optional, TypeVar

from ansible.module_utils.basic import env_fallback

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransientError,
    ValidationError,
    VirtlabError,
)

try:
    import libvirt
except ImportError:
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None

T = TypeVar("T")

DEFAULT_URI = "qemu:///system"

LIBVIRT_COMMON_ARGS: dict[str, dict[str, Any]] = {
    "uri": {"type": "str", "default": DEFAULT_URI, "fallback": (env_fallback, ["LIBVIRT_DEFAULT_URI"])},
}


def libvirt_argument_spec(spec: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A module's own options plus ``LIBVIRT_COMMON_ARGS``."""
    merged = dict(LIBVIRT_COMMON_ARGS)
    merged.update(spec)
    return merged


# error code name -> typed error class; names are resolved on the libvirt module at run time,
# so this table also loads where libvirt-python is missing (sanity import test)
_NOT_FOUND = (
    "VIR_ERR_NO_DOMAIN", "VIR_ERR_NO_STORAGE_POOL", "VIR_ERR_NO_STORAGE_VOL", "VIR_ERR_NO_NETWORK",
    "VIR_ERR_NO_DOMAIN_SNAPSHOT", "VIR_ERR_NO_DOMAIN_METADATA", "VIR_ERR_NO_INTERFACE",
    "VIR_ERR_NO_SECRET", "VIR_ERR_NO_NODE_DEVICE", "VIR_ERR_NO_NWFILTER",
)
_CONFLICT = (
    "VIR_ERR_OPERATION_INVALID", "VIR_ERR_DOM_EXIST", "VIR_ERR_STORAGE_VOL_EXIST",
    "VIR_ERR_STORAGE_POOL_BUILT", "VIR_ERR_RESOURCE_BUSY",
)
_VALIDATION = (
    "VIR_ERR_XML_ERROR", "VIR_ERR_XML_DETAIL", "VIR_ERR_XML_INVALID_SCHEMA", "VIR_ERR_INVALID_ARG",
    "VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_NO_SUPPORT", "VIR_ERR_OPERATION_UNSUPPORTED",
    "VIR_ERR_INVALID_STORAGE_POOL", "VIR_ERR_INVALID_STORAGE_VOL",
)
_AUTH = ("VIR_ERR_AUTH_FAILED", "VIR_ERR_AUTH_CANCELLED", "VIR_ERR_AUTH_UNAVAILABLE")
_DENIED = ("VIR_ERR_OPERATION_DENIED", "VIR_ERR_ACCESS_DENIED")
_TRANSIENT = ("VIR_ERR_OPERATION_TIMEOUT", "VIR_ERR_AGENT_UNRESPONSIVE", "VIR_ERR_RPC", "VIR_ERR_NO_CONNECT")


def _codes(names: tuple[str, ...]) -> set[int]:
    return {getattr(libvirt, name) for name in names if libvirt is not None and hasattr(libvirt, name)}


def translate_error(exc: Any, *, option: Optional[str] = None, what: str = "") -> VirtlabError:
    """The typed error for a ``libvirt.libvirtError`` (decided by ``get_error_code()``)."""
    code = exc.get_error_code()
    message = exc.get_error_message() or str(exc)
    if what:
        message = f"{what}: {message}"
    details = {"libvirt_code": code, "libvirt_domain": exc.get_error_domain()}
    if code in _codes(_NOT_FOUND):
        return NotFoundError(message, details=details)
    if code in _codes(_CONFLICT):
        return ConflictError(message, details=details)
    if code in _codes(_VALIDATION):
        return ValidationError(message, option=option, details=details)
    if code in _codes(_AUTH):
        return AuthenticationError(message, details=details)
    if code in _codes(_DENIED):
        return PermissionDeniedError(message, details=details)
    if code in _codes(_TRANSIENT):
        return TransientError(message, details=details)
    return BackendError(message, status=code, details=details)


@contextlib.contextmanager
def translate_errors(what: str = "", *, option: Optional[str] = None) -> Iterator[None]:
    """Context manager: re-raise a ``libvirtError`` from the block as its typed error."""
    if libvirt is None:
        yield
        return
    try:
        yield
    except libvirt.libvirtError as exc:
        raise translate_error(exc, option=option, what=what) from None


def _silence(_ctx: Any, _err: Any) -> None:
    """libvirt prints every error on stderr by default; our exceptions carry them already."""


class LibvirtConnection:
    """A lazily opened ``virConnect`` to ``uri`` plus "None when missing" lookups."""

    def __init__(self, uri: Optional[str] = None) -> None:
        self.uri = uri or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
        self._conn: Any = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "LibvirtConnection":
        return cls(params.get("uri"))

    @property
    def conn(self) -> Any:
        if self._conn is None:
            if libvirt is None:
                raise BackendError("libvirt-python is not installed")
            libvirt.registerErrorHandler(_silence, None)
            with translate_errors(f"cannot connect to {self.uri}", option="uri"):
                self._conn = libvirt.open(self.uri)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    @property
    def is_local(self) -> bool:
        """True when libvirtd runs on this host (files of its pools are reachable here)."""
        from urllib.parse import urlparse

        return not urlparse(self.uri).hostname

    # ---------------------------------------------------------------- lookups

    def lookup(self, call: Callable[[], T], what: str) -> Optional[T]:
        try:
            return call()
        except libvirt.libvirtError as exc:
            error = translate_error(exc, what=what)
            if isinstance(error, NotFoundError):
                return None
            raise error from None

    def pool(self, name: str) -> Optional[Any]:
        return self.lookup(lambda: self.conn.storagePoolLookupByName(name), f"storage pool {name}")

    def require_pool(self, name: str, *, option: str = "pool", active: bool = True) -> Any:
        pool = self.pool(name)
        if pool is None:
            raise ValidationError(f"storage pool {name!r} does not exist", option=option)
        if active:
            with translate_errors(f"storage pool {name}"):
                running = pool.isActive()
            if not running:
                raise ValidationError(f"storage pool {name!r} is not active", option=option)
        return pool

    def volume(self, pool: Any, name: str) -> Optional[Any]:
        return self.lookup(lambda: pool.storageVolLookupByName(name), f"volume {name}")

    def volume_by_path(self, path: str) -> Optional[Any]:
        return self.lookup(lambda: self.conn.storageVolLookupByPath(path), f"volume {path}")

    def domain(self, name: str) -> Optional[Any]:
        return self.lookup(lambda: self.conn.lookupByName(name), f"domain {name}")

    def active_pools(self) -> list[Any]:
        with translate_errors("listing storage pools"):
            return list(self.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE))
