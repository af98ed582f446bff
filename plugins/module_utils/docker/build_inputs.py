# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The digest of everything an image build depends on.

Two builds with the same digest produce the same image (modulo non-reproducible RUN
steps), so the digest, stored as an image label, is what decides whether to build:
- the build context as the engine receives it, i.e. after ``.dockerignore`` (paths,
  modes, file contents, symlink targets);
- the Dockerfile's content;
- build args, target, labels and platform;
- the image ID of every base image named by a ``FROM`` line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from typing import Any, Optional

try:
    from docker.utils.build import exclude_paths
except ImportError:  # the module reports the missing SDK before any of this runs
    exclude_paths = None

DIGEST_LABEL = "io.virtlab.build-inputs-digest"

_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<alias>\S+))?\s*$", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<default>\S*))?\s*$", re.IGNORECASE)
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def dockerignore_patterns(context: str) -> list[str]:
    """The patterns of ``<context>/.dockerignore`` as the Docker SDK reads them."""
    path = os.path.join(context, ".dockerignore")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def context_digest(context: str, dockerfile_in_context: Optional[str]) -> str:
    """sha256 over the files the engine would receive, in a stable order."""
    files = exclude_paths(context, dockerignore_patterns(context), dockerfile=dockerfile_in_context)
    digest = hashlib.sha256()
    for relative in sorted(files):
        full = os.path.join(context, relative)
        info = os.lstat(full)
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(b"%o\0" % stat.S_IMODE(info.st_mode))
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"L" + os.readlink(full).encode("utf-8", "surrogateescape"))
        elif stat.S_ISREG(info.st_mode):
            digest.update(b"F%d\0" % info.st_size)
            with open(full, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        else:
            digest.update(b"D")
        digest.update(b"\0")
    return digest.hexdigest()


def base_images(dockerfile_text: str, build_args: dict[str, str]) -> list[str]:
    """Image references of the ``FROM`` lines that are not earlier stages or ``scratch``.

    ``ARG`` values before the first ``FROM`` (defaults overridden by build args) are
    substituted, as the engine does.
    """
    global_args: dict[str, str] = {}
    aliases: set[str] = set()
    images: list[str] = []
    seen_from = False
    for line in _logical_lines(dockerfile_text):
        arg = _ARG.match(line)
        if arg and not seen_from:
            name = arg.group("name")
            global_args[name] = build_args.get(name, arg.group("default") or "")
            continue
        found = _FROM.match(line)
        if not found:
            continue
        seen_from = True
        image = _VARIABLE.sub(lambda m: global_args.get(m.group("braced") or m.group("plain"), ""), found.group("image"))
        if image.lower() != "scratch" and image not in aliases and image not in images:
            images.append(image)
        if found.group("alias"):
            aliases.add(found.group("alias"))
    return images


def _logical_lines(text: str) -> list[str]:
    """Dockerfile lines with backslash continuations joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def inputs_digest(
    *,
    context: str,
    dockerfile_in_context: Optional[str],
    dockerfile_text: str,
    build_args: dict[str, str],
    target: Optional[str],
    labels: dict[str, str],
    platform: Optional[str],
    base_image_ids: dict[str, str],
) -> str:
    """The single digest of all build inputs (see the module docstring)."""
    summary: dict[str, Any] = {
        "context": context_digest(context, dockerfile_in_context),
        "dockerfile": hashlib.sha256(dockerfile_text.encode("utf-8")).hexdigest(),
        "build_args": dict(sorted(build_args.items())),
        "target": target or "",
        "labels": dict(sorted(labels.items())),
        "platform": platform or "",
        "bases": dict(sorted(base_image_ids.items())),
    }
    return "sha256:" + hashlib.sha256(json.dumps(summary, sort_keys=True).encode("utf-8")).hexdigest()
