# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Save images to a ``docker save`` archive and load them back, each only when needed.

An archive is described by its ``manifest.json``: one entry per image, whose ``Config``
member is the image configuration named after its digest (``<hex>.json`` or, in OCI
layouts, ``blobs/sha256/<hex>``) -- that digest is the image ID -- and whose ``RepoTags``
are the tags the image gets when loaded. Saving is skipped when the archive already maps
the same IDs to the same tags; loading is skipped when the engine already does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    TaskFailedError,
    ValidationError,
    VirtlabError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import translate_errors
from ansible_collections.virtlab.infra.plugins.module_utils.docker.images import (
    image_id_by_id,
    image_id_of,
    require_image_id,
    tagged_reference,
)

MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024
T = TypeVar("T")

# image ID -> sorted tags it carries in the archive (empty for an image saved by ID)
ArchiveImages = dict[str, list[str]]


@dataclass
class ArchiveRequest:
    """What the user asked for, validated by ``from_params``."""

    path: str
    state: str
    images: list[str] = field(default_factory=list)
    force: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ArchiveRequest":
        path = os.path.abspath(params["path"])
        state = params.get("state") or "saved"
        images = list(dict.fromkeys(params.get("images") or []))
        if os.path.isdir(path):
            raise ValidationError("%s is a directory, not an archive file" % path, option="path")
        if state == "saved":
            if not images:
                raise ValidationError("name at least one image to save", option="images")
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                raise ValidationError("directory %s of the archive does not exist" % directory, option="path")
        elif images:
            raise ValidationError("only used with state=saved; a load takes every image of the archive", option="images")
        elif not os.path.isfile(path):
            raise ValidationError("no archive file at %s" % path, option="path")
        return cls(path=path, state=state, images=images, force=bool(params.get("force")))


def read_archive(path: str) -> ArchiveImages:
    """The images an archive holds, checked for completeness; any problem is a ``ValidationError`` on ``path``.

    Every member the manifest names must be present, and every image configuration must
    hash to the ID its name claims, so a truncated or tampered file never counts as "same".
    Compressed archives (as ``docker load`` accepts them) are read too.
    """
    try:
        with tarfile.open(path, "r:*") as archive:
            members = {_member_name(member.name): member for member in archive.getmembers()}
            manifest = _read_json(archive, members, MANIFEST)
            if not isinstance(manifest, list) or not all(isinstance(entry, dict) for entry in manifest):
                raise _invalid(path, "%s is not a list of images" % MANIFEST)
            images: dict[str, set[str]] = {}
            for entry in manifest:
                image_id = _config_id(archive, members, entry, path)
                for layer in entry.get("Layers") or []:
                    if layer not in members:
                        raise _invalid(path, "layer %s of image %s is missing (incomplete archive)" % (layer, image_id))
                tags = images.setdefault(image_id, set())
                for tag in entry.get("RepoTags") or []:
                    tags.add(tagged_reference(str(tag), option="path"))
    except (OSError, EOFError, tarfile.TarError, ValueError) as error:
        raise _invalid(path, "cannot read it: %s" % error) from error
    if not images:
        raise _invalid(path, "it holds no image")
    return {image_id: sorted(tags) for image_id, tags in images.items()}


def _member_name(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _read_json(archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> Any:
    member = members.get(name)
    handle = archive.extractfile(member) if member is not None else None
    if handle is None:
        raise _invalid(archive.name, "%s is missing: not an archive made by docker save" % name)
    with handle:
        return json.loads(handle.read().decode("utf-8"))


def _config_id(archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], entry: dict[str, Any], path: str) -> str:
    config = entry.get("Config")
    if not isinstance(config, str) or not config:
        raise _invalid(path, "an entry of %s names no image configuration" % MANIFEST)
    name = os.path.basename(config)
    hex_digest = name[:-len(".json")] if name.endswith(".json") else name
    member = members.get(config)
    handle = archive.extractfile(member) if member is not None else None
    if handle is None:
        raise _invalid(path, "image configuration %s is missing (incomplete archive)" % config)
    with handle:
        if hashlib.sha256(handle.read()).hexdigest() != hex_digest:
            raise _invalid(path, "image configuration %s does not match its digest (damaged archive)" % config)
    return "sha256:" + hex_digest


def _invalid(path: Any, problem: str) -> ValidationError:
    return ValidationError("%s is not a usable image archive: %s" % (path, problem), option="path")


def _as_list(images: ArchiveImages) -> list[dict[str, Any]]:
    return [{"id": image_id, "tags": tags} for image_id, tags in sorted(images.items())]


class ImageArchiveService:
    """Writes an archive only when its images differ; loads one only when the engine lacks its images or tags."""

    def __init__(self, api: Any, *, check_mode: bool) -> None:
        self.api = api
        self.check_mode = check_mode

    @translate_errors
    def ensure(self, request: ArchiveRequest) -> dict[str, Any]:
        if request.state == "saved":
            return self._save(request)
        return self._load(request)

    # ------------------------------------------------------------------ save

    def _save(self, request: ArchiveRequest) -> dict[str, Any]:
        names, wanted = self._wanted(request.images)
        before: ArchiveImages = {}
        if os.path.isfile(request.path):
            # a file there that is no usable archive is replaced, like a differing one
            with contextlib.suppress(ValidationError):
                before = read_archive(request.path)
        changed = request.force or before != wanted
        after = wanted if changed else before
        if changed and not self.check_mode:
            after = self._write(request.path, names)
        return {
            "changed": changed,
            "path": request.path,
            "images": _as_list(after),
            "diff": make_diff({"images": before}, {"images": after}),
        }

    def _wanted(self, entries: list[str]) -> tuple[list[str], ArchiveImages]:
        """(names to ask the engine for, the images and tags the archive must then hold)."""
        names: list[str] = []
        wanted: dict[str, set[str]] = {}
        for entry in entries:
            image_id = image_id_by_id(self.api, entry)
            if image_id is not None:
                # saved by ID: the archive holds the image without a tag
                names.append(image_id)
                wanted.setdefault(image_id, set())
                continue
            # a bare repository means its "latest" tag: the engine would otherwise save every tag of it
            reference = tagged_reference(entry, option="images")
            image_id = require_image_id(self.api, reference, option="images")
            names.append(reference)
            wanted.setdefault(image_id, set()).add(reference)
        return list(dict.fromkeys(names)), {image_id: sorted(tags) for image_id, tags in wanted.items()}

    @translate_errors
    def _export(self, names: list[str]) -> Iterator[bytes]:
        # The SDK's APIClient.get_image() saves one image per archive, and separate archives
        # cannot be joined into one that `docker load` accepts. The engine's own endpoint
        # /images/get takes several `names` and writes one archive (shared layers stored
        # once), so it is called through the SDK's request helpers: same base URL, API
        # version, TLS, timeouts and error classes as every other call.
        response = self.api._get(self.api._url("/images/get"), params={"names": names}, stream=True)
        return self.api._stream_raw_result(response, _CHUNK, False)

    def _write(self, path: str, names: list[str]) -> ArchiveImages:
        """Stream the archive to a temporary file beside ``path``, check it, then rename it over ``path``."""
        mode = _file_mode(path)
        try:
            fd, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".part", dir=os.path.dirname(path))
        except OSError as error:
            raise VirtlabError("path: cannot create a file beside %s: %s" % (path, error), details={"option": "path"}) from error
        try:
            with os.fdopen(fd, "wb") as handle:
                stream = self._export(names)
                # engine errors arrive typed from _next_chunk, so the OSError below is the local file's
                for chunk in iter(lambda: _next_chunk(stream), b""):
                    _local_io(path, handle.write, chunk)
                _local_io(path, handle.flush)
                _local_io(path, os.fsync, handle.fileno())
            _local_io(path, os.chmod, temporary, mode)
            written = read_archive(temporary)
            _local_io(path, os.replace, temporary, path)
        except BaseException:
            # nothing half-made: the temporary file goes, a previous archive stays as it was
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return written

    # ------------------------------------------------------------------ load

    def _load(self, request: ArchiveRequest) -> dict[str, Any]:
        images = read_archive(request.path)
        before = self._engine_state(images)
        after = {
            "tags": {tag: image_id for image_id, tags in images.items() for tag in tags},
            "images": sorted(images),
        }
        changed = before != after
        if (changed or request.force) and not self.check_mode:
            self._import(request.path)
            loaded = self._engine_state(images)
            if loaded != after:
                raise TaskFailedError(
                    "path: the engine loaded %s but does not show all of its images and tags" % request.path,
                    details={"option": "path", "expected": after, "found": loaded},
                )
        return {
            "changed": changed,
            "path": request.path,
            "images": _as_list(images),
            "diff": make_diff(before, after),
        }

    def _engine_state(self, images: ArchiveImages) -> dict[str, Any]:
        """What the engine holds of an archive's images: the IDs of its tags and which of its images exist."""
        return {
            "tags": {tag: image_id_of(self.api, tag) for tags in images.values() for tag in tags},
            "images": sorted(image_id for image_id in images if image_id_of(self.api, image_id) == image_id),
        }

    def _import(self, path: str) -> None:
        with _local_io(path, open, path, "rb") as handle:
            # a file object is streamed to the engine, never read into memory
            for chunk in self.api.load_image(handle, quiet=True):
                if chunk.get("error") or chunk.get("errorDetail"):
                    message = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error")
                    raise TaskFailedError("path: the engine could not load %s: %s" % (path, message), details={"option": "path"})


def _file_mode(path: str) -> int:
    """The mode of the archive being replaced, or the default of new files under the current umask."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@translate_errors
def _next_chunk(stream: Iterator[bytes]) -> bytes:
    """The next piece of an engine stream (``b""`` at its end), with engine errors typed."""
    return next(stream, b"")


def _local_io(path: str, action: Callable[..., T], *args: Any) -> T:
    """Run a local file operation on the archive; its ``OSError`` becomes an error naming ``path``."""
    try:
        return action(*args)
    except OSError as error:
        raise VirtlabError("path: cannot write or read %s: %s" % (path, error), details={"option": "path"}) from error
