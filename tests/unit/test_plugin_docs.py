"""The generated plugin reference covers every module, inventory plugin and role present, builds without
warnings, and the checked-in docs/reference/ is what a fresh build produces."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "plugin_docs.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("virtlab_plugin_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _string_constant(path, name):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return ast.literal_eval(node.value)
    return None


def _fragment_options(reference):
    """Options of one of our doc fragments (virtlab.infra.<file>[.<attribute>]), read from the source."""
    parts = reference.split(".")[2:]
    source = ROOT / "plugins" / "doc_fragments" / ("%s.py" % parts[0])
    attribute = parts[1].upper() if len(parts) > 1 else "DOCUMENTATION"
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == attribute for target in node.targets):
            return set((yaml.safe_load(ast.literal_eval(node.value)) or {}).get("options") or {})
    raise AssertionError("fragment %s not found in %s" % (reference, source))


def _documented_options(path):
    """Option names a plugin documents itself plus those of our doc fragments it extends, read without
    ansible: the page must show all of them (so fragments were resolved)."""
    doc = yaml.safe_load(_string_constant(path, "DOCUMENTATION"))
    names = set(doc.get("options") or {})
    for reference in doc.get("extends_documentation_fragment") or []:
        if reference.startswith("virtlab.infra."):
            names |= _fragment_options(reference)
    return names


def _role_options(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name for entry in specs.values() for name in ((entry or {}).get("options") or {})}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    output = tmp_path_factory.mktemp("reference")
    completed = subprocess.run([sys.executable, str(SCRIPT), "--output", str(output)],
                               capture_output=True, text=True, check=False, cwd=ROOT)
    assert completed.returncode == 0, "make docs must build without warnings:\n" + completed.stderr
    return output


@pytest.mark.parametrize("folder, suffix", [("modules", "module"), ("inventory", "inventory")])
def test_every_plugin_has_a_page_with_all_its_options(built, folder, suffix):
    plugins = sorted(path for path in (ROOT / "plugins" / folder).glob("*.py") if not path.name.startswith("_"))
    assert plugins, "no plugin found in plugins/%s: the scan is broken" % folder
    for path in plugins:
        page = built / ("%s_%s.md" % (path.stem, suffix))
        assert page.is_file(), "no reference page for %s" % path
        text = page.read_text()
        for option in _documented_options(path):
            assert "| `%s` |" % option in text, "%s: option %s missing" % (page.name, option)
        assert "## Examples" in text and "```yaml\n\n```" not in text
        if suffix == "module":
            assert "## Return values" in text, page.name


def test_every_role_has_a_page_with_all_its_options(built):
    roles = sorted(path for path in (ROOT / "roles").iterdir() if (path / "tasks").is_dir())
    assert roles, "no role found: the scan is broken"
    for role in roles:
        page = built / ("%s_role.md" % role.name)
        assert page.is_file(), "no reference page for role %s" % role.name
        text = page.read_text()
        for option in _role_options(role):
            assert "| `%s` |" % option in text, "%s: option %s missing" % (page.name, option)


def test_index_links_every_page(built):
    index = (built / "index.md").read_text()
    pages = sorted(path.name for path in built.glob("*.md") if path.name != "index.md")
    assert pages
    for name in pages:
        assert "](%s)" % name in index, "index.md does not link %s" % name


def test_markup_is_rendered_and_wrong_references_are_warnings():
    plugin_docs = _load_script()
    warnings = plugin_docs.DocWarnings()
    renderer = plugin_docs.Renderer("virtlab.infra", {"module": {"virtlab.infra.x": {}}}, warnings)
    text = renderer.markup("Set O(state=present) with V(yes), see M(virtlab.infra.x), I(not) B(this) "
                           "C(a_b) U(https://example.org) L(docs,https://example.org/d) and O(missing).",
                           "test", options={"state"})
    assert "`state=present`" in text and "`yes`" in text and "[`virtlab.infra.x`](x_module.md)" in text
    assert "*not*" in text and "**this**" in text and "`a_b`" in text
    assert "<https://example.org>" in text and "[docs](https://example.org/d)" in text
    assert warnings == ["test: O(missing) names no option of this plugin"]
    assert renderer.markup("a | b_c", "test") == r"a \| b\_c"
    # in a table a pipe must be escaped even inside a code span; an empty default is shown as ""
    assert plugin_docs._row("`{{ x | int }}`", r"a \| b") == r"| `{{ x \| int }}` | a \| b |"
    assert plugin_docs._value("") == '`""`' and plugin_docs._value(3) == "`3`"


def test_checked_in_reference_is_up_to_date():
    completed = subprocess.run([sys.executable, str(SCRIPT), "--check"],
                               capture_output=True, text=True, check=False, cwd=ROOT)
    assert completed.returncode == 0, (
        "docs/reference/ is out of date with the plugins' documentation: run `make docs` and commit it\n"
        + completed.stdout + completed.stderr)
