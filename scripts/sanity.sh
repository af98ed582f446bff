#!/usr/bin/env bash
# ansible-test sanity, offline. ansible-test must run inside an
# ansible_collections/<namespace>/<name> tree, so the tracked (and new, unignored) files are
# mirrored into one under .state. Its --venv mode first downloads a pip bootstrap script from
# a host our CI cannot reach; we stand in for it with pip's own wheel from PyPI.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
virtlab_env

PY_VERSION="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# the pip release ansible-test bootstraps into its venvs (its get_venv_packages() default)
PIP_VERSION="$(python - <<'PY'
import re, ansible_test._internal.python_requirements as requirements
print(re.search(r"pip='([^']+)'", open(requirements.__file__).read()).group(1))
PY
)"
CACHE="$HOME/.ansible/test/cache"
STANDIN="$CACHE/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$CACHE"
if ! ls "$CACHE"/pip-"$PIP_VERSION"-*.whl >/dev/null 2>&1; then
    python -m pip download -q --no-deps "pip==$PIP_VERSION" -d "$CACHE"
fi
if ! grep -q virtlab.infra "$STANDIN" 2>/dev/null || ! grep -q -- --no-wheel "$STANDIN"; then
    cat > "$STANDIN" <<PY
# Stand-in for ansible-test's get-pip download (written by virtlab.infra scripts/sanity.sh):
# run pip from its own wheel to install that wheel plus the requested packages.
# get-pip's own switches (--no-setuptools, --no-wheel) mean "install only pip": drop them.
import glob, os, sys
wheel = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-$PIP_VERSION-*.whl"))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", wheel] + args))
PY
fi

# ansible-test skips every file below a hidden directory, so the tree cannot live in .state
TREE="${TMPDIR:-/var/tmp}/virtlab-sanity-$(printf '%s' "$VIRTLAB_ROOT" | sha256sum | cut -c1-12)/ansible_collections/virtlab/infra"
mkdir -p "$TREE"
(cd "$VIRTLAB_ROOT" && git ls-files -z --cached --others --exclude-standard) \
    | rsync -a --delete --from0 --files-from=- "$VIRTLAB_ROOT/" "$TREE/"
# --delete only acts on listed paths; drop files that left the tree
(cd "$TREE" && comm -z -23 <(find . -type f -printf '%P\0' | sort -z) \
    <(cd "$VIRTLAB_ROOT" && git ls-files -z --cached --others --exclude-standard | sort -z) | xargs -0r rm -f)
cd "$TREE"
ansible-test sanity --venv --python "$PY_VERSION" --color no "$@"
