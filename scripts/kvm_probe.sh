#!/usr/bin/env bash
# Decide the libvirt domain type by booting a tiny guest, never by the presence of /dev/kvm
# (on some hosts /dev/kvm exists but a KVM guest never boots). The guest is the host's Debian
# kernel with a busybox initramfs that prints a marker on its serial console and powers off.
# The answer ("kvm" or "qemu", i.e. TCG) is cached in $VIRTLAB_VIRT_TYPE_FILE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
virtlab_env

[ -s "$VIRTLAB_VIRT_TYPE_FILE" ] && { log "virt type: $(cat "$VIRTLAB_VIRT_TYPE_FILE") (probed before)"; exit 0; }

kernel="$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)"
[ -n "$kernel" ] || die "no kernel in /boot (package linux-image-amd64)"
pool="$(virsh pool-dumpxml "$VIRTLAB_POOL_NAME" | sed -n 's:.*<path>\(.*\)</path>.*:\1:p')"
work="$pool/probe"
mkdir -p "$work"
cp "$kernel" "$work/vmlinuz"

# initramfs: busybox + an /init that prints the marker and powers off
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build/bin" "$build/dev" "$build/proc"
cp /bin/busybox "$build/bin/busybox"
cat > "$build/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox echo VIRTLAB-PROBE-BOOTED > /dev/ttyS0
/bin/busybox poweroff -f
INIT
chmod +x "$build/init"
(cd "$build" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

boots() {  # boots <domain type> <seconds>
    local type="$1" timeout="$2" name="virtlab-probe-$1" log="$work/console-$1.log"
    rm -f "$log"
    virsh -q destroy "$name" >/dev/null 2>&1 || true
    virsh -q undefine "$name" >/dev/null 2>&1 || true
    cat > "$work/$name.xml" <<XML
<domain type='$type'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$work/vmlinuz</kernel>
    <initrd>$work/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='$log'/><target port='0'/></serial>
  </devices>
</domain>
XML
    virsh -q create "$work/$name.xml" >/dev/null 2>&1 || return 1
    local deadline=$((SECONDS + timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if grep -q VIRTLAB-PROBE-BOOTED "$log" 2>/dev/null; then
            virsh -q destroy "$name" >/dev/null 2>&1 || true
            return 0
        fi
        sleep 1
    done
    virsh -q destroy "$name" >/dev/null 2>&1 || true
    return 1
}

mkdir -p "$(dirname "$VIRTLAB_VIRT_TYPE_FILE")"
if [ -e /dev/kvm ] && boots kvm 30; then
    echo kvm > "$VIRTLAB_VIRT_TYPE_FILE"
elif boots qemu 120; then
    echo qemu > "$VIRTLAB_VIRT_TYPE_FILE"
else
    die "neither a kvm nor a qemu (TCG) probe guest booted; see $work/console-*.log"
fi
log "virt type: $(cat "$VIRTLAB_VIRT_TYPE_FILE") (probed: a guest booted and printed its marker)"
