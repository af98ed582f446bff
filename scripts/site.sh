#!/usr/bin/env bash
# The main job (README): set-up, then playbooks/site.yml on the embedded local inventory.
# Extra arguments go to ansible-playbook (e.g. --tags httpd, --check, -v).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
"$VIRTLAB_ROOT/scripts/setup.sh"
virtlab_env
cd "$VIRTLAB_ROOT"
ansible-playbook -i inventories/local playbooks/site.yml "$@"
