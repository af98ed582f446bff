# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Push tags only when the registry does not already hold the local image."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import TransientError
from ansible_collections.virtlab.infra.plugins.module_utils.common.retry import RetryPolicy, call_with_retry
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import translate_errors
from ansible_collections.virtlab.infra.plugins.module_utils.docker.images import repository_and_tags, require_image_id
from ansible_collections.virtlab.infra.plugins.module_utils.docker.registry import (
    Credentials,
    RegistryClient,
    is_insecure_registry,
)

try:
    from docker.auth import load_config, resolve_authconfig, resolve_repository_name
except ImportError:  # reported by the module before this runs
    load_config = resolve_authconfig = resolve_repository_name = None


@dataclass
class PushRequest:
    repository: str
    tags: list[str]
    username: Optional[str] = None
    password: Optional[str] = None
    docker_config: Optional[str] = None
    retries: int = 3

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "PushRequest":
        repository, tags = repository_and_tags(params["name"], params.get("tags"))
        return cls(repository=repository, tags=tags, username=params.get("username"), password=params.get("password"),
                   docker_config=params.get("docker_config"), retries=params.get("retries", 3))

    @property
    def references(self) -> list[str]:
        return ["%s:%s" % (self.repository, tag) for tag in self.tags]


class ImagePushService:
    """Compares the registry's manifest digest with the local image before pushing."""

    def __init__(self, api: Any, *, check_mode: bool, sleep: Any = None) -> None:
        self.api = api
        self.check_mode = check_mode
        self.sleep = sleep

    @translate_errors
    def ensure(self, request: PushRequest) -> dict[str, Any]:
        registry, path = resolve_repository_name(request.repository)
        credentials = self._credentials(request, registry)
        client = RegistryClient(registry, credentials, insecure=is_insecure_registry(registry, self.api.info()))
        policy = RetryPolicy(attempts=request.retries + 1, base_delay=1.0, max_delay=10.0)
        auth_config = None
        if credentials is not None:
            auth_config = {"username": credentials.username, "password": credentials.password, "serveraddress": registry}

        before: dict[str, Optional[str]] = {}
        after: dict[str, Optional[str]] = {}
        pushed = []
        for tag, reference in zip(request.tags, request.references):
            image_id = require_image_id(self.api, reference, option="name")
            remote = self._retry(lambda: client.manifest_digest(path, tag), policy)
            before[reference] = remote
            if remote is not None and remote in self._local_digests(image_id, request.repository):
                after[reference] = remote
            elif self.check_mode:
                after[reference] = "(digest after push)"
            else:
                self._retry(lambda: self._push(request.repository, tag, auth_config), policy)
                after[reference] = self._retry(lambda: client.manifest_digest(path, tag), policy)
            pushed.append({"reference": reference, "image_id": image_id, "digest": after[reference],
                           "changed": after[reference] != before[reference]})
        return {
            "changed": before != after,
            "registry": registry,
            "images": pushed,
            "digests": {item["reference"]: item["digest"] for item in pushed},
            "diff": make_diff({"digests": before}, {"digests": after}),
        }

    def _retry(self, func: Any, policy: RetryPolicy) -> Any:
        options = {} if self.sleep is None else {"sleep": self.sleep}
        try:
            return call_with_retry(func, policy, **options)
        except TransientError as error:
            raise TransientError("%s (gave up after %d attempts)" % (error.message, policy.attempts), details=error.details) from error

    def _credentials(self, request: PushRequest, registry: str) -> Optional[Credentials]:
        if request.username:
            return Credentials(request.username, request.password or "")
        config_path = request.docker_config
        if config_path and os.path.isdir(config_path):
            config_path = os.path.join(config_path, "config.json")
        stored = resolve_authconfig(load_config(config_path=config_path), registry) or {}
        if stored.get("username") or stored.get("Username"):
            return Credentials(stored.get("username") or stored.get("Username"), stored.get("password") or stored.get("Secret") or "")
        return None

    def _local_digests(self, image_id: str, repository: str) -> set[str]:
        digests = self.api.inspect_image(image_id).get("RepoDigests") or []
        return {entry.split("@", 1)[1] for entry in digests if entry.split("@", 1)[0] == repository}

    def _push(self, repository: str, tag: str, auth_config: Optional[dict[str, str]]) -> Optional[str]:
        digest = None
        for chunk in self.api.push(repository, tag=tag, auth_config=auth_config, stream=True, decode=True):
            if "error" in chunk or "errorDetail" in chunk:
                # the registry already accepted our credentials (manifest check): a failure while
                # uploading is treated as transient and retried
                message = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error")
                raise TransientError("push of %s:%s failed: %s" % (repository, tag, message), details={"reference": "%s:%s" % (repository, tag)})
            digest = (chunk.get("aux") or {}).get("Digest") or digest
        return digest
