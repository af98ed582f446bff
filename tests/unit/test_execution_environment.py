"""The AWX execution environment definition builds a context carrying every dependency of the plugins."""

import ast
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# import name -> the distribution that provides it
DISTRIBUTIONS = {"docker": "docker", "libvirt": "libvirt-python", "proxmoxer": "proxmoxer", "requests": "requests",
                 "netaddr": "netaddr", "yaml": "ansible-core", "jinja2": "ansible-core"}


def _third_party_imports():
    found = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    found.add(top)
    return found


def test_every_plugin_import_is_a_runtime_requirement():
    runtime = (ROOT / "requirements" / "runtime.txt").read_text()
    pinned = {line.split("==")[0].strip().lower() for line in runtime.splitlines() if "==" in line}
    imports = _third_party_imports()
    assert imports, "no third-party import found: the scan is broken"
    unknown = imports - set(DISTRIBUTIONS)
    assert not unknown, "map these imports to their distribution: %s" % unknown
    assert {DISTRIBUTIONS[name].lower() for name in imports} <= pinned


def test_ansible_builder_creates_a_complete_context(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_builder", "create", "-f", str(ROOT / "meta" / "execution-environment.yml"),
         "-c", str(tmp_path / "context")],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    build = tmp_path / "context" / "_build"
    python = (build / "requirements.txt").read_text()
    for package in ("proxmoxer", "docker", "libvirt-python", "netaddr"):
        assert package in python
    assert "libvirt-dev" in (build / "bindep.txt").read_text()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert {item["name"] for item in galaxy["collections"]} >= {"community.docker", "ansible.posix"}
    containerfile = next(path for path in (tmp_path / "context").iterdir() if path.name in ("Containerfile", "Dockerfile"))
    assert "FROM" in containerfile.read_text()
