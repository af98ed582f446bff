# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Appliance templates and ISO images on a storage: list the appliance index, download, upload, remove."""

from __future__ import annotations

import os
import re
from urllib.parse import quote
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import BackendError, ValidationError
from ansible_collections.virtlab.infra.plugins.module_utils.proxmox.client import ProxmoxClient

_FILENAME_RE = re.compile(r"^[-\w.+]+$")


@dataclass
class TemplateRequest:
    state: str
    storage: str
    content: str
    node: Optional[str] = None
    filename: Optional[str] = None
    url: Optional[str] = None
    checksum: Optional[str] = None
    checksum_algorithm: Optional[str] = None
    verify_certificates: bool = True
    src: Optional[str] = None
    appliance: Optional[str] = None
    list_appliances: bool = False

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "TemplateRequest":
        filename = p.get("filename")
        if p.get("src"):
            if not os.path.isfile(p["src"]):
                raise ValidationError("%s is not a readable file" % p["src"], option="src")
            base = os.path.basename(p["src"])
            if filename and filename != base:
                raise ValidationError("an upload keeps the file's name %r; rename the file or drop filename" % base,
                                      option="filename")
            filename = base
        if p.get("url") and not re.match(r"^https?://[^/\s]+/.*$", p["url"]):
            raise ValidationError("%r is not an http(s) URL of a file" % p["url"], option="url")
        if p.get("url") and not filename:
            filename = p["url"].rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        if filename and not _FILENAME_RE.match(filename):
            raise ValidationError("%r is not a plain file name" % filename, option="filename")
        if p.get("checksum") and not p.get("checksum_algorithm"):
            raise ValidationError("needed with checksum", option="checksum_algorithm")
        if p["state"] == "present" and not (p.get("url") or p.get("src") or p.get("appliance")) and \
                not p.get("list_appliances"):
            raise ValidationError("give url, src or appliance to put a template on the storage", option="state")
        if p["state"] == "absent" and not filename and not p.get("appliance"):
            raise ValidationError("required to remove a template", option="filename")
        return cls(state=p["state"], storage=p["storage"], content=p["content"], node=p.get("node"),
                   filename=filename, url=p.get("url"), checksum=p.get("checksum"),
                   checksum_algorithm=p.get("checksum_algorithm"),
                   verify_certificates=p.get("verify_certificates", True), src=p.get("src"),
                   appliance=p.get("appliance"), list_appliances=p.get("list_appliances", False))


class TemplateService:
    def __init__(self, client: ProxmoxClient, *, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode

    def ensure(self, req: TemplateRequest) -> dict[str, Any]:
        if req.node:
            self.client.check_node(req.node, storages={req.storage: "storage"})
            node = req.node
        else:
            node = self.client.place(storages={req.storage: "storage"})
        for item in self.client.storages():
            if item.get("node") == node and item.get("storage") == req.storage:
                if req.content not in str(item.get("content") or "").split(","):
                    raise ValidationError("storage %r does not hold %s content (it holds %s)" % (
                        req.storage, req.content, item.get("content")), option="storage")
        result: dict[str, Any] = {"changed": False, "node": node, "storage": req.storage}
        appliance = None
        if req.appliance or req.list_appliances:
            index = [a for a in (self.client.get("nodes/%s/aplinfo" % node) or []) if a.get("template")]
            if req.list_appliances:
                result["appliances"] = [a for a in index if not req.appliance or req.appliance in a["template"]
                                        or req.appliance == a.get("package")]
            if req.appliance:
                appliance = self._pick(index, req.appliance)
                req.filename = appliance["template"]
        if not req.filename:
            return result
        volid = "%s:%s/%s" % (req.storage, req.content, req.filename)
        result["volid"] = volid
        present = self.client.volume_exists(node, volid, req.content)
        if req.state == "absent":
            if present:
                result["changed"] = True
                if not self.check_mode:
                    path = "nodes/%s/storage/%s/content/%s" % (node, req.storage, quote(volid, safe=""))
                    self.client.run_task("delete", path, label="remove %s" % volid)
            result["diff"] = {"before": {"volid": volid} if present else {}, "after": {}}
            return result
        result["diff"] = {"before": {"volid": volid} if present else {}, "after": {"volid": volid}}
        if present:
            return result
        result["changed"] = True
        if self.check_mode:
            return result
        if req.src:
            with open(req.src, "rb") as handle:
                upid = self.client.upload(node, req.storage, req.content, handle)
            self.client.wait_task(upid, label="upload %s" % volid)
        elif req.url:
            params: dict[str, Any] = {"url": req.url, "filename": req.filename, "content": req.content,
                                      "verify-certificates": int(bool(req.verify_certificates))}
            if req.checksum:
                params.update({"checksum": req.checksum, "checksum-algorithm": req.checksum_algorithm})
            self.client.run_task("post", "nodes/%s/storage/%s/download-url" % (node, req.storage),
                                 label="download %s" % req.url, **params)
        else:
            self.client.run_task("post", "nodes/%s/aplinfo" % node, storage=req.storage,
                                 template=req.filename, label="download appliance %s" % req.filename)
        if not self.client.volume_exists(node, volid, req.content):
            raise BackendError("the transfer task ended OK but %s is not on the storage" % volid)
        return result

    @staticmethod
    def _pick(index: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
        exact = [a for a in index if wanted in (a.get("template"), a.get("package"))]
        matches = exact or [a for a in index if a["template"].startswith(wanted)]
        if not matches:
            raise ValidationError("no appliance %r in the index of the node" % wanted, option="appliance")
        # the newest version of a package sorts last
        return sorted(matches, key=lambda a: a["template"])[-1]
