#!/usr/bin/env bash
# Start, stop or show the real engines the collection is tested against.
#   scripts/services.sh start|stop|restart|status
# dockerd runs with its own data-root, exec-root and socket under .state/; the registry
# (Debian's docker-registry) listens on 127.0.0.1 with htpasswd auth; libvirtd is the
# system's qemu:///system with a dir pool of ours. Starting twice starts nothing twice.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
virtlab_env

DOCKER_PID="$VIRTLAB_RUN/dockerd.pid"
REGISTRY_PID="$VIRTLAB_RUN/registry.pid"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for <seconds> <description> <command...>
    local timeout="$1" what="$2"; shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up within ${timeout}s"
        sleep 0.5
    done
}

start_dockerd() {
    if alive "$DOCKER_PID"; then log "dockerd: running (pid $(cat "$DOCKER_PID"))"; return; fi
    local other
    other="$(pgrep -x dockerd || true)"
    [ -z "$other" ] || die "another dockerd (pid $other) owns this host's docker0 bridge; stop it first"
    mkdir -p "$VIRTLAB_STATE/docker/data" "$VIRTLAB_RUN/docker-exec"
    log "dockerd: starting (data-root $VIRTLAB_STATE/docker/data)"
    setsid dockerd \
        --data-root "$VIRTLAB_STATE/docker/data" \
        --exec-root "$VIRTLAB_RUN/docker-exec" \
        --pidfile "$DOCKER_PID" \
        --host "$DOCKER_HOST" \
        >"$VIRTLAB_STATE/docker/dockerd.log" 2>&1 < /dev/null &
    wait_for 60 dockerd docker version
}

registry_credentials() {
    local creds="$VIRTLAB_REGISTRY_CREDENTIALS"
    if [ ! -f "$creds" ]; then
        local password
        password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
        umask 077
        printf 'VIRTLAB_REGISTRY_USERNAME=virtlab\nVIRTLAB_REGISTRY_PASSWORD=%s\n' "$password" > "$creds"
        htpasswd -Bbc "$VIRTLAB_STATE/registry/htpasswd" virtlab "$password" 2>/dev/null
        umask 022
        log "registry: generated credentials in $creds"
    fi
}

start_registry() {
    if alive "$REGISTRY_PID"; then log "registry: running (pid $(cat "$REGISTRY_PID")) on $VIRTLAB_REGISTRY"; return; fi
    mkdir -p "$VIRTLAB_STATE/registry/data"
    registry_credentials
    cat > "$VIRTLAB_STATE/registry/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $VIRTLAB_STATE/registry/data
  delete:
    enabled: true
http:
  addr: $VIRTLAB_REGISTRY
auth:
  htpasswd:
    realm: virtlab-registry
    path: $VIRTLAB_STATE/registry/htpasswd
CONF
    log "registry: starting on $VIRTLAB_REGISTRY"
    setsid docker-registry serve "$VIRTLAB_STATE/registry/config.yml" \
        >"$VIRTLAB_STATE/registry/registry.log" 2>&1 < /dev/null &
    echo $! > "$REGISTRY_PID"
    # 401 without credentials is the healthy answer of an authenticated registry
    wait_for 30 registry sh -c "curl -s -o /dev/null -w '%{http_code}' http://$VIRTLAB_REGISTRY/v2/ | grep -q 401"
}

start_libvirtd() {
    if virsh -c qemu:///system version >/dev/null 2>&1; then
        log "libvirtd: running"
    else
        log "libvirtd: starting"
        pgrep -x virtlogd >/dev/null || virtlogd -d
        pgrep -x libvirtd >/dev/null || libvirtd -d
        wait_for 30 libvirtd virsh -c qemu:///system version
    fi
    ensure_pool
    "$VIRTLAB_ROOT/scripts/kvm_probe.sh"
}

# qemu runs as libvirt-qemu: the pool directory must be reachable by it. A checkout under
# a private directory (mktemp -d) is not, so the pool then lives under libvirt's own images dir.
pool_dir() {
    local wanted="$VIRTLAB_STATE/libvirt/pool"
    mkdir -p "$wanted"
    if runuser -u libvirt-qemu -- test -x "$wanted" 2>/dev/null; then
        echo "$wanted"
    else
        echo "/var/lib/libvirt/images/$VIRTLAB_POOL_NAME"
    fi
}

ensure_pool() {
    if virsh -q pool-info "$VIRTLAB_POOL_NAME" >/dev/null 2>&1; then
        virsh -q pool-start "$VIRTLAB_POOL_NAME" >/dev/null 2>&1 || true
        log "libvirt pool $VIRTLAB_POOL_NAME: $(virsh pool-dumpxml "$VIRTLAB_POOL_NAME" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p')"
        return
    fi
    local dir; dir="$(pool_dir)"
    mkdir -p "$dir"
    virsh -q pool-define-as "$VIRTLAB_POOL_NAME" dir --target "$dir" >/dev/null
    virsh -q pool-start "$VIRTLAB_POOL_NAME" >/dev/null
    virsh -q pool-autostart "$VIRTLAB_POOL_NAME" >/dev/null
    log "libvirt pool $VIRTLAB_POOL_NAME: created at $dir"
}

stop_pidfile() {  # stop_pidfile <name> <pidfile>
    if alive "$2"; then
        # wait on the process itself: dockerd removes its pidfile before it has finished exiting
        local pid; pid="$(cat "$2")"
        log "$1: stopping"
        kill "$pid"
        local deadline=$((SECONDS + 60))
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    else
        log "$1: not running"
    fi
    rm -f "$2"
}

status() {  # exits non-zero when a service is down
    local down=0
    if alive "$DOCKER_PID"; then log "dockerd: running (pid $(cat "$DOCKER_PID")), $DOCKER_HOST"; else log "dockerd: stopped"; down=1; fi
    if alive "$REGISTRY_PID"; then log "registry: running (pid $(cat "$REGISTRY_PID")), $VIRTLAB_REGISTRY"; else log "registry: stopped"; down=1; fi
    if virsh -c qemu:///system version >/dev/null 2>&1; then log "libvirtd: running"; else log "libvirtd: stopped"; down=1; fi
    return "$down"
}

case "${1:-}" in
    start) start_dockerd; start_registry; start_libvirtd ;;
    stop)
        stop_pidfile registry "$REGISTRY_PID"
        stop_pidfile dockerd "$DOCKER_PID"
        # libvirtd is the host's daemon: stop it only when we started it (no systemd unit active)
        if ! systemctl is-active --quiet libvirtd 2>/dev/null && pgrep -x libvirtd >/dev/null; then
            log "libvirtd: stopping"; pkill -x libvirtd || true; pkill -x virtlogd || true
            deadline=$((SECONDS + 30))
            while pgrep -x libvirtd >/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
        fi ;;
    restart) "$0" stop; "$0" start ;;
    status) status ;;
    *) die "usage: $0 start|stop|restart|status" ;;
esac
