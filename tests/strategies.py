"""Hypothesis strategies: small programs built from the shapes devicelint cares about.

Generic program generators (hypothesmith) almost never produce a device string
reaching a sink; these do, in many combinations of quotes, subjects, conditionals,
branches, loops, sinks and non-sinks, so the properties are exercised where it matters.
"""

from __future__ import annotations

from hypothesis import strategies as st

CONCRETE = ["cuda", "cuda:0", "cpu", "mps", "xpu:1"]
INVALID = ["auto", "balanced", "balanced_low_0", "sequential", "gpu", "cuda0", "CUDA", "auto:1", "foo", ""]
SUBJECTS = ["device", "self.device", "cfg.device", 'cfg["device"]']


def _literal(values: list[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda v, q: f"{q}{v}{q}", st.sampled_from(values), st.sampled_from(['"', "'"]))


literal = _literal(CONCRETE + INVALID)
concrete = _literal(CONCRETE)
invalid = _literal(INVALID)
subject = st.sampled_from(SUBJECTS)


@st.composite
def statement(draw: st.DrawFn, depth: int = 0) -> list[str]:
    s = draw(subject)
    c, p, lit = draw(concrete), draw(invalid), draw(literal)
    choices = [
        f"{s} = {lit}",
        f"{s} = {p} if {s} == {c} else {s}",
        f"{s} = ({p}  # comment\n    if {c} == {s}\n    else {s})",
        f"{s} = {s} if {s} != {c} else {p}",
        f"if {s} == {c}:\n    {s} = {p}",
        f"x = x.to({s})",
        f"x = x.to(device={s})",
        f"x = torch.zeros(2, device={s})",
        f"x = torch.device({lit})",
        f"x = x.to({lit})",
        f"model = AutoModel.from_pretrained(path, device_map={s})",
        f"{s} = helper({s})",
        f"self.helper({s})",
        f"print({s}, {lit})",
        f"torch.cuda.set_device({s})",
        f"x = pipeline('asr', device={s})",
        f"if {lit} in {s}:\n    {s} = {p}",  # a membership element: no value, no refinement
        f"{s} = {p} if {lit} not in names else {s}",
        f"if {s} in [{lit}, {c}]:\n    x = x.to({s})",  # a list after a keyword: it refines
        f"for {s} in [{lit}]:\n    x = x.to({s})",
    ]
    first = draw(st.sampled_from(choices)).split("\n")
    if depth < 2:
        nested = st.lists(statement(depth + 1), min_size=1, max_size=3).map(lambda blocks: [l for b in blocks for l in b])
        kind = draw(st.sampled_from(["plain", "plain", "if", "for", "try", "while"]))
        if kind == "if":
            body, orelse = draw(nested), draw(nested)
            return [f"if {s} == {lit}:", *("    " + l for l in body), "else:", *("    " + l for l in orelse)]
        if kind == "for":
            return [f"for {s.split('.')[0].split('[')[0]}_item in ({lit}, {c}):", *("    " + l for l in draw(nested))]
        if kind == "try":
            return ["try:", *("    " + l for l in draw(nested)), "except Exception:", "    return None"]
        if kind == "while":
            return [f"while {s} != {lit}:", *("    " + l for l in draw(nested)), "    break"]
    return first


@st.composite
def function(draw: st.DrawFn, name: str, method: bool) -> list[str]:
    default = draw(st.sampled_from(["", "", f"={draw(literal)}"]))
    params = ("self, " if method else "") + f"x, path, cfg, device{default}"
    body = [l for block in draw(st.lists(statement(), min_size=1, max_size=6)) for l in block]
    if draw(st.booleans()):
        body.append(f"return x.to({draw(subject)})")
    return [f"def {name}({params}):", *("    " + l for l in body)]


@st.composite
def module(draw: st.DrawFn) -> str:
    lines = ["import torch", "from transformers import AutoModel, pipeline", ""]
    if draw(st.booleans()):
        lines += [f"DEVICE = {draw(literal)}", ""]
    for index in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            lines.append(f"class Loader{index}:")
            for m in range(draw(st.integers(1, 3))):
                lines += ["    " + l for l in draw(function(f"method{m}", method=True))]
                lines.append("")
        else:
            lines += draw(function(f"func{index}", method=False))
        lines.append("")
    if draw(st.booleans()):
        lines.append(f"x = torch.ones(1).to({draw(st.sampled_from(['DEVICE', 'device']))})")
    return "\n".join(lines) + "\n"
