"""Fixtures shared by every suite.

``run_module`` runs one of our modules the way a playbook would — ``ansible localhost -m``
in a subprocess, with the real engines — and returns Ansible's result for that host. It is
how integration tests check ``changed``, check mode, diff mode and error messages.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run_module(name: str, args: dict | None = None, *, check: bool = False, diff: bool = False,
                verbosity: int = 0, env: dict | None = None) -> dict:
    fqcn = name if "." in name else "virtlab.infra." + name
    command = ["ansible", "localhost", "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable,
               "-m", fqcn, "-a", json.dumps(args or {})]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    environment = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                       ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                       ANSIBLE_DEPRECATION_WARNINGS="0")
    environment.update(env or {})
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, check=False)
    try:
        report = json.loads(completed.stdout[completed.stdout.index("{"):])
        result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible gave no JSON result (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                             % (completed.returncode, completed.stdout, completed.stderr)) from None
    result["_stdout"] = completed.stdout
    result["_stderr"] = completed.stderr
    return result


def _run_playbook(playbook: str, extra_vars: dict | None = None, *, check: bool = False, inventory: str = "localhost,",
                  env: dict | None = None) -> dict:
    """Run a playbook with the JSON callback; returns {"rc", "stats" (of localhost), "tasks", "stdout", "stderr"}."""
    command = ["ansible-playbook", "-i", inventory, "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
               "-e", json.dumps(extra_vars or {}), playbook]
    if check:
        command.append("--check")
    environment = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    environment.update(env or {})
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, check=False)
    try:
        report = json.loads(completed.stdout[completed.stdout.index("{"):])
    except ValueError:
        raise AssertionError("ansible-playbook gave no JSON (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                             % (completed.returncode, completed.stdout, completed.stderr)) from None
    tasks = [task for play in report["plays"] for task in play["tasks"]]
    return {"rc": completed.returncode, "stats": report["stats"].get("localhost", {}), "tasks": tasks,
            "stdout": completed.stdout, "stderr": completed.stderr}


@pytest.fixture(scope="session")
def run_playbook():
    """``run_playbook(path, extra_vars, check=False)`` -> {"rc", "stats", "tasks", "stdout", "stderr"}."""
    return _run_playbook


@pytest.fixture(scope="session")
def run_module():
    """``run_module(name, args, check=False, diff=False)`` -> the module's result dict."""
    return _run_module
