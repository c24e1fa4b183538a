"""DEV001 fixes as (source, expected) pairs, byte for byte, pyupgrade style.

Every pair is checked twice: through the engine (``analyze_text`` + ``fix_text``, the code
every front end shares) and through ``devicelint fix`` on a file (``devicelint.cli.main`` in
process; a few pairs also through the real ``python -m devicelint`` in a subprocess). The expected texts
are written out by hand from the spec: the fix swaps the concrete literal C and the
invalid literal P of the conditional, each keeping its own quotes, and nothing else.
"""

from __future__ import annotations

import re

import pytest
from helpers import devicelint, devicelint_process

from devicelint.analysis import analyze_text
from devicelint.rewrite import fix_source, fix_text


def to_sink(*lines: str) -> str:
    """A function whose ``device`` goes through ``lines`` and then to ``.to()``."""
    body = "".join(f"    {line}\n" for line in lines)
    return f"import torch\n\n\ndef load(batch, device):\n{body}    return batch.to(device)\n"


def fixed(source: str, expected: str, case: str):
    return pytest.param(source, expected, id=case)


QWEN2_AUDIO = '''\
import torch
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration


def _pick_device(device):
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


class Qwen2AudioLoader:
    def __init__(self, model_path, device="auto"):
        self.model_path = model_path
        device = _pick_device(device)
        device = "auto" if device == "cuda" else device
        self._device = device
        self.load()

    def load(self):
        self.processor = AutoProcessor.from_pretrained(self.model_path)
        self.model = Qwen2AudioForConditionalGeneration.from_pretrained(
            self.model_path, device_map=self._device
        )

    def chat(self, audio, prompt):
        inputs = self.processor(text=prompt, audio=audio, return_tensors="pt")
        inputs = inputs.to(self._device)
        return self.model.generate(**inputs)
'''

QWEN2_AUDIO_FIXED = QWEN2_AUDIO.replace('        device = "auto" if device == "cuda" else device\n', "").replace(
    "self.model_path, device_map=self._device\n",
    'self.model_path, device_map="auto" if self._device == "cuda" else self._device\n',
)

SEVERAL = '''\
import torch


def first(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)


def second(device):
    if device == "mps":
        device = "balanced"
    return torch.zeros(2, device=device)


def third(batch, device):
    return batch.to("sequential" if "cuda:1" == device else device), batch.to(device if device != 'cpu' else 'gpu')
'''

SEVERAL_FIXED = '''\
import torch


def first(batch, device):
    device = "cuda" if device == "auto" else device
    return batch.to(device)


def second(device):
    if device == "balanced":
        device = "mps"
    return torch.zeros(2, device=device)


def third(batch, device):
    return batch.to("cuda:1" if "sequential" == device else device), batch.to(device if device != 'gpu' else 'cpu')
'''

MULTILINE = '''\
import torch


def load(batch, device):
    device = (
        "auto"  # one GPU? then all of them
        if device == "cuda"  # the common case
        else device
    )
    return batch.to(device)
'''

MULTILINE_FIXED = '''\
import torch


def load(batch, device):
    device = (
        "cuda"  # one GPU? then all of them
        if device == "auto"  # the common case
        else device
    )
    return batch.to(device)
'''

MULTILINE_NE = '''\
import torch


def load(batch, device):
    device = (
        device
        # keep every other device as it is
        if (
            device
            != 'cuda'
        )
        # a single GPU becomes "all GPUs"
        else "auto"
    )
    return batch.to(device)
'''

MULTILINE_NE_FIXED = '''\
import torch


def load(batch, device):
    device = (
        device
        # keep every other device as it is
        if (
            device
            != 'auto'
        )
        # a single GPU becomes "all GPUs"
        else "cuda"
    )
    return batch.to(device)
'''

STATEMENT_WITH_COMMENTS = '''\
import torch


def load(model, device):
    if device == "cuda":  # a single GPU
        # spread the model instead
        device = "auto"  # see the README
    return model.cuda(device)
'''

STATEMENT_WITH_COMMENTS_FIXED = '''\
import torch


def load(model, device):
    if device == "auto":  # a single GPU
        # spread the model instead
        device = "cuda"  # see the README
    return model.cuda(device)
'''

SELF_DEVICE = '''\
import torch


class Buffer:
    def __init__(self, device="cuda"):
        self.device = device
        self.device = "auto" if self.device == "cuda" else self.device

    def make(self):
        return torch.empty(16, device=self.device)
'''

SELF_DEVICE_FIXED = '''\
import torch


class Buffer:
    def __init__(self, device="cuda"):
        self.device = device
        self.device = "cuda" if self.device == "auto" else self.device

    def make(self):
        return torch.empty(16, device=self.device)
'''

SELF_STATEMENT = '''\
from transformers import pipeline


class Transcriber:
    def __init__(self, model_id, device="cuda"):
        self.model_id = model_id
        self.device = device
        if self.device == "cuda":
            self.device = "auto"

    def build(self):
        return pipeline("automatic-speech-recognition", model=self.model_id, device=self.device)
'''

SELF_STATEMENT_FIXED = '''\
from transformers import pipeline


class Transcriber:
    def __init__(self, model_id, device="cuda"):
        self.model_id = model_id
        self.device = device
        if self.device == "auto":
            self.device = "cuda"

    def build(self):
        return pipeline("automatic-speech-recognition", model=self.model_id, device=self.device)
'''

CFG_DEVICE = '''\
import torch


def build(cfg):
    cfg.device = cfg.device if "xpu:1" != cfg.device else "auto"
    return torch.device(cfg.device)
'''

CFG_DEVICE_FIXED = '''\
import torch


def build(cfg):
    cfg.device = cfg.device if "auto" != cfg.device else "xpu:1"
    return torch.device(cfg.device)
'''

CFG_SUBSCRIPT = '''\
import torch


def build(cfg):
    cfg["device"] = "auto" if cfg["device"] == "cuda" else cfg["device"]
    return torch.zeros(8, device=cfg["device"])
'''

CFG_SUBSCRIPT_FIXED = '''\
import torch


def build(cfg):
    cfg["device"] = "cuda" if cfg["device"] == "auto" else cfg["device"]
    return torch.zeros(8, device=cfg["device"])
'''

CFG_SUBSCRIPT_SINGLE = '''\
import torch


def build(batch, cfg):
    if cfg['device'] == 'cuda:0':
        cfg['device'] = 'balanced_low_0'
    return batch.to(cfg['device'])
'''

CFG_SUBSCRIPT_SINGLE_FIXED = '''\
import torch


def build(batch, cfg):
    if cfg['device'] == 'balanced_low_0':
        cfg['device'] = 'cuda:0'
    return batch.to(cfg['device'])
'''

ALSO_DEVICE_MAP = '''\
import torch
from transformers import AutoModel


def load(path, batch, device):
    device = "auto" if device == "cuda" else device
    model = AutoModel.from_pretrained(path, device_map=device)
    return model, batch.to(device)
'''

# The strategy also reaches device_map=: the sharding-preserving fix (the conditional moves there).
ALSO_DEVICE_MAP_FIXED = '''\
import torch
from transformers import AutoModel


def load(path, batch, device):
    model = AutoModel.from_pretrained(path, device_map="auto" if device == "cuda" else device)
    return model, batch.to(device)
'''

# Found while writing these tests: the pre-scan counts the folded `'"'` as the start of a
# triple-quoted string, so it believed everything after it was docstring text and the
# finding below it was never analysed (neither reported nor fixed).
AFTER_QUOTE_CHAR = '''\
import torch

QUOTE = '"'


def load(batch, device):
    device = "auto" if device == "cuda" else device
    return batch.to(device)
'''

AFTER_QUOTE_CHAR_FIXED = '''\
import torch

QUOTE = '"'


def load(batch, device):
    device = "cuda" if device == "auto" else device
    return batch.to(device)
'''

MUST_CHANGE = [
    # The four expression shapes of the spec.
    fixed(
        to_sink('device = "auto" if device == "cuda" else device'),
        to_sink('device = "cuda" if device == "auto" else device'),
        "p-if-s-eq-c-else-s",
    ),
    fixed(
        to_sink('device = "auto" if "cuda" == device else device'),
        to_sink('device = "cuda" if "auto" == device else device'),
        "p-if-c-eq-s-else-s-yoda",
    ),
    fixed(
        to_sink('device = device if device != "cuda" else "auto"'),
        to_sink('device = device if device != "auto" else "cuda"'),
        "s-if-s-ne-c-else-p",
    ),
    fixed(
        to_sink('device = device if "cuda" != device else "auto"'),
        to_sink('device = device if "auto" != device else "cuda"'),
        "s-if-c-ne-s-else-p-yoda",
    ),
    # The statement form.
    fixed(
        to_sink('if device == "cuda":', '    device = "auto"'),
        to_sink('if device == "auto":', '    device = "cuda"'),
        "statement",
    ),
    fixed(
        to_sink('if "cuda" == device:', '    device = "auto"'),
        to_sink('if "auto" == device:', '    device = "cuda"'),
        "statement-yoda",
    ),
    fixed(
        to_sink('if device == "cuda": device = "auto"'),
        to_sink('if device == "auto": device = "cuda"'),
        "statement-one-line",
    ),
    fixed(
        to_sink("if (device == 'cuda'):", "    device = ('auto')"),
        to_sink("if (device == 'auto'):", "    device = ('cuda')"),
        "statement-parenthesised",
    ),
    fixed(STATEMENT_WITH_COMMENTS, STATEMENT_WITH_COMMENTS_FIXED, "statement-with-comments"),
    # Layout: parentheses, comments and line breaks stay where they are.
    fixed(MULTILINE, MULTILINE_FIXED, "multiline-parenthesised-comments"),
    fixed(MULTILINE_NE, MULTILINE_NE_FIXED, "multiline-ne-comments-between-parts"),
    fixed(
        to_sink('device = ("auto") if (device == ("cuda")) else (device)'),
        to_sink('device = ("cuda") if (device == ("auto")) else (device)'),
        "parenthesised-parts",
    ),
    fixed(
        to_sink('device = "auto" \\', '    if device == "cuda" \\', "    else device"),
        to_sink('device = "cuda" \\', '    if device == "auto" \\', "    else device"),
        "backslash-continuation",
    ),
    fixed(
        to_sink('device  =  "auto"   if   device=="cuda"   else   device'),
        to_sink('device  =  "cuda"   if   device=="auto"   else   device'),
        "odd-spacing",
    ),
    # Quotes: each literal keeps its own quote style (and prefix).
    fixed(
        to_sink("device = 'auto' if device == 'cuda' else device"),
        to_sink("device = 'cuda' if device == 'auto' else device"),
        "single-quotes",
    ),
    fixed(
        to_sink("device = 'auto' if device == \"cuda\" else device"),
        to_sink("device = 'cuda' if device == \"auto\" else device"),
        "mixed-quotes-p-single",
    ),
    fixed(
        to_sink("device = device if device != 'cuda' else \"auto\""),
        to_sink("device = device if device != 'auto' else \"cuda\""),
        "mixed-quotes-c-single",
    ),
    fixed(
        to_sink('device = u"auto" if device == r"cuda" else device'),
        to_sink('device = u"cuda" if device == r"auto" else device'),
        "string-prefixes",
    ),
    # Concrete devices C.
    fixed(
        to_sink('device = "auto" if device == "cuda:0" else device'),
        to_sink('device = "cuda:0" if device == "auto" else device'),
        "c-cuda-0",
    ),
    fixed(
        to_sink('device = "auto" if device == "mps" else device'),
        to_sink('device = "mps" if device == "auto" else device'),
        "c-mps",
    ),
    fixed(
        to_sink('device = device if device != "xpu:1" else "auto"'),
        to_sink('device = device if device != "auto" else "xpu:1"'),
        "c-xpu-1",
    ),
    # Invalid literals P: the other strategies and the common slips.
    fixed(
        to_sink('device = "balanced" if device == "cuda" else device'),
        to_sink('device = "cuda" if device == "balanced" else device'),
        "p-balanced",
    ),
    fixed(
        to_sink('device = "sequential" if device == "cpu" else device'),
        to_sink('device = "cpu" if device == "sequential" else device'),
        "p-sequential",
    ),
    fixed(
        to_sink('device = "balanced_low_0" if device == "cuda:1" else device'),
        to_sink('device = "cuda:1" if device == "balanced_low_0" else device'),
        "p-balanced-low-0",
    ),
    fixed(
        to_sink('device = "gpu" if device == "cuda" else device'),
        to_sink('device = "cuda" if device == "gpu" else device'),
        "p-gpu",
    ),
    fixed(
        to_sink('device = "cuda0" if device == "cuda" else device'),
        to_sink('device = "cuda" if device == "cuda0" else device'),
        "p-cuda0",
    ),
    # Subjects: attributes and subscripts.
    fixed(SELF_DEVICE, SELF_DEVICE_FIXED, "subject-self-device"),
    fixed(SELF_STATEMENT, SELF_STATEMENT_FIXED, "subject-self-device-statement"),
    fixed(CFG_DEVICE, CFG_DEVICE_FIXED, "subject-cfg-device-yoda-ne"),
    fixed(CFG_SUBSCRIPT, CFG_SUBSCRIPT_FIXED, "subject-cfg-subscript"),
    fixed(CFG_SUBSCRIPT_SINGLE, CFG_SUBSCRIPT_SINGLE_FIXED, "subject-cfg-subscript-single-quotes-statement"),
    # Where the conditional sits.
    fixed(
        'import torch\n\n\ndef load(batch, device):\n    return batch.to("auto" if device == "cuda" else device)\n',
        'import torch\n\n\ndef load(batch, device):\n    return batch.to("cuda" if device == "auto" else device)\n',
        "inline-in-sink",
    ),
    fixed(
        to_sink('placement = "auto" if device == "cuda" else device', "device = placement"),
        to_sink('placement = "cuda" if device == "auto" else device', "device = placement"),
        "target-differs-from-subject",
    ),
    fixed(ALSO_DEVICE_MAP, ALSO_DEVICE_MAP_FIXED, "also-reaches-device-map"),
    fixed(SEVERAL, SEVERAL_FIXED, "several-findings-one-file"),
    fixed(QWEN2_AUDIO, QWEN2_AUDIO_FIXED, "qwen2-audio-loader"),
    # A noqa for another code, or on a line that is not the reported one, suppresses nothing.
    fixed(
        to_sink('device = "auto" if device == "cuda" else device  # noqa: DEV002'),
        to_sink('device = "cuda" if device == "auto" else device  # noqa: DEV002'),
        "noqa-other-code",
    ),
    fixed(
        to_sink('if device == "cuda":', '    device = "auto"  # noqa'),
        to_sink('if device == "auto":', '    device = "cuda"  # noqa'),
        "noqa-on-statement-body-not-the-reported-line",
    ),
    # The rest of the line and of the file is left alone, whatever it holds.
    fixed(
        to_sink('device = "auto" if device == "cuda" else device; label = "réseau → GPU"  # ünïcode'),
        to_sink('device = "cuda" if device == "auto" else device; label = "réseau → GPU"  # ünïcode'),
        "non-ascii-on-the-same-line",
    ),
    fixed(
        "import torch\n\n\ndef load(batch, device):\n\tdevice = \"auto\" if device == \"cuda\" else device\n\treturn batch.to(device)\n",
        "import torch\n\n\ndef load(batch, device):\n\tdevice = \"cuda\" if device == \"auto\" else device\n\treturn batch.to(device)\n",
        "tabs",
    ),
    fixed(
        "import torch\r\n\r\n\r\ndef load(batch, device):\r\n    device = \"auto\" if device == \"cuda\" else device\r\n    return batch.to(device)\r\n",
        "import torch\r\n\r\n\r\ndef load(batch, device):\r\n    device = \"cuda\" if device == \"auto\" else device\r\n    return batch.to(device)\r\n",
        "crlf",
    ),
    fixed(
        "import torch\n\x0c\n\ndef load(batch, device):  \n    device = \"auto\" if device == \"cuda\" else device   \n    return batch.to(device)",
        "import torch\n\x0c\n\ndef load(batch, device):  \n    device = \"cuda\" if device == \"auto\" else device   \n    return batch.to(device)",
        "form-feed-trailing-spaces-no-final-newline",
    ),
    fixed(AFTER_QUOTE_CHAR, AFTER_QUOTE_CHAR_FIXED, "after-a-quote-character-literal"),
]

MUST_NOT_CHANGE = [
    pytest.param(
        'from transformers import AutoModel\n\n\ndef load(path, device):\n'
        '    return AutoModel.from_pretrained(path, device_map="auto" if device == "cuda" else device)\n',
        id="benign-device-map-inline",
    ),
    pytest.param(
        'from transformers import AutoModel\n\n\ndef load(path, device):\n'
        '    device = "auto" if device == "cuda" else device\n'
        "    return AutoModel.from_pretrained(path, device_map=device)\n",
        id="benign-device-map-variable",
    ),
    pytest.param(
        "from transformers import AutoModel\n\n\nclass Loader:\n"
        "    def __init__(self, path, device):\n"
        "        self._device = device\n"
        '        device = "auto" if device == "cuda" else device\n'
        "        self.model = AutoModel.from_pretrained(path, device_map=device)\n\n"
        "    def run(self, inputs):\n"
        "        return self.model(**inputs.to(self._device))\n",
        id="stored-before-the-conditional",
    ),
    pytest.param(to_sink('device = "auto" if device == "cuda" else device  # noqa'), id="noqa"),
    pytest.param(to_sink('device = "auto" if device == "cuda" else device  # noqa: DEV001'), id="noqa-dev001"),
    pytest.param(to_sink('if device == "cuda":  # noqa: DEV001', '    device = "auto"'), id="noqa-statement"),
    pytest.param(to_sink('device = "auto" if device == "cuda" else device', 'device = "cpu"'), id="overwritten"),
    pytest.param(
        'from faster_whisper import WhisperModel\n\n\ndef load(path, device):\n'
        '    device = "auto" if device == "cuda" else device\n'
        "    return WhisperModel(path, device=device)\n",
        id="unknown-library",
    ),
    pytest.param(
        'import torch\n\n\ndef load(batch, device):\n    device = "auto" if device == "cuda" else device\n'
        "    return batch.to(resolve(device))\n",
        id="passed-through-unknown-function",
    ),
    pytest.param(
        to_sink('device = "cuda" if device == "auto" else device'),
        id="already-correct",
    ),
    pytest.param(to_sink('device = "au" "to" if device == "cuda" else device'), id="implicit-concatenation"),
    pytest.param(to_sink('device = "\\x61uto" if device == "cuda" else device'), id="escape-sequence"),
]

# Reported as DEV001 but not rewritten: a textual swap could change more than the value.
REPORTED_NOT_FIXABLE = {"implicit-concatenation", "escape-sequence"}


def _fix(source: str) -> str:
    result = fix_text(source, analyze_text(source))
    return source if result is None else result.text


@pytest.mark.parametrize(("source", "expected"), MUST_CHANGE)
def test_fix_pair(source: str, expected: str) -> None:
    assert source != expected
    assert _fix(source) == expected


@pytest.mark.parametrize(("source", "expected"), MUST_CHANGE)
def test_fix_pair_findings_are_fixable_dev001(source: str, expected: str) -> None:
    """Every edit comes from a reported DEV001, and the fixed text has no DEV001 left."""
    findings = analyze_text(source)
    result = fix_text(source, findings)
    assert result is not None
    assert {f.code for f in result.fixed} == {"DEV001"}
    assert all(len(f.edits) == 2 or f.fix_note.startswith("the fix moves the conditional") for f in result.fixed)
    assert [f for f in analyze_text(result.text) if f.code == "DEV001"] == []


@pytest.mark.parametrize("source", MUST_NOT_CHANGE)
def test_must_not_change(source: str, request: pytest.FixtureRequest) -> None:
    findings = analyze_text(source)
    assert fix_text(source, findings) is None
    assert _fix(source) == source
    dev001 = [f for f in findings if f.code == "DEV001"]
    if request.node.callspec.id in REPORTED_NOT_FIXABLE:
        assert len(dev001) == 1 and not dev001[0].fixable
    else:
        assert dev001 == []


def test_several_findings_are_fixed_at_once() -> None:
    result = fix_text(SEVERAL, analyze_text(SEVERAL))
    assert result is not None
    assert [(f.code, f.line) for f in result.fixed] == [("DEV001", 5), ("DEV001", 10), ("DEV001", 16), ("DEV001", 16)]


@pytest.mark.parametrize(
    ("source", "expected"),
    MUST_CHANGE + [pytest.param(p.values[0], p.values[0], id=p.id) for p in MUST_NOT_CHANGE],
)
def test_fix_pair_through_the_cli(tmp_path, source: str, expected: str) -> None:
    """The same pairs, as files, through ``devicelint fix`` (in process)."""
    _check_cli_fix(devicelint, tmp_path, source, expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [MUST_CHANGE[0], MUST_CHANGE[-1], pytest.param(MUST_NOT_CHANGE[0].values[0], MUST_NOT_CHANGE[0].values[0], id=MUST_NOT_CHANGE[0].id)],
)
def test_fix_pair_through_a_real_process(tmp_path, source: str, expected: str) -> None:
    """A few pairs through the real ``python -m devicelint fix`` in a subprocess."""
    _check_cli_fix(devicelint_process, tmp_path, source, expected)


def _check_cli_fix(devicelint, tmp_path, source: str, expected: str) -> None:
    path = tmp_path / "case.py"
    path.write_bytes(source.encode("utf-8"))
    before = path.stat()
    result = devicelint("fix", path)
    assert result.stderr == ""
    assert path.read_bytes() == expected.encode("utf-8")
    if source != expected:
        assert result.stdout.startswith(f"fixed {path} (")
        assert result.returncode == 0, result.stdout
    else:
        assert "fixed" not in result.stdout
        after = path.stat()
        assert (after.st_mtime_ns, after.st_ino, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ino, before.st_ctime_ns)
        assert result.returncode in (0, 1)  # 1: a DEV001 that cannot be fixed automatically remains


# --- the sharding-preserving DEV001 fix, and its unsafe fallback ---------------------------------
# (source, fixed by `devicelint fix`, fixed by `devicelint fix --unsafe-fixes`). Where the
# conditional's strategy also reaches device_map=, the conditional leaves the flow to the
# sinks and is written at each device_map= it reached, with the expression device_map=
# received. Where that is not exact, the swap is the fix, unsafe: left out by default.

SEVERAL_LOADS = '''\
from transformers import AutoModel, AutoProcessor


class Loader:
    def __init__(self, path, device):
        device = "auto" if device == "cuda" else device
        self.device = device
        self.processor = AutoProcessor.from_pretrained(path, device_map=self.device)
        self.model = AutoModel.from_pretrained(
            path,
            device_map=self.device,
            torch_dtype="auto",
        )

    def run(self, batch):
        return self.model(**batch.to(self.device))
'''

SEVERAL_LOADS_FIXED = '''\
from transformers import AutoModel, AutoProcessor


class Loader:
    def __init__(self, path, device):
        self.device = device
        self.processor = AutoProcessor.from_pretrained(path, device_map="auto" if self.device == "cuda" else self.device)
        self.model = AutoModel.from_pretrained(
            path,
            device_map="auto" if self.device == "cuda" else self.device,
            torch_dtype="auto",
        )

    def run(self, batch):
        return self.model(**batch.to(self.device))
'''

STORED_INLINE = '''\
from transformers import AutoModel


class Chat:
    def __init__(self, path, device="cuda"):
        self._device = 'auto' if device == 'cuda' else device  # shard
        self.model = AutoModel.from_pretrained(path, device_map=self._device)

    def chat(self, inputs):
        return self.model.generate(**inputs.to(self._device))
'''

STORED_INLINE_FIXED = '''\
from transformers import AutoModel


class Chat:
    def __init__(self, path, device="cuda"):
        self._device = device  # shard
        self.model = AutoModel.from_pretrained(path, device_map='auto' if self._device == 'cuda' else self._device)

    def chat(self, inputs):
        return self.model.generate(**inputs.to(self._device))
'''

STATEMENT_FORM = '''\
from transformers import AutoModel


def load(path, batch, cfg):
    if cfg.device == "cuda":
        cfg.device = "balanced"
    model = AutoModel.from_pretrained(path, device_map=cfg.device)
    return model(batch.to(cfg.device))
'''

STATEMENT_FORM_FIXED = '''\
from transformers import AutoModel


def load(path, batch, cfg):
    model = AutoModel.from_pretrained(path, device_map="balanced" if cfg.device == "cuda" else cfg.device)
    return model(batch.to(cfg.device))
'''

NEGATED_YODA = '''\
from transformers import AutoModel


def load(path, batch, device):
    device = device if "cuda" != device else "auto"
    model = AutoModel.from_pretrained(path, device_map=device)
    return model(batch.to(device))
'''

NEGATED_YODA_FIXED = '''\
from transformers import AutoModel


def load(path, batch, device):
    model = AutoModel.from_pretrained(path, device_map=device if "cuda" != device else "auto")
    return model(batch.to(device))
'''

# device_map= is in a base class: other subclasses share that code, so it is not rewritten.
BASE_CLASS = '''\
from transformers import AutoModel


class Base:
    def load(self, path):
        self.model = AutoModel.from_pretrained(path, device_map=self.device)


class Chat(Base):
    def __init__(self, path, device):
        self.device = "auto" if device == "cuda" else device
        self.load(path)

    def chat(self, inputs):
        return self.model.generate(**inputs.to(self.device))
'''

# The class has a subclass in the file: it inherits the rewritten device_map= with its own values.
SUBCLASSED = '''\
from transformers import AutoModel


class Chat:
    def __init__(self, path, device):
        self.device = "auto" if device == "cuda" else device
        self.model = AutoModel.from_pretrained(path, device_map=self.device)

    def chat(self, inputs):
        return self.model.generate(**inputs.to(self.device))


class Other(Chat):
    pass
'''

# device_map= is in a helper other callers share.
HELPER = '''\
from transformers import AutoModel


def load_model(path, device):
    return AutoModel.from_pretrained(path, device_map=device)


def load(path, batch, device):
    device = "auto" if device == "cuda" else device
    model = load_model(path, device)
    return model(batch.to(device))
'''

# The conditional is the only statement of its block.
ALONE_IN_BLOCK = '''\
from transformers import AutoModel


def load(path, batch, device, shard):
    if shard:
        device = "auto" if device == "cuda" else device
    model = AutoModel.from_pretrained(path, device_map=device)
    return model(batch.to(device))
'''


def swapped(source: str) -> str:
    return source.replace('"auto" if device == "cuda" else device', '"cuda" if device == "auto" else device')


SHARDING = [
    pytest.param(ALSO_DEVICE_MAP, ALSO_DEVICE_MAP_FIXED, ALSO_DEVICE_MAP_FIXED, id="one-load-same-function"),
    pytest.param(QWEN2_AUDIO, QWEN2_AUDIO_FIXED, QWEN2_AUDIO_FIXED, id="qwen2-audio-self-other-method"),
    pytest.param(SEVERAL_LOADS, SEVERAL_LOADS_FIXED, SEVERAL_LOADS_FIXED, id="several-loads"),
    pytest.param(STORED_INLINE, STORED_INLINE_FIXED, STORED_INLINE_FIXED, id="stored-on-self-inline"),
    pytest.param(STATEMENT_FORM, STATEMENT_FORM_FIXED, STATEMENT_FORM_FIXED, id="statement-form-balanced"),
    pytest.param(NEGATED_YODA, NEGATED_YODA_FIXED, NEGATED_YODA_FIXED, id="negated-yoda"),
    pytest.param(BASE_CLASS, BASE_CLASS, swapped(BASE_CLASS), id="base-class-swap-unsafe"),
    pytest.param(SUBCLASSED, SUBCLASSED, swapped(SUBCLASSED), id="subclassed-swap-unsafe"),
    pytest.param(HELPER, HELPER, swapped(HELPER), id="shared-helper-swap-unsafe"),
    pytest.param(ALONE_IN_BLOCK, ALONE_IN_BLOCK, swapped(ALONE_IN_BLOCK), id="alone-in-block-swap-unsafe"),
]


def _fixed_by_engine(source: str, unsafe: bool) -> str:
    result = fix_source(source, unsafe_fixes=unsafe)
    return source if result.text is None else result.text


@pytest.mark.parametrize(("source", "safe", "unsafe"), SHARDING)
def test_sharding_fix(source: str, safe: str, unsafe: str) -> None:
    (finding,) = [f for f in analyze_text(source) if f.code == "DEV001"]
    assert finding.applicability == ("safe" if safe != source else "unsafe")
    assert _fixed_by_engine(source, False) == safe
    assert _fixed_by_engine(source, True) == unsafe
    for fixed_text in {safe, unsafe} - {source}:
        # Re-analysed clean, and idempotent.
        assert [f for f in analyze_text(fixed_text) if f.code == "DEV001"] == []
        assert fix_source(fixed_text, unsafe_fixes=True).text is None


@pytest.mark.parametrize(("source", "safe", "unsafe"), SHARDING)
@pytest.mark.parametrize("encoding", ["crlf", "bom", "bom-crlf"])
def test_sharding_fix_through_the_cli(tmp_path, source: str, safe: str, unsafe: str, encoding: str) -> None:
    def encoded(text: str) -> bytes:
        data = text.replace("\n", "\r\n") if "crlf" in encoding else text
        return (b"\xef\xbb\xbf" if "bom" in encoding else b"") + data.encode("utf-8")

    path = tmp_path / "loader.py"
    for flags, expected in (((), safe), (("--unsafe-fixes",), unsafe)):
        path.write_bytes(encoded(source))
        result = devicelint("fix", *flags, path)
        assert path.read_bytes() == encoded(expected), result.stdout
        hint = "1 fix available with --unsafe-fixes."
        assert (hint in result.stdout) == (expected == source), result.stdout


@pytest.mark.parametrize(("source", "safe", "unsafe"), SHARDING[:4])
def test_sharding_fix_in_a_notebook(tmp_path, source: str, safe: str, unsafe: str) -> None:
    """Each top-level statement in its own cell: the fix edits each cell in place."""
    import json

    def notebook(text: str) -> dict:
        cells = [block for block in text.split("\n\n\n")]
        return {
            "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": cell} for cell in cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
        }

    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook(source), indent=1) + "\n")
    result = devicelint("fix", path)
    assert result.returncode == 0, result.stdout
    assert json.loads(path.read_text()) == notebook(safe)
    assert devicelint("check", path).returncode == 0


# --- DEV002 fixes: (source, `fix`, `fix --unsafe-fixes`) -----------------------------------------


def torch_call(line: str, prelude: str = "") -> str:
    return f"import torch\n{prelude}\n\ndef run(x, path):\n    return {line}\n"


DEV002_FIXES = [
    pytest.param(torch_call('x.to("gpu")'), torch_call('x.to("cuda")'), None, id="gpu"),
    pytest.param(torch_call("x.to('GPU')"), torch_call("x.to('cuda')"), None, id="GPU-single-quotes"),
    pytest.param(torch_call('torch.device("CUDA")'), torch_call('torch.device("cuda")'), None, id="CUDA"),
    pytest.param(torch_call('torch.zeros(2, device="Cuda")'), torch_call('torch.zeros(2, device="cuda")'), None, id="Cuda-factory"),
    pytest.param(torch_call('torch.device("cuda0")'), torch_call('torch.device("cuda:0")'), None, id="cuda0"),
    pytest.param(torch_call('torch.device("cuda 1")'), torch_call('torch.device("cuda:1")'), None, id="cuda-space-1"),
    pytest.param(torch_call('torch.device("cuda-1")'), torch_call('torch.device("cuda:1")'), None, id="cuda-dash-1"),
    pytest.param(torch_call('torch.ones(1, device="CPU")'), torch_call('torch.ones(1, device="cpu")'), None, id="CPU"),
    pytest.param(torch_call('torch.Generator(device="GPU")'), torch_call('torch.Generator(device="cuda")'), None, id="generator"),
    pytest.param(
        torch_call('pipeline("asr", model=path, device="auto")', "from transformers import pipeline"),
        torch_call('pipeline("asr", model=path, device_map="auto")', "from transformers import pipeline"),
        None,
        id="pipeline-device-auto",
    ),
    pytest.param(
        torch_call('torch.load(path, map_location="gpu")'), None, torch_call('torch.load(path, map_location="cuda")'), id="load-gpu-unsafe"
    ),
    pytest.param(
        torch_call('torch.load(path, map_location="auto")'), None, torch_call('torch.load(path, map_location="cuda")'), id="load-auto-unsafe"
    ),
    # Far from the sink: the literal itself is fixed.
    pytest.param(
        'import torch\n\nDEVICE = "GPU"\n\n\ndef run(x):\n    return x.to(DEVICE)\n',
        'import torch\n\nDEVICE = "cuda"\n\n\ndef run(x):\n    return x.to(DEVICE)\n',
        None,
        id="module-constant",
    ),
    pytest.param(
        'import torch\n\n\ndef run(x, device="gpu"):\n    return x.to(device)\n',
        'import torch\n\n\ndef run(x, device="cuda"):\n    return x.to(device)\n',
        None,
        id="parameter-default",
    ),
    pytest.param(
        'import torch\n\n\ndef place(x, device):\n    return x.to(device)\n\n\ndef run(x, device="gpu"):\n    return place(x, device)\n',
        'import torch\n\n\ndef place(x, device):\n    return x.to(device)\n\n\ndef run(x, device="cuda"):\n    return place(x, device)\n',
        None,
        id="default-through-a-call",
    ),
]

DEV002_NOT_FIXED = [
    # Used as something else too: the comparison would change.
    pytest.param('import torch\n\n\ndef run(x, device="gpu"):\n    if device == "gpu":\n        print("GPU")\n    return x.to(device)\n', id="compared"),
    pytest.param('import torch\n\nDEVICE = "GPU"\nLABEL = f"on {DEVICE}"\n\n\ndef run(x):\n    return x.to(DEVICE)\n', id="in-an-f-string"),
    # "auto" at a torch sink: which device was meant is not knowable.
    pytest.param(torch_call('x.to("auto")'), id="auto-at-to"),
    pytest.param(torch_call('torch.device("balanced")'), id="strategy-at-device"),
    # Not torch's: a user's extra sink, an unknown receiver's keyword.
    pytest.param('import torch\nimport mylib\n\n\ndef run(x):\n    return mylib.place(x, device="gpu")\n', id="unknown-library"),
    # pipeline(device="auto") next to a device_map= already given.
    pytest.param(
        torch_call('pipeline("asr", model=path, device="auto", device_map=None)', "from transformers import pipeline"),
        id="pipeline-with-device-map",
    ),
    # An escape sequence: the token is not one plain literal.
    pytest.param(torch_call('x.to("\\x67pu")'), id="escape"),
]


@pytest.mark.parametrize(("source", "safe", "unsafe"), DEV002_FIXES)
def test_dev002_fix(source: str, safe: str | None, unsafe: str | None) -> None:
    (finding,) = analyze_text(source)
    assert finding.code == "DEV002" and finding.fixable
    assert finding.applicability == ("safe" if safe is not None else "unsafe")
    expected_safe = safe if safe is not None else source
    expected_unsafe = unsafe if unsafe is not None else expected_safe
    assert _fixed_by_engine(source, False) == expected_safe
    assert _fixed_by_engine(source, True) == expected_unsafe
    assert analyze_text(expected_unsafe) == [] and fix_source(expected_unsafe, unsafe_fixes=True).text is None
    if unsafe is not None:
        assert "fails on a machine without one" in finding.fix_note


@pytest.mark.parametrize("source", DEV002_NOT_FIXED)
def test_dev002_not_fixed(source: str) -> None:
    findings = analyze_text(source)
    assert all(not f.fixable for f in findings)
    assert fix_source(source, unsafe_fixes=True).text is None


@pytest.mark.parametrize(("source", "safe", "unsafe"), DEV002_FIXES)
def test_dev002_fix_through_the_cli(tmp_path, source: str, safe: str | None, unsafe: str | None) -> None:
    path = tmp_path / "run.py"
    data = b"\xef\xbb\xbf" + source.replace("\n", "\r\n").encode()
    path.write_bytes(data)
    result = devicelint("fix", path)
    expected = safe if safe is not None else source
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected.replace("\n", "\r\n").encode()
    if unsafe is not None:
        assert "1 fix available with --unsafe-fixes." in result.stdout and result.returncode == 1
        assert devicelint("fix", "--unsafe-fixes", path).returncode == 0
        assert path.read_bytes() == b"\xef\xbb\xbf" + unsafe.replace("\n", "\r\n").encode()


# The value reaches device_map= through a method's parameter: other callers share that method.
THROUGH_A_PARAMETER = '''\
from transformers import AutoModel


class Chat:
    def __init__(self, path, device):
        device = "auto" if device == "cuda" else device
        self.model = self._load(path, device)
        self.device = device

    def _load(self, path, device):
        return AutoModel.from_pretrained(path, device_map=device)

    def chat(self, inputs):
        return self.model.generate(**inputs.to(self.device))
'''

MAP_LOCATION_INDEX = torch_call('torch.load(path, map_location="cuda 1")')


def test_a_parameter_hop_to_device_map_is_the_unsafe_swap() -> None:
    assert _fixed_by_engine(THROUGH_A_PARAMETER, False) == THROUGH_A_PARAMETER
    assert _fixed_by_engine(THROUGH_A_PARAMETER, True) == swapped(THROUGH_A_PARAMETER)


def test_map_location_keeps_the_index() -> None:
    assert _fixed_by_engine(MAP_LOCATION_INDEX, False) == MAP_LOCATION_INDEX
    assert _fixed_by_engine(MAP_LOCATION_INDEX, True) == MAP_LOCATION_INDEX.replace('"cuda 1"', '"cuda:1"')


@pytest.mark.parametrize(("source", "safe", "unsafe"), [p for p in DEV002_FIXES if p.id in ("gpu", "module-constant", "pipeline-device-auto", "load-gpu-unsafe")])
def test_dev002_fix_in_a_notebook(tmp_path, source: str, safe: str | None, unsafe: str | None) -> None:
    """The module split into cells at its blank-line pairs; list-of-lines sources, as Jupyter writes them."""
    import json

    def notebook(text: str) -> dict:
        cells = [re.findall(r"[^\n]*\n|[^\n]+$", block) for block in text.split("\n\n\n")]
        return {
            "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": cell} for cell in cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
        }

    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook(source), indent=1) + "\n")
    devicelint("fix", path)
    assert json.loads(path.read_text()) == notebook(safe if safe is not None else source)
    devicelint("fix", "--unsafe-fixes", path)
    final = unsafe if unsafe is not None else safe
    assert json.loads(path.read_text()) == notebook(final)
    assert devicelint("check", path).returncode == 0
