"""What the analysis reports: findings, their fixes, and the rules' metadata."""

from __future__ import annotations

from collections.abc import Iterable

from devicelint.dataclass import dataclass, field


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    fixable: bool


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("DEV001", "inverted-device-conditional", "inverted device conditional reaches a torch device API", True),
        Rule("DEV002", "invalid-device-string", "invalid device string reaches a torch device API", True),
        Rule("DEV900", "syntax-error", "file could not be parsed", False),
    )
}


# A fix's applicability (ruff's): a safe fix changes nothing but the crash it fixes and is
# applied by `devicelint fix`; an unsafe one also changes something the user may rely on
# (what device_map= receives, behaviour on a CPU-only machine) and needs --unsafe-fixes.
SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (1-based lines, 0-based character columns)."""

    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str


@dataclass(frozen=True)
class Location:
    line: int
    column: int
    end_line: int
    end_column: int
    label: str = ""
    path: str | None = None  # another file of the project; None: the finding's own file


@dataclass(frozen=True)
class Finding:
    """One problem. Positions are 1-based lines and 0-based character columns."""

    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    edits: tuple[Edit, ...] = ()
    fix_note: str | None = None  # when applying the fix changes behaviour beyond the crash
    applicability: str = SAFE  # of the fix (edits): SAFE or UNSAFE, as ruff's
    related: tuple[Location, ...] = field(default=(), compare=False)
    steps: tuple[Location, ...] = field(default=(), compare=False)  # origin, hops, sink (SARIF codeFlows)

    @property
    def fixable(self) -> bool:
        return bool(self.edits)

    @property
    def safe_fix(self) -> bool:
        return bool(self.edits) and self.applicability == SAFE

    @property
    def unsafe_fix(self) -> bool:
        return bool(self.edits) and self.applicability == UNSAFE

    def applies(self, unsafe_fixes: bool) -> bool:
        """Whether ``devicelint fix`` (with or without --unsafe-fixes) applies this finding's fix."""
        return self.safe_fix or (unsafe_fixes and self.unsafe_fix)

    @property
    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.column, self.code)


@dataclass(frozen=True)
class CodeFilter:
    """``--select`` / ``--ignore``: codes or prefixes (``DEV``, ``DEV00``, ``DEV001``)."""

    select: tuple[str, ...] = ("DEV",)
    ignore: tuple[str, ...] = ()

    def allows(self, code: str) -> bool:
        selected = [s for s in self.select if code.startswith(s)]
        ignored = [i for i in self.ignore if code.startswith(i)]
        if not selected:
            return False
        # The more specific entry wins, as in ruff: --select DEV001 --ignore DEV beats the ignore.
        return not ignored or max(map(len, selected)) > max(map(len, ignored))

    def selected(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings these codes let through: rule selection, applied here for every front end."""
        return [f for f in findings if self.allows(f.code)]
