# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small image look-ups shared by the image services: references, IDs, tags."""

from __future__ import annotations

import re
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import NotFoundError, ValidationError

# [registry[:port]/]path[:tag] -- lower-case path components as the engine requires
_REFERENCE = re.compile(
    r"^(?P<repository>(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$"
)
# a full image ID or an unambiguous hex prefix of one, as the engine accepts them
_IMAGE_ID = re.compile(r"^(?:sha256:[0-9a-f]{64}|[0-9a-f]{12,64})$")


def split_reference(reference: str, *, option: str) -> tuple[str, Optional[str]]:
    """``registry:5000/app:1.0`` -> (``registry:5000/app``, ``1.0``); bad input names ``option``."""
    found = _REFERENCE.match(reference or "")
    if not found:
        raise ValidationError("%r is not a valid image reference (repository[:tag], lower case)" % reference, option=option)
    return found.group("repository"), found.group("tag")


def inspect_image_or_none(api: Any, reference: str) -> Optional[dict[str, Any]]:
    """The engine's ``inspect`` of the image a reference (or ID) names, or None when it has none."""
    from docker.errors import NotFound  # the SDK is present whenever an api client exists

    try:
        return api.inspect_image(reference)
    except NotFound:
        return None


def repository_and_tags(name: str, tags: Optional[list[str]]) -> tuple[str, list[str]]:
    """The repository of option ``name`` and the tags to manage: a tag in ``name`` first, then ``tags``.

    Duplicates are dropped; with no tag anywhere the tag is ``latest``. Bad input names its option.
    """
    repository, tag_in_name = split_reference(name, option="name")
    wanted = ([tag_in_name] if tag_in_name else []) + list(tags or [])
    wanted = list(dict.fromkeys(wanted or ["latest"]))
    for tag in wanted:
        split_reference("%s:%s" % (repository, tag), option="tags")
    return repository, wanted


def image_id_of(api: Any, reference: str) -> Optional[str]:
    """The ID of the image a reference (or ID) names, or None when the engine has none."""
    found = inspect_image_or_none(api, reference)
    return None if found is None else found["Id"]


def require_image_id(api: Any, reference: str, *, option: str) -> str:
    image_id = image_id_of(api, reference)
    if image_id is None:
        raise NotFoundError("%s: image %s is not on the engine" % (option, reference), details={"option": option})
    return image_id


def tag_image(api: Any, image_id: str, reference: str) -> None:
    repository, tag = split_reference(reference, option="tags")
    api.tag(image_id, repository, tag or "latest", force=True)


def tagged_reference(reference: str, *, option: str) -> str:
    """``repository:tag`` in the engine's short ("familiar") spelling; no tag means ``latest``.

    ``docker.io/library/debian`` -> ``debian:latest``: the form the engine writes into the
    ``RepoTags`` of ``docker save`` archives and of ``inspect``, so both compare as strings.
    """
    repository, tag = split_reference(reference, option=option)
    for prefix in ("docker.io/", "index.docker.io/"):
        if repository.startswith(prefix):
            repository = repository[len(prefix):]
            if repository.startswith("library/") and repository.count("/") == 1:
                repository = repository[len("library/"):]
            break
    return "%s:%s" % (repository, tag or "latest")


def image_id_by_id(api: Any, value: str) -> Optional[str]:
    """The full ID when ``value`` is an image ID (``sha256:<hex>`` or a hex prefix of 12+ digits), else None."""
    if not _IMAGE_ID.match(value or ""):
        return None
    found = image_id_of(api, value)
    hex_part = value.split(":", 1)[-1]
    return found if found is not None and found.split(":", 1)[-1].startswith(hex_part) else None
