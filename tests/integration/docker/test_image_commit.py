"""docker_image_commit against the real engine: the committed change, CMD, idempotence, check and diff mode, bad input."""

import io
import tarfile

import docker.errors
import pytest

LABEL = "io.virtlab.commit-source"


@pytest.fixture
def workspace(docker_client, debian_image, unique_name):
    """Containers and images of one test, all removed after it (images by ID, so moved tags leave nothing)."""
    made = {"containers": [], "images": set(), "repository": unique_name + "/snap", "base": debian_image}

    def container(command, detach_wait=True, **kwargs):
        created = docker_client.containers.run(debian_image, command, name="{0}-{1}".format(unique_name, len(made["containers"])),
                                               detach=True, **kwargs)
        made["containers"].append(created)
        if detach_wait:
            created.wait(timeout=60)
        return created

    made["container"] = container
    yield made
    for created in made["containers"]:
        try:
            created.remove(force=True)
        except docker.errors.NotFound:
            pass
    for image in docker_client.images.list(name=made["repository"]):
        made["images"].add(image.id)
    for image_id in made["images"]:
        try:
            docker_client.images.remove(image_id, force=True)
        except docker.errors.ImageNotFound:
            pass


def _commit(run_module, workspace, container, tag="1", check=False, diff=False, **extra):
    args = {"container": container, "name": "{0}:{1}".format(workspace["repository"], tag)}
    args.update(extra)
    result = run_module("docker_image_commit", args, check=check, diff=diff)
    if result.get("image_id"):
        workspace["images"].add(result["image_id"])
    return result


def _ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def _image_id(docker_client, reference):
    try:
        return docker_client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def _run_from(docker_client, image_id, command=None):
    """Output of a container run from the image (its default command unless given), removed afterwards."""
    output = docker_client.containers.run(image_id, command, remove=True)
    return output.decode()


def _put_file(container, path, text):
    """Write a file into a container (running or stopped) through the engine's archive API."""
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert container.put_archive("/", buffer.getvalue())


def _predict_then_apply(run_module, docker_client, workspace, container, expect_change, **extra):
    """Check mode must predict the outcome and change nothing; the real run must match it."""
    reference = "{0}:1".format(workspace["repository"])
    before = _image_id(docker_client, reference)
    predicted = _ok(_commit(run_module, workspace, container, check=True, diff=True, **extra))
    assert predicted["changed"] is expect_change and predicted["committed"] is expect_change
    assert _image_id(docker_client, reference) == before, "check mode moved the tag"
    applied = _ok(_commit(run_module, workspace, container, diff=True, **extra))
    assert applied["changed"] is expect_change and applied["committed"] is expect_change
    assert applied["source_digest"] == predicted["source_digest"]
    after = _image_id(docker_client, reference)
    assert (after != before) is expect_change
    assert applied["image_id"] == after
    if expect_change:
        assert applied["diff"] == {"before": {"tags": {reference: before}}, "after": {"tags": {reference: after}}}
    else:
        assert applied["diff"]["before"] == applied["diff"]["after"]
    return applied


def test_commit_captures_the_change_and_applies_changes(run_module, docker_client, workspace, unique_name):
    container = workspace["container"](["sh", "-c", "echo {0} > /committed.txt".format(unique_name)])
    options = {"changes": ['CMD ["cat", "/committed.txt"]', "ENV VLT_MODE=snapshot"],
               "comment": "first snapshot", "author": "vlt test <vlt@example.com>"}

    first = _predict_then_apply(run_module, docker_client, workspace, container.name, True, **options)
    assert first["container_id"] == container.id
    image = docker_client.images.get(first["image_id"])
    assert image.labels[LABEL] == first["source_digest"]
    assert image.attrs["Comment"] == "first snapshot"
    assert image.attrs["Author"] == "vlt test <vlt@example.com>"
    assert image.attrs["Config"]["Cmd"] == ["cat", "/committed.txt"]
    assert "VLT_MODE=snapshot" in image.attrs["Config"]["Env"]
    # the committed file, read by the image's own CMD
    assert _run_from(docker_client, first["image_id"]).strip() == unique_name

    second = _predict_then_apply(run_module, docker_client, workspace, container.name, False, **options)
    assert second["image_id"] == first["image_id"]
    # by ID as well as by name
    assert _ok(_commit(run_module, workspace, container.id, **options))["changed"] is False

    # another comment is another commit source
    options["comment"] = "second"
    _predict_then_apply(run_module, docker_client, workspace, container.name, True, **options)


def test_a_new_path_in_the_container_is_committed(run_module, docker_client, workspace):
    container = workspace["container"](["sh", "-c", "echo one > /first.txt"])
    first = _predict_then_apply(run_module, docker_client, workspace, container.name, True)

    _put_file(container, "/second.txt", "two\n")
    second = _predict_then_apply(run_module, docker_client, workspace, container.name, True)
    assert second["image_id"] != first["image_id"]
    assert _run_from(docker_client, second["image_id"], ["cat", "/first.txt", "/second.txt"]) == "one\ntwo\n"
    _predict_then_apply(run_module, docker_client, workspace, container.name, False)


def test_edit_of_an_already_changed_file_needs_force(run_module, docker_client, workspace):
    """Documented limit: the engine lists changed paths, not contents; force commits such an edit."""
    container = workspace["container"](["sh", "-c", "echo one > /data.txt"])
    _predict_then_apply(run_module, docker_client, workspace, container.name, True)

    _put_file(container, "/data.txt", "edited\n")
    unseen = _predict_then_apply(run_module, docker_client, workspace, container.name, False)
    assert _run_from(docker_client, unseen["image_id"], ["cat", "/data.txt"]) == "one\n"

    forced = _predict_then_apply(run_module, docker_client, workspace, container.name, True, force=True)
    assert _run_from(docker_client, forced["image_id"], ["cat", "/data.txt"]) == "edited\n"


def test_running_container_is_committed_and_keeps_running(run_module, docker_client, workspace):
    container = workspace["container"](["sleep", "600"], detach_wait=False)
    assert container.exec_run(["sh", "-c", "echo live > /live.txt"]).exit_code == 0
    committed = _predict_then_apply(run_module, docker_client, workspace, container.name, True)
    container.reload()
    assert container.status == "running", "the paused container was not resumed"
    assert _run_from(docker_client, committed["image_id"], ["cat", "/live.txt"]) == "live\n"
    _predict_then_apply(run_module, docker_client, workspace, container.name, False)


def test_bad_input_fails_naming_the_option_and_makes_no_image(run_module, docker_client, workspace, unique_name):
    container = workspace["container"](["sh", "-c", "echo x > /x.txt"])
    cases = [
        ({"container": unique_name + "-missing"}, "container"),
        ({"name": "Bad Name"}, "name"),
        ({"changes": ["FROM scratch"]}, "changes"),
        ({"changes": ["STOPSIGNAL SIGKILL"]}, "changes"),
        ({"changes": ["ENV"]}, "changes"),
        ({"changes": ["EXPOSE notaport"]}, "changes"),  # only the engine parses arguments: real run only
    ]
    for override, option in cases:
        args = {"container": container.name, "name": workspace["repository"] + ":1"}
        args.update(override)
        for check in (False,) if "EXPOSE notaport" in args.get("changes", []) else (True, False):
            result = run_module("docker_image_commit", args, check=check)
            assert result.get("failed"), (override, result)
            assert result["msg"].startswith(option + ":"), result["msg"]
            # a handled failure: no module crash (module_stderr) and no traceback anywhere
            assert "module_stderr" not in result and "Traceback" not in result["_stdout"] + result["_stderr"], result
    assert docker_client.images.list(name=workspace["repository"]) == []
    # other tests may use the engine meanwhile: look only for images committed from this container
    committed = docker_client.images.list(all=True, filters={"label": LABEL})
    assert [image.id for image in committed if image.attrs.get("Container") == container.id] == [], "a failed commit left an image"
