# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build an image only when its inputs changed; ``changed`` only when a tag moves."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    NotFoundError,
    TaskFailedError,
    ValidationError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.docker.build_inputs import (
    DIGEST_LABEL,
    base_images,
    inputs_digest,
)
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import translate_errors
from ansible_collections.virtlab.infra.plugins.module_utils.docker.images import (
    image_id_of,
    repository_and_tags,
    split_reference,
    tag_image,
)

_STEP = re.compile(r"^Step \d+/\d+ : ")


@dataclass
class BuildRequest:
    """What the user asked for, validated by ``from_params``."""

    repository: str
    tags: list[str]
    context: str
    dockerfile: Optional[str] = None
    dockerfile_content: Optional[str] = None
    build_args: dict[str, str] = field(default_factory=dict)
    target: Optional[str] = None
    labels: dict[str, str] = field(default_factory=dict)
    pull: bool = False
    no_cache: bool = False
    force: bool = False
    network: Optional[str] = None
    platform: Optional[str] = None
    log_lines: int = 30

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "BuildRequest":
        repository, tags = repository_and_tags(params["name"], params.get("tags"))
        context = params["path"]
        if not os.path.isdir(context):
            raise ValidationError("build context %s is not a directory" % context, option="path")
        if params.get("log_lines", 30) < 0:
            raise ValidationError("must not be negative", option="log_lines")
        return cls(
            repository=repository,
            tags=tags,
            context=os.path.abspath(context),
            dockerfile=params.get("dockerfile"),
            dockerfile_content=params.get("dockerfile_content"),
            build_args={str(k): str(v) for k, v in (params.get("build_args") or {}).items()},
            target=params.get("target"),
            labels={str(k): str(v) for k, v in (params.get("labels") or {}).items()},
            pull=bool(params.get("pull")),
            no_cache=bool(params.get("no_cache")),
            force=bool(params.get("force")),
            network=params.get("network"),
            platform=params.get("platform"),
            log_lines=params.get("log_lines", 30),
        )

    @property
    def references(self) -> list[str]:
        return ["%s:%s" % (self.repository, tag) for tag in self.tags]


class ImageBuildService:
    """Decides from the build-input digest whether to build, then builds and tags."""

    def __init__(self, api: Any, *, check_mode: bool) -> None:
        self.api = api
        self.check_mode = check_mode

    @translate_errors
    def ensure(self, request: BuildRequest) -> dict[str, Any]:
        dockerfile_path, dockerfile_text, dockerfile_in_context = self._dockerfile(request)
        base_ids = {image: self._base_image_id(image, request.pull) for image in base_images(dockerfile_text, request.build_args)}
        digest = inputs_digest(
            context=request.context,
            dockerfile_in_context=dockerfile_in_context,
            dockerfile_text=dockerfile_text,
            build_args=request.build_args,
            target=request.target,
            labels=request.labels,
            platform=request.platform,
            base_image_ids=base_ids,
        )
        before = {reference: image_id_of(self.api, reference) for reference in request.references}
        image_id = None if request.force else self._image_with_digest(digest, before[request.references[0]])
        built = image_id is None
        log: list[str] = []
        if built and not self.check_mode:
            image_id, log = self._build(request, dockerfile_path, dockerfile_text, digest)
        if self.check_mode:
            # an image to build has no ID yet: every tag would move to it
            after = {reference: image_id or "(image to build)" for reference in request.references}
        else:
            for reference in request.references:
                if before[reference] != image_id:
                    tag_image(self.api, image_id, reference)
            after = {reference: image_id_of(self.api, reference) for reference in request.references}
        changed = before != after
        return {
            "changed": changed,
            "built": built,
            "image_id": image_id,
            "tags": request.references,
            "inputs_digest": digest,
            "base_images": base_ids,
            "build_log": log[-request.log_lines:] if request.log_lines else [],
            "diff": make_diff({"tags": before}, {"tags": after}),
        }

    def _dockerfile(self, request: BuildRequest) -> tuple[str, str, Optional[str]]:
        """(path to pass to the engine, its text, its path relative to the context or None)."""
        if request.dockerfile_content is not None:
            # outside the context: the SDK adds it to the build archive under a private name
            handle = tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", delete=False, encoding="utf-8")
            with handle:
                handle.write(request.dockerfile_content)
            return handle.name, request.dockerfile_content, None
        path = request.dockerfile or "Dockerfile"
        full = path if os.path.isabs(path) else os.path.join(request.context, path)
        if not os.path.isfile(full):
            raise ValidationError("no Dockerfile at %s" % full, option="dockerfile")
        with open(full, encoding="utf-8") as handle:
            text = handle.read()
        relative = os.path.relpath(full, request.context)
        return full, text, None if relative.startswith("..") else relative

    def _base_image_id(self, image: str, pull: bool) -> str:
        if pull and not self.check_mode:
            repository, tag = split_reference(image, option="dockerfile")
            self.api.pull(repository, tag=tag or "latest")
        found = image_id_of(self.api, image)
        if found is None:
            raise NotFoundError(
                "base image %s (a FROM line of the Dockerfile) is not on the engine; build or load it first, or set pull=true" % image,
                details={"base_image": image},
            )
        return found

    def _image_with_digest(self, digest: str, tagged_id: Optional[str]) -> Optional[str]:
        """The image built from these inputs before: the tagged one if it qualifies, else the newest."""
        candidates = self.api.images(filters={"label": "%s=%s" % (DIGEST_LABEL, digest)}, quiet=False)
        ids = [image["Id"] for image in sorted(candidates, key=lambda image: image.get("Created", 0), reverse=True)]
        if tagged_id in ids:
            return tagged_id
        return ids[0] if ids else None

    def _build(self, request: BuildRequest, dockerfile_path: str, dockerfile_text: str, digest: str) -> tuple[str, list[str]]:
        log: list[str] = []
        step = ""
        image_id = None
        options: dict[str, Any] = {
            "path": request.context,
            "dockerfile": dockerfile_path,
            "buildargs": request.build_args,
            "labels": dict(request.labels, **{DIGEST_LABEL: digest}),
            "nocache": request.no_cache,
            "rm": True,
            "forcerm": True,
            "decode": True,
        }
        for key, value in (("target", request.target), ("network_mode", request.network), ("platform", request.platform)):
            if value:
                options[key] = value
        try:
            for chunk in self.api.build(**options):
                for line in chunk.get("stream", "").splitlines():
                    if line.strip():
                        log.append(line.rstrip())
                        if _STEP.match(line):
                            step = line.strip()
                if "error" in chunk or "errorDetail" in chunk:
                    message = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error")
                    log.append(message)
                    raise TaskFailedError(
                        "image build failed at %s: %s" % (step or "the start", message),
                        exit_status=(chunk.get("errorDetail") or {}).get("code"),
                        log_tail=log[-request.log_lines:],
                        details={"failed_step": step},
                    )
                aux = chunk.get("aux") or {}
                if aux.get("ID"):
                    image_id = aux["ID"]
        finally:
            if request.dockerfile_content is not None:
                os.unlink(dockerfile_path)
        if image_id is None:
            # engines that do not send the aux record print "Successfully built <short id>"
            built = [line.split()[-1] for line in log if line.startswith("Successfully built ")]
            image_id = image_id_of(self.api, built[-1]) if built else None
        if image_id is None:
            raise TaskFailedError("image build ended without an image", log_tail=log[-request.log_lines:])
        return image_id, log
