# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client of the registry HTTP API v2: manifest digests, with Basic or Bearer auth.

It lets the push module compare the registry's digest with the local image before pushing
(a real check mode), and classifies registry answers once, by HTTP status.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    AuthenticationError,
    BackendError,
    PermissionDeniedError,
    TransientError,
)

try:
    import requests
    import requests.exceptions
except ImportError:  # reported by the module before this runs
    requests = None

MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def is_insecure_registry(registry: str, engine_info: dict[str, Any]) -> bool:
    """Whether the engine talks plain HTTP to ``registry`` (loopback and configured CIDRs/names)."""
    registry_config = engine_info.get("RegistryConfig") or {}
    index = (registry_config.get("IndexConfigs") or {}).get(registry)
    if index is not None:
        return not index.get("Secure", True)
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    cidrs = registry_config.get("InsecureRegistryCIDRs") or ["127.0.0.0/8"]
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


class RegistryClient:
    """Reads manifest digests from one registry."""

    def __init__(self, registry: str, credentials: Optional[Credentials], *, insecure: bool, timeout: float = 30) -> None:
        self.registry = registry
        self.credentials = credentials
        self.timeout = timeout
        self.schemes = ("https", "http") if insecure else ("https",)
        self.session = requests.Session()
        self._bearer: dict[str, str] = {}

    def manifest_digest(self, path: str, tag: str) -> Optional[str]:
        """The digest of ``<path>:<tag>`` in the registry, or None when the tag does not exist."""
        response = self._request("HEAD", "/v2/%s/manifests/%s" % (path, tag), scope="repository:%s:pull" % path)
        if response.status_code == 404:
            return None
        self._raise_for_status(response)
        return response.headers.get("Docker-Content-Digest")

    def _request(self, method: str, url_path: str, *, scope: str) -> Any:
        last_error: Optional[Exception] = None
        for scheme in self.schemes:
            url = "%s://%s%s" % (scheme, self.registry, url_path)
            try:
                response = self._send(method, url, scope)
            except requests.exceptions.SSLError as error:
                last_error = error  # an insecure registry may speak plain HTTP: try the next scheme
                continue
            except requests.exceptions.ConnectionError as error:
                last_error = error
                continue
            except requests.exceptions.Timeout as error:
                raise TransientError("registry %s did not answer in time" % self.registry) from error
            return response
        raise TransientError("cannot reach registry %s: %s" % (self.registry, last_error), details={"registry": self.registry})

    def _send(self, method: str, url: str, scope: str) -> Any:
        headers = {"Accept": MANIFEST_TYPES}
        if scope in self._bearer:
            headers["Authorization"] = "Bearer " + self._bearer[scope]
        # verify per request: REQUESTS_CA_BUNDLE would override a session-level setting
        response = self.session.request(method, url, headers=headers, timeout=self.timeout, verify=True)
        if response.status_code != 401 or self.credentials is None:
            return response
        challenge = response.headers.get("WWW-Authenticate", "")
        auth = (self.credentials.username, self.credentials.password)
        if challenge.lower().startswith("bearer"):
            self._bearer[scope] = self._token(challenge, scope, url.split("://", 1)[0])
            headers["Authorization"] = "Bearer " + self._bearer[scope]
            return self.session.request(method, url, headers=headers, timeout=self.timeout, verify=True)
        return self.session.request(method, url, headers=headers, auth=auth, timeout=self.timeout, verify=True)

    def _token(self, challenge: str, scope: str, scheme: str) -> str:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise BackendError("registry %s sent a Bearer challenge without realm" % self.registry)
        params.setdefault("scope", scope)
        response = self.session.get(
            realm, params=params, timeout=self.timeout, verify=True,
            auth=(self.credentials.username, self.credentials.password) if self.credentials else None,
        )
        self._raise_for_status(response)
        body = response.json()
        return body.get("token") or body.get("access_token") or ""

    def _raise_for_status(self, response: Any) -> None:
        status = response.status_code
        if status < 400:
            return
        details = {"registry": self.registry, "status": status}
        if status == 401:
            raise AuthenticationError("registry %s refused the credentials (HTTP 401)" % self.registry, details=details)
        if status == 403:
            raise PermissionDeniedError("registry %s denied access (HTTP 403)" % self.registry, details=details)
        if status == 429 or status >= 500:
            raise TransientError("registry %s answered HTTP %d" % (self.registry, status), details=details)
        raise BackendError("registry %s answered HTTP %d" % (self.registry, status), status=status, details={"registry": self.registry})
