"""proxmox_guests vs a loop of community.proxmox's proxmox_kvm clone tasks, on the same fakepve, in one run.

A fakepve (the schema-validating fake of the Proxmox VE API, over TLS) is started in this process with
time_scale 1 and a simulated network/API latency per request (default 20 ms), with one template VM.
Then:

* ours: one `ansible-playbook` task of virtlab.infra.proxmox_guests making COUNT linked clones of the
  template (started), with bounded parallelism;
* the peer: one `ansible-playbook` task of community.proxmox.proxmox_kvm looping over PEER_COUNT linked
  clones (the way its documentation makes clones: one clone per loop item, each waiting for its task).

Both playbooks run against the same fake, the peer first (on the nearly empty cluster, which favours
it); each run's clones are checked on the fake (name, not a template, status). The wall time of each
is printed with guests per second and the ratio. The peer takes over two seconds per guest, so by
default it clones fewer guests and its time for COUNT guests is extrapolated from its measured rate
(printed as such); `--peer-count 500` measures it in full.

Run: make bench-proxmox  (or: . scripts/lib.sh && virtlab_env &&
     PYTHONPATH=$VIRTLAB_STATE/collections:$VIRTLAB_STATE/deps python benchmarks/proxmox_guests.py)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fakepve.certs import make_cert
from fakepve.pytest_plugin import _Serving
from fakepve.server import FakePve

TEMPLATE_ID = 9000
TEMPLATE_NAME = "bench-template"


def serve(workdir: Path, latency: float) -> tuple[_Serving, str]:
    cafile, keyfile = make_cert(str(workdir), hosts=("127.0.0.1",))[:2]
    pve = FakePve(host="127.0.0.1", port=0)
    pve.time_scale = 1.0
    pve.slow_network(latency)
    pve.max_requests = 200000
    pve.add_vm(TEMPLATE_ID, TEMPLATE_NAME, template=True, config={
        "scsi0": "local-lvm:base-%d-disk-0,size=8G" % TEMPLATE_ID, "net0": "virtio=BC:24:11:00:90:00,bridge=vmbr0",
        "memory": 1024, "cores": 1})
    return _Serving(pve, cafile, keyfile), cafile


def playbook(path: Path, task: dict) -> None:
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))


def run_playbook(path: Path, env: dict) -> tuple[float, dict]:
    command = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e",
               "ansible_python_interpreter=" + sys.executable, str(path)]
    environment = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                       ANSIBLE_NOCOLOR="1", **env)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(completed.stdout[completed.stdout.index("{"):])
        result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise SystemExit("no result from %s\n%s\n%s" % (path, completed.stdout[-3000:], completed.stderr[-3000:]))
    if completed.returncode != 0 or result.get("failed"):
        raise SystemExit("%s failed: %s" % (path.name, json.dumps(result)[:3000]))
    return elapsed, result


def check_clones(pve: FakePve, prefix: str, count: int, status: str) -> None:
    clones = [vm for vm in pve.vms if vm.name.startswith(prefix)]
    if len(clones) != count:
        raise SystemExit("expected %d guests named %s*, found %d" % (count, prefix, len(clones)))
    wrong = [vm.vmid for vm in clones if "base-%d" % TEMPLATE_ID in vm.config.get("scsi0", "")
             or vm.status != status or vm.template]
    if wrong:
        raise SystemExit("%d %s* guests are not what was asked (e.g. %s)" % (len(wrong), prefix, wrong[:5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=500, help="guests cloned by proxmox_guests (default 500)")
    parser.add_argument("--peer-count", type=int, default=20, help="guests cloned by the proxmox_kvm loop")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every API request")
    parser.add_argument("--parallel", type=int, default=32, help="parallel of proxmox_guests")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-proxmox-") as tmp:
        workdir = Path(tmp)
        serving, cafile = serve(workdir, args.latency)
        pve = serving.pve
        try:
            tokenid, token_secret = "bench", secrets.token_hex(16)
            pve.apitokens["root@pam!" + tokenid] = token_secret
            ours_connection = {"api_host": pve.host, "api_port": pve.port, "api_token_id": "root@pam!" + tokenid,
                               "api_token_secret": token_secret, "ca_path": cafile}
            ours = workdir / "ours.json"
            playbook(ours, {"name": "clones", "virtlab.infra.proxmox_guests": dict(
                ours_connection, parallel=args.parallel,
                guests=[{"name": "ours-%03d" % n, "clone": TEMPLATE_NAME, "state": "started"}
                        for n in range(args.count)])})
            # community.proxmox verifies TLS with requests' default bundle: point it at the fake's certificate
            peer_env = {"REQUESTS_CA_BUNDLE": cafile, "CURL_CA_BUNDLE": cafile}
            peer = workdir / "peer.json"
            playbook(peer, {"name": "clones", "community.proxmox.proxmox_kvm": {
                "api_host": pve.host, "api_port": pve.port, "api_user": "root@pam", "api_token_id": tokenid,
                "api_token_secret": token_secret, "validate_certs": True, "node": "pve1",
                "clone": TEMPLATE_NAME, "name": "{{ item }}", "full": False, "format": "unspecified",
                "timeout": 300, "state": "present"},
                "loop": ["peer-%03d" % n for n in range(args.peer_count)]})
            # the peer's clones are not started by proxmox_kvm's clone; start them in the same loop style
            peer_start = workdir / "peer_start.json"
            playbook(peer_start, {"name": "start", "community.proxmox.proxmox_kvm": {
                "api_host": pve.host, "api_port": pve.port, "api_user": "root@pam", "api_token_id": tokenid,
                "api_token_secret": token_secret, "validate_certs": True, "node": "pve1", "name": "{{ item }}",
                "timeout": 300, "state": "started"},
                "loop": ["peer-%03d" % n for n in range(args.peer_count)]})

            print("fakepve %s, time_scale 1, %.0f ms per API request; linked clones of one template, started"
                  % (pve.url, args.latency * 1000))
            # the peer first, on a nearly empty cluster: its per-guest look-ups grow with the cluster, so
            # this favours it and keeps the extrapolation conservative
            clone_time = run_playbook(peer, peer_env)[0]
            start_time = run_playbook(peer_start, peer_env)[0]
            check_clones(pve, "peer-", args.peer_count, "running")
            requests_before = len(pve.requests)
            ours_time, ours_result = run_playbook(ours, {})
            check_clones(pve, "ours-", args.count, "running")
            assert ours_result["summary"]["changed"] == args.count, ours_result["summary"]
            requests_ours = len(pve.requests) - requests_before
            again_time, again_result = run_playbook(ours, {})
            assert again_result["changed"] is False, again_result["summary"]
        finally:
            serving.stop()

    peer_time = clone_time + start_time
    peer_rate = args.peer_count / peer_time
    peer_full = args.count / peer_rate
    print("%-46s %6d guests %8.1f s %7.1f guests/s  (%d API requests)" % (
        "virtlab.infra.proxmox_guests (parallel %d)" % args.parallel, args.count, ours_time,
        args.count / ours_time, requests_ours))
    print("%-46s %6d guests %8.1f s  (no change, idempotent re-run)" % ("virtlab.infra.proxmox_guests again",
                                                                        args.count, again_time))
    print("%-46s %6d guests %8.1f s %7.1f guests/s  (clone %.1f s + start %.1f s)" % (
        "community.proxmox.proxmox_kvm loop", args.peer_count, peer_time, peer_rate, clone_time, start_time))
    if args.peer_count != args.count:
        print("%-46s %6d guests %8.1f s  (extrapolated from its measured rate)" % (
            "community.proxmox.proxmox_kvm loop", args.count, peer_full))
    print("ratio (peer / ours, for %d guests): %.1fx faster; target: %d guests in under 60 s -> %s" % (
        args.count, peer_full / ours_time, args.count, "met" if ours_time < 60 else "NOT met"))


if __name__ == "__main__":
    main()
