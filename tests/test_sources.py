"""Configuration sources (argparse, click/typer, records, mapping defaults, ComfyUI nodes).

The fixtures dev002_sources.py / clean_sources.py hold one reported and one clean case per
kind; here: what the messages say, twins that differ by one edit, values that cross
modules, odd declarations, and the generated documentation.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from helpers import ROOT, devicelint_json

from devicelint.analysis import analyze_text
from devicelint.follow.sources import render_doc


def _findings(source: str) -> list[tuple[int, str, str]]:
    return [(f.line, f.code, f.message) for f in analyze_text(textwrap.dedent(source), "<sources>")]


# (source, the line reported, words the message must hold)
MESSAGES = [
    (
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--device", default="auto")
        args = parser.parse_args()
        args.model.to(args.device)
        """,
        6,
        "it comes from the default of --device on line 4",
    ),
    (
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--device", choices=["cuda", "auto"], default="cuda")
        args = parser.parse_args()
        args.model.to(args.device)
        """,
        6,
        'it comes from the choice "auto" of --device on line 4',
    ),
    (
        """
        import click, torch
        @click.command()
        @click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu")
        def main(device):
            torch.device(device)
        """,
        6,
        'it comes from the choice "gpu" of --device on line 4',
    ),
    (
        """
        from dataclasses import dataclass
        @dataclass
        class Config:
            device: str = "auto"
        def run(model):
            cfg = Config()
            model.to(cfg.device)
        """,
        8,
        "it comes from the default of field device of Config on line 5",
    ),
    (
        """
        class LoadModel:
            @classmethod
            def INPUT_TYPES(cls):
                return {"required": {"device": (["auto", "cpu", "cuda"], {"default": "cpu"})}}
            FUNCTION = "run"
            def run(self, device):
                return (self.model.to(device),)
        """,
        8,
        'it comes from the choice "auto" of input device of node LoadModel on line 5',
    ),
    (
        """
        def run(model, options):
            model.to(options.get("device", "balanced"))
        """,
        3,
        'it comes from the default of .get("device") on line 3',
    ),
]


@pytest.mark.parametrize("source, line, words", MESSAGES, ids=[m[2].split(" of ")[0][14:] + str(i) for i, m in enumerate(MESSAGES)])
def test_the_message_names_the_source(source: str, line: int, words: str) -> None:
    found = _findings(source)
    assert [(n, code) for n, code, _ in found] == [(line, "DEV002")]
    assert words in found[0][2]


# (reported source, the same with one edit that resolves or overrides the declared string)
TWINS = [
    (  # the function's own parser, not another function's
        """
        import argparse
        def a(model):
            p = argparse.ArgumentParser()
            p.add_argument("--device", default="auto")
            return model.to(p.parse_args().device)
        """,
        """
        import argparse
        def a(model):
            p = argparse.ArgumentParser()
            p.add_argument("--device", default="cuda")
            return model.to(p.parse_args().device)
        def b():
            p = argparse.ArgumentParser()
            p.add_argument("--device", default="auto")
            return p.parse_args()
        """,
    ),
    (  # set_defaults wins over the option's default
        """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--device", default="cuda")
        p.set_defaults(device="auto")
        p.parse_args().model.to(p.parse_args().device)
        """,
        """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--device", default="auto")
        p.set_defaults(device="cuda")
        p.parse_args().model.to(p.parse_args().device)
        """,
    ),
    (  # a hook that mentions the field may resolve it
        """
        from dataclasses import dataclass
        @dataclass
        class Config:
            device: str = "auto"
            def __post_init__(self):
                self.name = "x"
        def run(model):
            cfg = Config()
            model.to(cfg.device)
        """,
        """
        from dataclasses import dataclass
        @dataclass
        class Config:
            device: str = "auto"
            def __post_init__(self):
                self.device = resolve(self.device)
        def run(model):
            cfg = Config()
            model.to(cfg.device)
        """,
    ),
    (  # only records: a plain class's attribute default is not a field default
        """
        from pydantic import BaseModel
        class Config(BaseModel):
            device: str = "auto"
        def run(model):
            cfg = Config()
            model.to(cfg.device)
        """,
        """
        class Config:
            def __init__(self, device):
                self.device = device
            device: str = "auto"
        def run(model):
            cfg = Config("cuda")
            model.to(cfg.device)
        """,
    ),
    (  # a ComfyUI class without FUNCTION is not a node
        """
        class Node:
            @classmethod
            def INPUT_TYPES(cls):
                return {"optional": {"device": ("STRING", {"default": "auto"})}}
            FUNCTION = "go"
            def go(self, device):
                return self.model.to(device)
        """,
        """
        class Node:
            @classmethod
            def INPUT_TYPES(cls):
                return {"optional": {"device": ("STRING", {"default": "auto"})}}
            def go(self, device):
                return self.model.to(device)
        """,
    ),
    (  # gradio: a name that holds two components is unknown
        """
        import gradio as gr
        def run(device):
            return device.to(device)
        def ui():
            choice = gr.Dropdown(["auto", "cpu"], value="cpu")
            gr.Button().click(run, inputs=[choice])
        """,
        """
        import gradio as gr
        def run(device):
            return device.to(device)
        def ui():
            choice = gr.Dropdown(["auto", "cpu"], value="cpu")
            choice = gr.Textbox()
            gr.Button().click(run, inputs=[choice])
        """,
    ),
    (  # a typer option's default that a refinement resolves
        """
        import typer
        def main(model, device: str = typer.Argument("auto")):
            model.to(device)
        """,
        """
        import typer
        def main(model, device: str = typer.Argument("auto")):
            if device in ("auto", "gpu"):
                device = "cuda"
            model.to(device)
        """,
    ),
]


@pytest.mark.parametrize("reported, clean", TWINS)
def test_twins_differ_by_one_edit(reported: str, clean: str) -> None:
    assert [code for _, code, _ in _findings(reported)] == ["DEV002"]
    assert _findings(clean) == []


def test_a_record_constructed_in_an_importing_module_is_reported_at_the_field(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(
        "from dataclasses import dataclass\n\n\n@dataclass\nclass ServeConfig:\n"
        '    model: str = "base"\n    device: str = "auto"\n'
    )
    (package / "serve.py").write_text(
        "from .config import ServeConfig\n\n\ndef serve(model):\n"
        '    cfg = ServeConfig(model="large")\n    return model.to(cfg.device)\n'
    )
    findings = devicelint_json(package / "config.py", cwd=tmp_path)
    assert [(f["line"], f["column"], f["code"]) for f in findings] == [(7, 19, "DEV002")]
    assert "reaches .to() on line 6 of serve.py" in findings[0]["message"]
    assert "it is the default of field device of ServeConfig" in findings[0]["message"]
    # the importer reports nothing: the literal is not written there
    assert devicelint_json(package / "serve.py", cwd=tmp_path) == []


ODD_DECLARATIONS = """
import argparse
from dataclasses import dataclass
from typing import Literal
import torch

p = argparse.ArgumentParser()
p.add_argument()
p.add_argument(*FLAGS, default="auto")
p.add_argument(dest=1, default="auto")
p.set_defaults(**{"device": "auto"})
a = p.parse_args()
torch.device(a.device)
vars()
vars(1, 2)
getattr(a, "a-b", "auto")
{}.get(1, "auto")
{}.setdefault()

@dataclass
class C:
    x: Literal[1, "cuda"] = 3
    y: "Literal['auto']" = None
    def __post_init__(): pass

torch.device(C(*[]).x)
torch.device(C(**{}).y)

class N:
    FUNCTION = 3
    INPUT_TYPES = {}

class M:
    FUNCTION = "f"
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"d": "auto", 1: ("auto",), "e": ([], {}), "f": (["cpu"], {**x})}, **y}
    def f(self, *a, **kw):
        torch.device(kw["f"])
        torch.device(kw["d"])
"""


def test_odd_declarations_are_unknown_not_errors() -> None:
    assert _findings(ODD_DECLARATIONS) == []


def test_the_rule_doc_lists_the_sources_from_the_catalogue() -> None:
    doc = (ROOT / "src" / "devicelint" / "docs" / "DEV002.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- begin generated: sources -->\n(.*?)<!-- end generated: sources -->", doc, re.S)
    assert block is not None
    assert block.group(1) == render_doc(), "regenerate the block from devicelint.follow.sources.render_doc()"
    assert "| argparse |" in block.group(1) and "| ComfyUI nodes |" in block.group(1)
