"""docs/security.md lists the privileges of every Proxmox VE module (new modules included)."""

import glob
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script():
    spec = importlib.util.spec_from_file_location('proxmox_privileges',
                                                  os.path.join(ROOT, 'scripts', 'proxmox_privileges.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_proxmox_module_has_its_privileges_documented():
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', 'proxmox_*.py')))
    with open(os.path.join(ROOT, 'docs', 'security.md')) as handle:
        doc = handle.read()
    assert modules, 'no proxmox modules found'
    assert sorted(set(modules) - set(_script().MODULES)) == [], 'add the module to scripts/proxmox_privileges.py'
    assert [m for m in modules if '### %s\n' % m not in doc] == [], 'rerun scripts/proxmox_privileges.py'
