#!/usr/bin/env bash
# Debian base images for Docker, made with debootstrap (no image is pulled from a public
# registry). Each rootfs is cached as a tarball under .state/images, so a second run only
# re-imports when the engine lost the image, and does nothing when the image is there.
#   virtlab/debian:bookworm           minbase, for image builds (FROM virtlab/debian:bookworm)
#   virtlab/debian-systemd:bookworm   python3 + systemd as PID 1, for molecule and role tests
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
virtlab_env

IMAGES="$VIRTLAB_STATE/images"
mkdir -p "$IMAGES"

make_rootfs_tar() {  # make_rootfs_tar <tarball> [debootstrap options...]
    local tarball="$1"; shift
    [ -s "$tarball" ] && return 0
    local rootfs; rootfs="$(mktemp -d "$IMAGES/rootfs.XXXXXX")"
    log "debootstrap $(basename "$tarball" .tar): $*"
    debootstrap --variant=minbase "$@" bookworm "$rootfs" "$VIRTLAB_DEBIAN_MIRROR" >"$tarball.log" 2>&1 \
        || { rm -rf "$rootfs"; die "debootstrap failed, see $tarball.log"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
}

import_image() {  # import_image <tarball> <tag> [docker import --change ...]
    local tarball="$1" tag="$2"; shift 2
    if docker image inspect "$tag" >/dev/null 2>&1; then
        log "image $tag: present"
        return
    fi
    docker import "$@" "$tarball" "$tag" >/dev/null
    log "image $tag: imported"
}

# both rootfs in parallel: each is mostly waiting for the mirror
make_rootfs_tar "$IMAGES/bookworm-minbase.tar" &
minbase=$!
make_rootfs_tar "$IMAGES/bookworm-systemd.tar" --include=python3,systemd,systemd-sysv,sudo,ca-certificates &
systemd=$!
wait "$minbase"
wait "$systemd"

import_image "$IMAGES/bookworm-minbase.tar" virtlab/debian:bookworm --change 'CMD ["/bin/bash"]'
import_image "$IMAGES/bookworm-systemd.tar" virtlab/debian-systemd:bookworm --change 'CMD ["/lib/systemd/systemd"]'
