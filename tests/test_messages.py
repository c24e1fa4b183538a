"""Messages, positions and fix notes: (source, expected) pairs, one finding each."""

from __future__ import annotations

import pytest

from devicelint.analysis import analyze_text

HEADER = "import torch\nfrom transformers import AutoModel, pipeline\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'def f(x, d):\n    d = "auto" if d == "cuda" else d\n    return x.to(d)\n',
            (4, 8, "DEV001", 'inverted device conditional turns "cuda" into "auto", which reaches .to() on line 5; '
             'use "cuda" if d == "auto" else d'),
        ),
        (
            "def f(x, d):\n    d = d if 'cuda:0' != d else 'balanced'\n    return torch.zeros(1, device=d)\n",
            (4, 8, "DEV001", 'inverted device conditional turns "cuda:0" into "balanced", which reaches '
             "torch.zeros(device=) on line 5; use d if 'balanced' != d else 'cuda:0'"),
        ),
        (
            'def f(x, d):\n    if d == "cuda":\n        d = "auto"\n    return x.cuda(d)\n',
            (4, 4, "DEV001", 'inverted device conditional turns "cuda" into "auto", which reaches .cuda() on line 6; '
             'use if d == "auto": d = "cuda"'),
        ),
        (
            # The strategy also reaches device_map= in the same function: the fix moves the conditional there.
            'def f(p, x, d):\n    d = "auto" if d == "cuda" else d\n    m = AutoModel.from_pretrained(p, device_map=d)\n'
            "    return m(x.to(d))\n",
            (4, 8, "DEV001", 'inverted device conditional turns "cuda" into "auto", which reaches .to() on line 6; '
             '"auto" is meant for device_map= on line 5 only: write the conditional there'),
        ),
        (
            # ... in a helper other callers share: the swap, which also changes device_map= (unsafe).
            'def g(p, d):\n    return AutoModel.from_pretrained(p, device_map=d)\n'
            'def f(p, x, d):\n    d = "auto" if d == "cuda" else d\n    m = g(p, d)\n'
            "    return m(x.to(d))\n",
            (6, 8, "DEV001", 'inverted device conditional turns "cuda" into "auto", which reaches .to() on line 8; '
             'use "cuda" if d == "auto" else d; note: the fix also changes device_map= on line 4: it then receives '
             '"cuda" (one device) instead of "auto" (a placement over all GPUs)'),
        ),
        (
            # "gpu" is no placement strategy: no note about device_map.
            'def f(p, x, d):\n    d = "gpu" if d == "cuda" else d\n    m = AutoModel.from_pretrained(p, device_map=d)\n'
            "    return m(x.to(d))\n",
            (4, 8, "DEV001", 'inverted device conditional turns "cuda" into "gpu", which reaches .to() on line 6; '
             'use "cuda" if d == "gpu" else d'),
        ),
        (
            'def f(x, device="auto"):\n    return x.to(device)\n',
            (4, 16, "DEV002", 'invalid device string "auto" reaches .to(); it comes from the default of parameter '
             '`device` on line 3; "auto" is a device_map strategy, not a device'),
        ),
        (
            # a keyword argument: the path names the function called, not the keyword
            'def load(x, device="cuda"):\n    return x.to(device)\ndef serve(x):\n    return load(x, device="auto")\n',
            (4, 16, "DEV002", 'invalid device string "auto" reaches .to(); it comes from line 6 (in serve) via the '
             'argument `device` of load(); "auto" is a device_map strategy, not a device'),
        ),
        (
            'torch.device("cuda:x")\n',
            (3, 13, "DEV002", 'invalid device string "cuda:x" passed to torch.device()'),
        ),
        (
            'def f(x, d):\n    if d == "sequential":\n        return x.to(d)\n',
            (5, 20, "DEV002", 'invalid device string "sequential" reaches .to(); it comes from the comparison on '
             'line 4; "sequential" is a device_map strategy, not a device'),
        ),
        (
            'import os\ndef f(x):\n    return x.to(os.getenv("DEVICE", "gpu"))\n',
            (5, 16, "DEV002", 'invalid device string "gpu" reaches .to(); it comes from the environment-variable '
             "default on line 5"),
        ),
        (
            'def f(x):\n    d = "gpu"\n    if x:\n        d = "cuda0"\n    return pipeline("asr", device=d)\n',
            (7, 34, "DEV002", 'invalid device string "gpu" reaches transformers.pipeline(device=); it comes from '
             "line 4 (and 1 more)"),
        ),
    ],
)
def test_message_and_position(body: str, expected: tuple[int, int, str, str]) -> None:
    findings = analyze_text(HEADER + body)
    assert [(f.line, f.column, f.code, f.message) for f in findings] == [expected]


def test_columns_count_characters_not_bytes() -> None:
    source = HEADER + 'def f(x, d):\n    é = 1; d = "auto" if d == "cuda" else d\n    return x.to(d)\n'
    (finding,) = analyze_text(source)
    line = source.splitlines()[3]
    assert finding.column == line.index('"auto"') == 15
    assert [(e.line, e.column, e.replacement) for e in finding.edits] == [
        (4, line.index('"auto"'), '"cuda"'),
        (4, line.index('"cuda"'), '"auto"'),
    ]


def test_multi_line_conditional_spans_its_lines() -> None:
    source = HEADER + 'def f(x, d):\n    d = (\n        "auto"  # shard\n        if d == "cuda"\n        else d\n    )\n    return x.to(d)\n'
    (finding,) = analyze_text(source)
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (5, 8, 7, 14)
    assert finding.message.endswith('use "cuda" if d == "auto" else d')
