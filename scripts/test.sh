#!/usr/bin/env bash
# The test command (README, CI): set-up, then every suite. Stops at the first failing suite.
#   scripts/test.sh              unit + integration + molecule + sanity + lint
#   scripts/test.sh unit|integration|molecule|sanity|lint ...   only those suites (set-up still runs)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_root
"$VIRTLAB_ROOT/scripts/setup.sh"
virtlab_env
cd "$VIRTLAB_ROOT"

run_pytest() {  # run_pytest <dir...>; pytest's exit 5 (nothing collected) fails like any other
    PYTHONPATH="$VIRTLAB_STATE/collections:$VIRTLAB_STATE/deps" \
        python -m pytest -p no:cacheprovider --import-mode=importlib --strict-markers -ra "$@"
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration molecule sanity lint)
for suite in "${suites[@]}"; do
    log "=== $suite ==="
    case "$suite" in
        unit) run_pytest tests/unit ;;
        integration) run_pytest tests/integration ;;
        molecule)
            # one scenario per role; a tree without scenarios is a failure, not a pass
            scenarios=(molecule/*/molecule.yml)
            [ -f "${scenarios[0]}" ] || die "no molecule scenario found"
            molecule test --all ;;
        sanity) "$VIRTLAB_ROOT/scripts/sanity.sh" ;;
        lint) ansible-lint --profile production ;;
        *) die "unknown suite: $suite" ;;
    esac
done
log "all suites passed: ${suites[*]}"
