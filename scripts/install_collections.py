"""Install the collections of requirements.yml without the collection index.

The public collection index is not reachable from our CI machines, but PyPI is: the
``ansible`` package bundles every collection we depend on. This script downloads that
wheel once (cached), then unpacks exactly the listed collections and their declared
dependencies into ``DEST/ansible_collections``. A collection already present with a
version that satisfies the requirement is left alone, so a second run does nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ANSIBLE_PACKAGE = "ansible==14.5.0"


def installed_version(dest: Path, fqcn: str) -> Version | None:
    manifest = dest / "ansible_collections" / Path(*fqcn.split(".")) / "MANIFEST.json"
    if not manifest.is_file():
        return None
    return Version(json.loads(manifest.read_text())["collection_info"]["version"])


def ansible_wheel(cache: Path) -> zipfile.ZipFile:
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("ansible-*-py3-none-any.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", ANSIBLE_PACKAGE, "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob("ansible-*-py3-none-any.whl"))
    return zipfile.ZipFile(found[-1])


def bundled_manifest(wheel: zipfile.ZipFile, fqcn: str) -> dict:
    name = "ansible_collections/%s/MANIFEST.json" % fqcn.replace(".", "/")
    try:
        return json.loads(wheel.read(name))["collection_info"]
    except KeyError:
        raise SystemExit("%s is not bundled in %s" % (fqcn, ANSIBLE_PACKAGE)) from None


def extract(wheel: zipfile.ZipFile, fqcn: str, dest: Path) -> None:
    prefix = "ansible_collections/%s/" % fqcn.replace(".", "/")
    target = dest / prefix
    if target.exists():
        shutil.rmtree(target)
    for member in wheel.namelist():
        if member.startswith(prefix):
            wheel.extract(member, dest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, required=True)
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--also", action="append", default=[], help="extra collection (FQCN), e.g. a peer for benchmarks")
    args = parser.parse_args()

    wanted = {item["name"]: item.get("version", "*") for item in yaml.safe_load(args.requirements.read_text())["collections"]}
    wanted.update({fqcn: "*" for fqcn in args.also})
    queue = list(wanted.items())
    wheel = None
    done: set[str] = set()
    while queue:
        fqcn, spec = queue.pop(0)
        if fqcn in done:
            continue
        done.add(fqcn)
        specifier = SpecifierSet("" if spec == "*" else spec)
        have = installed_version(args.dest, fqcn)
        if have is not None and have in specifier:
            print("collection %s %s: present" % (fqcn, have))
            continue
        wheel = wheel or ansible_wheel(args.cache)
        info = bundled_manifest(wheel, fqcn)
        if Version(info["version"]) not in specifier:
            raise SystemExit("%s %s (bundled) does not satisfy %s" % (fqcn, info["version"], spec))
        extract(wheel, fqcn, args.dest)
        print("collection %s %s: installed" % (fqcn, info["version"]))
        queue.extend((dep, dep_spec) for dep, dep_spec in info.get("dependencies", {}).items())
    return 0


if __name__ == "__main__":
    sys.exit(main())
