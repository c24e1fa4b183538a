"""The byte pre-scan: cheap, and never says "nothing here" to a file with a finding."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from speed import examples
from strategies import module

from devicelint.analysis import DEFAULT_SETTINGS, Settings, analyze_text, analyze_tree
from devicelint.source import parse, split_lines

PRESCAN = DEFAULT_SETTINGS.prescan


@pytest.mark.parametrize(
    ("source", "matches"),
    [
        ('device = "auto"', True),
        ("device = 'auto'", True),
        ('x = """auto"""', True),
        ('d = "balanced_low_0"', True),
        ('d = "sequential"', True),
        ('d = "gpu:1"', True),
        ('d = "cuda0"', True),
        ('d = "CUDA"', False),  # wrong case is reported only at a sink...
        ('x.to("CUDA")', True),  # ...including a positional .to()
        ('torch.device("Cuda:0")', True),
        ('d = "auto:0"', True),
        ('t.to(device="cuda:x")', True),  # any non-device string right after a sink
        ('torch.device("")', True),
        ("torch.zeros(2, device='')", True),
        ('torch.load(f, map_location="gpu")', True),
        ('torch.device("cuda:1")', False),
        ('t.to(device="cpu")', False),
        ('x.to("km")', False),  # positional .to() of a non-device string: units, not devices
        ("import autograd  # automatic", False),
        ('s = "automatic"', False),
        ('s = "Sequential"', False),
        ('nn.Sequential(a, b)', False),
        ('key = "auto_map"', False),
        ("# device = 'auto' in a comment", False),
        ('"""\nUse device_map="auto" here.\n"""', False),  # docstring text
        ('backend = device + "auto"', False),  # an operand: the result is not followed
        ('options = {"auto": 1}', False),  # a dict key
        ('x = cfg["gpu"]', False),  # a subscript key
        ('x = ["gpu"]', True),  # a list element may be iterated
        ('for d in ["auto"]: x.to(d)', True),  # a list after a keyword, not a subscript
        ('def f():\n    return ["gpu"]', True),
        ('x = a if c else ["gpu"]', True),
        ('x = f(a)["gpu"]', False),
        ('x = a[0]["gpu"]', False),
        ('x = match["gpu"]', True),  # a soft keyword may start a match statement: parsed
        ('m = AutoModel.from_pretrained(p, device_map="auto")', False),
        ('m = AutoModel.from_pretrained(\n    p,\n    device_map="auto",\n)', False),
        ('p = pipeline("asr", model=m, device_map="auto")', False),
        ('m = AutoModel.from_pretrained(p, f("a(b"), device_map="auto")', False),  # a paren in a string
        ('m = load(p, device_map="auto")', True),  # a project function may move it
        ('def load(p, device_map="auto"): pass', True),  # a parameter's default
        ('def f(p, *, device_map="balanced"): pass', True),
        ('class M:\n    def from_pretrained(self, device_map="auto"): pass', True),
        ('def from_pretrained(p): pass\nm = from_pretrained(p, device_map="auto")', True),  # the project's own
        ('m = [load(p), AutoModel.from_pretrained(p, device_map="auto")]', False),
        ('if device == "auto": pass', True),  # a test refines the subject to "auto"
        ('if "gpu" in name: pass', False),  # the element of a membership test: a bool
        ("ok = 'auto' not in modes", False),
        ('if CUDA and ("gpu" in fullname or "cuda"in fullname): pass', False),
        ('x = a if c else "gpu" in names', False),
        ('if device in ("auto", "balanced"): pass', True),  # the container's strings refine the subject
        ('x = "gpu" if c else "cpu"', True),
        ('x = "gpu" int', True),  # not the keyword
        ('x = ("gpu") in names', True),  # not recognised: parsed, as before
        ('f"x.to(device=\'{device}\')"', False),  # inside an f-string
        ('torch.device("npu:0")', False),  # an out-of-tree backend counts as a device
    ],
)
def test_prescan_pairs(source: str, matches: bool) -> None:
    """Whether the file would be parsed: the byte scan, then the candidates' surroundings."""
    assert bool(PRESCAN.candidates(source)) is matches
    if matches:
        assert PRESCAN.matches_text(source) and PRESCAN.matches_bytes(source.encode())


@pytest.mark.parametrize(
    "source",
    [
        'def f(name, model):\n    if "gpu" in name:\n        model.to(name)\n',
        'def f(name, model):\n    if "auto" not in name:\n        return\n    model.to(name)\n',
        'def f(names, model):\n    found = "balanced" in names\n    model.to(found)\n',
    ],
)
def test_a_membership_element_starts_no_value(source: str) -> None:
    """What the pre-scan drops as inert, the whole-module analysis ignores too."""
    assert not PRESCAN.candidates(source)
    assert analyze_tree(parse(source), split_lines(source), DEFAULT_SETTINGS) == []


def test_extra_device_types_and_sinks_extend_the_scan() -> None:
    custom = Settings.create(extra_device_types=["musa2"], extra_sinks=["mylib.place:where"])
    assert PRESCAN.matches_text('torch.device("musa2:0")')
    assert not custom.prescan.matches_text('torch.device("musa2:0")')
    assert not PRESCAN.matches_text('place(x, where="cuda:x")')
    assert custom.prescan.matches_text('place(x, where="cuda:x")')


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module())
def test_prescan_is_sound_and_its_candidate_filter_loses_nothing(source: str) -> None:
    """If the analysis of the whole module finds something, the byte scan and the candidate
    filter (which lets a file skip the parse) both keep the file."""
    tree, lines = parse(source), split_lines(source)
    whole = analyze_tree(tree, lines, DEFAULT_SETTINGS)
    if whole:
        assert PRESCAN.matches_text(source)
    filtered = analyze_text(source, honour_noqa=False)
    assert [(f.line, f.column, f.code, f.message) for f in filtered] == [
        (f.line, f.column, f.code, f.message) for f in whole
    ]
