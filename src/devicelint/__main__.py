import os
import sys

# `python -m devicelint` puts the current directory first on sys.path: in the repository
# being checked, its own top-level modules (a difflib.py) would then shadow the standard
# library modules devicelint imports, and run. Drop it, as `python -P` does (the
# devicelint package itself is already imported, and its submodules come from its folder).
if not getattr(sys.flags, "safe_path", False) and sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd():
    del sys.path[0]

from devicelint.cli import entry  # noqa: E402

entry()
