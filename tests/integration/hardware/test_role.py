"""The hardware_acceptance role (playbooks/accept_host.yml) against a real target: a systemd container.

The target is a non-privileged container from virtlab/debian-systemd:bookworm on the project's engine,
reached with the community.docker.docker connection, pinned to one CPU (cpuset) so that the CPUs it
may use differ from the CPUs the machine has. The role installs its tools in it (apt), reads the
hardware, stresses it (5 s CPU + memory, 3 s fio on a scratch file), writes the report on the
controller and adds the host to the group "accepted". Checked: the facts match what the container
itself reports (nproc, nproc --all, /proc/meminfo, /sys/class/net); the report holds the samples of
a stress phase of the configured length; a file not listed as scratch keeps its checksum and mtime;
a second run changes nothing but the new report; a spec asking for more memory than present
rejects the host with the evidence.
"""

import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "accept_host.yml")
REPORT_TASK = "Check the host against the spec and write the report"
DATA_FILE = "/var/tmp/vlt-data.img"
SCRATCH_FILE = "/var/tmp/vlt-scratch.img"


@pytest.fixture(scope="module")
def target(docker_client, unique_name_factory):
    """A running systemd container with a data file that must never be written; removed afterwards."""
    import docker

    image = "virtlab/debian-systemd:bookworm"
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.fail("base image %s is missing: run `sudo scripts/base_images.sh`" % image, pytrace=False)
    name = unique_name_factory()
    # an own bridge network: the container does not depend on the engine's default bridge
    network = docker_client.networks.create(name, driver="bridge", labels={"io.virtlab.test": "hardware_acceptance"})
    container = None
    try:
        container = docker_client.containers.create(
            image, command="/lib/systemd/systemd", name=name, detach=True, cpuset_cpus="0", network=name,
            cgroupns="host", volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
            tmpfs={"/run": "", "/run/lock": "", "/tmp": ""}, labels={"io.virtlab.test": "hardware_acceptance"})
        container.start()
        _exec(container, "head -c 1048576 /dev/urandom > %s && touch -d '2020-01-01 00:00' %s" % (DATA_FILE, DATA_FILE))
        yield container
    finally:
        if container is not None:
            container.remove(force=True)
        network.remove()


def _exec(container, command):
    code, output = container.exec_run(["sh", "-c", command])
    assert code == 0, "%s -> %s: %s" % (command, code, output)
    return output.decode().strip()


def _fingerprint(container, path):
    return _exec(container, "sha256sum %s | cut -d' ' -f1; stat -c %%Y %s" % (path, path))


def _accept(container, tmp_path, extra, check=False):
    """ansible-playbook playbooks/accept_host.yml on the container; returns (rc, {task name: host result})."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[targets]\n%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n"
                         % container.name)
    variables = dict({
        "hardware_acceptance_hosts": container.name,
        "hardware_acceptance_quick_duration": 5, "hardware_acceptance_cpu_workers": 1,
        "hardware_acceptance_memory_bytes": "16M", "hardware_acceptance_sample_interval": 1,
        "hardware_acceptance_poll_interval": 1, "hardware_acceptance_disk_duration": 3,
        "hardware_acceptance_scratch_disks": [{"path": SCRATCH_FILE, "size": "8M"}],
        "hardware_acceptance_report_dir": str(tmp_path / "reports"),
    }, **extra)
    environment = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCALHOST_WARNING="0")
    completed = subprocess.run(["ansible-playbook", "-i", str(inventory), "-e", json.dumps(variables), PLAYBOOK]
                               + (["--check"] if check else []),
                               capture_output=True, text=True, env=environment, cwd=ROOT, check=False)
    try:
        report = json.loads(completed.stdout[completed.stdout.index("{"):])
    except ValueError:
        raise AssertionError("no JSON from ansible-playbook (rc=%s)\n%s\n%s"
                             % (completed.returncode, completed.stdout, completed.stderr)) from None
    tasks = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            if container.name in task["hosts"]:
                # role tasks are named "<role> : <task>"; keep the task part
                tasks[task["task"]["name"].split(" : ")[-1]] = task["hosts"][container.name]
    return completed.returncode, tasks


def _changed(tasks):
    return sorted(name for name, result in tasks.items() if result.get("changed"))


SPEC = {"cpu_logical_min": 1, "memory_mib_min": 256, "nics_up_min": 1, "nic_include_virtual": True,
        "nic_names_up": ["eth0"]}


@pytest.fixture(scope="module")
def first_run(target, tmp_path_factory):
    """The first run of the playbook on the fresh container: (tmp dir, tasks, data file fingerprint before)."""
    tmp_path = tmp_path_factory.mktemp("accept")
    data_before = _fingerprint(target, DATA_FILE)
    rc, tasks = _accept(target, tmp_path, {"hardware_acceptance_spec": SPEC})
    assert rc == 0, {name: result.get("msg") for name, result in tasks.items() if result.get("failed")}
    return tmp_path, tasks, data_before


def test_first_run_inventories_stresses_and_accepts(target, first_run):
    _tmp_path, tasks, data_before = first_run
    assert tasks["Install the tools (Debian family)"]["changed"] is True  # the role brought its tools
    # the inventory matches what the container itself says
    hardware = tasks["Read the hardware"]["hardware"]
    assert tasks["Read the hardware"]["changed"] is False
    assert hardware["cpu"]["usable"] == int(_exec(target, "nproc")) == 1
    assert hardware["cpu"]["logical"] == int(_exec(target, "nproc --all"))
    meminfo_kib = int(_exec(target, "awk '/^MemTotal:/ {print $2}' /proc/meminfo"))
    assert hardware["memory"]["total_kib"] == meminfo_kib
    assert sorted(n["name"] for n in hardware["nics"]) == sorted(set(_exec(target, "ls /sys/class/net").split()) - {"lo"})
    assert [n["link"] for n in hardware["nics"] if n["name"] == "eth0"] == [True]
    assert hardware["sources"]["dmidecode"]["available"] is False and hardware["sources"]["dmidecode"]["reason"]
    # the stress phase ran for its configured time and the report holds its samples
    stress = tasks["Stress CPU, memory and the scratch disks"]
    assert stress["changed"] is False and stress["passed"] is True, stress.get("failures")
    report_task = tasks[REPORT_TASK]
    assert report_task["verdict"] == "pass" and report_task["accepted"] is True
    with open(report_task["report_path"]) as handle:
        report = json.load(handle)
    cpu_phase = report["stress"]["phases"][0]
    assert cpu_phase["name"] == "cpu_memory" and cpu_phase["command"][cpu_phase["command"].index("--timeout") + 1] == "5s"
    assert all(s["real_time_s"] >= 5.0 for s in cpu_phase["metrics"]["stressors"])
    samples = [s for s in report["stress"]["samples"] if s["phase"] == "cpu_memory"]
    assert len(samples) >= 5 and samples[-1]["t"] - samples[0]["t"] >= 5.0  # ~1 per second, plus start and end
    disk_phase = report["stress"]["phases"][1]
    assert disk_phase["target"]["path"] == SCRATCH_FILE and disk_phase["metrics"]["write_bytes"] > 0
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["nic_up:eth0"]["status"] == "pass"
    assert checks["kernel_log"]["status"] == "unknown"  # a container may not read the kernel log: said, not hidden
    with open(report_task["table_path"]) as handle:
        assert "VERDICT: PASS" in handle.read()
    assert "VERDICT: PASS" in "\n".join(tasks["Show the report"]["msg"])
    assert tasks["Add the accepted host to its group"].get("skipped") is not True
    assert "pass" in tasks["Show each host's verdict"]["msg"]
    # nothing but the scratch file was written; the scratch file made for the run is gone
    assert _fingerprint(target, DATA_FILE) == data_before
    assert _exec(target, "test -e %s && echo present || echo absent" % SCRATCH_FILE) == "absent"


def test_second_run_changes_only_the_report(target, first_run):
    tmp_path, tasks, data_before = first_run
    rc, again = _accept(target, tmp_path, {"hardware_acceptance_spec": SPEC})
    assert rc == 0, again
    assert _changed(again) == [REPORT_TASK]
    assert again["Stress CPU, memory and the scratch disks"]["passed"] is True
    assert again[REPORT_TASK]["report_path"] != tasks[REPORT_TASK]["report_path"]
    assert len(list((tmp_path / "reports").glob("*.json"))) == 2
    assert _fingerprint(target, DATA_FILE) == data_before


def test_more_memory_than_present_rejects_the_host(target, tmp_path):
    present_mib = int(_exec(target, "awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo"))
    rc, tasks = _accept(target, tmp_path, {"hardware_acceptance_stress": False,
                                           "hardware_acceptance_spec": {"memory_mib_min": present_mib * 8}})
    assert rc != 0
    report = tasks[REPORT_TASK]
    assert report["verdict"] == "fail" and report["failed_checks"] == ["memory"]
    memory = {c["name"]: c for c in report["checks"]}["memory"]
    assert memory["status"] == "fail" and memory["expected"] == ">= %d MiB" % (present_mib * 8)
    assert abs(memory["actual"] - present_mib) <= 1 and "/proc/meminfo MemTotal" in memory["evidence"]
    assert tasks["Add the accepted host to its group"].get("skipped") is True
    failure = tasks["Stop at a rejected host"]
    assert failure.get("failed") is True and "memory" in failure["msg"] and report["report_path"] in failure["msg"]
    assert os.path.exists(report["report_path"])


def test_check_mode_runs_no_stress_and_writes_no_report(target, tmp_path):
    data_before = _fingerprint(target, DATA_FILE)
    # ansible.builtin.apt needs python3-apt in check mode, which a fresh host lacks: the tools are left out here
    rc, tasks = _accept(target, tmp_path, {"hardware_acceptance_spec": SPEC, "hardware_acceptance_install_packages": False},
                        check=True)
    assert rc == 0, {name: result.get("msg") for name, result in tasks.items() if result.get("failed")}
    assert tasks["Stress CPU, memory and the scratch disks"].get("skipped") is True
    validated = tasks["Validate the stress options only (check mode runs no stress)"]
    assert validated["phases"] == [] and validated["plan"]["disks"][0][2] == "--filename=" + SCRATCH_FILE
    installed = _exec(target, "for tool in stress-ng fio; do command -v $tool; done | wc -l")
    assert len(validated["missing_tools"]) == 2 - int(installed)  # missing tools are reported, not fatal
    report = tasks[REPORT_TASK]
    assert report["verdict"] == "pass" and not os.path.exists(report["report_path"])
    assert not (tmp_path / "reports").exists()
    assert _fingerprint(target, DATA_FILE) == data_before
    assert _exec(target, "test -e %s && echo present || echo absent" % SCRATCH_FILE) == "absent"
