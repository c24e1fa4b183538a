"""devicelint: find torch device strings that are really placement strategies.

The pipeline, one module per stage:

    discover.py   paths -> files to check (.py, .pyi, .ipynb; excludes, .gitignore)
    source.py     bytes -> text; the byte pre-scan; ast.parse
    vocabulary.py which strings are devices, which are mistakes
    sinks.py      which calls parse a device (torch.device, .to(), device=, ...)
    flow.py       follows string values from literals to sinks
    rules.py      flows -> DEV001 / DEV002 findings (with the DEV001 edits)
    analysis.py   the one engine entry point every front end calls
    rewrite.py    applies fixes to source text; atomic writes
    report.py     findings -> text / json / github / sarif

Around them: config.py and globs.py ([tool.devicelint], file patterns), notebooks.py
(.ipynb cells through the same engine), tasks.py and runner.py (the per-file check and
fix tasks, run in parallel), docs/ (the rules' documentation).

Front ends: cli.py (`devicelint check|fix|rule`), flake8_plugin.py, codemod.py (libcst).
"""

__version__ = "0.1.0"
