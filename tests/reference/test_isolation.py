"""The linter must never import torch: only devicelint.reference may, and only lazily."""

from __future__ import annotations

from ._support import run_python

_REPORT_HEAVY = "print(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))"


def test_reference_package_and_cli_modules_import_without_torch() -> None:
    code = (
        "import sys\n"
        "import devicelint.reference, devicelint.reference.qwen2_audio, devicelint.reference.tiny\n"
        "from devicelint.reference.qwen2_audio import parse_device, check_checkpoint_dir\n"
        "parse_device('cuda:1')\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_reference_package_root_imports_nothing_heavy() -> None:
    result = run_python("-c", "import sys, devicelint.reference\n" + _REPORT_HEAVY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_linter_module_imports_torch() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import devicelint\n"
        "bad = []\n"
        "for info in pkgutil.walk_packages(devicelint.__path__, 'devicelint.'):\n"
        "    if info.name.startswith('devicelint.reference') or info.name == 'devicelint.__main__':\n"
        "        continue\n"
        "    try:\n"
        "        importlib.import_module(info.name)\n"
        "    except ModuleNotFoundError as error:\n"
        "        if error.name.split('.')[0] in ('torch', 'transformers', 'numpy'):\n"
        "            raise\n"
        "        continue  # a front end whose own dependency is absent (codemod without libcst)\n"
        "    if 'torch' in sys.modules:\n"
        "        bad.append(info.name)\n"
        "        break\n"
        "print(sorted(bad))\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"imports torch: {result.stdout.strip()}"
