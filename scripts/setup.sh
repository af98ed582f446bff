#!/usr/bin/env bash
# One set-up path for the main job, the tests and CI. Idempotent: every step checks
# what is already there and skips it, so a second run takes seconds.
#   scripts/setup.sh            everything (packages, venv, collections, services, images)
#   scripts/setup.sh --no-services   packages, venv and collections only
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root

WITH_SERVICES=1
[ "${1:-}" = "--no-services" ] && WITH_SERVICES=0

DEBIAN_PACKAGES=(
    # engines and their tools
    docker.io docker-registry apache2-utils
    libvirt-daemon-system libvirt-dev pkg-config qemu-system-x86 qemu-utils
    # libvirt NAT networks with DHCP (the libvirt inventory test makes one) need dnsmasq
    dnsmasq-base
    # base images, cloud-init seeds, the tiny TCG guest (kernel + busybox initramfs)
    debootstrap xorriso linux-image-amd64 busybox-static cpio e2fsprogs
    # clients used by roles and tests; build tools for libvirt-python
    mariadb-client gcc make python3-venv iproute2 curl ca-certificates git rsync shellcheck stress-ng fio smartmontools pciutils ethtool
)

install_debian_packages() {
    local missing=()
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "Debian packages: all present"
        return
    fi
    log "Debian packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Python 3.12+ is preferred: ansible-core 2.21 needs it. Without it the runtime pins
# fall back to ansible-core 2.19 (Python 3.11); the test tools are then not supported.
find_python() {
    local candidate
    local candidates=(python3.12 python3.13 python3.14)
    if command -v pyenv >/dev/null 2>&1; then
        candidates+=("$(pyenv root)"/versions/3.1[234]*/bin/python3)
    fi
    for candidate in "${candidates[@]}"; do
        # a pyenv shim exists even where its version is not selected: ask it to run
        if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            "$candidate" -c 'import sys; print(sys.executable)'
            return
        fi
    done
    log "WARNING: no Python >= 3.12 found; using $(command -v python3) with ansible-core 2.19 (runtime only, tests unsupported)"
    command -v python3
}

create_venv() {
    local stamp="$VIRTLAB_VENV/.requirements.sha256" want
    want="$(cat "$VIRTLAB_ROOT"/requirements/*.txt | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VIRTLAB_VENV/bin/python" ]; then
        log "venv: up to date ($("$VIRTLAB_VENV/bin/python" --version))"
        return
    fi
    [ -x "$VIRTLAB_VENV/bin/python" ] || { log "venv: creating"; "$(find_python)" -m venv "$VIRTLAB_VENV"; }
    log "venv: installing pinned requirements"
    "$VIRTLAB_VENV/bin/pip" install -q --disable-pip-version-check -r "$VIRTLAB_ROOT/requirements/test.txt" 2>&1 \
        | grep -v "^WARNING: Location" || true
    "$VIRTLAB_VENV/bin/python" -c "import ansible, proxmoxer, docker, libvirt, netaddr, fakepve, molecule" \
        || die "venv: the pinned requirements did not install"
    echo "$want" > "$stamp"
}

install_collections() {
    "$VIRTLAB_VENV/bin/python" "$VIRTLAB_ROOT/scripts/install_collections.py" \
        --requirements "$VIRTLAB_ROOT/requirements.yml" --dest "$VIRTLAB_STATE/deps" \
        --cache "$VIRTLAB_STATE/cache"
    # the collection itself, where ansible and pytest find it by its FQCN
    mkdir -p "$VIRTLAB_STATE/collections/ansible_collections/virtlab"
    ln -sfn "$VIRTLAB_ROOT" "$VIRTLAB_STATE/collections/ansible_collections/virtlab/infra"
}

mkdir -p "$VIRTLAB_STATE" "$VIRTLAB_RUN"
install_debian_packages
create_venv
install_collections
if [ "$WITH_SERVICES" -eq 1 ]; then
    "$VIRTLAB_ROOT/scripts/services.sh" start
    "$VIRTLAB_ROOT/scripts/base_images.sh"
fi
log "set-up done"
