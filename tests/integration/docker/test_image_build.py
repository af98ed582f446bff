"""docker_image_build against the real engine: the change matrix, check mode, failures, bad input."""

import pytest

DOCKERFILE = "FROM {base}\nARG GREETING=hello\nCOPY app/ /app/\nRUN echo \"$GREETING\" > /greeting\n"


@pytest.fixture
def workspace(tmp_path, docker_client, debian_image, unique_name):
    """A build context, its own base image (so a test can re-tag it) and cleanup of every tag made."""
    base = unique_name + "-base:1"
    docker_client.images.build(fileobj=_dockerfile("FROM {0}\nLABEL variant=one\n".format(debian_image)), tag=base, rm=True)
    context = tmp_path / "context"
    (context / "app").mkdir(parents=True)
    (context / "app" / "index.html").write_text("v1\n")
    (context / "notes.tmp").write_text("ignored\n")
    (context / ".dockerignore").write_text("*.tmp\n")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    made = {"base": base, "name": unique_name + "/web", "context": context, "tags": {base}}
    yield made
    for tag in made["tags"] | {made["name"] + ":1"}:
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:  # pylint: disable=broad-exception-caught  # already gone
            pass
    # images the rebuilds left without a tag
    docker_client.images.prune(filters={"dangling": True})


def _dockerfile(text):
    import io
    return io.BytesIO(text.encode())


def _image_id(docker_client, reference):
    import docker.errors
    try:
        return docker_client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def _build(run_module, workspace, check=False, diff=False, **extra):
    args = {"name": workspace["name"], "tags": ["1"], "path": str(workspace["context"])}
    args.update(extra)
    return run_module("docker_image_build", args, check=check, diff=diff)


def _predict_then_apply(run_module, docker_client, workspace, expect_change, **extra):
    """Check mode must predict the outcome and change nothing; the real run must match it."""
    reference = workspace["name"] + ":1"
    before = _image_id(docker_client, reference)
    predicted = _build(run_module, workspace, check=True, diff=True, **extra)
    assert not predicted.get("failed"), predicted.get("msg")
    assert predicted["changed"] is expect_change
    assert _image_id(docker_client, reference) == before, "check mode moved the tag"
    applied = _build(run_module, workspace, **extra)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is expect_change
    assert applied["built"] is predicted["built"]
    after = _image_id(docker_client, reference)
    assert (after != before) is expect_change
    assert applied["image_id"] == after
    return applied


def test_change_matrix(run_module, docker_client, workspace):
    context = workspace["context"]
    first = _predict_then_apply(run_module, docker_client, workspace, True)
    assert first["built"] is True
    labels = docker_client.images.get(first["image_id"]).labels
    assert labels["io.virtlab.build-inputs-digest"] == first["inputs_digest"]
    assert any(line.startswith("Step ") for line in first["build_log"])

    same = _predict_then_apply(run_module, docker_client, workspace, False)
    assert same["built"] is False and same["inputs_digest"] == first["inputs_digest"]

    (context / "Dockerfile").write_text(DOCKERFILE.format(base=workspace["base"]) + "LABEL edited=yes\n")
    _predict_then_apply(run_module, docker_client, workspace, True)

    (context / "app" / "index.html").write_text("v2\n")
    _predict_then_apply(run_module, docker_client, workspace, True)

    (context / "notes.tmp").write_text("still ignored, but different\n")
    _predict_then_apply(run_module, docker_client, workspace, False)

    changed_arg = _predict_then_apply(run_module, docker_client, workspace, True, build_args={"GREETING": "bonjour"})
    output = docker_client.containers.run(changed_arg["image_id"], ["cat", "/greeting"], remove=True)
    assert output.decode().strip() == "bonjour"
    _predict_then_apply(run_module, docker_client, workspace, False, build_args={"GREETING": "bonjour"})

    # the base tag now names another image: its ID is an input, so the image is rebuilt
    docker_client.images.build(fileobj=_dockerfile("FROM virtlab/debian:bookworm\nLABEL variant=two\n"),
                               tag=workspace["base"], rm=True)
    rebased = _predict_then_apply(run_module, docker_client, workspace, True, build_args={"GREETING": "bonjour"})
    assert rebased["base_images"][workspace["base"]] == _image_id(docker_client, workspace["base"])


def test_back_to_earlier_inputs_retags_without_building(run_module, docker_client, workspace):
    first = _build(run_module, workspace)
    second = _build(run_module, workspace, build_args={"GREETING": "hi"})
    assert second["changed"] and second["image_id"] != first["image_id"]
    again = _build(run_module, workspace, diff=True)
    assert again["changed"] is True and again["built"] is False
    assert again["image_id"] == first["image_id"]
    assert again["diff"]["before"]["tags"][workspace["name"] + ":1"] == second["image_id"]
    assert again["diff"]["after"]["tags"][workspace["name"] + ":1"] == first["image_id"]


def test_several_tags_and_inline_dockerfile(run_module, docker_client, workspace, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    workspace["tags"].update({workspace["name"] + ":2", workspace["name"] + ":latest"})
    result = run_module("docker_image_build", {
        "name": workspace["name"] + ":1", "tags": ["2", "latest"], "path": str(empty),
        "dockerfile_content": "FROM {0}\nRUN echo inline > /marker\n".format(workspace["base"]),
    })
    assert result["changed"] and result["tags"] == [workspace["name"] + t for t in (":1", ":2", ":latest")]
    assert {_image_id(docker_client, ref) for ref in result["tags"]} == {result["image_id"]}
    assert list(empty.iterdir()) == [], "an inline Dockerfile must not be written into the context"
    output = docker_client.containers.run(result["image_id"], ["cat", "/marker"], remove=True)
    assert output.decode().strip() == "inline"


def test_failed_build_names_the_step_and_moves_no_tag(run_module, docker_client, workspace):
    good = _build(run_module, workspace)
    (workspace["context"] / "Dockerfile").write_text(
        DOCKERFILE.format(base=workspace["base"]) + "RUN echo about to fail && exit 3\n")
    result = _build(run_module, workspace)
    assert result["failed"]
    assert "RUN echo about to fail && exit 3" in result["msg"]
    assert result["failed_step"].startswith("Step 5/")
    assert any("about to fail" in line for line in result["log_tail"])
    assert "Traceback" not in result["_stdout"] + result["_stderr"]
    assert _image_id(docker_client, workspace["name"] + ":1") == good["image_id"]


def test_force_rebuilds_but_reports_change_only_when_the_id_moves(run_module, docker_client, workspace):
    first = _build(run_module, workspace)
    forced = _build(run_module, workspace, force=True)
    assert forced["built"] is True
    # a cached rebuild of identical inputs yields the same image ID: no tag moved
    assert forced["image_id"] == first["image_id"]
    assert forced["changed"] is False


@pytest.mark.parametrize("args, option", [
    ({"name": "Upper/Case"}, "name"),
    ({"tags": ["bad tag"]}, "tags"),
    ({"path": "/nonexistent/context"}, "path"),
    ({"dockerfile": "Missing.Dockerfile"}, "dockerfile"),
    ({"log_lines": -1}, "log_lines"),
    ({"dockerfile": "Dockerfile", "dockerfile_content": "FROM scratch"}, "dockerfile"),
])
def test_bad_input_fails_naming_the_option(run_module, docker_client, workspace, args, option):
    base_args = {"name": workspace["name"], "tags": ["1"], "path": str(workspace["context"])}
    base_args.update(args)
    result = run_module("docker_image_build", base_args)
    assert result["failed"] and option in result["msg"]
    assert "Traceback" not in result["_stdout"] + result["_stderr"]
    assert _image_id(docker_client, workspace["name"] + ":1") is None


def test_missing_base_image_is_a_clean_error(run_module, docker_client, workspace):
    (workspace["context"] / "Dockerfile").write_text("FROM vlt-test-nonexistent/base:0\n")
    result = _build(run_module, workspace)
    assert result["failed"] and "vlt-test-nonexistent/base:0" in result["msg"]
    assert _image_id(docker_client, workspace["name"] + ":1") is None
