# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX/Tower job template surveys generated from the roles' meta/argument_specs.yml.

    python scripts/survey_spec.py                       # write docs/surveys.md (templates in scripts/survey_templates.yml)
    python scripts/survey_spec.py --check               # exit 1 when docs/surveys.md is not up to date
    python scripts/survey_spec.py --role mysql [--entry-point main] [--variables a,b]   # print one survey spec (JSON)

Argument spec -> survey question:
    no_log                       password
    choices (list: multiselect)  multiplechoice / multiselect
    bool                         multiplechoice true/false
    int / float                  integer / float
    list of scalars              textarea, one item per line
    str, path, raw               text
    dict, list of dicts          not a survey question: set in the job template's extra variables
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "scripts" / "survey_templates.yml"
OUTPUT = ROOT / "docs" / "surveys.md"
SCALARS = {"str", "path", "raw", "int", "float", "bool"}
TEXT_MAX = 1024
TEXTAREA_MAX = 4096


class SurveyError(Exception):
    """An argument spec or a template definition that cannot make a correct survey."""


def plain(text):
    """Ansible doc markup -> plain text, for question texts (AWX shows them verbatim)."""
    if isinstance(text, (list, tuple)):
        text = " ".join(str(item) for item in text)
    text = re.sub(r"\bL\(([^,)]*),[^)]*\)", r"\1", str(text or ""))
    text = re.sub(r"\b(?:RV|[IBCMUOVEP])\(([^)]*)\)", r"\1", text)
    return " ".join(text.replace("HORIZONTALLINE", "").split())


def load_role_spec(role, entry_point="main", roles_dir=None):
    path = Path(roles_dir or ROOT / "roles") / role / "meta" / "argument_specs.yml"
    if not path.is_file():
        raise SurveyError("role %s has no meta/argument_specs.yml" % role)
    specs = (yaml.safe_load(path.read_text()) or {}).get("argument_specs") or {}
    if entry_point not in specs:
        raise SurveyError("role %s has no entry point %s" % (role, entry_point))
    return specs[entry_point] or {}


def is_secret_name(name):
    """Inputs whose name says they carry a secret (they must be no_log in the argument spec)."""
    last = name.lower().split("_")[-1]
    return last in ("password", "passwd", "passphrase", "secret", "token", "apikey") or \
        name.lower().endswith("private_key")


def _default_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def question(variable, spec, question_name=None):
    """One survey question for one option of an argument spec; None when it cannot be a question."""
    kind = spec.get("type", "str")
    elements = spec.get("elements", "str")
    if kind == "dict" or (kind == "list" and elements not in SCALARS):
        return None
    description = plain(spec.get("description"))
    if not question_name:
        first = re.split(r"(?<=[.;:])\s", description, maxsplit=1)[0].rstrip(".;:")
        question_name = first if 0 < len(first) <= 80 else variable.replace("_", " ").capitalize()
    item = {"question_name": question_name, "question_description": description, "variable": variable,
            "required": bool(spec.get("required", False))}
    default = spec.get("default")
    choices = [str(choice) for choice in spec.get("choices") or []]
    if spec.get("no_log"):
        # AWX stores password answers encrypted and never shows them; no default is offered
        item.update(type="password", min=0, max=TEXT_MAX, default="")
    elif choices and kind == "list":
        item.update(type="multiselect", choices="\n".join(choices),
                    default="\n".join(str(value) for value in default or []))
    elif choices:
        item.update(type="multiplechoice", choices="\n".join(choices), default=_default_text(default))
    elif kind == "bool":
        item.update(type="multiplechoice", choices="true\nfalse", default=_default_text(bool(default)))
    elif kind in ("int", "float"):
        item.update(type="integer" if kind == "int" else "float")
        if default is not None:
            item["default"] = default
    elif kind == "list":
        item.update(type="textarea", min=0, max=TEXTAREA_MAX,
                    default="\n".join(str(value) for value in default or []))
        item["question_description"] = (description + " One item per line.").strip()
    else:
        item.update(type="text", min=0, max=TEXT_MAX, default=_default_text(default))
    return item


def survey(name, description, roles, variables=None, question_names=None, roles_dir=None):
    """A survey spec (AWX's /survey_spec/ body) from one or more role entry points.

    roles: [(role, entry point)]; variables: the options to ask (in this order), default every
    option that can be a question. Returns (spec, options left to extra vars).
    """
    options = {}
    for role, entry_point in roles:
        for variable, spec in (load_role_spec(role, entry_point, roles_dir).get("options") or {}).items():
            options.setdefault(variable, spec or {})
    wanted = list(variables) if variables else list(options)
    questions, extra = [], []
    for variable in wanted:
        if variable not in options:
            raise SurveyError("survey %s: %s is not an option of %s" % (
                name, variable, ", ".join("%s (%s)" % pair for pair in roles)))
        item = question(variable, options[variable], (question_names or {}).get(variable))
        if item is None:
            if variables:
                raise SurveyError("survey %s: %s (type %s) cannot be a survey question; set it in extra vars"
                                  % (name, variable, options[variable].get("type")))
            extra.append(variable)
        else:
            questions.append(item)
    return {"name": name, "description": description, "spec": questions}, extra


def templates():
    data = yaml.safe_load(TEMPLATES.read_text())
    return data["job_templates"]


def template_survey(template):
    roles = [(entry["role"], entry.get("entry_point", "main")) for entry in template["roles"]]
    return survey(template["name"], template["description"], roles, template.get("variables"),
                  template.get("question_names"))


def render():
    out = ["<!-- Generated by scripts/survey_spec.py from the roles' meta/argument_specs.yml and "
           "scripts/survey_templates.yml; do not edit. Run `make docs`. -->", "",
           "# Job template surveys", "",
           "Ready survey specifications for the main AWX/Tower job templates, generated from the roles' "
           "`meta/argument_specs.yml` (the single source of role inputs). Paste a JSON block into the "
           "job template's survey through the API (`POST /api/v2/job_templates/<id>/survey_spec/`) or with "
           "`awx job_templates modify <id> --survey_spec @file.json --survey_enabled true`. "
           "[AWX set-up](awx.md) describes the whole job template.", "",
           "How options become questions: secrets (`no_log`) are `password` questions without a default; "
           "options with choices are `multiplechoice`; booleans are `multiplechoice` with `true`/`false` "
           "(AWX passes the answer as a string, which the roles read with `| bool`); `int` is `integer`; "
           "lists of plain values are a `textarea` with one item per line; everything else is `text`. "
           "Dictionaries and lists of dictionaries are not survey material: set them in the job "
           "template's extra variables (listed under each survey).", "",
           "For any role and any selection of its options: "
           "`python scripts/survey_spec.py --role <role> [--variables a,b,c]` prints the JSON.", ""]
    for template in templates():
        spec, extra = template_survey(template)
        roles = ", ".join("`virtlab.infra.%s`" % entry["role"] for entry in template["roles"])
        out += ["## %s" % template["name"], "", plain(template["description"]), "",
                "- Playbook: `%s`" % template["playbook"], "- Inputs from: %s" % roles]
        if template.get("limit_hint"):
            out.append("- Limit: %s" % template["limit_hint"])
        if extra:
            names = ", ".join("`%s`" % name for name in extra)
            out.append("- Extra variables only (not survey questions): %s" % names)
        out += ["", "| Variable | Question type | Required | Default |", "|---|---|---|---|"]
        for item in spec["spec"]:
            default = "" if item["type"] == "password" else json.dumps(item.get("default", ""))
            out.append("| `%s` | %s | %s | %s |" % (item["variable"], item["type"],
                                                    "yes" if item["required"] else "no",
                                                    ("`%s`" % default) if default not in ("", '""') else ""))
        out += ["", "```json", json.dumps(spec, indent=2), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/surveys.md is up to date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--role", help="print the survey spec of one role instead")
    parser.add_argument("--entry-point", default="main")
    parser.add_argument("--variables", help="comma-separated options to ask (default: every one that can be)")
    args = parser.parse_args(argv)
    try:
        if args.role:
            variables = [name.strip() for name in args.variables.split(",")] if args.variables else None
            spec, _extra = survey("virtlab.infra.%s" % args.role, "Inputs of the role virtlab.infra.%s" % args.role,
                                  [(args.role, args.entry_point)], variables)
            print(json.dumps(spec, indent=2))
            return 0
        text = render()
    except SurveyError as error:
        print("ERROR: %s" % error, file=sys.stderr)
        return 1
    if args.check:
        if not args.output.is_file() or args.output.read_text() != text:
            print("%s is out of date; run `make docs`" % args.output, file=sys.stderr)
            return 1
        print("%s is up to date" % args.output)
        return 0
    args.output.write_text(text)
    print("wrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
