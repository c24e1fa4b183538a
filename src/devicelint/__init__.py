"""devicelint: find torch device strings that are really placement strategies.

The pipeline, one module per stage:

    discover.py   paths -> Python files to check
    source.py     bytes -> text; the byte pre-scan; ast.parse
    vocabulary.py which strings are devices, which are mistakes
    sinks.py      which calls parse a device (torch.device, .to(), device=, ...)
    flow.py       follows string values from literals to sinks
    rules.py      flows -> DEV001 / DEV002 findings (with the DEV001 fix)
    analysis.py   the one engine entry point every front end calls
    rewrite.py    applies fixes to source text
    report.py     findings -> text / json / github / sarif

Front ends: cli.py (`devicelint check|fix|rule`), flake8_plugin.py, codemod.py (libcst).
"""

__version__ = "0.1.0"
