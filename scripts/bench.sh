#!/usr/bin/env bash
# Benchmarks (make bench, make bench-docker, ...): each prints ours beside the peer, from one run.
#   scripts/bench.sh [docker|libvirt ...]   default: every benchmarks/*.py
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
"$VIRTLAB_ROOT/scripts/setup.sh"
virtlab_env
# the peers measured beside ours
python "$VIRTLAB_ROOT/scripts/install_collections.py" --requirements "$VIRTLAB_ROOT/requirements.yml" \
    --dest "$VIRTLAB_STATE/deps" --cache "$VIRTLAB_STATE/cache" --also community.libvirt --also community.proxmox
cd "$VIRTLAB_ROOT"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    # benchmarks/_*.py are helpers the benchmarks import, not benchmarks
    for file in benchmarks/[!_]*.py; do names+=("$(basename "$file" .py)"); done
fi
status=0
for name in "${names[@]}"; do
    file="benchmarks/${name}.py"
    [ -f "$file" ] || file="$(find benchmarks -maxdepth 1 -name "${name}_*.py" ! -name '_*' | sort | head -n 1)"
    if [ -z "$file" ] || [ ! -f "$file" ]; then die "no benchmark named $name"; fi
    log "=== benchmark $file ==="
    PYTHONPATH="$VIRTLAB_STATE/collections:$VIRTLAB_STATE/deps" python "$file" || status=1
done
exit "$status"
