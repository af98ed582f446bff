"""Dev/test clone set (libvirt_devtest_clones) vs full copies (community.libvirt virt_volume clone_source).

The issue's yardstick: 50 clones of a golden of 20 GiB virtual size holding 2 GiB of data. A golden
qcow2 volume like that is made in the pool $VIRTLAB_POOL_NAME; then one ``ansible-playbook`` run times,
per task (the ansible.posix.json callback's task durations, so interpreter start-up is equal for all rows):

* an empty task (``ansible.builtin.ping``; the second of two counts) and a no-op of each module (warm-up);
* ours: ``virtlab.infra.libvirt_devtest_clones`` with 50 users - freezes the golden into a version (one
  sparse full copy, the price paid once per golden version) and makes 50 qcow2 overlays on it;
* ours again (nothing to do: idempotence cost);
* the peer: ``community.libvirt.virt_volume`` with ``clone_source`` (a full copy) 3 times; 50 full copies
  are extrapolated from their mean (time and disk).

Disk is the files' allocated blocks (what ``qemu-img info`` calls actual-size). It prints a FlexClone-style
table (full copies against clones, GiB and %), plus a projection at the 10 % change rate of NetApp's example
(labelled as a projection: computed, not measured). Every volume made is deleted at the end.

Run: make bench-devtest  (or: . scripts/lib.sh && virtlab_env && python benchmarks/devtest_clones.py)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time

from _libvirt_golden import (GiB, VIRTUAL, WRITTEN, allocated, delete_prefixed, make_golden, open_bench_pool,
                             run_playbook)

CLONES = 50
PEER_RUNS = 3
CHANGE_RATE = 0.10


def gib(value: float) -> str:
    return "%.2f GiB" % (value / GiB)


def main() -> int:
    conn, pool, prefix = open_bench_pool()
    pool_name = pool.name()
    golden_name = prefix + "golden.qcow2"
    ledger_dir = tempfile.mkdtemp(prefix="vlt-bench-ledger-")
    try:
        started = time.perf_counter()
        golden = make_golden(pool, golden_name)
        print("golden %s: %d GiB virtual, %.2f GiB allocated (made in %.1f s)"
              % (golden_name, VIRTUAL // GiB, allocated(golden) / GiB, time.perf_counter() - started))

        ours_args = {"pool": pool_name, "golden": golden_name, "set_name": "bench", "golden_version": "v1",
                     "ledger_dir": ledger_dir, "address_pool": "10.250.0.0/24",
                     "clones": [{"user": "dev%02d" % i} for i in range(CLONES)]}
        peer_names = ["%speer-%d.qcow2" % (prefix, i) for i in range(PEER_RUNS)]
        peer_tasks = [
            {"name": "peer: full copy %d" % i, "community.libvirt.virt_volume":
                {"pool": pool_name, "state": "present", "clone_source": golden_name,
                 "xml": ("<volume><name>%s</name><capacity unit='bytes'>%d</capacity>"
                         "<target><format type='qcow2'/></target></volume>" % (name, VIRTUAL))}}
            for i, name in enumerate(peer_names)]
        rows = run_playbook([
            {"name": "empty (cold)", "ansible.builtin.ping": {}},
            {"name": "empty", "ansible.builtin.ping": {}},
            # the first task of a module in a run also builds its AnsiballZ payload: warm both up
            {"name": "ours: no-op (cold)", "virtlab.infra.libvirt_devtest_clones":
                dict(ours_args, set_name="warmup", clones=[], action="teardown")},
            {"name": "peer: no-op (cold)", "community.libvirt.virt_volume":
                {"pool": pool_name, "command": "list_volumes"}},
            {"name": "ours: %d clones" % CLONES, "virtlab.infra.libvirt_devtest_clones": ours_args},
            {"name": "ours: again", "virtlab.infra.libvirt_devtest_clones": ours_args},
        ] + peer_tasks)
        timing = {name: seconds for name, seconds, _result in rows}
        results = {name: result for name, _seconds, result in rows}
        ours = results["ours: %d clones" % CLONES]
        if results["ours: again"].get("changed"):
            raise SystemExit("the second run of libvirt_devtest_clones reported a change")
        pool.refresh(0)
        path_of = {v.name(): v.path() for v in pool.listAllVolumes(0)}

        version = ours["versions"][0]
        version_disk = allocated(version["path"])
        clone_disks = [allocated(c["path"]) for c in ours["clones"]]
        report = ours["report"]
        print("module's report: version %d B, clones %d B; files now: version %d B, clones %d B"
              % (report["shared_bytes"], report["added_bytes"], version_disk, sum(clone_disks)))
        clone_seconds = [c["seconds"] for c in ours["clones"]]
        ours_total = timing["ours: %d clones" % CLONES]
        freeze = ours_total - sum(clone_seconds)   # the rest of the task: mostly the version's copy
        empty = timing["empty"]

        peer_times = [timing["peer: full copy %d" % i] for i in range(PEER_RUNS)]
        peer_disks = [allocated(path_of[name]) for name in peer_names]
        peer_time_each = sum(peer_times) / PEER_RUNS
        peer_disk_each = sum(peer_disks) / PEER_RUNS
        full_time = peer_time_each * CLONES
        full_disk = peer_disk_each * CLONES
        ours_disk = version_disk + sum(clone_disks)

        print()
        print("measured")
        print("  empty task %.3f s; ours no-op %.3f s (cold); peer no-op %.3f s (cold)"
              % (empty, timing["ours: no-op (cold)"], timing["peer: no-op (cold)"]))
        print("  ours: one task, %d clones: %.2f s (version freeze + overhead %.2f s, overlays %.2f s = %.1f ms each)"
              % (CLONES, ours_total, freeze, sum(clone_seconds), 1000 * sum(clone_seconds) / CLONES))
        print("  ours: second run (nothing to do): %.2f s" % timing["ours: again"])
        print("  ours: version %s, clones %.0f KiB each (max %.0f KiB)"
              % (gib(version_disk), sum(clone_disks) / CLONES / 1024, max(clone_disks) / 1024))
        print("  peer: %d full copies: %s s, %s each"
              % (PEER_RUNS, " / ".join("%.2f" % t for t in peer_times), " / ".join(gib(d) for d in peer_disks)))
        print()
        title = "%d dev/test copies of a %d GiB golden holding %d GiB" % (CLONES, VIRTUAL // GiB, WRITTEN // GiB)
        print(title)
        print("%-36s %14s %8s %12s" % ("", "disk", "%", "wall time"))
        row = "%-36s %14s %7.1f%%"
        timed = row + " %10.1f s"
        print(timed % ("full copies (peer, x%d extrapolated)" % CLONES, gib(full_disk), 100.0, full_time))
        print(timed % ("clones (ours, measured)", gib(ours_disk), 100.0 * ours_disk / full_disk, ours_total))
        print(row % ("  shared frozen version", gib(version_disk), 100.0 * version_disk / full_disk))
        print(row % ("  added by %d clones" % CLONES, gib(sum(clone_disks)), 100.0 * sum(clone_disks) / full_disk))
        print(row % ("saved", gib(full_disk - ours_disk), 100.0 * (full_disk - ours_disk) / full_disk))
        projected = ours_disk + CLONES * CHANGE_RATE * WRITTEN
        print(row % ("clones at 10 % change (projection)", gib(projected), 100.0 * projected / full_disk))
        print()
        print("ratios")
        print("  disk: full copies / clones = %.0fx" % (full_disk / ours_disk))
        print("  time for %d: full copies / clones = %.0fx (whole tasks, clones including the version freeze)"
              % (CLONES, full_time / ours_total))
        print("  time per environment: full copy %.2f s, clone %.1f ms (+ the freeze once: %.2f s)"
              % (peer_time_each, 1000 * sum(clone_seconds) / CLONES, freeze))
        return 0
    finally:
        delete_prefixed(pool, prefix)
        shutil.rmtree(ledger_dir, ignore_errors=True)
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
