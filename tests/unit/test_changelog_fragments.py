"""Changelog fragments follow changelogs/config.yaml (the antsibull-changelog format), so a release can
render them: known sections only, each a list of non-empty strings, one file per change."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHANGELOGS = ROOT / "changelogs"


def test_fragments_use_the_configured_sections():
    config = yaml.safe_load((CHANGELOGS / "config.yaml").read_text())
    sections = {key for key, _title in config["sections"]} | {config["trivial_section_name"]}
    assert config["notesdir"] == "fragments" and config["changes_file"] == "changelog.yaml"
    assert (CHANGELOGS / config["changes_file"]).is_file()
    fragments = sorted((CHANGELOGS / config["notesdir"]).glob("*"))
    assert fragments, "no changelog fragment"
    problems = []
    for path in fragments:
        if path.suffix not in (".yml", ".yaml"):
            problems.append("%s: fragments are .yml files" % path.name)
            continue
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or not data:
            problems.append("%s: not a mapping of sections" % path.name)
            continue
        for section, entries in data.items():
            if section == config["prelude_section_name"]:
                if not isinstance(entries, str) or not entries.strip():
                    problems.append("%s: %s must be a non-empty string" % (path.name, section))
            elif section not in sections:
                problems.append("%s: unknown section %s (known: %s)" % (path.name, section, ", ".join(sorted(sections))))
            elif not isinstance(entries, list) or not all(isinstance(item, str) and item.strip() for item in entries):
                problems.append("%s: %s must be a list of non-empty strings" % (path.name, section))
    assert not problems, "\n".join(problems)
