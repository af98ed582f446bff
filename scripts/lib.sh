# shellcheck shell=bash
# Shared settings of the set-up scripts. Sourced, never run.
# Everything the scripts create lives under $VIRTLAB_STATE (ignored by git).

VIRTLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIRTLAB_STATE="${VIRTLAB_STATE:-$VIRTLAB_ROOT/.state}"
VIRTLAB_VENV="$VIRTLAB_STATE/venv"
VIRTLAB_RUN="$VIRTLAB_STATE/run"
VIRTLAB_REGISTRY_PORT="${VIRTLAB_REGISTRY_PORT:-5000}"
VIRTLAB_DEBIAN_MIRROR="${VIRTLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
VIRTLAB_POOL_NAME="${VIRTLAB_POOL_NAME:-virtlab}"
export VIRTLAB_ROOT VIRTLAB_STATE VIRTLAB_VENV VIRTLAB_RUN

log() { printf '[virtlab] %s\n' "$*" >&2; }
die() { printf '[virtlab] ERROR: %s\n' "$*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root: the Docker engine, the registry and libvirtd are system services"
}

# The environment every tool of the project runs in (tests, playbooks, molecule).
virtlab_env() {
    export PATH="$VIRTLAB_VENV/bin:$PATH"
    export DOCKER_HOST="unix://$VIRTLAB_RUN/docker.sock"
    export LIBVIRT_DEFAULT_URI="qemu:///system"
    export VIRTLAB_REGISTRY="127.0.0.1:$VIRTLAB_REGISTRY_PORT"
    export VIRTLAB_REGISTRY_CREDENTIALS="$VIRTLAB_STATE/registry/credentials.env"
    export VIRTLAB_POOL_NAME
    export VIRTLAB_VIRT_TYPE_FILE="$VIRTLAB_STATE/libvirt/virt-type"
    export ANSIBLE_HOME="$VIRTLAB_STATE/ansible-home"
    # our own tree first, then the dependencies taken from the ansible package
    export ANSIBLE_COLLECTIONS_PATH="$VIRTLAB_STATE/collections:$VIRTLAB_STATE/deps"
    export ANSIBLE_CONFIG="$VIRTLAB_ROOT/ansible.cfg"
}
