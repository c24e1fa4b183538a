"""``[tool.devicelint]`` in pyproject.toml: discovery, precedence with flags, errors, and the
same extra-sinks / extra-device-types in the CLI, flake8 and the libcst codemod."""

from __future__ import annotations

import json
import sys

import pytest
from helpers import devicelint, flake8, run

TWO_RULES = '''\
import torch


def load(batch, device, other="balanced"):
    device = "auto" if device == "cuda" else device
    batch.to(other)
    return batch.to(device)
'''

# Reported only with extra-sinks = ["mylib.place:device"] (DEV001) and without
# extra-device-types = ["dcu"] (DEV002 on torch.device("dcu")).
CUSTOM = '''\
import torch
import mylib


def place(x, device):
    device = "auto" if device == "cuda" else device
    return mylib.place(x, device=device)


def accelerator():
    return torch.device("dcu")
'''


def _codes(*args, cwd):
    result = devicelint("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return [(item["filename"], item["code"]) for item in json.loads(result.stdout)]


def _pyproject(write, body: str, where: str = "pyproject.toml"):
    return write(where, "[project]\nname = 'x'\n\n[tool.devicelint]\n" + body)


# --- discovery and precedence --------------------------------------------------------------------------


def test_config_found_upward_from_the_current_directory(write, tmp_path) -> None:
    _pyproject(write, 'select = ["DEV002"]\n')
    write("src/pkg/bug.py", TWO_RULES)
    assert _codes("bug.py", cwd=tmp_path / "src" / "pkg") == [("bug.py", "DEV002")]


def test_pyproject_without_the_table_is_skipped(write, tmp_path) -> None:
    _pyproject(write, 'ignore = ["DEV001"]\n')
    write("sub/pyproject.toml", "[project]\nname = 'sub'\n")  # nearer, but no [tool.devicelint]
    write("sub/bug.py", TWO_RULES)
    assert _codes("bug.py", cwd=tmp_path / "sub") == [("bug.py", "DEV002")]


@pytest.mark.parametrize(
    ("body", "flags", "codes"),
    [
        ('select = ["DEV002"]\n', (), ["DEV002"]),
        ('select = ["DEV002"]\n', ("--select", "DEV001"), ["DEV001"]),  # the flag replaces the file
        ('select = ["DEV002"]\n', ("--extend-select", "DEV001"), ["DEV001", "DEV002"]),
        ('ignore = ["DEV001"]\n', (), ["DEV002"]),
        ('ignore = ["DEV001"]\n', ("--ignore", "DEV002"), []),  # --ignore adds to the file's
        ('ignore = ["DEV001"]\n', ("--select", "DEV"), ["DEV001", "DEV002"]),  # a new selection starts over
        ('select = ["DEV"]\nignore = ["DEV00"]\nextend-select = ["DEV001"]\n', (), ["DEV001"]),  # more specific wins
        ('ignore = ["DEV001"]\n', ("--isolated",), ["DEV001", "DEV002"]),
    ],
)
def test_rule_selection_file_then_flags(write, tmp_path, body, flags, codes) -> None:
    _pyproject(write, body)
    write("bug.py", TWO_RULES)
    assert [code for _, code in _codes(*flags, "bug.py", cwd=tmp_path)] == codes


def test_explicit_config_file(write, tmp_path) -> None:
    write("bug.py", TWO_RULES)
    _pyproject(write, 'ignore = ["DEV001"]\n')  # found by default, overridden by --config
    write("conf/devicelint.toml", 'ignore = ["DEV002"]\n')  # any other TOML: the top-level table
    _pyproject(write, 'select = ["DEV001"]\n', where="other/pyproject.toml")
    assert _codes("bug.py", cwd=tmp_path) == [("bug.py", "DEV002")]
    assert _codes("--config", "conf/devicelint.toml", "bug.py", cwd=tmp_path) == [("bug.py", "DEV001")]
    assert _codes("--config", "other/pyproject.toml", "bug.py", cwd=tmp_path) == [("bug.py", "DEV001")]


def test_per_file_ignores_ruff_semantics(write, tmp_path) -> None:
    _pyproject(
        write,
        '[tool.devicelint.per-file-ignores]\n'
        '"tests/*" = ["DEV002"]\n'  # relative to the pyproject: every file under tests/
        '"legacy_*.py" = ["DEV"]\n'  # a file name pattern: anywhere
        '"!src/*" = ["DEV001"]\n',  # negated: every file not under src/
    )
    for name in ("tests/unit/bug.py", "src/legacy_old.py", "src/bug.py", "scripts/bug.py"):
        write(name, TWO_RULES)
    found = _codes(".", cwd=tmp_path / "src")
    assert found == [("bug.py", "DEV001"), ("bug.py", "DEV002")]  # src/legacy_old.py: all ignored
    everything = _codes(".", cwd=tmp_path)
    assert everything == [
        ("scripts/bug.py", "DEV002"),
        ("src/bug.py", "DEV001"),
        ("src/bug.py", "DEV002"),
    ]  # tests/unit/bug.py: DEV002 ignored by tests/*, DEV001 by !src/*


def test_exclude_patterns_are_relative_to_the_pyproject(write, tmp_path) -> None:
    _pyproject(write, 'extend-exclude = ["generated", "src/vendored/*.py"]\n')
    for name in ("src/app.py", "src/generated/x.py", "src/vendored/y.py", "other/vendored/y.py", "build/z.py"):
        write(name, TWO_RULES)
    names = {name for name, _ in _codes(".", cwd=tmp_path / "src")} | {
        name for name, _ in _codes("other", cwd=tmp_path)
    }
    assert names == {"app.py", "other/vendored/y.py"}


def test_exclude_replaces_the_defaults(write, tmp_path) -> None:
    _pyproject(write, 'exclude = ["skip_me"]\n')
    write("build/z.py", TWO_RULES)  # excluded by default, not with exclude = [...]
    write("skip_me/y.py", TWO_RULES)
    assert {name for name, _ in _codes(".", cwd=tmp_path)} == {"build/z.py"}


def test_exclude_flags_override_the_file(write, tmp_path) -> None:
    _pyproject(write, 'exclude = ["a"]\nextend-exclude = ["c"]\n')
    for name in ("a/x.py", "b/x.py", "c/x.py"):
        write(name, TWO_RULES)
    assert {n for n, _ in _codes(".", cwd=tmp_path)} == {"b/x.py"}
    assert {n for n, _ in _codes("--extend-exclude", "b", ".", cwd=tmp_path)} == set()
    # --exclude replaces the file's exclude (as ruff); its extend-exclude still applies.
    assert {n for n, _ in _codes("--exclude", "b", ".", cwd=tmp_path)} == {"a/x.py"}


# --- errors: one line, exit 2, nothing on stdout ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('slect = ["DEV001"]\n', "pyproject.toml: [tool.devicelint] unknown key 'slect'"),
        ('select = "DEV001"\n', "pyproject.toml: [tool.devicelint] 'select' must be a list of strings"),
        ("select = [1]\n", "pyproject.toml: [tool.devicelint] 'select' must be a list of strings"),
        ('ignore = ["E501"]\n', "pyproject.toml: [tool.devicelint] 'ignore': 'E501' is not a devicelint code"),
        ('per-file-ignores = ["x"]\n', "pyproject.toml: [tool.devicelint] 'per-file-ignores' must be a table"),
        ('extra-sinks = ["my lib.place"]\n', "pyproject.toml: [tool.devicelint] 'extra-sinks' entry 'my lib.place': invalid sink name"),
        ('extra-sinks = ["mylib.place:dev ice"]\n', "'extra-sinks' entry 'mylib.place:dev ice': invalid sink argument"),
        ('extra-device-types = ["np-u"]\n', "'extra-device-types' entry 'np-u' is not a device type name"),
        ("respect-gitignore = 1\n", "'respect-gitignore' must be true or false"),
        ("select = [\n", "pyproject.toml: invalid TOML:"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(write, tmp_path, body, message) -> None:
    _pyproject(write, body)
    write("bug.py", TWO_RULES)
    for command in (("check",), ("fix", "--check")):
        result = devicelint(*command, "bug.py", cwd=tmp_path)
        assert result.returncode == 2
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("devicelint: error: pyproject.toml: ") and message in line, line
        assert "Traceback" not in result.stderr


def test_tool_devicelint_must_be_a_table(write, tmp_path) -> None:
    write("pyproject.toml", '[tool]\ndevicelint = "yes"\n')
    result = devicelint("check", ".", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "devicelint: error: pyproject.toml: [tool.devicelint] must be a table\n")


def test_malformed_pyproject_above_is_an_error_too(write, tmp_path) -> None:
    write("pyproject.toml", "[tool.devicelint\n")
    write("sub/bug.py", TWO_RULES)
    result = devicelint("check", "bug.py", cwd=tmp_path / "sub")
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("pyproject", "found"),
    [
        # Not parsed, so not judged: it cannot configure devicelint (a broken one is some other tool's business).
        ('[tool.black\nline-length = 1\n', False),
        ('[tool.ruff]\nselect = ["E"]\n', False),
        # The table, spelled in ways the prefilter must still see.
        ('[tool."\\u0064evicelint"]\nselect = ["DEV002"]\n', True),
        ("[tool]\ndevicelint = { select = ['DEV002'] }\n", True),
        ('tool.devicelint.select = ["DEV002"]\n', True),
        ('[ "tool" . devicelint ]\nselect = ["DEV002"]\n', True),
        ("tool = { devicelint = { select = ['DEV002'] } }\n", True),
        ('[project]\nname = "devicelint"\n\n[ \'tool\' ]\n# ours:\n"devicelint".select = ["DEV002"]\n', True),
        ('[tool.devicelint.per-file-ignores]\n"*.py" = ["DEV001"]\n', True),
        # It names devicelint, but only as its own project's pyproject.toml does: not parsed.
        ('[project]\nname = "devicelint"\n[project.scripts]\ndevicelint = "devicelint.cli:main"\n[tool.black\n', False),
    ],
)
def test_a_pyproject_is_read_only_when_it_can_name_devicelint(write, tmp_path, pyproject, found) -> None:
    write("pyproject.toml", pyproject)
    write("bug.py", TWO_RULES)
    result = devicelint("check", "--format", "json", "bug.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    codes = sorted(item["code"] for item in json.loads(result.stdout))
    assert codes == (["DEV002"] if found else ["DEV001", "DEV002"])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--extra-sinks", "mylib.place:1x"), "devicelint: error: --extra-sinks entry 'mylib.place:1x': invalid sink argument"),
        (("--extra-device-types", "a b"), "devicelint: error: --extra-device-types entry 'a b' is not a device type name"),
        (("--config", "nope.toml"), "devicelint: error: --config: nope.toml: no such file"),
        (("--config", "pyproject.toml", "--isolated"), "devicelint: error: --config and --isolated cannot be used together"),
        (("--select", "E501"), "invalid code"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(write, tmp_path, flags, message) -> None:
    write("pyproject.toml", "[tool.devicelint]\n")
    write("bug.py", TWO_RULES)
    result = devicelint("check", *flags, "bug.py", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


# --- extra-sinks and extra-device-types in every entry point --------------------------------------------


def test_cli_honours_extra_sinks_and_device_types_from_the_file(write, tmp_path) -> None:
    write("custom.py", CUSTOM)
    assert _codes("custom.py", cwd=tmp_path) == [("custom.py", "DEV002")]  # torch.device("dcu")
    _pyproject(write, 'extra-sinks = ["mylib.place:device"]\nextra-device-types = ["dcu"]\n')
    assert _codes("custom.py", cwd=tmp_path) == [("custom.py", "DEV001")]


def test_cli_flags_override_the_file_settings(write, tmp_path) -> None:
    write("custom.py", CUSTOM)
    _pyproject(write, 'extra-sinks = ["mylib.place:device"]\nextra-device-types = ["dcu"]\n')
    assert _codes("--extra-sinks", "other.fn", "custom.py", cwd=tmp_path) == []
    assert _codes("--extra-device-types", "xyz", "custom.py", cwd=tmp_path) == [
        ("custom.py", "DEV001"),
        ("custom.py", "DEV002"),
    ]


def _flake8_codes(result) -> list[str]:
    assert result.returncode in (0, 1), result.stderr
    return [line.split(": ", 1)[1].split(" ", 1)[0] for line in result.stdout.splitlines()]


def test_flake8_options_on_the_command_line(write, tmp_path) -> None:
    path = write("custom.py", CUSTOM)
    assert _flake8_codes(flake8("--select", "DEV", path)) == ["DEV002"]
    result = flake8("--select", "DEV", "--extra-sinks=mylib.place:device", "--extra-device-types=dcu", path)
    assert _flake8_codes(result) == ["DEV001"]


def test_flake8_options_in_flake8_config(write, tmp_path) -> None:
    write("custom.py", CUSTOM)
    write(".flake8", "[flake8]\nselect = DEV\nextra-sinks = mylib.place:device\nextra-device-types =\n    dcu,\n    npu\n")
    result = run(sys.executable, "-m", "flake8", "custom.py", cwd=tmp_path)
    assert _flake8_codes(result) == ["DEV001"]


def test_flake8_falls_back_to_pyproject(write, tmp_path) -> None:
    write("custom.py", CUSTOM)
    _pyproject(write, 'extra-sinks = ["mylib.place:device"]\nextra-device-types = ["dcu"]\n')
    result = run(sys.executable, "-m", "flake8", "--select", "DEV", "custom.py", cwd=tmp_path)
    assert _flake8_codes(result) == ["DEV001"]
    # The flake8 option, when given, wins over pyproject for that option only.
    result = run(sys.executable, "-m", "flake8", "--select", "DEV", "--extra-device-types=xyz", "custom.py", cwd=tmp_path)
    assert _flake8_codes(result) == ["DEV001", "DEV002"]
    # Parallel flake8 (forked workers) sees the same settings.
    write("more.py", CUSTOM)
    result = run(sys.executable, "-m", "flake8", "-j", "2", "--select", "DEV", "custom.py", "more.py", cwd=tmp_path)
    assert _flake8_codes(result) == ["DEV001", "DEV001"]


def test_flake8_with_bad_pyproject_is_one_line_exit_2(write, tmp_path) -> None:
    write("custom.py", CUSTOM)
    _pyproject(write, 'extra-sinks = ["not a name"]\n')
    result = run(sys.executable, "-m", "flake8", "--select", "DEV", "custom.py", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("flake8: devicelint: error: pyproject.toml: [tool.devicelint] 'extra-sinks' entry")


def _codemod(path, cwd):
    return run(
        sys.executable, "-m", "libcst.tool", "codemod", "-x",
        "devicelint.codemod.FixInvertedDeviceConditional", "--no-format", path, cwd=cwd,
    )  # fmt: skip


def test_codemod_uses_the_pyproject_nearest_to_each_file(write, tmp_path) -> None:
    configured = write("proj/src/custom.py", CUSTOM)
    unconfigured = write("elsewhere/custom.py", CUSTOM)
    _pyproject(write, 'extra-sinks = ["mylib.place:device"]\n', where="proj/pyproject.toml")
    # Run from a directory with no configuration: the file's own pyproject counts, not the cwd's.
    for path in (configured, unconfigured):
        result = _codemod(path, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert 'device = "cuda" if device == "auto" else device' in configured.read_text()
    assert unconfigured.read_text() == CUSTOM  # mylib.place is no sink there: nothing to fix


def test_codemod_honours_per_file_ignores(write, tmp_path) -> None:
    path = write("proj/tests/test_x.py", TWO_RULES)
    _pyproject(write, '[tool.devicelint.per-file-ignores]\n"tests/*" = ["DEV001"]\n', where="proj/pyproject.toml")
    assert _codemod(path, cwd=tmp_path).returncode == 0
    assert path.read_text() == TWO_RULES
