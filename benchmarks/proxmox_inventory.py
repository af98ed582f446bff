"""virtlab.infra.proxmox inventory vs community.proxmox's inventory plugin, on the same fakepve, in one run.

A fakepve (the schema-validating fake of the Proxmox VE API, over TLS) is started in this process with
time_scale 1 and a simulated latency per request (default 20 ms), seeded with NODES nodes and COUNT guests
(half QEMU VMs with the guest agent enabled, half LXC containers; most running, some stopped, some templates,
tags and pools). Then `ansible-inventory --list` runs for:

* a bare start-up (`-i localhost,`): the floor of any inventory run;
* ours and the peer without per-guest facts;
* ours with every look-up (config, LXC interfaces, agent interfaces) and the peer with `want_facts: true`;
* ours again from its cache (no request at all).

Each run's wall time and API request count (from fakepve's request log) are printed, with the ratios and
the issue's targets (without facts: within 0.5 s of the bare start-up; with facts: 10x faster than the peer).
Both runs list the same guests (checked).

Run: scripts/bench.sh proxmox_inventory  (or: . scripts/lib.sh && virtlab_env &&
     PYTHONPATH=$VIRTLAB_STATE/collections:$VIRTLAB_STATE/deps python benchmarks/proxmox_inventory.py)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

from fakepve.certs import make_cert
from fakepve.pytest_plugin import _Serving
from fakepve.server import FakePve


def serve(workdir: Path, latency: float, nodes: int, count: int) -> tuple[_Serving, str]:
    cafile, keyfile = make_cert(str(workdir), hosts=("127.0.0.1",))[:2]
    pve = FakePve(host="127.0.0.1", port=0)
    pve.time_scale = 1.0
    pve.max_requests = 10 ** 6
    for n in range(1, nodes + 1):
        pve.add_node("pve%d" % n)
    for n in range(count):
        vmid = 1000 + n
        node = "pve%d" % (n % nodes + 1)
        status = "stopped" if n % 10 == 9 else "running"
        tags = "bench;team%d" % (n % 5)
        pool = "pool%d" % (n % 4) if n % 3 == 0 else None
        if n % 2 == 0:
            vm = pve.add_vm(vmid, "vm-%05d" % n, node=node, status=status, template=n % 100 == 98, pool=pool,
                            config={"agent": "1", "tags": tags, "memory": 1024, "cores": 1,
                                    "net0": "virtio=BC:24:11:%02X:%02X:00,bridge=vmbr0" % (n // 256 % 256, n % 256)})
            vm.agent = {}
        else:
            pve.add_ct(vmid, "ct-%05d" % n, node=node, status=status, pool=pool,
                       config={"tags": tags, "memory": 512, "cores": 1,
                               "net0": "name=eth0,bridge=vmbr0,ip=10.%d.%d.%d/8" % (n // 65536, n // 256 % 256, n % 256)})
    # latency from now on (seeding is free)
    pve.slow_network(latency)
    return _Serving(pve, cafile, keyfile), cafile


def run_inventory(args: list[str], env: dict) -> tuple[float, dict]:
    environment = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1",
                       **env)
    started = time.perf_counter()
    completed = subprocess.run(["ansible-inventory"] + args + ["--list"], capture_output=True, text=True,
                               env=environment, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit("ansible-inventory %s failed:\n%s" % (" ".join(args), completed.stderr[-3000:]))
    return elapsed, json.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=2000, help="guests in the fake cluster (default 2000)")
    parser.add_argument("--nodes", type=int, default=20, help="nodes in the fake cluster (default 20)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every API request")
    parser.add_argument("--workers", type=int, default=16, help="lookup_workers of ours (default: the plugin's 16)")
    parser.add_argument("--skip-peer-facts", action="store_true", help="skip the peer's slow run with facts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-proxmox-inventory-") as tmp:
        workdir = Path(tmp)
        serving, cafile = serve(workdir, args.latency, args.nodes, args.count)
        pve = serving.pve
        results: dict[str, tuple[float, int, dict]] = {}
        try:
            tokenid, secret = "bench", secrets.token_hex(16)
            pve.apitokens["root@pam!" + tokenid] = secret
            ours = {"plugin": "virtlab.infra.proxmox", "api_host": pve.host, "api_port": pve.port,
                    "api_token_id": "root@pam!" + tokenid, "api_token_secret": secret, "ca_path": cafile}
            peer = {"plugin": "community.proxmox.proxmox", "url": pve.url, "user": "root@pam", "token_id": tokenid,
                    "token_secret": secret, "validate_certs": True}
            files = {
                "ours": dict(ours),
                "ours with look-ups": dict(ours, lookups=["config", "interfaces", "agent"],
                                           lookup_workers=args.workers),
                "ours from its cache": dict(ours, lookups=["config", "interfaces", "agent"],
                                            lookup_workers=args.workers, cache=True,
                                            cache_plugin="ansible.builtin.jsonfile",
                                            cache_connection=str(workdir / "cache"), cache_timeout=3600),
                "community.proxmox": dict(peer, want_facts=False),
                "community.proxmox want_facts": dict(peer, want_facts=True),
            }
            paths = {}
            for n, (label, data) in enumerate(files.items()):
                paths[label] = workdir / ("%d.proxmox.yml" % n)
                paths[label].write_text(json.dumps(data))
            # community.proxmox verifies TLS with requests' default bundle: point it at the fake's certificate;
            # ours gets ca_path and must not need these
            peer_env = {"REQUESTS_CA_BUNDLE": cafile, "CURL_CA_BUNDLE": cafile}
            ours_env = {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}
            print("fakepve %s, %d nodes, %d guests, %.0f ms per API request"
                  % (pve.url, args.nodes, args.count, args.latency * 1000))
            bare = min(run_inventory(["-i", "localhost,"], {})[0] for _attempt in range(3))
            order = ["ours", "community.proxmox", "ours with look-ups", "ours from its cache"]
            if not args.skip_peer_facts:
                order.append("community.proxmox want_facts")
            for label in order:
                if label == "ours from its cache":
                    run_inventory(["-i", str(paths[label])], ours_env)  # fills the cache
                before = len(pve.requests)
                env = peer_env if label.startswith("community") else ours_env
                elapsed, listed = run_inventory(["-i", str(paths[label])], env)
                results[label] = (elapsed, len(pve.requests) - before, listed)
                hosts = len(listed["_meta"]["hostvars"])
                print("  %-30s %8.2f s %7d requests %6d hosts" % (label, elapsed, results[label][1], hosts), flush=True)
                if label == "ours":
                    # the floor of listing these hosts and variables at all: the same from a static YAML file
                    static = workdir / "static.yml"
                    static.write_text(json.dumps({"all": {"hosts": listed["_meta"]["hostvars"]}}))
                    floor = run_inventory(["-i", str(static)], {})[0]
                    print("  %-30s %8.2f s" % ("the same from a static file", floor), flush=True)
        finally:
            serving.stop()

    guests = {len(r[2]["_meta"]["hostvars"]) for k, r in results.items() if k.startswith("ours")}
    if guests != {args.count}:
        raise SystemExit("ours listed %s hosts, not %d" % (guests, args.count))
    peer_hosts = results["community.proxmox"][2]["_meta"]["hostvars"]
    peer_guests = [h for h, v in peer_hosts.items() if "proxmox_vmid" in v]
    if len(peer_guests) != args.count:
        print("note: the peer listed %d guests (it collapses duplicate names)" % len(peer_guests))
    with_ours = results["ours with look-ups"][0]
    addressed = sum(1 for v in results["ours with look-ups"][2]["_meta"]["hostvars"].values() if "ansible_host" in v)
    print()
    print("bare ansible-inventory start-up            %8.2f s" % bare)
    print("without facts: ours %.2f s (%d requests), %.2f s over the bare start-up (target <= 0.5 s): %s"
          % (results["ours"][0], results["ours"][1], results["ours"][0] - bare,
             "met" if results["ours"][0] - bare <= 0.5 else "MISSED"))
    print("without facts: ours %.2f s over listing the same hosts and variables from a static file (%.2f s)"
          % (results["ours"][0] - floor, floor))
    print("without facts: community.proxmox %.2f s (%d requests); ratio %.1fx"
          % (results["community.proxmox"][0], results["community.proxmox"][1],
             results["community.proxmox"][0] / results["ours"][0]))
    print("with facts:    ours %.2f s (%d requests, %d workers, %d hosts with ansible_host)"
          % (with_ours, results["ours with look-ups"][1], args.workers, addressed))
    if "community.proxmox want_facts" in results:
        peer_time, peer_requests = results["community.proxmox want_facts"][:2]
        print("with facts:    community.proxmox %.2f s (%d requests); ratio %.1fx (target >= 10x): %s"
              % (peer_time, peer_requests, peer_time / with_ours, "met" if peer_time / with_ours >= 10 else "MISSED"))
    print("from cache:    ours %.2f s (%d requests)" % results["ours from its cache"][:2])


if __name__ == "__main__":
    main()
