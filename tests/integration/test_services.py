"""The set-up scripts are idempotent: starting the running services starts nothing twice."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pids(name):
    found = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False)
    return sorted(found.stdout.split())


def _pidfile(name):
    return (Path(os.environ["VIRTLAB_STATE"]) / "run" / (name + ".pid")).read_text().strip()


def test_second_start_reuses_the_running_daemons():
    before = {name: _pids(name) for name in ("dockerd", "libvirtd", "virtlogd")}
    pidfiles = {name: _pidfile(name) for name in ("dockerd", "registry")}
    started = subprocess.run([str(ROOT / "scripts" / "services.sh"), "start"], capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    assert "dockerd: running" in started.stderr and "registry: running" in started.stderr
    assert {name: _pids(name) for name in before} == before
    assert {name: _pidfile(name) for name in pidfiles} == pidfiles
    assert len(before["dockerd"]) == 1 and len(before["libvirtd"]) == 1


def test_status_reports_every_service_up():
    status = subprocess.run([str(ROOT / "scripts" / "services.sh"), "status"], capture_output=True, text=True, check=False)
    assert status.returncode == 0, status.stderr
    for service in ("dockerd: running", "registry: running", "libvirtd: running"):
        assert service in status.stderr


def test_virt_type_was_decided_by_a_probe():
    virt_type = Path(os.environ["VIRTLAB_VIRT_TYPE_FILE"]).read_text().strip()
    assert virt_type in ("kvm", "qemu")
    # the probe's console log holds the marker the guest printed for the chosen type
    pool_xml = subprocess.run(["virsh", "pool-dumpxml", os.environ["VIRTLAB_POOL_NAME"]],
                              capture_output=True, text=True, check=True).stdout
    pool_path = pool_xml.split("<path>")[1].split("</path>")[0]
    console = Path(pool_path) / "probe" / ("console-%s.log" % virt_type)
    assert "VIRTLAB-PROBE-BOOTED" in console.read_text(errors="replace")
