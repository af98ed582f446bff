# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dev/test clones on a Docker engine: copy-on-write volumes of a frozen golden data volume.

The golden is an image plus a data volume. A *version* is a frozen copy of the golden volume (a
volume of its own, copied once by a short-lived helper container), so the golden can keep changing
while clones hang off the version. A *clone* is three objects named after it:

- ``<clone>-delta``: a plain volume holding the clone's private writes (``upper/``) and overlayfs'
  work directory (``work/``); its size is the clone's real added disk;
- ``<clone>-data``: a ``local`` driver volume of type ``overlay`` (lower = the version's data
  directory, upper/work = the delta), mounted by the engine whenever a container uses it;
- ``<clone>``: a container of the golden image using ``<clone>-data`` at ``mount_path``, on a user
  network with the clone's address.

A version is protected while it exists: a container that never runs (``<version volume>-hold``)
mounts it, so the engine refuses to remove the volume; the service removes the holder when it prunes
a version no clone uses.

Every object carries the labels ``io.virtlab.devtest.*`` (set, user, version, created, expiry...),
from which the clones of a set are listed again; nothing is kept elsewhere. Sizes come from the
engine's disk-usage API (``/system/df``), so a remote engine works as well as a local one.

overlayfs copies a whole file up on its first write: a clone's delta grows by the size of every file
it modifies (not by the blocks written), which matters for large database files.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.virtlab.infra.plugins.module_utils.common.devtest import (
    CloneBackend,
    DevtestService,
    format_time,
    parse_network,
    utcnow,
)
from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import (
    BackendError,
    ConflictError,
    NotFoundError,
    ValidationError,
    VirtlabError,
)
from ansible_collections.virtlab.infra.plugins.module_utils.docker.client import translate_errors
from ansible_collections.virtlab.infra.plugins.module_utils.docker.images import inspect_image_or_none

LABEL_PREFIX = "io.virtlab.devtest."
# what an object is: version | clone | delta | data | network | helper
ROLE = LABEL_PREFIX + "role"
SET = LABEL_PREFIX + "set"
GOLDEN = LABEL_PREFIX + "golden"
VERSION = LABEL_PREFIX + "version"
CLONE = LABEL_PREFIX + "clone"
# clone metadata, kept on the clone's container and volumes
OWNER = LABEL_PREFIX + "owner"
CREATED = LABEL_PREFIX + "created"
EXPIRY = LABEL_PREFIX + "expiry"
ADDRESS = LABEL_PREFIX + "address"
SPLIT = LABEL_PREFIX + "split"

DELTA_SUFFIX = "-delta"
DATA_SUFFIX = "-data"
SPLIT_SUFFIX = "-split"
HOLDER_SUFFIX = "-hold"


@dataclass
class DockerGolden:
    """The platform options of ``docker_devtest_clones``: where the golden lives and how clones run."""

    image: str
    volume: str
    mount_path: str = "/data"
    network: Optional[str] = None
    command: Optional[list[str]] = None
    env: dict[str, str] = field(default_factory=dict)
    helper_image: Optional[str] = None
    start: bool = True

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "DockerGolden":
        if not params.get("image"):
            raise ValidationError("the golden image is required", option="image")
        if not params.get("golden_volume"):
            raise ValidationError("the golden data volume is required", option="golden_volume")
        mount_path = params.get("mount_path") or "/data"
        if not mount_path.startswith("/") or mount_path.rstrip("/") == "":
            raise ValidationError("%r is not an absolute directory inside the container" % mount_path,
                                  option="mount_path")
        command = params.get("command")
        return cls(image=params["image"], volume=params["golden_volume"], mount_path=mount_path,
                   network=params.get("network") or None, command=list(command) if command else None,
                   env={str(k): str(v) for k, v in (params.get("env") or {}).items()},
                   helper_image=params.get("helper_image") or None, start=params.get("start", True) is not False)

    @property
    def helper(self) -> str:
        return self.helper_image or self.image


def version_volume_name(golden_volume: str, set_name: str, version: str) -> str:
    """The frozen copy of the golden volume for one version of one set."""
    return "%s-%s-v-%s" % (golden_volume, set_name, version)


def _devtest_labels(labels: dict[str, str]) -> str:
    """The dev/test labels of an object, for messages ("none" for an object made elsewhere)."""
    mine = {k[len(LABEL_PREFIX):]: v for k, v in sorted(labels.items()) if k.startswith(LABEL_PREFIX)}
    return ", ".join("%s=%s" % item for item in mine.items()) or "no dev/test labels"


def describe_volume(volume: dict[str, Any]) -> str:
    """What an existing volume is, for messages: name, driver, options and its dev/test labels."""
    options = volume.get("Options") or {}
    return "volume %s (driver %s%s, %s)" % (
        volume.get("Name"), volume.get("Driver"),
        ", options " + ", ".join("%s=%s" % item for item in sorted(options.items())) if options else "",
        _devtest_labels(volume.get("Labels") or {}))


def _labels_filter(labels: dict[str, str]) -> dict[str, list[str]]:
    return {"label": ["%s=%s" % (k, v) for k, v in labels.items()]}


def _dirs_tar(*names: str) -> bytes:
    """A tar archive holding empty directories (the delta's ``upper`` and ``work``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            archive.addfile(info)
    return buffer.getvalue()


class DockerCloneBackend(CloneBackend):
    """The Docker side of ``DevtestService``: versions are volumes, clones are overlay volumes + containers.

    Every create removes what it made when a later step fails.
    """

    def __init__(self, api: Any, golden: DockerGolden, set_name: str, *, address_pool: Optional[str] = None) -> None:
        self.api = api
        self.spec = golden
        self.set_name = set_name
        self.address_pool = address_pool
        self._sizes: Optional[dict[str, int]] = None
        self._network_checked = False

    # ------------------------------------------------------------------ look-ups

    def _volume_or_none(self, name: str) -> Optional[dict[str, Any]]:
        from docker.errors import NotFound  # the SDK is present whenever an api client exists

        try:
            return self.api.inspect_volume(name)
        except NotFound:
            return None

    def _container_or_none(self, name: str) -> Optional[dict[str, Any]]:
        from docker.errors import NotFound

        try:
            return self.api.inspect_container(name)
        except NotFound:
            return None

    def _network_or_none(self, name: str) -> Optional[dict[str, Any]]:
        from docker.errors import NotFound

        try:
            return self.api.inspect_network(name)
        except NotFound:
            return None

    @translate_errors
    def volume_sizes(self) -> dict[str, int]:
        """{volume name: bytes} from the engine's disk-usage API (one call, cached until something changes).

        The engine counts the apparent size of the files in a volume's directory (hard links once,
        directories not). An overlay volume's own directory is empty while no container mounts it;
        its real added disk is its delta's size.
        """
        if self._sizes is None:
            usage = self.api.df()
            self._sizes = {}
            for volume in usage.get("Volumes") or []:
                size = (volume.get("UsageData") or {}).get("Size")
                if size is not None and size >= 0:
                    self._sizes[volume["Name"]] = int(size)
        return self._sizes

    # ------------------------------------------------------------------ golden and versions

    @translate_errors
    def golden(self) -> dict[str, Any]:
        if inspect_image_or_none(self.api, self.spec.image) is None:
            raise ValidationError("no image %s on the engine" % self.spec.image, option="image")
        if self.spec.helper_image and inspect_image_or_none(self.api, self.spec.helper_image) is None:
            raise ValidationError("no image %s on the engine" % self.spec.helper_image, option="helper_image")
        volume = self._volume_or_none(self.spec.volume)
        if volume is None:
            raise ValidationError("no volume %s on the engine" % self.spec.volume, option="golden_volume")
        role = (volume.get("Labels") or {}).get(ROLE)
        if role:
            raise ValidationError("%s is a dev/test %s volume, not a golden" % (self.spec.volume, role),
                                  option="golden_volume")
        if volume.get("Driver") != "local" or (volume.get("Options") or {}).get("type"):
            raise ValidationError("%s is not a plain local volume (driver %s, options %s)" % (
                self.spec.volume, volume.get("Driver"), volume.get("Options")), option="golden_volume")
        if self.address_pool and not self.spec.network:
            raise ValidationError("clones get addresses from address_pool only on a user network; give one",
                                  option="network")
        self._check_network()
        size = self.volume_sizes().get(self.spec.volume)
        return {"name": self.spec.volume, "volume": self.spec.volume, "image": self.spec.image,
                "logical_size": size, "allocated": size}

    def _check_network(self) -> None:
        """An existing clone network must hold the address pool."""
        if not self.spec.network or not self.address_pool:
            return
        network = self._network_or_none(self.spec.network)
        if network is None:
            return
        pool = parse_network(self.address_pool)
        subnets = [c["Subnet"] for c in (network.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
        if not any(pool in parse_network(subnet) for subnet in subnets):
            raise ValidationError("%s is not inside a subnet of network %s (%s)" % (
                self.address_pool, self.spec.network, ", ".join(subnets) or "none"), option="address_pool")

    def _version_record(self, volume: dict[str, Any]) -> dict[str, Any]:
        labels = volume.get("Labels") or {}
        size = self.volume_sizes().get(volume["Name"])
        return {"version": labels[VERSION], "created": labels.get(CREATED) or None, "volume": volume["Name"],
                "mountpoint": volume.get("Mountpoint"), "logical_size": size, "allocated": size}

    @translate_errors
    def list_versions(self) -> list[dict[str, Any]]:
        found = self.api.volumes(filters=_labels_filter({ROLE: "version", SET: self.set_name,
                                                         GOLDEN: self.spec.volume}))
        volumes = (found or {}).get("Volumes") or []
        records = [self._version_record(v) for v in volumes]
        return sorted(records, key=lambda r: (r["created"] or "", r["version"]))

    @translate_errors
    def freeze_version(self, label: str) -> dict[str, Any]:
        """Copy the golden volume into a new version volume (``cp -a`` in a helper container).

        The copy is taken as the golden is at this moment: stop writers (a database) first for a
        consistent copy. A failed copy leaves no version volume behind.
        """
        name = version_volume_name(self.spec.volume, self.set_name, label)
        existing = self._own_version_volume(name, label)
        if existing is not None:
            return self._version_record(existing)
        labels = {ROLE: "version", SET: self.set_name, GOLDEN: self.spec.volume, VERSION: label,
                  CREATED: format_time(utcnow())}
        made = self.api.create_volume(name=name, driver="local", labels=labels)
        if (made or {}).get("Labels") != labels:
            # the engine answers a create of an existing name with that volume: one appeared meanwhile
            raise ConflictError("golden_version: %s appeared while this task made it; it is left alone"
                                % describe_volume(made or {"Name": name}), details={"option": "golden_version"})
        try:
            self._run_helper(["cp", "-a", "/golden/.", "/version/"],
                             binds={self.spec.volume: "/golden:ro", name: "/version"}, what=name)
            self._hold(name, labels)
        except Exception as error:
            self._remove_holder(name)
            self._remove_volume(name)
            if isinstance(error, VirtlabError):
                error.details["cleanup"] = "removed the partial version volume %s" % name
            raise
        self._sizes = None
        return self._version_record(self.api.inspect_volume(name))

    def _own_version_volume(self, name: str, label: str) -> Optional[dict[str, Any]]:
        """The existing volume of a version's name when it is that version of this set, None when there is none;
        a volume of that name without those labels is foreign: refused, left alone."""
        existing = self._volume_or_none(name)
        if existing is None:
            return None
        labels = existing.get("Labels") or {}
        if labels.get(ROLE) != "version" or labels.get(SET) != self.set_name \
                or labels.get(GOLDEN) != self.spec.volume or labels.get(VERSION) != label:
            raise ConflictError("golden_version: %s, which is not version %s of %s in set %s; it is left alone "
                                "- remove or rename it" % (describe_volume(existing), label, self.spec.volume,
                                                           self.set_name), details={"option": "golden_version"})
        return existing

    @translate_errors
    def predict_version(self, label: str, golden: dict[str, Any]) -> dict[str, Any]:
        """Check mode: what ``freeze_version`` would make - and a foreign volume of its name is refused as it would."""
        self._own_version_volume(version_volume_name(self.spec.volume, self.set_name, label), label)
        return super().predict_version(label, golden)

    def _hold(self, volume: str, labels: dict[str, str]) -> None:
        """Protect a version: a container that never runs mounts it read-only, so the engine refuses to remove
        the volume (``volume is in use``) until the holder is gone."""
        self.api.create_container(self.spec.helper, command=["true"], entrypoint=[], name=volume + HOLDER_SUFFIX,
                                  labels=dict(labels, **{ROLE: "holder"}),
                                  host_config=self.api.create_host_config(binds=["%s:/version:ro" % volume]))

    @translate_errors
    def delete_version(self, version: dict[str, Any]) -> None:
        """Remove a version volume; refused while an overlay volume of any clone still uses it."""
        name = version_volume_name(self.spec.volume, self.set_name, version["version"])
        users = self.api.volumes(filters=_labels_filter({ROLE: "data", VERSION: version["version"],
                                                         SET: self.set_name, GOLDEN: self.spec.volume}))
        users = [v for v in (users or {}).get("Volumes") or [] if (v.get("Labels") or {}).get(SPLIT) != "true"]
        if users:
            raise ConflictError("version %s is still used by %s" % (version["version"],
                                                                    ", ".join(v["Name"] for v in users)))
        self._remove_holder(name)
        self._remove_volume(name)
        self._sizes = None

    def _run_helper(self, command: list[str], *, binds: dict[str, str], what: str) -> None:
        container = self.api.create_container(
            self.spec.helper, command=command, entrypoint=[], user="0",
            labels={ROLE: "helper", SET: self.set_name},
            host_config=self.api.create_host_config(binds=["%s:%s" % (k, v) for k, v in binds.items()]))
        try:
            self.api.start(container["Id"])
            status = self.api.wait(container["Id"], timeout=3600)
            if status.get("StatusCode") != 0:
                logs = self.api.logs(container["Id"], stdout=True, stderr=True, tail=20)
                raise BackendError("the helper container copying into %s (image %s, %s) ended with status %s: %s" % (
                    what, self.spec.helper, " ".join(command), status.get("StatusCode"),
                    logs.decode("utf-8", "replace").strip()), details={"option": "helper_image"})
        finally:
            self.api.remove_container(container["Id"], force=True)

    def _remove_holder(self, volume: str) -> None:
        """Remove the holder of a version volume (only a holder of this set: a foreign container is left alone)."""
        holder = self._container_or_none(volume + HOLDER_SUFFIX)
        labels = (holder or {}).get("Config", {}).get("Labels") or {}
        if holder is not None and labels.get(ROLE) == "holder" and labels.get(SET) == self.set_name:
            self.api.remove_container(holder["Id"], force=True)

    def _remove_volume(self, name: str) -> None:
        from docker.errors import NotFound

        try:
            self.api.remove_volume(name, force=True)
        except NotFound:
            pass

    # ------------------------------------------------------------------ clones

    def _clone_record(self, labels: dict[str, str], state: Optional[str], container_id: Optional[str]) -> dict[str, Any]:
        name = labels.get(CLONE) or ""
        split = labels.get(SPLIT) == "true"
        sizes = self.volume_sizes()
        version_size = sizes.get(version_volume_name(self.spec.volume, self.set_name, labels.get(VERSION) or ""))
        added = sizes.get(name + (SPLIT_SUFFIX if split else DELTA_SUFFIX))
        return {"name": name, "user": labels.get(OWNER), "set": labels.get(SET), "version": labels.get(VERSION),
                "created": labels.get(CREATED) or None, "expires": labels.get(EXPIRY) or None,
                "address": labels.get(ADDRESS) or None, "split": split,
                "logical_size": added if split else version_size, "added_bytes": added,
                "container": name, "container_id": container_id, "state": state,
                "data_volume": name + (SPLIT_SUFFIX if split else DATA_SUFFIX),
                "delta_volume": None if split else name + DELTA_SUFFIX}

    @translate_errors
    def list_clones(self) -> list[dict[str, Any]]:
        found = self.api.containers(all=True, filters=_labels_filter({ROLE: "clone", SET: self.set_name,
                                                                      GOLDEN: self.spec.volume}))
        return [self._clone_record(item.get("Labels") or {}, item.get("State"), item.get("Id")) for item in found or []]

    @translate_errors
    def foreign(self, name: str) -> Optional[str]:
        """The objects named like this clone that are not this set's clone objects."""
        clashes = []
        container = self._container_or_none(name)
        if container is not None:
            labels = container["Config"].get("Labels") or {}
            if labels.get(ROLE) != "clone" or labels.get(SET) != self.set_name:
                clashes.append("container %s (image %s, %s, labels %s)" % (
                    name, container["Config"].get("Image"), (container.get("State") or {}).get("Status"),
                    _devtest_labels(labels)))
        for volume_name in (name + DELTA_SUFFIX, name + DATA_SUFFIX, name + SPLIT_SUFFIX):
            volume = self._volume_or_none(volume_name)
            if volume is not None:
                labels = volume.get("Labels") or {}
                if labels.get(SET) != self.set_name or labels.get(CLONE) != name:
                    clashes.append(describe_volume(volume))
        return " and ".join(clashes) or None

    def _labels(self, clone: dict[str, Any]) -> dict[str, str]:
        return {SET: self.set_name, GOLDEN: self.spec.volume, VERSION: str(clone["version"]), CLONE: clone["name"],
                OWNER: str(clone.get("user") or ""), CREATED: str(clone.get("created") or ""),
                EXPIRY: str(clone.get("expires") or ""), ADDRESS: str(clone.get("address") or ""),
                SPLIT: "true" if clone.get("split") else "false"}

    @translate_errors
    def create_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        """Make the delta, the overlay volume and the container of a clone; all removed if a step fails."""
        version_volume = self._volume_or_none(version_volume_name(self.spec.volume, self.set_name, version["version"]))
        if version_volume is None:
            raise NotFoundError("version %s of %s has no volume" % (version["version"], self.spec.volume))
        self._ensure_network()
        name = clone["name"]
        labels = self._labels(clone)
        made: list[tuple[str, str]] = []
        # volumes left by a clone whose container was removed by hand are taken over (never removed on failure)
        kept = {v for v in (name + DELTA_SUFFIX, name + DATA_SUFFIX) if self._volume_or_none(v) is not None}
        try:
            delta = self.api.create_volume(name=name + DELTA_SUFFIX, driver="local", labels=dict(labels, **{ROLE: "delta"}))
            if delta["Name"] not in kept:
                made.append(("volume", delta["Name"]))
            self._make_delta_dirs(delta["Name"])
            delta_dir = self.api.inspect_volume(delta["Name"])["Mountpoint"]
            options = "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (version_volume["Mountpoint"], delta_dir, delta_dir)
            data = self.api.create_volume(name=name + DATA_SUFFIX, driver="local",
                                          driver_opts={"type": "overlay", "device": "overlay", "o": options},
                                          labels=dict(labels, **{ROLE: "data"}))
            if data["Name"] not in kept:
                made.append(("volume", data["Name"]))
            container_id = self._create_container(name, data["Name"], labels, clone.get("address"))
            made.append(("container", container_id))
            if self.spec.start:
                self.api.start(container_id)
        except Exception as error:
            cleanup = self._undo(made)
            if isinstance(error, VirtlabError):
                error.details["cleanup"] = cleanup
            raise
        self._sizes = None
        return self._clone_record(labels, "running" if self.spec.start else "created", container_id)

    def _make_delta_dirs(self, delta: str) -> None:
        """Create ``upper/`` and ``work/`` in the delta through the archive API of a container that never runs."""
        holder = self.api.create_container(self.spec.helper, command=["true"], entrypoint=[],
                                           labels={ROLE: "helper", SET: self.set_name},
                                           host_config=self.api.create_host_config(binds=["%s:/delta" % delta]))
        try:
            self.api.put_archive(holder["Id"], "/delta", _dirs_tar("upper", "work"))
        finally:
            self.api.remove_container(holder["Id"], force=True)

    def _create_container(self, name: str, data_volume: str, labels: dict[str, str], address: Optional[str]) -> str:
        networking = None
        if self.spec.network:
            endpoint = self.api.create_endpoint_config(ipv4_address=address) if address else self.api.create_endpoint_config()
            networking = self.api.create_networking_config({self.spec.network: endpoint})
        container = self.api.create_container(
            self.spec.image, command=self.spec.command, name=name, hostname=name[:63],
            environment=self.spec.env or None, labels=dict(labels, **{ROLE: "clone"}),
            host_config=self.api.create_host_config(
                binds=["%s:%s" % (data_volume, self.spec.mount_path)],
                network_mode=self.spec.network or None,
                restart_policy={"Name": "unless-stopped"}),
            networking_config=networking)
        return container["Id"]

    def _undo(self, made: list[tuple[str, str]]) -> str:
        from docker.errors import APIError

        undone = []
        for kind, ident in reversed(made):
            try:
                if kind == "container":
                    self.api.remove_container(ident, force=True)
                else:
                    self.api.remove_volume(ident, force=True)
                undone.append("%s %s" % (kind, ident[:12] if kind == "container" else ident))
            except APIError as error:
                undone.append("could not remove %s %s: %s" % (kind, ident, error))
        return "removed " + ", ".join(undone) if undone else "nothing left behind"

    @translate_errors
    def delete_clone(self, clone: dict[str, Any]) -> None:
        """Remove a clone's container and volumes (only objects labelled as this set's clone)."""
        name = clone["name"]
        container = self._container_or_none(name)
        if container is not None:
            labels = container["Config"].get("Labels") or {}
            if labels.get(SET) != self.set_name or labels.get(ROLE) != "clone":
                raise ConflictError("container %s is not a clone of set %s; it is left alone" % (name, self.set_name))
            self.api.remove_container(container["Id"], force=True)
        for volume_name in (name + DATA_SUFFIX, name + DELTA_SUFFIX, name + SPLIT_SUFFIX):
            volume = self._volume_or_none(volume_name)
            if volume is None:
                continue
            labels = volume.get("Labels") or {}
            if labels.get(SET) != self.set_name or labels.get(CLONE) != name:
                raise ConflictError("volume %s is not part of clone %s of set %s; it is left alone"
                                    % (volume_name, name, self.set_name))
            self._remove_volume(volume_name)
        self._sizes = None

    @translate_errors
    def update_clone(self, clone: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """New expiry or address: container labels cannot change, so the container is recreated on the same data
        volume (same name and image; a new container ID) and started again if it ran. The clone's data at
        ``mount_path`` is kept; files its container wrote elsewhere are not."""
        name = clone["name"]
        container = self._container_or_none(name)
        if container is None:
            raise NotFoundError("clone %s has no container" % name)
        labels = {k: v for k, v in (container["Config"].get("Labels") or {}).items() if k.startswith(LABEL_PREFIX)}
        if labels.get(SET) != self.set_name or labels.get(ROLE) != "clone":
            raise ConflictError("container %s is not a clone of set %s; it is left alone" % (name, self.set_name))
        if "expires" in changes:
            labels[EXPIRY] = str(changes["expires"] or "")
        if "address" in changes:
            labels[ADDRESS] = str(changes["address"] or "")
        labels.pop(ROLE, None)
        was_running = bool(container["State"].get("Running"))
        data_volume = name + (SPLIT_SUFFIX if labels.get(SPLIT) == "true" else DATA_SUFFIX)
        self._ensure_network()
        self.api.remove_container(container["Id"], force=True)
        container_id = self._create_container(name, data_volume, labels, labels.get(ADDRESS) or None)
        if was_running:
            self.api.start(container_id)
        return self._clone_record(labels, "running" if was_running else "created", container_id)

    @translate_errors
    def split_clone(self, clone: dict[str, Any]) -> dict[str, Any]:
        """Give a clone a full private copy of its data: the plain volume ``<clone>-split`` replaces the overlay.

        The container is stopped, its data copied (``cp -a`` in a helper), then recreated on the copy
        (same name, image, network, address; a new container ID) and started again if it ran. The clone
        no longer depends on its version.
        """
        name = clone["name"]
        container = self._container_or_none(name)
        if container is None:
            raise NotFoundError("clone %s has no container" % name)
        labels = {k: v for k, v in (container["Config"].get("Labels") or {}).items() if k.startswith(LABEL_PREFIX)}
        if labels.get(SPLIT) == "true":
            return self._clone_record(labels, container["State"]["Status"], container["Id"])
        was_running = bool(container["State"].get("Running"))
        if was_running:
            self.api.stop(container["Id"], timeout=30)
        copy = name + SPLIT_SUFFIX
        labels[SPLIT] = "true"
        self.api.create_volume(name=copy, driver="local", labels=dict(labels, **{ROLE: "data"}))
        try:
            self._run_helper(["cp", "-a", "/clone/.", "/copy/"], binds={name + DATA_SUFFIX: "/clone:ro", copy: "/copy"},
                             what=copy)
        except Exception as error:
            self._remove_volume(copy)
            if was_running:
                self.api.start(container["Id"])
            if isinstance(error, VirtlabError):
                error.details["cleanup"] = "removed the partial copy %s; the clone is unchanged" % copy
            raise
        self.api.remove_container(container["Id"], force=True)
        self._remove_volume(name + DATA_SUFFIX)
        self._remove_volume(name + DELTA_SUFFIX)
        labels.pop(ROLE, None)
        container_id = self._create_container(name, copy, labels, labels.get(ADDRESS) or None)
        if was_running:
            self.api.start(container_id)
        self._sizes = None
        return self._clone_record(labels, "running" if was_running else "created", container_id)

    def predict_clone(self, clone: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        record = super().predict_clone(clone, version)
        record.update({"container": clone["name"], "container_id": None, "state": None,
                       "data_volume": clone["name"] + DATA_SUFFIX, "delta_volume": clone["name"] + DELTA_SUFFIX})
        return record

    # ------------------------------------------------------------------ network

    def _ensure_network(self) -> None:
        """Create the clone network when it is missing: a bridge with the address pool as its subnet.

        Its gateway is the pool's last host address (the clones get the lowest ones); the network is
        labelled as this set's and removed with the set's last clone.
        """
        if not self.spec.network or self._network_checked:
            return
        from docker.types import IPAMConfig, IPAMPool

        if self._network_or_none(self.spec.network) is None:
            ipam = None
            if self.address_pool:
                pool = parse_network(self.address_pool)
                ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(pool.cidr), gateway=str(pool[-2]))])
            self.api.create_network(self.spec.network, driver="bridge", ipam=ipam,
                                    labels={ROLE: "network", SET: self.set_name})
        self._network_checked = True

    @translate_errors
    def finish(self) -> None:
        """Remove the clone network when this set created it and none of its clones is left."""
        if not self.spec.network:
            return
        network = self._network_or_none(self.spec.network)
        if network is None or (network.get("Labels") or {}).get(SET) != self.set_name:
            return
        if self.api.containers(all=True, filters={"network": [network["Id"]]}):
            return
        self.api.remove_network(network["Id"])


def run_docker_devtest(api: Any, params: dict[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The result of ``docker_devtest_clones``: the engine's plan carried out with the Docker backend."""
    backend = DockerCloneBackend(api, DockerGolden.from_params(params), params["set_name"],
                                 address_pool=params.get("address_pool"))
    return DevtestService(backend, params, check_mode=check_mode).run()
