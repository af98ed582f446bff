"""docker_image_build vs community.docker's docker_image (source: build), on the same engine.

A context of 5,000 small files goes through the change matrix; for each step the benchmark
records whether the tool reported a change, whether the tag really moved, and the wall time of
the task (an ``ansible localhost -m`` run, the same overhead for every tool). A step is right
when both the report and the tag movement match what should happen. Then it times identical
re-runs (no-ops) and prints ours against the peer, as ratios, from this one run.

community.docker's ``docker_image_build`` needs the buildx CLI plugin (not packaged for
Debian 12), so the peer is its ``docker_image`` module with ``source: build``, default and with
``force_source: true``.

Run: make bench-docker  (or: . scripts/lib.sh && virtlab_env && python benchmarks/docker_build.py)
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

FILES = 5000
NOOP_RUNS = 5
STEPS = [  # (step, should the image change?)
    ("first build", True),
    ("identical re-run", False),
    ("Dockerfile edited", True),
    ("context file edited", True),
    ("ignored file edited", False),
    ("build arg changed", True),
    ("base re-tagged", True),
]


def run_task(module: str, args: dict) -> tuple[dict, float]:
    command = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
               "-m", module, "-a", json.dumps(args)]
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if result.get("failed"):
        raise SystemExit("%s failed: %s" % (module, result.get("msg")))
    return result, elapsed


class Tool:
    def __init__(self, label: str, module: str, name: str, extra: dict | None = None) -> None:
        self.label, self.module, self.name, self.extra = label, module, name, extra or {}

    def args(self, context: Path, build_args: dict) -> dict:
        if self.module == "virtlab.infra.docker_image_build":
            return {"name": self.name, "tags": ["1"], "path": str(context), "build_args": build_args}
        return dict({"name": self.name, "tag": "1", "source": "build",
                     "build": {"path": str(context), "args": build_args}}, **self.extra)


def image_id(client: docker.DockerClient, reference: str) -> str | None:
    try:
        return client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def make_base(client: docker.DockerClient, tag: str, variant: str) -> None:
    client.images.build(fileobj=io.BytesIO(("FROM virtlab/debian:bookworm\nLABEL variant=%s\n" % variant).encode()),
                        tag=tag, rm=True)


def make_context(root: Path, base: str) -> None:
    for index in range(FILES):
        directory = root / "src" / ("d%02d" % (index % 50))
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ("f%04d.txt" % index)).write_text("file %d\n" % index)
    (root / "scratch.log").write_text("ignored\n")
    (root / ".dockerignore").write_text("*.log\n")
    (root / "Dockerfile").write_text("FROM %s\nARG RELEASE=1\nCOPY src/ /srv/src/\nRUN echo $RELEASE > /release\n" % base)


def run_matrix(client: docker.DockerClient, tool: Tool, workdir: Path) -> dict:
    base = "vlt-bench-base-%s:1" % tool.label.replace(" ", "-").replace("(", "").replace(")", "").replace(":", "")
    make_base(client, base, "one")
    context = workdir / tool.label.replace(" ", "_")
    make_context(context, base)
    build_args = {"RELEASE": "1"}
    rows = []
    for step, should_change in STEPS:
        if step == "Dockerfile edited":
            with open(context / "Dockerfile", "a") as handle:
                handle.write("LABEL edited=1\n")
        elif step == "context file edited":
            (context / "src" / "d07" / "f0007.txt").write_text("edited\n")
        elif step == "ignored file edited":
            (context / "scratch.log").write_text("edited, still ignored\n")
        elif step == "build arg changed":
            build_args = {"RELEASE": "2"}
        elif step == "base re-tagged":
            make_base(client, base, "two")
        before = image_id(client, tool.name + ":1")
        result, elapsed = run_task(tool.module, tool.args(context, build_args))
        moved = image_id(client, tool.name + ":1") != before
        rows.append({"step": step, "expected": should_change, "reported": bool(result["changed"]), "moved": moved,
                     "right": bool(result["changed"]) == should_change and moved == should_change, "seconds": elapsed})
    noops = [run_task(tool.module, tool.args(context, build_args))[1] for _run in range(NOOP_RUNS)]
    for reference in (tool.name + ":1", base):
        try:
            client.images.remove(reference, force=True)
        except docker.errors.ImageNotFound:
            pass
    return {"rows": rows, "noop": statistics.median(noops)}


def main() -> int:
    client = docker.from_env()
    tools = [
        Tool("virtlab.infra", "virtlab.infra.docker_image_build", "vlt-bench/ours"),
        Tool("community.docker", "community.docker.docker_image", "vlt-bench/peer-default"),
        Tool("community.docker force_source", "community.docker.docker_image", "vlt-bench/peer-force", {"force_source": True}),
    ]
    workdir = Path(tempfile.mkdtemp(prefix="vlt-bench-"))
    try:
        results = {tool.label: run_matrix(client, tool, workdir) for tool in tools}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\nChange matrix, context of %d files (reported changed / tag moved / right; seconds)" % FILES)
    header = "%-22s %-9s" % ("step", "expected") + "".join("  %-34s" % tool.label for tool in tools)
    print(header)
    for index, (step, expected) in enumerate(STEPS):
        cells = []
        for tool in tools:
            row = results[tool.label]["rows"][index]
            cells.append("  %-34s" % ("%-5s %-5s %-5s %6.2fs" % (row["reported"], row["moved"], "ok" if row["right"] else "WRONG", row["seconds"])))
        print("%-22s %-9s" % (step, expected) + "".join(cells))
    print()
    ours = results["virtlab.infra"]
    for tool in tools:
        right = sum(row["right"] for row in results[tool.label]["rows"])
        print("%-30s right %d/%d   no-op median %.2fs   no-op ratio vs ours %.2fx"
              % (tool.label, right, len(STEPS), results[tool.label]["noop"], results[tool.label]["noop"] / ours["noop"]))
    peer_noop = results["community.docker"]["noop"]
    ratio = ours["noop"] / peer_noop
    all_right = all(row["right"] for row in ours["rows"])
    print("\nours no-op / community.docker default no-op = %.2fx (target <= 1.5x): %s"
          % (ratio, "met" if ratio <= 1.5 else "NOT met"))
    print("ours all %d steps right (target): %s" % (len(STEPS), "met" if all_right else "NOT met"))
    return 0 if all_right and ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
