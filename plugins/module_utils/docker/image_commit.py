# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit a container's filesystem into an image, only when the container changed since the last commit.

The commit source -- the container ID, the engine's listing of the container's changes
(paths and kinds), the ``changes`` instructions, the comment (commit message) and the author -- is hashed
and stored in the image label ``io.virtlab.commit-source``. A commit is skipped when the
tag already points at an image with that label value. The listing names changed paths,
not their contents: editing a file the container had already changed leaves the digest
as it was (``force`` commits anyway).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import NotFoundError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import translate_errors
from ansible_collections.virtlab.infra.plugins.module_utils.docker.images import (
    image_id_of,
    inspect_image_or_none,
    split_reference,
)

COMMIT_LABEL = "io.virtlab.commit-source"
# the Dockerfile instructions the engine applies on commit
COMMIT_INSTRUCTIONS = frozenset(
    ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR")
)
_TO_COMMIT = "(image to commit)"


@dataclass
class CommitRequest:
    """What the user asked for, validated by ``from_params``."""

    container: str
    repository: str
    tag: str
    comment: Optional[str] = None
    author: Optional[str] = None
    changes: list[str] = field(default_factory=list)
    pause: bool = True
    force: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "CommitRequest":
        if not params.get("container"):
            raise ValidationError("name or ID of a container required", option="container")
        repository, tag = split_reference(params["name"], option="name")
        changes = [str(change).strip() for change in params.get("changes") or []]
        for change in changes:
            # keyword and presence of arguments are checked here, so check mode predicts these failures;
            # the engine parses the arguments themselves when it commits
            words = change.split(None, 1)
            if not words or words[0].upper() not in COMMIT_INSTRUCTIONS:
                raise ValidationError(
                    "%r is not an instruction the engine applies on commit (one of %s)" % (change, ", ".join(sorted(COMMIT_INSTRUCTIONS))),
                    option="changes",
                )
            if len(words) < 2:
                raise ValidationError("%r has no arguments" % change, option="changes")
        return cls(
            container=params["container"],
            repository=repository,
            tag=tag or "latest",
            comment=params.get("comment"),
            author=params.get("author"),
            changes=changes,
            pause=bool(params.get("pause", True)),
            force=bool(params.get("force")),
        )

    @property
    def reference(self) -> str:
        return "%s:%s" % (self.repository, self.tag)


def commit_digest(container_id: str, listing: list[tuple[str, int]], request: CommitRequest) -> str:
    """Digest of what a commit would capture, as stored in the ``io.virtlab.commit-source`` label."""
    source = {
        "container": container_id,
        "diff": [[path, kind] for path, kind in sorted(listing)],
        "changes": request.changes,
        "comment": request.comment,
        "author": request.author,
    }
    encoded = json.dumps(source, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


class ImageCommitService:
    """Compares the commit-source digest with the tagged image's label, then commits and tags."""

    def __init__(self, api: Any, *, check_mode: bool) -> None:
        self.api = api
        self.check_mode = check_mode

    @translate_errors
    def ensure(self, request: CommitRequest) -> dict[str, Any]:
        container_id = self._container_id(request.container)
        listing = [(item["Path"], item["Kind"]) for item in self.api.diff(container_id) or []]
        digest = commit_digest(container_id, listing, request)
        tagged = inspect_image_or_none(self.api, request.reference)
        before = {request.reference: tagged["Id"] if tagged else None}
        labels = ((tagged or {}).get("Config") or {}).get("Labels") or {}
        committed = request.force or labels.get(COMMIT_LABEL) != digest
        if not committed:
            after = dict(before)
        elif self.check_mode:
            after = {request.reference: _TO_COMMIT}
        else:
            self._commit(container_id, request, digest)
            after = {request.reference: image_id_of(self.api, request.reference)}
        image_id = after[request.reference]
        return {
            "changed": before != after,
            "committed": committed,
            "image_id": None if image_id == _TO_COMMIT else image_id,
            "name": request.reference,
            "container_id": container_id,
            "source_digest": digest,
            "diff": make_diff({"tags": before}, {"tags": after}),
        }

    def _container_id(self, container: str) -> str:
        from docker.errors import NotFound  # the SDK is present whenever an api client exists

        try:
            return self.api.inspect_container(container)["Id"]
        except NotFound:
            raise NotFoundError("container: no container %s on the engine" % container, details={"option": "container"}) from None

    def _commit(self, container_id: str, request: CommitRequest, digest: str) -> None:
        from docker.errors import APIError

        try:
            self.api.commit(
                container_id,
                repository=request.repository,
                tag=request.tag,
                message=request.comment,
                author=request.author,
                pause=request.pause,
                # the source label goes last, so a LABEL among the user's changes cannot replace it
                changes=request.changes + ['LABEL %s="%s"' % (COMMIT_LABEL, digest)],
            )
        except APIError as error:
            # the container exists and the name is valid: a rejected request is about the instructions
            if error.status_code == 400:
                raise ValidationError(str(error.explanation or error), option="changes") from error
            raise
