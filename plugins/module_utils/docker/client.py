# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one Docker client of the collection: options, connection and error translation.

``DOCKER_COMMON_ARGS`` is documented by the doc fragment ``virtlab.infra.docker`` (same
name, side by side). Docker SDK errors are translated once, by type and HTTP status, into
the typed errors of ``common.errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransientError,
    ValidationError,
)

try:
    import docker
    import docker.errors
    import requests.exceptions
except ImportError:
    HAS_DOCKER = False
else:
    HAS_DOCKER = True

T = TypeVar("T")

DOCKER_COMMON_ARGS: dict[str, dict[str, Any]] = {
    "docker_host": {
        "type": "str",
        "default": "unix:///var/run/docker.sock",
        "fallback": (env_fallback, ["DOCKER_HOST"]),
        "aliases": ["docker_url"],
    },
    "tls": {"type": "bool", "default": False, "fallback": (env_fallback, ["DOCKER_TLS"])},
    "validate_certs": {
        "type": "bool",
        "default": False,
        "fallback": (env_fallback, ["DOCKER_TLS_VERIFY"]),
        "aliases": ["tls_verify"],
    },
    "ca_path": {"type": "path", "aliases": ["ca_cert", "tls_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["tls_client_cert", "cert_path"]},
    "client_key": {"type": "path", "aliases": ["tls_client_key", "key_path"]},
    "api_version": {
        "type": "str",
        "default": "auto",
        "fallback": (env_fallback, ["DOCKER_API_VERSION"]),
        "aliases": ["docker_api_version"],
    },
    "timeout": {"type": "int", "default": 60, "fallback": (env_fallback, ["DOCKER_TIMEOUT"])},
}


def docker_argument_spec(spec: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A module's own options merged with the shared connection options."""
    merged = dict(DOCKER_COMMON_ARGS)
    merged.update(spec)
    return merged


def translate_errors(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator: Docker SDK and transport errors become typed errors, classified by type and status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except docker.errors.NotFound as error:
            raise NotFoundError(_explanation(error)) from error
        except docker.errors.APIError as error:
            raise _by_status(error.status_code, _explanation(error)) from error
        except docker.errors.TLSParameterError as error:
            raise ValidationError(str(error), option="ca_path") from error
        except docker.errors.DockerException as error:
            # raised by the SDK before any request, e.g. an unusable docker_host
            raise ValidationError(str(error), option="docker_host") from error
        except requests.exceptions.ConnectionError as error:
            raise TransientError("cannot reach the Docker engine: %s" % error) from error
        except requests.exceptions.Timeout as error:
            raise TransientError("the Docker engine did not answer in time: %s" % error) from error

    return wrapper


def _explanation(error: Any) -> str:
    return str(getattr(error, "explanation", None) or error)


def _by_status(status: int | None, message: str) -> Exception:
    if status == 401:
        return AuthenticationError(message)
    if status == 403:
        return PermissionDeniedError(message)
    if status == 404:
        return NotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status is not None and status >= 500:
        return TransientError(message, details={"status": status})
    return BackendError(message, status=status)


@translate_errors
def connect(params: dict[str, Any]) -> Any:
    """An ``APIClient`` built from the shared options, checked with a ping."""
    tls_config: Any = False
    if params.get("tls") or params.get("validate_certs"):
        client_cert = None
        if params.get("client_cert") or params.get("client_key"):
            client_cert = (params.get("client_cert"), params.get("client_key"))
        tls_config = docker.tls.TLSConfig(
            client_cert=client_cert,
            ca_cert=params.get("ca_path"),
            verify=bool(params.get("validate_certs")),
        )
    client = docker.APIClient(
        base_url=params["docker_host"],
        version=params.get("api_version") or "auto",
        timeout=params.get("timeout") or 60,
        tls=tls_config,
    )
    client.ping()
    return client


def client_from_module(module: Any) -> Any:
    """The engine client for an AnsibleModule, or ``fail_json`` when the SDK is missing."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker (the Docker SDK for Python)"))
    return connect(module.params)
