"""flake8 (the real command, with the installed plugin) and the CLI agree on every fixture."""

from __future__ import annotations

import re

from helpers import RULE_FIXTURES, devicelint_json, expected_positions, flake8

FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>DEV\d{3}) (?P<message>.*)$")


def test_flake8_and_cli_report_the_same_findings_on_every_fixture() -> None:
    result = flake8("--select", "DEV", RULE_FIXTURES)
    assert result.returncode == 1, result.stderr
    from_flake8 = set()
    for line in result.stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        assert match, line
        from_flake8.add((match["path"], int(match["line"]), int(match["col"]), match["code"], match["message"]))

    from_cli = {
        (item["filename"], item["line"], item["column"], item["code"], item["message"])
        for item in devicelint_json(RULE_FIXTURES)
    }
    assert from_flake8 == from_cli
    expected = {(str(p), line, col, code) for p in RULE_FIXTURES.glob("*.py") for line, col, code in expected_positions(p)}
    assert {(path, line, col, code) for path, line, col, code, _ in from_cli} == expected


def test_flake8_select_other_codes_hides_dev(tmp_path) -> None:
    path = tmp_path / "a.py"
    path.write_text('import torch\ntorch.device("auto")\n')
    assert "DEV002" in flake8("--select", "DEV", path).stdout
    assert "DEV" not in flake8("--select", "F", path).stdout
