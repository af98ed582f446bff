"""docker_image_archive against the real engine: save/load round trip, idempotence, check and diff mode, bad input."""

import io
import json
import os
import tarfile

import docker.errors
import pytest


@pytest.fixture
def make_image(docker_client, debian_image, unique_name):
    """make_image(tag="1") -> (reference, image ID) of a new image of its own (a LABEL on the base: no layer to build).

    Every image made is removed after the test, by ID, with all its tags.
    """
    made = []

    def make(tag="1", variant=None):
        reference = "{0}:{1}".format(unique_name, tag)
        dockerfile = "FROM {0}\nLABEL io.virtlab.test={1}\n".format(debian_image, variant or reference)
        image = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=reference, rm=True)[0]
        made.append(image.id)
        return reference, image.id

    yield make
    for image_id in made:
        try:
            docker_client.images.remove(image_id, force=True)
        except docker.errors.ImageNotFound:
            pass


def _image_id(docker_client, reference):
    try:
        return docker_client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def _manifest(path):
    with tarfile.open(str(path)) as archive:
        return json.load(archive.extractfile("manifest.json"))


def _fingerprint(path):
    """What must stay the same when a file is left alone: inode, mtime and content size."""
    stat = os.stat(str(path))
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def _save(run_module, path, images, **kwargs):
    return run_module("docker_image_archive", {"path": str(path), "images": images}, **kwargs)


def _load(run_module, path, **kwargs):
    return run_module("docker_image_archive", {"path": str(path), "state": "loaded"}, **kwargs)


def _assert_clean_failure(result, option):
    assert result.get("failed"), result
    assert result["msg"].startswith(option + ":"), result["msg"]
    # a handled failure: no module crash (module_stderr) and no traceback anywhere
    assert "module_stderr" not in result and "Traceback" not in result["_stdout"] + result["_stderr"], result


def test_save_remove_load_gives_the_same_image(run_module, docker_client, make_image, tmp_path):
    reference, image_id = make_image()
    archive = tmp_path / "seed.tar"

    saved = _ok(_save(run_module, archive, [reference]))
    assert saved["changed"] is True
    assert saved["images"] == [{"id": image_id, "tags": [reference]}]
    manifest = _manifest(archive)
    assert [entry["Config"] for entry in manifest] == [image_id.split(":", 1)[1] + ".json"]
    assert manifest[0]["RepoTags"] == [reference]

    written = _fingerprint(archive)
    again = _ok(_save(run_module, archive, [reference]))
    assert again["changed"] is False
    assert _fingerprint(archive) == written, "an up-to-date archive was rewritten"

    docker_client.images.remove(image_id, force=True)
    assert _image_id(docker_client, image_id) is None

    predicted = _ok(_load(run_module, archive, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["diff"]["after"]["tags"] == {reference: image_id}
    assert _image_id(docker_client, image_id) is None, "check mode loaded the archive"

    loaded = _ok(_load(run_module, archive))
    assert loaded["changed"] is True
    assert loaded["images"] == [{"id": image_id, "tags": [reference]}]
    assert _image_id(docker_client, reference) == image_id

    assert _ok(_load(run_module, archive))["changed"] is False
    assert _ok(_load(run_module, archive, check=True))["changed"] is False


def test_save_check_mode_predicts_exactly_and_writes_nothing(run_module, make_image, tmp_path):
    reference, image_id = make_image()
    other, other_id = make_image("2")
    archive = tmp_path / "seed.tar"

    predicted = _ok(_save(run_module, archive, [reference], check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["images"] == [{"id": image_id, "tags": [reference]}]
    assert predicted["diff"] == {"before": {"images": {}}, "after": {"images": {image_id: [reference]}}}
    assert list(tmp_path.iterdir()) == [], "check mode wrote a file"

    applied = _ok(_save(run_module, archive, [reference], diff=True))
    assert applied["changed"] is True and applied["images"] == predicted["images"]
    assert applied["diff"] == predicted["diff"]

    written = _fingerprint(archive)
    assert _ok(_save(run_module, archive, [reference], check=True))["changed"] is False
    grown = _ok(_save(run_module, archive, [reference, other], check=True))
    assert grown["changed"] is True
    assert grown["images"] == sorted([{"id": image_id, "tags": [reference]}, {"id": other_id, "tags": [other]}],
                                     key=lambda image: image["id"])
    assert _fingerprint(archive) == written, "check mode touched the archive"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["seed.tar"]


def test_save_several_images_by_tag_and_id(run_module, make_image, tmp_path):
    first, first_id = make_image("1")
    second, second_id = make_image("2")
    untagged, untagged_id = make_image("3")
    archive = tmp_path / "several.tar"
    wanted = [first, second, untagged_id]

    saved = _ok(_save(run_module, archive, wanted, diff=True))
    assert saved["changed"] is True
    expected = {first_id: [first], second_id: [second], untagged_id: []}
    assert {image["id"]: image["tags"] for image in saved["images"]} == expected
    assert {entry["Config"]: entry["RepoTags"] or [] for entry in _manifest(archive)} == {
        image_id.split(":", 1)[1] + ".json": tags for image_id, tags in expected.items()}
    assert saved["diff"]["after"]["images"] == expected

    assert _ok(_save(run_module, archive, wanted))["changed"] is False
    # the same images in another order: still the same archive
    assert _ok(_save(run_module, archive, [untagged_id, second, first]))["changed"] is False

    fewer = _ok(_save(run_module, archive, [first], diff=True))
    assert fewer["changed"] is True
    assert fewer["diff"]["before"]["images"] == expected
    assert fewer["diff"]["after"]["images"] == {first_id: [first]}
    assert [entry["RepoTags"] for entry in _manifest(archive)] == [[first]]


def test_save_rewrites_when_a_tag_moved_and_load_moves_it_back(run_module, docker_client, make_image, tmp_path):
    reference, old_id = make_image("1")
    archive = tmp_path / "seed.tar"
    _ok(_save(run_module, archive, [reference]))

    new_id = make_image("2", variant="moved")[1]
    docker_client.images.get(new_id).tag(reference)
    moved = _ok(_save(run_module, archive, [reference], diff=True))
    assert moved["changed"] is True
    assert moved["diff"] == {"before": {"images": {old_id: [reference]}}, "after": {"images": {new_id: [reference]}}}
    assert moved["images"] == [{"id": new_id, "tags": [reference]}]

    # the engine's tag now points at the old image: loading the archive moves it to the archived one
    docker_client.images.get(old_id).tag(reference)
    predicted = _ok(_load(run_module, archive, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["diff"]["before"]["tags"] == {reference: old_id}
    assert predicted["diff"]["after"]["tags"] == {reference: new_id}
    assert _image_id(docker_client, reference) == old_id
    assert _ok(_load(run_module, archive))["changed"] is True
    assert _image_id(docker_client, reference) == new_id


def test_save_bad_input_fails_naming_the_option_and_leaves_nothing(run_module, docker_client, make_image, tmp_path, unique_name):
    reference = make_image()[0]
    archive = tmp_path / "seed.tar"

    _assert_clean_failure(_save(run_module, archive, [reference, unique_name + "-missing:1"]), "images")
    _assert_clean_failure(_save(run_module, archive, ["Not/A Valid:ref"]), "images")
    _assert_clean_failure(_save(run_module, archive, []), "images")
    _assert_clean_failure(_save(run_module, tmp_path / "absent" / "seed.tar", [reference]), "path")
    _assert_clean_failure(_save(run_module, tmp_path, [reference]), "path")
    assert list(tmp_path.iterdir()) == [], "a failed save left a file behind"

    # a failure must also leave an existing archive exactly as it was
    _ok(_save(run_module, archive, [reference]))
    kept = _fingerprint(archive)
    _assert_clean_failure(_save(run_module, archive, [reference, unique_name + "-missing:1"]), "images")
    assert _fingerprint(archive) == kept
    assert sorted(path.name for path in tmp_path.iterdir()) == ["seed.tar"]


def test_load_bad_input_fails_naming_the_option(run_module, docker_client, make_image, tmp_path):
    reference, image_id = make_image()
    archive = tmp_path / "seed.tar"
    _ok(_save(run_module, archive, [reference]))
    docker_client.images.remove(image_id, force=True)

    _assert_clean_failure(_load(run_module, tmp_path / "absent.tar"), "path")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not an archive\n" * 100)
    _assert_clean_failure(_load(run_module, garbage), "path")
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    _assert_clean_failure(_load(run_module, truncated), "path")
    _assert_clean_failure(_load(run_module, truncated, check=True), "path")
    no_manifest = tmp_path / "plain.tar"
    with tarfile.open(str(no_manifest), "w") as plain:
        plain.add(str(garbage), arcname="hello.txt")
    _assert_clean_failure(_load(run_module, no_manifest), "path")
    with_images = run_module("docker_image_archive", {"path": str(archive), "state": "loaded", "images": [reference]})
    _assert_clean_failure(with_images, "images")
    assert _image_id(docker_client, image_id) is None, "a failed load loaded the image"


def test_failed_save_keeps_the_previous_archive(docker_client, make_image, tmp_path):
    """The engine's stream breaks half-way: the error is typed, the old archive is intact, no temporary file stays."""
    import requests.exceptions
    from ansible_collections.virtlab.infra.plugins.module_utils.common.errors import TransientError
    from ansible_collections.virtlab.infra.plugins.module_utils.docker.image_archive import (
        ArchiveRequest,
        ImageArchiveService,
    )

    reference = make_image("1")[0]
    other = make_image("2")[0]
    archive = tmp_path / "seed.tar"
    api = docker_client.api
    ImageArchiveService(api, check_mode=False).ensure(ArchiveRequest.from_params({"path": str(archive), "images": [reference]}))
    kept = archive.read_bytes()

    class BreakingApi:
        """The real client, except that the archive stream fails after its first chunk."""

        def __getattr__(self, name):
            return getattr(api, name)

        def _stream_raw_result(self, response, chunk_size, decode):
            for chunk in api._stream_raw_result(response, chunk_size, decode):
                yield chunk
                break
            response.close()
            raise requests.exceptions.ConnectionError("connection reset by the test")

    request = ArchiveRequest.from_params({"path": str(archive), "images": [reference, other]})
    with pytest.raises(TransientError):
        ImageArchiveService(BreakingApi(), check_mode=False).ensure(request)
    assert archive.read_bytes() == kept
    assert sorted(path.name for path in tmp_path.iterdir()) == ["seed.tar"]
