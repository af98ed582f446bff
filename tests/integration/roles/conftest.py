"""Fixtures of the role tests: releases of the stand-in Moodle tree (files/moodle-standin)."""

import shutil
from pathlib import Path

import pytest

STANDIN = Path(__file__).resolve().parent / "files" / "moodle-standin"
# three releases A < B < C: their $version, and the version Moodle's config table holds for each
MOODLE_RELEASES = {"A": "2024100700.00", "B": "2024100800.00", "C": "2024100900.00"}
MOODLE_DB_VERSION = {name: version.split(".", maxsplit=1)[0] for name, version in MOODLE_RELEASES.items()}


@pytest.fixture
def moodle_release(tmp_path):
    """moodle_release(name, fail_halfway=False) -> the path of a stand-in tree of release A, B or C
    ($release '4.5 release <name>'); with fail_halfway its upgrade.php dies half-way."""
    def make(name, fail_halfway=False):
        tree = tmp_path / ("moodle-" + name)
        shutil.copytree(STANDIN, tree)
        (tree / "version.php").write_text(
            "<?php\ndefined('MOODLE_INTERNAL') || die();\n$version  = %s;\n$release  = '4.5 release %s';\n"
            "$branch   = '405';\n$maturity = 200;\n" % (MOODLE_RELEASES[name], name))
        if fail_halfway:
            (tree / "admin" / "cli" / "FAIL_HALFWAY").write_text("stand-in: the upgrade dies half-way\n")
        return str(tree)
    return make


@pytest.fixture
def moodle_db_version():
    """The version Moodle's config table holds for release A, B or C."""
    return dict(MOODLE_DB_VERSION)
