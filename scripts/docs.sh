#!/usr/bin/env bash
# Generated documentation (make docs): docs/reference/ from the plugins' own docs and the roles'
# argument specs, docs/surveys.md from the roles' argument specs. A warning fails the build.
#   scripts/docs.sh            regenerate both
#   scripts/docs.sh --check    only check that the checked-in files are up to date
set -euo pipefail
. "$(dirname "$0")/lib.sh"
virtlab_env
[ -x "$VIRTLAB_VENV/bin/python" ] || die "no virtual environment at $VIRTLAB_VENV: run scripts/setup.sh first"
cd "$VIRTLAB_ROOT"
python scripts/plugin_docs.py "$@"
if [ -f scripts/survey_spec.py ]; then
    python scripts/survey_spec.py "$@"
fi
