# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``libvirt_volume``: create (empty or from an image file), grow, delete storage volumes."""

from __future__ import annotations

import os
import struct
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.diff import make_diff, parse_size
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import ConflictError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.clone import (
    CommandRunner,
    delete_protected,
    dependents_of,
    describe_dependents,
    describe_volume,
    volume_facts,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import (
    LibvirtConnection,
    translate_errors,
)
from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.xml import volume_xml

QCOW2_MAGIC = b"QFI\xfb"
CHUNK = 4 * 1024 * 1024
_COMPARED = ("format", "capacity", "backing")


def inspect_image(path: str) -> dict[str, Any]:
    """Format and virtual size of an image file, read from its header (qcow2) or its size (raw)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            header = handle.read(32)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", option="import_from") from None
    if header[:4] == QCOW2_MAGIC and len(header) >= 32:
        backing_offset = struct.unpack(">Q", header[8:16])[0]
        virtual_size = struct.unpack(">Q", header[24:32])[0]
        return {"format": "qcow2", "capacity": virtual_size, "file_size": size, "has_backing": backing_offset != 0}
    return {"format": "raw", "capacity": size, "file_size": size, "has_backing": False}


def upload_file(connection: LibvirtConnection, vol: Any, source: str, size: int,
                option: str = "import_from") -> None:
    """Write the bytes of the local file ``source`` into ``vol`` through a libvirt stream
    (works with remote URIs too)."""
    with translate_errors(f"uploading {source}", option=option):
        stream = connection.conn.newStream(0)
        vol.upload(stream, 0, size, 0)
        try:
            with open(source, "rb") as handle:
                while True:
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        break
                    view = memoryview(chunk)
                    while view:
                        sent = stream.send(view.tobytes())
                        view = view[sent:]
            stream.finish()
        except BaseException:
            stream.abort()
            raise


class VolumeService:
    """Declarative state of one volume in one pool."""

    def __init__(self, connection: LibvirtConnection, params: dict[str, Any], check_mode: bool = False,
                 run_command: Optional[CommandRunner] = None) -> None:
        self.connection = connection
        self.params = params
        self.check_mode = check_mode
        self.run_command = run_command

    def ensure(self) -> dict[str, Any]:
        pool = self.connection.require_pool(self.params["pool"])
        vol = self.connection.volume(pool, self.params["name"])
        if vol is None and self.params["state"] == "present":
            # a file put into the pool's directory by hand is a volume only after a refresh
            with translate_errors(f"storage pool {self.params['pool']}"):
                pool.refresh(0)
            vol = self.connection.volume(pool, self.params["name"])
        before = volume_facts(vol, self.params["pool"]) if vol is not None else None
        if self.params["state"] == "absent":
            return self._absent(pool, vol, before)
        if vol is None:
            return self._create(pool)
        return self._update(pool, vol, before)

    # ---------------------------------------------------------------- results

    def _result(self, changed: bool, before: Optional[dict[str, Any]], after: Optional[dict[str, Any]],
                **extra: Any) -> dict[str, Any]:
        def state(facts: Optional[dict[str, Any]]) -> dict[str, Any]:
            if facts is None:
                return {"name": self.params["name"], "state": "absent"}
            out = {"name": self.params["name"], "state": "present"}
            out.update({k: facts.get(k) for k in _COMPARED})
            return out

        result: dict[str, Any] = {"changed": changed, "volume": after or {}}
        result.update(extra)
        result["diff"] = make_diff(state(before), state(after), identity_keys=("name",))
        return result

    # ---------------------------------------------------------------- create

    def _create(self, pool: Any) -> dict[str, Any]:
        source = self.params.get("import_from")
        fmt = self.params.get("format")
        if source:
            image = inspect_image(source)
            if fmt and fmt != image["format"]:
                raise ValidationError(f"{source} is a {image['format']} image, not {fmt}", option="format")
            if image["has_backing"]:
                raise ValidationError(f"{source} has a backing file; import a flattened image", option="import_from")
            fmt = image["format"]
            capacity = image["capacity"]
            if self.params.get("capacity") is not None:
                wanted = parse_size(self.params["capacity"], option="capacity")
                if wanted < capacity:
                    raise ValidationError(f"{wanted} bytes is smaller than the image's {capacity} bytes",
                                          option="capacity")
                capacity = wanted
        else:
            if self.params.get("capacity") is None:
                raise ValidationError("required to create a volume (unless import_from is given)", option="capacity")
            capacity = parse_size(self.params["capacity"], option="capacity")
            if capacity <= 0:
                raise ValidationError("must be larger than 0", option="capacity")
            image = None
        fmt = fmt or "qcow2"
        predicted = {"name": self.params["name"], "pool": self.params["pool"], "path": None, "format": fmt,
                     "capacity": capacity, "allocation": 0, "backing": None, "backing_format": None}
        if self.check_mode:
            return self._result(True, None, predicted)
        if image is None:
            with translate_errors(f"creating volume {self.params['name']}", option="format"):
                vol = pool.createXML(volume_xml(self.params["name"], capacity, fmt), 0)
        else:
            vol = self._import(pool, source, image, capacity)
        return self._result(True, None, volume_facts(vol, self.params["pool"]))

    def _import(self, pool: Any, source: str, image: dict[str, Any], capacity: int) -> Any:
        # raw: the volume gets the image's bytes; qcow2: the file's bytes are the image itself
        with translate_errors(f"creating volume {self.params['name']}"):
            vol = pool.createXML(volume_xml(self.params["name"], image["capacity"], image["format"]), 0)
        try:
            self._upload(vol, source, image["file_size"])
            with translate_errors(f"storage pool {self.params['pool']}"):
                pool.refresh(0)
            vol = self.connection.volume(pool, self.params["name"])
            if capacity > image["capacity"]:
                with translate_errors(f"resizing volume {self.params['name']}", option="capacity"):
                    vol.resize(capacity, 0)
        except BaseException:
            # never leave a half-imported volume behind
            with translate_errors(f"removing half-imported volume {self.params['name']}"):
                vol.delete(0)
            raise
        return vol

    def _upload(self, vol: Any, source: str, size: int) -> None:
        upload_file(self.connection, vol, source, size)

    # ---------------------------------------------------------------- update / delete

    def _check_own(self, before: dict[str, Any]) -> None:
        """An existing volume of the requested name is this task's volume only when it is what the task makes:
        an independent volume (no backing file) of the requested format - O(format), else the image's format
        with O(import_from), else qcow2. Anything else (another format, an overlay such as a linked clone) is
        foreign: the task fails, naming the option, and leaves it as it is."""
        holds = f"volume {self.params['pool']}/{self.params['name']} already exists ({describe_volume(before)})"
        source = self.params.get("import_from")
        fmt = self.params.get("format")
        if fmt and fmt != before["format"]:
            raise ValidationError(f"{holds}; a volume's format cannot be changed, it is left alone", option="format")
        if before["backing"]:
            what = f"the image {source}" if source else "an empty volume"
            raise ValidationError(f"{holds}: it is not {what} made by this task; it is left alone - choose another "
                                  "name or delete it first", option="name")
        wanted = fmt or (inspect_image(source)["format"] if source else "qcow2")
        if wanted != before["format"]:
            if source:
                hint = "choose another name or delete it first"
                what = f"the {wanted} image {source}"
            else:
                hint = f"choose another name, give format={before['format']} if it is yours, or delete it first"
                what = f"an empty {wanted} volume"
            raise ValidationError(f"{holds}: it is not {what}; it is left alone - {hint}", option="name")

    def _update(self, pool: Any, vol: Any, before: dict[str, Any]) -> dict[str, Any]:
        self._check_own(before)
        after = dict(before)
        changed = False
        if self.params.get("capacity") is not None:
            capacity = parse_size(self.params["capacity"], option="capacity")
            if capacity < before["capacity"]:
                raise ValidationError(
                    f"{capacity} bytes is smaller than the volume's {before['capacity']} bytes; shrinking is not "
                    "supported", option="capacity")
            if capacity > before["capacity"]:
                changed = True
                after["capacity"] = capacity
                if not self.check_mode:
                    with translate_errors(f"resizing volume {self.params['name']}", option="capacity"):
                        vol.resize(capacity, 0)
                    after = volume_facts(vol, self.params["pool"])
        if self.params.get("import_from") and self.params.get("force"):
            dependents = dependents_of(self.connection, before["path"])
            if dependents:
                raise ConflictError(
                    f"import_from: volume {self.params['name']} is the backing file of "
                    f"{describe_dependents(dependents)}; overwriting it would corrupt them",
                    details={"dependents": dependents})
            image = inspect_image(self.params["import_from"])
            if image["format"] != before["format"]:
                raise ValidationError(f"{self.params['import_from']} is {image['format']}, the volume is "
                                      f"{before['format']}", option="import_from")
            changed = True
            if not self.check_mode:
                self._upload(vol, self.params["import_from"], image["file_size"])
                with translate_errors(f"storage pool {self.params['pool']}"):
                    pool.refresh(0)
                after = volume_facts(self.connection.volume(pool, self.params["name"]), self.params["pool"])
        return self._result(changed, before, after)

    def _absent(self, pool: Any, vol: Any, before: Optional[dict[str, Any]]) -> dict[str, Any]:
        if vol is None:
            return self._result(False, None, None)
        split = delete_protected(self.connection, vol, pool, split_dependents=self.params["split_dependents"],
                                 check_mode=self.check_mode, run_command=self.run_command)
        return self._result(True, before, None, split_dependents=split)
