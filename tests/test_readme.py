"""README's commands: the two it opens with, and which install lines work from a checkout.

The opening commands run for real in fresh venvs in .ci/run and in test_fresh_venvs.py
(slow); here, what they must say, and that nothing README shows as working today needs a
release that does not exist yet (``pip install devicelint`` from PyPI, a ``v0.1.0`` tag).
"""

from __future__ import annotations

import importlib.util
import re

from helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
# Lines that need a published release: devicelint from PyPI, or a release tag as pre-commit rev.
NEEDS_RELEASE = re.compile(r"pip install ['\"]?devicelint(?:\[[a-z0-9,]+\])?['\"]?(?!\s*@)|rev: v\d")


def _opening_commands() -> list[str]:
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.opening_commands(README)


def test_readme_opens_with_the_two_commands() -> None:
    assert README.startswith("# devicelint\n\n```sh\n")
    lint, tests = _opening_commands()
    assert lint == "pip install . && devicelint check ."
    # torch first, pinned to CI's version, from the CPU-only index; then the test extra; then the quick run.
    install_torch, install_tests, run_tests = tests.split(" && ")
    assert install_torch == "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    assert install_tests == "pip install -e '.[test]'"
    assert run_tests == "pytest"


def test_ci_runs_the_readme_commands_and_the_full_suite() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'bash -c "$(python .ci/readme_commands.py 1)"' in ci
    assert 'bash -c "$(python .ci/readme_commands.py 2)"' in ci
    assert "pytest --slow" in ci
    assert "tests/gpu/run.sh" in ci
    assert "-eq 5" in ci  # pytest's "no tests collected" is a failure


def _paragraph_before(text: str, index: int) -> str:
    """The prose right before position ``index`` (back to the previous blank line or fence)."""
    before = text[:index].rstrip("\n")
    stops = [before.rfind("\n\n"), before.rfind("```")]
    return before[max(stops) + 1 :]


def test_commands_that_need_a_release_are_marked_as_such() -> None:
    """``pip install devicelint`` and ``rev: v0.1.0`` do not work yet: every occurrence sits
    in a line or paragraph that says "once released"; the rest install from a checkout."""
    unmarked = []
    for match in NEEDS_RELEASE.finditer(README):
        line_start = README.rfind("\n", 0, match.start()) + 1
        line = README[line_start : README.find("\n", match.end())]
        # The line itself, a comment line just above it, or the paragraph before its code block.
        context = line + README[README.rfind("\n", 0, line_start - 1) + 1 : line_start]
        fence = README.rfind("```", 0, match.start())
        in_block = README.count("```", 0, match.start()) % 2 == 1
        if in_block:
            context += _paragraph_before(README, README.rfind("\n", 0, fence) + 1)
        else:
            context += _paragraph_before(README, line_start)
        if "once released" not in context.lower():
            unmarked.append(line.strip())
    assert not unmarked, f"README shows release-only commands as if they worked today: {unmarked}"
    assert NEEDS_RELEASE.search(README), "the rule found nothing at all: is the pattern still right?"


def test_checkout_installs_are_shown_next_to_each_release_install() -> None:
    for extra in ("flake8", "reference"):
        assert f"pip install '.[{extra}]'" in README
        assert f"pip install 'devicelint[{extra}]'" in README
    assert "repo: /path/to/devicelint" in README and "rev: COMMIT" in README


def test_flake8_usage_names_the_extra_that_installs_flake8() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("flake8") for req in extras["flake8"])
    usage = README[README.index("flake8 --select DEV src/") :]
    assert "pip install '.[flake8]'" in usage[:600]
