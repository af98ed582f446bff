"""The AWX execution environment definition builds a context carrying every dependency of the plugins:
each third-party import of plugins/ is a pinned runtime requirement, and each program the controller-side
plugins run is a system package of bindep.txt."""

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Programs the plugins run on the machine that executes them (the EE when AWX runs a libvirt module
# against the local or a qemu+ssh:// libvirt) -> the bindep package names that provide them.
COMMAND_PACKAGES = {
    "qemu-img": {"qemu-img", "qemu-utils"},
    "xorriso": {"xorriso"},
    "genisoimage": {"genisoimage", "xorriso"},
}
# Code that runs on the managed host itself (the hardware under test), never in the EE: its tools are the
# host's packages (installed by the hardware roles), not the execution environment's.
HOST_SIDE = ("plugins/module_utils/hardware/", "plugins/modules/hardware_")


def _python_files():
    return sorted((ROOT / "plugins").rglob("*.py"))


def _third_party_imports():
    found = {}
    for path in _python_files():
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
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(path):
    pins = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            pins.add(_normal(re.split(r"[\s=<>!~;\[]", line)[0]))
    return pins


def _ansible_core_dependencies():
    requires = importlib.metadata.requires("ansible-core") or []
    return {_normal(re.split(r"[\s=<>!~;\[(]", requirement)[0]) for requirement in requires}


def test_every_plugin_import_is_a_runtime_requirement():
    """Every third-party import in plugins/ comes from a distribution pinned in requirements/runtime.txt
    (what the EE installs) or from ansible-core's own dependencies."""
    imports = _third_party_imports()
    assert {"docker", "proxmoxer", "libvirt", "netaddr", "requests"} <= set(imports), \
        "the import scan misses known imports: %s" % sorted(imports)
    providers = importlib.metadata.packages_distributions()
    pinned = _pinned(ROOT / "requirements" / "runtime.txt")
    core = _ansible_core_dependencies()
    missing = []
    for name, files in sorted(imports.items()):
        distributions = {_normal(dist) for dist in providers.get(name, [])}
        if not distributions:
            missing.append("%s (imported by %s) is not installed: pin its distribution in requirements/runtime.txt "
                           "and install it" % (name, ", ".join(sorted(files))))
        elif not distributions & (pinned | core):
            missing.append("%s (imported by %s): pin %s in requirements/runtime.txt"
                           % (name, ", ".join(sorted(files)), " or ".join(sorted(distributions))))
    assert not missing, "\n".join(missing)


def _commands_run():
    """Program names the plugins pass as a literal first argument to run_command() or get_bin_path()."""
    found = {}
    for path in _python_files():
        relative = str(path.relative_to(ROOT))
        if relative.startswith(HOST_SIDE):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if func.endswith("run_command") and isinstance(first, ast.List) and first.elts \
                    and isinstance(first.elts[0], ast.Constant) and isinstance(first.elts[0].value, str):
                found.setdefault(first.elts[0].value, set()).add(relative)
            elif func == "get_bin_path" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, set()).add(relative)
    return found


def _bindep_packages():
    packages = set()
    for line in (ROOT / "bindep.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            packages.add(line.split()[0])
    return packages


def test_every_program_the_plugins_run_is_a_bindep_package():
    commands = _commands_run()
    assert "qemu-img" in commands, "the command scan misses qemu-img: %s" % sorted(commands)
    packages = _bindep_packages()
    problems = []
    for command, files in sorted(commands.items()):
        if command not in COMMAND_PACKAGES:
            problems.append("%s (run by %s): add its package to bindep.txt and to COMMAND_PACKAGES here"
                            % (command, ", ".join(sorted(files))))
        elif not COMMAND_PACKAGES[command] & packages:
            problems.append("%s (run by %s): none of %s is in bindep.txt"
                            % (command, ", ".join(sorted(files)), sorted(COMMAND_PACKAGES[command])))
    assert not problems, "\n".join(problems)


def test_bindep_covers_libvirt_remote_uris_and_builds():
    packages = _bindep_packages()
    # libvirt-python builds against libvirt's headers; qemu+ssh:// URIs need an ssh client
    assert {"libvirt-devel", "libvirt-dev", "pkg-config", "gcc"} <= packages
    assert {"openssh-clients", "openssh-client"} <= packages


def test_ansible_builder_creates_a_complete_context(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_builder", "create", "-f", str(ROOT / "meta" / "execution-environment.yml"),
         "-c", str(tmp_path / "context")],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    build = tmp_path / "context" / "_build"
    python = _pinned(build / "requirements.txt")
    assert _pinned(ROOT / "requirements" / "runtime.txt") - {"ansible-core"} <= python
    for package in ("proxmoxer", "docker", "libvirt-python", "netaddr", "requests"):
        assert package in python
    bindep = (build / "bindep.txt").read_text()
    assert "libvirt-dev" in bindep and "qemu-img" in bindep and "openssh-clients" in bindep
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert {item["name"] for item in galaxy["collections"]} >= {"community.docker", "ansible.posix"}
    containerfile = next(path for path in (tmp_path / "context").iterdir() if path.name in ("Containerfile", "Dockerfile"))
    text = containerfile.read_text()
    assert "FROM" in text and "ansible-runner" in text
