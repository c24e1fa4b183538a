#!/usr/bin/env bash
# The GPU tests, from a plain checkout, on a machine that has only torch, transformers,
# accelerate, pytest and hypothesis installed (no libcst, flake8 or pathspec, no network).
#
#   tests/gpu/run.sh                 # pytest -m gpu over tests/reference
#   tests/gpu/run.sh -m "not gpu"    # the other reference tests, same environment
#   PYTHON=/path/to/python tests/gpu/run.sh
#
# Nothing is installed: devicelint is imported from src/ (PYTHONPATH), and what the GPU
# tests run of it (the reference loader, `python -m devicelint check/fix` on one file)
# needs only the standard library besides torch and transformers. Everything runs offline.
# Exit status: pytest's, except that "no test collected" (5) is a failure here (1).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
python="${PYTHON:-$(command -v python || command -v python3)}"  # a bare machine may have only python3
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
"$python" - <<'PY' || exit 1
import importlib.util, sys
absent = [m for m in ("torch", "transformers", "pytest", "numpy") if importlib.util.find_spec(m) is None]
if absent:
    sys.exit(f"tests/gpu/run.sh: {sys.executable} lacks {', '.join(absent)}")
import torch
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, cuda available: {torch.cuda.is_available()}, "
      f"devices: {torch.cuda.device_count()}")
PY
"$python" -m pytest -p no:cacheprovider tests/reference -m gpu -rs "$@"
status=$?
if [ "$status" -eq 5 ]; then
    echo "tests/gpu/run.sh: no test was collected (pytest exit 5): the gpu marker or tests/reference is missing" >&2
    exit 1
fi
exit "$status"
