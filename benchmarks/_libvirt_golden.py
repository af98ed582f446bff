"""What the libvirt benchmarks share: a big golden qcow2 volume, allocated bytes, a playbook timed per task,
and the removal of every volume a run made.

Imported by benchmarks/libvirt_clone.py and benchmarks/devtest_clones.py (run as scripts, so this directory is
on sys.path).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import datetime

import libvirt

GiB = 1024 ** 3
MiB = 1024 ** 2
VIRTUAL = 20 * GiB
WRITTEN = 2 * GiB
CHUNK = 128 * MiB


def allocated(path: str) -> int:
    """Bytes the file really takes (what ``qemu-img info`` calls actual-size)."""
    return os.stat(path).st_blocks * 512


def open_bench_pool():
    """(connection, pool, prefix): the pool $VIRTLAB_POOL_NAME and a fresh vlt-bench- prefix for the run's volumes.

    Fails early when the peer (community.libvirt virt_volume) cannot run: it needs lxml.
    """
    try:
        import lxml  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        raise SystemExit("the peer (community.libvirt virt_volume) needs lxml in this Python: pip install lxml") from None
    libvirt.registerErrorHandler(lambda _c, _e: None, None)
    conn = libvirt.open(os.environ.get("LIBVIRT_DEFAULT_URI", "qemu:///system"))
    pool = conn.storagePoolLookupByName(os.environ.get("VIRTLAB_POOL_NAME", "virtlab"))
    return conn, pool, "vlt-bench-%s-" % secrets.token_hex(3)


def make_golden(pool, name: str) -> str:
    """A qcow2 volume of VIRTUAL bytes holding WRITTEN bytes of data spread over the disk; returns its path."""
    xml = ("<volume><name>%s</name><capacity unit='bytes'>%d</capacity>"
           "<target><format type='qcow2'/></target></volume>" % (name, VIRTUAL))
    path = pool.createXML(xml, 0).path()
    commands = []
    for offset in range(0, WRITTEN, CHUNK):  # qemu-io rejects one 2 GiB write: chunks, spread over the disk
        commands += ["-c", "write -P 0x%02x %d %d" % (1 + offset // CHUNK, offset * 4, CHUNK)]
    subprocess.run(["qemu-io", "-f", "qcow2"] + commands + [path], check=True, capture_output=True)
    pool.refresh(0)
    return path


def run_playbook(tasks: list[dict]) -> list[tuple[str, float, dict]]:
    """Run the tasks in one play on localhost; (name, seconds, result) per task from the JSON callback."""
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        json.dump(playbook, handle)
        path = handle.name
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0")
    try:
        completed = subprocess.run(
            ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e",
             "ansible_python_interpreter=" + sys.executable, path],
            capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(path)
    try:
        report = json.loads(completed.stdout[completed.stdout.index("{"):])
    except ValueError:
        raise SystemExit("ansible-playbook gave no JSON:\n%s\n%s" % (completed.stdout, completed.stderr)) from None
    rows = []
    for task in report["plays"][0]["tasks"]:
        result = task["hosts"]["localhost"]
        if result.get("failed"):
            raise SystemExit("task %r failed: %s" % (task["task"]["name"], result.get("msg")))
        duration = task["task"]["duration"]
        seconds = (_timestamp(duration["end"]) - _timestamp(duration["start"])).total_seconds()
        rows.append((task["task"]["name"], seconds, result))
    return rows


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def delete_prefixed(pool, prefix: str) -> None:
    """Remove the pool's volumes named prefix*, overlays before their backing files."""
    for _round in range(5):
        pool.refresh(0)
        volumes = [v for v in pool.listAllVolumes(0) if v.name().startswith(prefix)]
        if not volumes:
            return
        backings = set()
        for vol in volumes:
            xml = vol.XMLDesc(0)
            if "<backingStore>" in xml:
                backings.add(xml.split("<backingStore>")[1].split("<path>")[1].split("</path>")[0])
        for vol in volumes:
            if vol.path() not in backings:
                vol.delete(0)
