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

Every object carries the labels ``io.virtlab.devtest.*`` (set, owner, version, created, expiry...),
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
# what an object is: version | clone | delta | data | network
ROLE = LABEL_PREFIX + "role"
SET = LABEL_PREFIX + "set"
GOLDEN = LABEL_PREFIX + "golden"
VERSION = LABEL_PREFIX + "version"
CLONE = LABEL_PREFIX + "clone"
# clone metadata kept on the clone's container (and copied on its volumes)
OWNER = LABEL_PREFIX + "owner"
CREATED = LABEL_PREFIX + "created"
EXPIRY = LABEL_PREFIX + "expiry"
ADDRESS = LABEL_PREFIX + "address"
NO_REFRESH = LABEL_PREFIX + "no-refresh"
SPLIT = LABEL_PREFIX + "split"

DELTA_SUFFIX = "-delta"
DATA_SUFFIX = "-data"


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
        if not mount_path.startswith("/") or mount_path == "/":
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


class DockerCloneStore:
    """The Docker primitives of dev/test clones: versions, clones, their listing and their sizes.

    Every method acts at once (the engine's planner decides what to call and skips the calls in
    check mode); each create removes what it made when a later step fails.
    """

    def __init__(self, api: Any, golden: DockerGolden, set_name: str) -> None:
        self.api = api
        self.golden = golden
        self.set_name = set_name
        self._sizes: Optional[dict[str, int]] = None

    # ------------------------------------------------------------------ checks

    @translate_errors
    def check_golden(self) -> dict[str, Any]:
        """The golden image and volume exist; returns the golden volume's inspect."""
        if inspect_image_or_none(self.api, self.golden.image) is None:
            raise ValidationError("no image %s on the engine" % self.golden.image, option="image")
        if self.golden.helper_image and inspect_image_or_none(self.api, self.golden.helper_image) is None:
            raise ValidationError("no image %s on the engine" % self.golden.helper_image, option="helper_image")
        volume = self._volume_or_none(self.golden.volume)
        if volume is None:
            raise ValidationError("no volume %s on the engine" % self.golden.volume, option="golden_volume")
        if (volume.get("Labels") or {}).get(ROLE):
            raise ValidationError("%s is a dev/test %s volume, not a golden" % (
                self.golden.volume, volume["Labels"][ROLE]), option="golden_volume")
        return volume

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

    # ------------------------------------------------------------------ versions

    @translate_errors
    def versions(self) -> dict[str, dict[str, Any]]:
        """The frozen versions of this set: {version label: volume inspect}."""
        found = self.api.volumes(filters=_labels_filter({ROLE: "version", SET: self.set_name,
                                                         GOLDEN: self.golden.volume}))
        return {v["Labels"][VERSION]: v for v in (found or {}).get("Volumes") or []}

    @translate_errors
    def freeze_version(self, version: str, labels: Optional[dict[str, str]] = None) -> dict[str, Any]:
        """Copy the golden volume into a new version volume (``cp -a`` in a helper container).

        The copy is taken as the golden is at this moment: stop writers (a database) first for a
        consistent copy. A failed copy leaves no version volume behind.
        """
        name = version_volume_name(self.golden.volume, self.set_name, version)
        existing = self._volume_or_none(name)
        if existing is not None:
            if (existing.get("Labels") or {}).get(ROLE) != "version":
                raise ConflictError("volume %s exists and is not a dev/test version volume" % name,
                                    details={"option": "golden_version"})
            return existing
        all_labels = dict(labels or {})
        all_labels.update({ROLE: "version", SET: self.set_name, GOLDEN: self.golden.volume, VERSION: version})
        self.api.create_volume(name=name, driver="local", labels=all_labels)
        try:
            self._run_helper(["cp", "-a", "/golden/.", "/version/"],
                             binds={self.golden.volume: "/golden:ro", name: "/version"}, label=name)
        except VirtlabError as error:
            self._remove_volume(name)
            error.details["cleanup"] = "removed the partial version volume %s" % name
            raise
        self._sizes = None
        return self.api.inspect_volume(name)

    @translate_errors
    def remove_version(self, version: str) -> None:
        """Remove a version volume; refused while a clone of any set still uses it."""
        name = version_volume_name(self.golden.volume, self.set_name, version)
        users = self.api.volumes(filters=_labels_filter({ROLE: "data", VERSION: version, SET: self.set_name}))
        if (users or {}).get("Volumes"):
            raise ConflictError("version %s is still used by %d clone(s)" % (version, len(users["Volumes"])))
        self._remove_volume(name)

    def _run_helper(self, command: list[str], *, binds: dict[str, str], label: str) -> None:
        container = self.api.create_container(
            self.golden.helper, command=command, entrypoint=[], user="0",
            labels={ROLE: "helper", SET: self.set_name},
            host_config=self.api.create_host_config(binds=["%s:%s" % (k, v) for k, v in binds.items()]))
        try:
            self.api.start(container["Id"])
            status = self.api.wait(container["Id"], timeout=3600)
            if status.get("StatusCode") != 0:
                logs = self.api.logs(container["Id"], stdout=True, stderr=True, tail=20)
                raise BackendError("the helper copying %s (image %s) ended with status %s: %s" % (
                    label, self.golden.helper, status.get("StatusCode"),
                    logs.decode("utf-8", "replace").strip()), details={"option": "helper_image"})
        finally:
            self.api.remove_container(container["Id"], force=True)

    def _remove_volume(self, name: str) -> None:
        from docker.errors import NotFound

        try:
            self.api.remove_volume(name, force=True)
        except NotFound:
            pass

    # ------------------------------------------------------------------ clones

    @translate_errors
    def clones(self) -> dict[str, dict[str, Any]]:
        """This set's clones as {clone name: metadata}, read from the labels of their containers."""
        found = self.api.containers(all=True, filters=_labels_filter({ROLE: "clone", SET: self.set_name}))
        out: dict[str, dict[str, Any]] = {}
        for item in found or []:
            labels = item.get("Labels") or {}
            out[labels[CLONE]] = self._metadata(labels, item.get("State"))
        return out

    @staticmethod
    def _metadata(labels: dict[str, str], state: Optional[str]) -> dict[str, Any]:
        return {"name": labels.get(CLONE), "owner": labels.get(OWNER), "version": labels.get(VERSION),
                "created": labels.get(CREATED), "expiry": labels.get(EXPIRY) or None,
                "address": labels.get(ADDRESS) or None, "refresh": labels.get(NO_REFRESH) != "true",
                "split": labels.get(SPLIT) == "true", "state": state}

    @translate_errors
    def foreign_objects(self, name: str) -> list[str]:
        """The objects named like this clone that are not clones of this set (a clash to refuse)."""
        clashes = []
        container = self._container_or_none(name)
        if container is not None:
            labels = container["Config"].get("Labels") or {}
            if labels.get(ROLE) != "clone" or labels.get(SET) != self.set_name:
                clashes.append("container %s" % name)
        for volume_name in (name + DELTA_SUFFIX, name + DATA_SUFFIX):
            volume = self._volume_or_none(volume_name)
            if volume is not None:
                labels = volume.get("Labels") or {}
                if labels.get(SET) != self.set_name or labels.get(CLONE) != name:
                    clashes.append("volume %s" % volume_name)
        return clashes

    @translate_errors
    def create_clone(self, name: str, version: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Make the delta, the overlay volume and the container of a clone; all removed if a step fails.

        ``metadata``: owner, created, expiry, address (all strings or None) and refresh (bool).
        """
        version_volume = self._volume_or_none(version_volume_name(self.golden.volume, self.set_name, version))
        if version_volume is None:
            raise NotFoundError("version %s of %s has no volume" % (version, self.golden.volume))
        labels = {SET: self.set_name, GOLDEN: self.golden.volume, VERSION: version, CLONE: name,
                  OWNER: str(metadata.get("owner") or ""), CREATED: str(metadata.get("created") or ""),
                  EXPIRY: str(metadata.get("expiry") or ""), ADDRESS: str(metadata.get("address") or ""),
                  NO_REFRESH: "false" if metadata.get("refresh", True) else "true"}
        made: list[tuple[str, str]] = []
        try:
            delta = self.api.create_volume(name=name + DELTA_SUFFIX, driver="local", labels=dict(labels, **{ROLE: "delta"}))
            made.append(("volume", delta["Name"]))
            self._make_delta_dirs(delta["Name"])
            delta_dir = self.api.inspect_volume(delta["Name"])["Mountpoint"]
            options = "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (version_volume["Mountpoint"], delta_dir, delta_dir)
            data = self.api.create_volume(name=name + DATA_SUFFIX, driver="local",
                                          driver_opts={"type": "overlay", "device": "overlay", "o": options},
                                          labels=dict(labels, **{ROLE: "data"}))
            made.append(("volume", data["Name"]))
            container_id = self._create_container(name, data["Name"], labels, metadata.get("address"))
            made.append(("container", container_id))
            if self.golden.start:
                self.api.start(container_id)
        except VirtlabError as error:
            error.details["cleanup"] = self._undo(made)
            raise
        except Exception as error:  # an SDK error: undo, then let translate_errors classify it
            self._undo(made)
            raise error
        self._sizes = None
        return self._metadata(dict(labels, **{ROLE: "clone"}), "running" if self.golden.start else "created")

    def _make_delta_dirs(self, delta: str) -> None:
        """Create ``upper/`` and ``work/`` in the delta through the archive API of a container that never runs."""
        holder = self.api.create_container(self.golden.helper, command=["true"], entrypoint=[],
                                           labels={ROLE: "helper", SET: self.set_name},
                                           host_config=self.api.create_host_config(binds=["%s:/delta" % delta]))
        try:
            self.api.put_archive(holder["Id"], "/delta", _dirs_tar("upper", "work"))
        finally:
            self.api.remove_container(holder["Id"], force=True)

    def _create_container(self, name: str, data_volume: str, labels: dict[str, str], address: Optional[str]) -> str:
        networking = None
        if self.golden.network:
            endpoint = self.api.create_endpoint_config(ipv4_address=address) if address else self.api.create_endpoint_config()
            networking = self.api.create_networking_config({self.golden.network: endpoint})
        container = self.api.create_container(
            self.golden.image, command=self.golden.command, name=name, hostname=name[:63],
            environment=self.golden.env or None, labels=dict(labels, **{ROLE: "clone"}),
            host_config=self.api.create_host_config(
                binds=["%s:%s" % (data_volume, self.golden.mount_path)],
                network_mode=self.golden.network or None,
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
    def delete_clone(self, name: str) -> None:
        """Remove a clone's container, overlay volume and delta (only objects labelled as this set's clone)."""
        from docker.errors import NotFound

        container = self._container_or_none(name)
        if container is not None:
            labels = container["Config"].get("Labels") or {}
            if labels.get(SET) != self.set_name or labels.get(ROLE) != "clone":
                raise ConflictError("container %s is not a clone of set %s" % (name, self.set_name))
            self.api.remove_container(container["Id"], force=True)
        for volume_name in (name + DATA_SUFFIX, name + DELTA_SUFFIX):
            volume = self._volume_or_none(volume_name)
            if volume is None:
                continue
            labels = volume.get("Labels") or {}
            if labels.get(SET) != self.set_name or labels.get(CLONE) != name:
                raise ConflictError("volume %s is not part of clone %s of set %s" % (volume_name, name, self.set_name))
            try:
                self.api.remove_volume(volume_name, force=True)
            except NotFound:
                pass
        self._sizes = None

    @translate_errors
    def split_clone(self, name: str) -> dict[str, Any]:
        """Give a clone a full private copy of its data: a plain volume ``<clone>-data`` replaces the overlay.

        The container is recreated on the plain volume (same name, image, network, address); the
        clone's labels say ``split=true`` and it no longer depends on its version.
        """
        container = self._container_or_none(name)
        if container is None:
            raise NotFoundError("clone %s has no container" % name)
        labels = dict(container["Config"].get("Labels") or {})
        if labels.get(SPLIT) == "true":
            return self._metadata(labels, container["State"]["Status"])
        was_running = bool(container["State"].get("Running"))
        if was_running:
            self.api.stop(container["Id"], timeout=30)
        copy = name + "-split"
        labels[SPLIT] = "true"
        self.api.create_volume(name=copy, driver="local", labels=dict(labels, **{ROLE: "data"}))
        try:
            self._run_helper(["cp", "-a", "/clone/.", "/copy/"], binds={name + DATA_SUFFIX: "/clone:ro", copy: "/copy"},
                             label=copy)
        except VirtlabError as error:
            self._remove_volume(copy)
            if was_running:
                self.api.start(container["Id"])
            error.details["cleanup"] = "removed the partial copy %s; the clone is unchanged" % copy
            raise
        self.api.remove_container(container["Id"], force=True)
        self._remove_volume(name + DATA_SUFFIX)
        self._remove_volume(name + DELTA_SUFFIX)
        # the copy keeps its name <clone>-split: volumes cannot be renamed
        container_id = self._create_container(name, copy, {k: v for k, v in labels.items() if k != ROLE},
                                              labels.get(ADDRESS) or None)
        if was_running or self.golden.start:
            self.api.start(container_id)
        self._sizes = None
        return self._metadata(labels, "running" if was_running or self.golden.start else "created")

    # ------------------------------------------------------------------ sizes

    @translate_errors
    def volume_sizes(self) -> dict[str, int]:
        """{volume name: bytes} from the engine's disk-usage API (one call, cached until something changes).

        The engine counts the apparent size of the files in a volume's directory, hard links once.
        An overlay volume's own directory is empty while no container mounts it; its real added
        disk is its delta's size.
        """
        if self._sizes is None:
            usage = self.api.df()
            self._sizes = {}
            for volume in usage.get("Volumes") or []:
                size = (volume.get("UsageData") or {}).get("Size")
                if size is not None and size >= 0:
                    self._sizes[volume["Name"]] = int(size)
        return self._sizes

    def version_size(self, version: str) -> Optional[int]:
        return self.volume_sizes().get(version_volume_name(self.golden.volume, self.set_name, version))

    def clone_added(self, name: str, split: bool = False) -> Optional[int]:
        """Real disk a clone adds: its delta (a split clone: its whole copy)."""
        return self.volume_sizes().get(name + ("-split" if split else DELTA_SUFFIX))

    def golden_size(self) -> Optional[int]:
        return self.volume_sizes().get(self.golden.volume)

    # ------------------------------------------------------------------ network

    @translate_errors
    def ensure_network(self, subnet: Optional[str], gateway: Optional[str]) -> bool:
        """Create the user network when it is missing (labelled as this set's); True when created."""
        from docker.errors import NotFound
        from docker.types import IPAMConfig, IPAMPool

        if not self.golden.network:
            return False
        try:
            self.api.inspect_network(self.golden.network)
            return False
        except NotFound:
            pass
        ipam = None
        if subnet:
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway)])
        self.api.create_network(self.golden.network, driver="bridge", ipam=ipam,
                                labels={ROLE: "network", SET: self.set_name})
        return True

    @translate_errors
    def network_subnets(self) -> tuple[Optional[dict[str, Any]], list[str]]:
        """(inspect or None, subnets) of the clone network."""
        from docker.errors import NotFound

        if not self.golden.network:
            return None, []
        try:
            network = self.api.inspect_network(self.golden.network)
        except NotFound:
            return None, []
        configs = (network.get("IPAM") or {}).get("Config") or []
        return network, [c["Subnet"] for c in configs if c.get("Subnet")]

    @translate_errors
    def remove_network_if_ours(self) -> bool:
        """Remove the clone network when this set created it and no container is attached any more."""
        network, _subnets = self.network_subnets()
        if network is None or (network.get("Labels") or {}).get(SET) != self.set_name:
            return False
        if network.get("Containers"):
            return False
        self.api.remove_network(network["Id"])
        return True
