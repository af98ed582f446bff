"""AWX surveys generated from the roles' argument specs: the type mapping, the job template surveys
of docs/surveys.md, and the completeness of every role's meta/argument_specs.yml (the survey source)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "survey_spec.py"
ROLES = sorted(path for path in (ROOT / "roles").iterdir() if (path / "tasks").is_dir())
# what AWX accepts in a survey spec (awx/main/models/mixins.py SurveyJobTemplateMixin validation)
AWX_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def _load_script():
    spec = importlib.util.spec_from_file_location("virtlab_survey_spec", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


survey_spec = _load_script()


def _argument_specs(role):
    path = role / "meta" / "argument_specs.yml"
    assert path.is_file(), "role %s has no meta/argument_specs.yml" % role.name
    return (yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}


def _walk(options, prefix=""):
    for name, spec in (options or {}).items():
        yield prefix + name, name, spec or {}
        yield from _walk((spec or {}).get("options"), prefix + name + ".")


def test_every_type_maps_to_its_survey_question(tmp_path):
    role = tmp_path / "roles" / "demo" / "meta"
    role.mkdir(parents=True)
    (role / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {
        "short_description": "demo",
        "options": {
            "demo_name": {"type": "str", "default": "web", "description": ["Name of it.", "More words."]},
            "demo_dir": {"type": "path", "required": True, "description": "Where O(demo_name) lives."},
            "demo_password": {"type": "str", "no_log": True, "default": "s3cret", "description": "Secret."},
            "demo_state": {"type": "str", "choices": ["present", "absent"], "default": "present",
                           "description": "State."},
            "demo_count": {"type": "int", "default": 2, "description": "How many."},
            "demo_ratio": {"type": "float", "default": 0.5, "description": "Share."},
            "demo_enabled": {"type": "bool", "default": True, "description": "On or off."},
            "demo_off": {"type": "bool", "description": "Off unless set."},
            "demo_hosts": {"type": "list", "elements": "str", "default": ["a", "b"], "description": "Hosts."},
            "demo_features": {"type": "list", "elements": "str", "choices": ["x", "y", "z"], "default": ["y"],
                              "description": "Features."},
            "demo_env": {"type": "dict", "default": {}, "description": "Environment."},
            "demo_users": {"type": "list", "elements": "dict", "description": "Users."},
        }}}}))
    spec, extra = survey_spec.survey("demo", "A demo", [("demo", "main")], roles_dir=tmp_path / "roles")
    questions = {item["variable"]: item for item in spec["spec"]}
    assert extra == ["demo_env", "demo_users"]
    assert set(questions) == {"demo_name", "demo_dir", "demo_password", "demo_state", "demo_count", "demo_ratio",
                              "demo_enabled", "demo_off", "demo_hosts", "demo_features"}
    assert questions["demo_name"] == {"question_name": "Name of it", "question_description": "Name of it. More words.",
                                      "variable": "demo_name", "required": False, "type": "text", "min": 0,
                                      "max": 1024, "default": "web"}
    assert questions["demo_dir"]["required"] is True
    assert questions["demo_dir"]["question_description"] == "Where demo_name lives."
    assert questions["demo_password"]["type"] == "password" and questions["demo_password"]["default"] == ""
    assert (questions["demo_state"]["type"], questions["demo_state"]["choices"],
            questions["demo_state"]["default"]) == ("multiplechoice", "present\nabsent", "present")
    assert (questions["demo_count"]["type"], questions["demo_count"]["default"]) == ("integer", 2)
    assert (questions["demo_ratio"]["type"], questions["demo_ratio"]["default"]) == ("float", 0.5)
    assert (questions["demo_enabled"]["type"], questions["demo_enabled"]["choices"],
            questions["demo_enabled"]["default"]) == ("multiplechoice", "true\nfalse", "true")
    assert questions["demo_off"]["default"] == "false"
    assert (questions["demo_hosts"]["type"], questions["demo_hosts"]["default"]) == ("textarea", "a\nb")
    assert (questions["demo_features"]["type"], questions["demo_features"]["choices"],
            questions["demo_features"]["default"]) == ("multiselect", "x\ny\nz", "y")
    # a selection keeps its order; an unknown or a dict option is an error, not a silent gap
    spec, _extra = survey_spec.survey("demo", "", [("demo", "main")], ["demo_count", "demo_name"],
                                      roles_dir=tmp_path / "roles")
    assert [item["variable"] for item in spec["spec"]] == ["demo_count", "demo_name"]
    with pytest.raises(survey_spec.SurveyError, match="demo_nope is not an option"):
        survey_spec.survey("demo", "", [("demo", "main")], ["demo_nope"], roles_dir=tmp_path / "roles")
    with pytest.raises(survey_spec.SurveyError, match="demo_env .*extra vars"):
        survey_spec.survey("demo", "", [("demo", "main")], ["demo_env"], roles_dir=tmp_path / "roles")


def _valid_awx_survey(spec):
    assert spec["name"] and isinstance(spec["spec"], list) and spec["spec"]
    seen = set()
    for item in spec["spec"]:
        assert item["type"] in AWX_TYPES, item
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", item["variable"]), item
        assert item["variable"] not in seen, "variable asked twice: %s" % item["variable"]
        seen.add(item["variable"])
        assert item["question_name"] and isinstance(item["required"], bool)
        if item["type"] in ("multiplechoice", "multiselect"):
            choices = item["choices"].split("\n")
            defaults = [value for value in str(item.get("default", "")).split("\n") if value]
            assert set(defaults) <= set(choices), item
        if item["type"] == "password":
            assert item["default"] == "", "a password question must not carry a default: %s" % item["variable"]
        if item["type"] in ("text", "textarea", "password"):
            assert len(str(item.get("default", ""))) <= item["max"]


def test_job_template_surveys_are_valid_awx_specs():
    templates = survey_spec.templates()
    names = [template["name"] for template in templates]
    assert len(names) == len(set(names))
    for template in templates:
        assert (ROOT / template["playbook"]).is_file(), "%s: no playbook %s" % (template["name"], template["playbook"])
        spec, _extra = survey_spec.template_survey(template)
        _valid_awx_survey(spec)


def test_survey_booleans_are_read_with_the_bool_filter():
    """AWX passes a multiplechoice answer as the string "true"/"false": a role that tests the variable
    bare (`when: var`) fails on ansible-core 2.19+ (or reads "false" as true in a Jinja `if`)."""
    offenders = []
    for template in survey_spec.templates():
        spec, _extra = survey_spec.template_survey(template)
        for item in spec["spec"]:
            if item["type"] != "multiplechoice" or item["choices"] != "true\nfalse":
                continue
            for entry in template["roles"]:
                role = ROOT / "roles" / entry["role"]
                for path in role.rglob("*"):
                    if not path.is_file() or path.parts[len(role.parts)] in ("defaults", "meta", "molecule") \
                            or path.suffix not in (".yml", ".yaml", ".j2"):
                        continue
                    for number, line in enumerate(path.read_text().splitlines(), 1):
                        for match in re.finditer(r"\b%s\b" % item["variable"], line):
                            rest = line[match.end():]
                            # "{{ var }}" alone passes the value on (a module's bool option converts it)
                            passed_on = re.search(r"\{\{\s*$", line[:match.start()]) and re.match(r"\s*\}\}", rest)
                            if not re.match(r"\s*\|\s*bool\b", rest) and not passed_on:
                                offenders.append("%s:%d: %s" % (path.relative_to(ROOT), number, line.strip()))
    assert not offenders, "survey booleans used without | bool:\n" + "\n".join(offenders)


def test_surveys_md_is_up_to_date():
    completed = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True,
                               check=False, cwd=ROOT)
    assert completed.returncode == 0, "docs/surveys.md is out of date: run `make docs` and commit it\n" + \
        completed.stdout + completed.stderr


def test_one_role_survey_from_the_command_line():
    completed = subprocess.run([sys.executable, str(SCRIPT), "--role", "mysql", "--variables", "mysql_port"],
                               capture_output=True, text=True, check=True, cwd=ROOT)
    assert '"variable": "mysql_port"' in completed.stdout and '"type": "integer"' in completed.stdout


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_role_argument_specs_are_complete(role):
    """Every option has a type and a description, secrets are no_log, defaults are among the choices,
    and every variable of defaults/main.yml is a documented input."""
    specs = _argument_specs(role)
    assert "main" in specs, "%s: no main entry point" % role.name
    gaps = []
    for entry, spec in specs.items():
        spec = spec or {}
        if not spec.get("short_description"):
            gaps.append("%s: no short_description" % entry)
        for path, name, option in _walk(spec.get("options")):
            if "type" not in option:
                gaps.append("%s: %s has no type" % (entry, path))
            if not option.get("description"):
                gaps.append("%s: %s has no description" % (entry, path))
            if survey_spec.is_secret_name(name) and not option.get("no_log"):
                gaps.append("%s: %s is a secret but not no_log" % (entry, path))
            if option.get("choices") and option.get("default") not in (None, "", []):
                defaults = option["default"] if isinstance(option["default"], list) else [option["default"]]
                if not set(map(str, defaults)) <= set(map(str, option["choices"])):
                    gaps.append("%s: %s default %r not in choices" % (entry, path, option["default"]))
    defaults = role / "defaults" / "main.yml"
    if defaults.is_file():
        documented = set((specs["main"] or {}).get("options") or {})
        for variable in (yaml.safe_load(defaults.read_text()) or {}):
            if variable not in documented:
                gaps.append("defaults/main.yml: %s is not in argument_specs main" % variable)
    assert not gaps, "roles/%s/meta/argument_specs.yml is incomplete:\n%s" % (role.name, "\n".join(gaps))
