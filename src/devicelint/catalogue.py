"""Library knowledge, as data: which calls parse a device, which return a value they were
given, which build a namespace. One entry each; sinks.py and the value follower read it.

Adding a library sink is one ``SinkSpec`` line below. A call that is in neither the
project nor this catalogue is unknown: its result is never followed, and a value passed
into it is never reported.
"""

from __future__ import annotations

import ast

from devicelint.dataclass import dataclass


@dataclass(frozen=True)
class SinkSpec:
    """Where a callee takes its device: a positional index and/or a keyword name.

    ``strict`` sinks report any non-device string literal written directly as the
    argument; a non-strict one (positional ``.to(x)``, which other libraries use for
    units) reports only the tracked mistakes ("auto", "gpu", ...). A name starting
    with ``.`` is a method on any receiver.
    """

    name: str
    position: int | None = None
    keyword: str | None = None
    strict: bool = True

    def argument(self, call: ast.Call) -> ast.expr | None:
        """The expression ``call`` passes here, if written out (also inside ``**{"device": x}``)."""
        if self.keyword is not None:
            for kw in call.keywords:
                if kw.arg == self.keyword:
                    return kw.value
                if kw.arg is None and isinstance(kw.value, ast.Dict):
                    for key, value in zip(kw.value.keys, kw.value.values):
                        if isinstance(key, ast.Constant) and key.value == self.keyword:
                            return value
        if self.position is not None and len(call.args) > self.position:
            preceding = call.args[: self.position + 1]
            if not any(isinstance(a, ast.Starred) for a in preceding):
                return call.args[self.position]
        return None

    @classmethod
    def parse(cls, text: str) -> SinkSpec:
        """Parse a user's ``extra-sinks`` entry: ``qualified.name[:ARG]``.

        ARG is a position (``0``) or a keyword (``device``); without it the sink
        takes the first positional argument or ``device=``. A name starting with
        ``.`` is a method on any receiver (``.place``).
        """
        name, _, arg = text.strip().partition(":")
        name = name.strip()
        ident = name[1:] if name.startswith(".") else name
        if not ident or not all(part.isidentifier() for part in ident.split(".")):
            raise ValueError(f"invalid sink name {name!r} (expected e.g. mylib.place or mylib.place:device)")
        arg = arg.strip()
        if not arg:
            return cls(name, position=0, keyword="device")
        if arg.isdigit():
            return cls(name, position=int(arg))
        if arg.isidentifier():
            return cls(name, keyword=arg)
        raise ValueError(f"invalid sink argument {arg!r} in {text!r} (expected a position or a keyword name)")


# Calls resolved through imports (``import torch as T``, ``from torch import device``).
# Each third-party entry says where the library hands its ``device`` to torch (checked
# against the library's source; torch raises RuntimeError on "auto").
QUALIFIED_SINKS: tuple[SinkSpec, ...] = (
    SinkSpec("torch.device", position=0, keyword="type"),
    # torch/_C/__init__.pyi: Generator(device: Device = None); parsed as a torch.device
    # (torch.Generator(device="auto") raises RuntimeError, checked with torch 2.13).
    SinkSpec("torch.Generator", position=0, keyword="device"),
    SinkSpec("torch.load", position=1, keyword="map_location"),
    SinkSpec("torch.cuda.set_device", position=0, keyword="device"),
    SinkSpec("torch.set_default_device", position=0, keyword="device"),
    SinkSpec("torch.autocast", position=0, keyword="device_type"),
    SinkSpec("torch.amp.autocast", position=0, keyword="device_type"),
    SinkSpec("torch.amp.autocast_mode.autocast", position=0, keyword="device_type"),
    # transformers/pipelines/base.py Pipeline.__init__: self.device = torch.device(device).
    SinkSpec("transformers.pipeline", keyword="device"),
    SinkSpec("transformers.pipelines.pipeline", keyword="device"),
    # sentence_transformers/base/model.py BaseModel.__init__ (the base of SentenceTransformer
    # and CrossEncoder): a given device skips get_device_name() and reaches self.to(device)
    # (nn.Module.to). Keyword-only there; older releases' signatures differ in position.
    *(
        SinkSpec(name, keyword="device")
        for name in (
            "sentence_transformers.SentenceTransformer",
            "sentence_transformers.SentenceTransformer.SentenceTransformer",
            "sentence_transformers.sentence_transformer.model.SentenceTransformer",
            "sentence_transformers.CrossEncoder",
            "sentence_transformers.cross_encoder.CrossEncoder",
            "sentence_transformers.cross_encoder.CrossEncoder.CrossEncoder",
            "sentence_transformers.cross_encoder.model.CrossEncoder",
        )
    ),
    # whisperx/alignment.py load_align_model(language_code, device, ...): the torchaudio
    # bundle's model and the HF Wav2Vec2 model both get .to(device) (lines 96 and 108).
    SinkSpec("whisperx.load_align_model", position=1, keyword="device"),
    SinkSpec("whisperx.alignment.load_align_model", position=1, keyword="device"),
    # Not entries, checked: transformers Trainer and TrainingArguments take no device string
    # (TrainingArguments._setup_devices builds torch.device from the environment); diffusers
    # pipelines' .to() is the method sink below (pipeline_utils.py DiffusionPipeline.to calls
    # torch.device(args[0]) / torch.device(device)). Left out because they accept "auto"
    # themselves: faster-whisper, ctranslate2, vLLM, Lightning accelerator=/devices=,
    # stable-baselines3 device=, modelscope (unknown calls are never sinks).
)

# Methods on any receiver: the receiver's type is unknown statically, and these names are torch's.
METHOD_SINKS: tuple[SinkSpec, ...] = (
    SinkSpec(".to", position=0, strict=False),
    SinkSpec(".to", keyword="device"),
    SinkSpec(".cuda", position=0, keyword="device"),
    *(SinkSpec(f".new_{kind}", keyword="device") for kind in ("zeros", "ones", "empty", "full", "tensor")),
)

# Which ``.to()`` is torch's. Method sinks match by name; a receiver built by one of these
# libraries has its own ``.to`` (tinygrad ``Tensor.to("gpu")``, OpenVINO / optimum-intel
# ``OVModel*.to("GPU")``, pint and astropy quantities ``.to("km")``), and so does a project
# class that defines ``def to`` without deriving from a torch-ecosystem class. Prefixes are
# matched on dotted qualified names; the longest one wins (optimum.intel is not optimum).
FOREIGN_TO_LIBRARIES: tuple[str, ...] = ("tinygrad", "openvino", "optimum.intel", "pint", "astropy.units", "unyt")
TORCH_LIBRARIES: tuple[str, ...] = (
    "torch",
    "torchvision",
    "torchaudio",
    "transformers",
    "diffusers",
    "accelerate",
    "peft",
    "sentence_transformers",
    "timm",
    "lightning",
    "pytorch_lightning",
    "trl",
    "bitsandbytes",
    "whisperx",
    "open_clip",
    "optimum",
)
# Bases a project class may have and still be a plain Python class (its own ``to`` is not torch's).
PLAIN_BASES: frozenset[str] = frozenset({"object", "abc.ABC", "typing.Generic", "typing.Protocol", "ABC", "Generic", "Protocol"})

# Any other call into these packages takes its ``device=`` keyword as a device
# (factories such as torch.zeros, *_like, torch.nn layer constructors).
DEVICE_KEYWORD_PACKAGES: tuple[str, ...] = ("torch",)
DEVICE_KEYWORD = "device"

# Calls that return (a string form of) their only argument.
PASSTHROUGH_CALLS: frozenset[str] = frozenset({"str"})

# Calls that return their second argument (or ``default=``) when a key is missing:
# (qualified name, role of the origin in messages).
DEFAULT_RETURNING_CALLS: dict[str, str] = {
    "os.getenv": "environment default",
    "os.environ.get": "environment default",
}

# Calls that build a namespace from their keywords: name -> how a part is addressed.
NAMESPACE_BUILDERS: dict[str, str] = {
    "dict": "[{!r}]",
    "types.SimpleNamespace": ".{}",
    "argparse.Namespace": ".{}",
}

# Builtins that resolve by name when nothing in the module shadows them.
BUILTIN_NAMES: frozenset[str] = frozenset({"str", "dict", "getattr"})

# The keyword that only places a model and accepts strategies: never a sink, but a
# DEV001 fix changes what it receives.
PLACEMENT_KEYWORD = "device_map"

# Library calls whose device_map= keyword only places a model (the pre-scan drops a
# strategy written there). Any other callee may be a project function whose device_map
# parameter reaches a sink, and a parameter's default is a value of its function.
PLACEMENT_CALLEES: frozenset[str] = frozenset({
    "from_pretrained",  # transformers, diffusers, peft, sentence-transformers ...
    "from_single_file",  # diffusers
    "pipeline",  # transformers.pipeline
    "load_checkpoint_and_dispatch",  # accelerate
    "dispatch_model",  # accelerate
    "infer_auto_device_map",  # accelerate
})


# --- Sources ------------------------------------------------------------------------
# Where configuration declares the strings a value may hold: a default and the declared
# choices. follow/sources.py recognises each kind; a declared string that reaches a sink
# unresolved is a finding. Each kind is documented from SOURCE_KINDS (DEV002.md).


@dataclass(frozen=True)
class SourceKind:
    name: str
    declared: str  # what declares the values (Markdown)
    read: str  # where the values arrive (Markdown)


SOURCE_KINDS: tuple[SourceKind, ...] = (
    SourceKind(
        "argparse",
        '`add_argument("--device", default=..., choices=[...])` (also `dest=`, positionals, sub-parsers, '
        "argument groups), `set_defaults(device=...)`; every parser of the module",
        "`args.device` after `args = parser.parse_args()` (or `parse_known_args()`), `vars(args)[\"device\"]`",
    ),
    SourceKind(
        "click / typer",
        '`@click.option("--device", default=..., type=click.Choice([...]))`, `@click.argument`, '
        '`device: str = typer.Option("auto")` / `typer.Argument(...)`',
        "the decorated function's parameter",
    ),
    SourceKind(
        "records",
        '`@dataclass` / attrs / pydantic `BaseModel` / `NamedTuple` fields: `device: str = "auto"`, '
        '`field(default=...)`, `Field(...)`, `attr.ib(default=...)`, choices of a `Literal[...]` annotation',
        "`cfg.device` on an instance constructed in the module or in a module that imports the class "
        "(`cfg = Config()`, `Config().device`); a field that the constructor sets, or that a `__post_init__` "
        "or validator mentions, is not a source",
    ),
    SourceKind(
        "mapping defaults",
        '`d.get("device", "auto")`, `d.pop(...)`, `d.setdefault(...)`, `getattr(obj, "device", "auto")`, '
        '`os.environ.get("DEVICE", "auto")`, `os.getenv(...)`',
        "the call's value (the default, or what the entry holds)",
    ),
    SourceKind(
        "gradio",
        '`gr.Dropdown(choices=[...], value=...)` / `gr.Radio(...)` (written in the list, or a name assigned once '
        "in the module) among the `inputs=` of `gr.Interface(fn, inputs)` or of an event such as `button.click(fn, inputs)`",
        "the parameter of `fn` (a function of the module) at the same position",
    ),
    SourceKind(
        "ComfyUI nodes",
        'a node class\'s `INPUT_TYPES` (`{"required": {"device": (["auto", "cpu", "cuda"], {"default": "auto"})}}`, '
        "also `optional`); in the V3 schema, the inputs of `define_schema()` "
        '(`io.Combo.Input("device", options=[...], default=...)`, any `io.X.Input(name, default=...)`)',
        "the keyword parameters of the method that `FUNCTION = \"...\"` names; in the V3 schema, of `execute`",
    ),
)

# argparse: the methods that declare options and those that return the namespace.
ARGPARSE_DECLARE = "add_argument"
ARGPARSE_DEFAULTS = "set_defaults"
ARGPARSE_PARSE: dict[str, str | None] = {"parse_args": None, "parse_known_args": "[0]"}  # -> where the namespace is

# click: decorators that declare a parameter of the decorated function, and choice types.
CLICK_PARAMETERS: frozenset[str] = frozenset({"click.option", "click.argument"})
CLICK_CHOICES: frozenset[str] = frozenset({"click.Choice"})
# typer: parameter defaults that declare an option (first positional or default= is the default).
TYPER_PARAMETERS: frozenset[str] = frozenset({"typer.Option", "typer.Argument"})

# Records whose annotated class-body assignments are instance field defaults.
RECORD_DECORATORS: frozenset[str] = frozenset({
    "dataclasses.dataclass", "pydantic.dataclasses.dataclass",
    "attr.s", "attr.attrs", "attr.define", "attr.frozen", "attr.mutable",
    "attrs.define", "attrs.frozen", "attrs.mutable",
})
RECORD_BASES: frozenset[str] = frozenset({
    "pydantic.BaseModel", "pydantic.BaseSettings", "pydantic_settings.BaseSettings",
    "typing.NamedTuple", "typing_extensions.NamedTuple",
})
# The last names of those decorators and bases: a cheap first look before resolving them.
RECORD_LAST_NAMES: frozenset[str] = frozenset(
    {name.rsplit(".", 1)[1] for name in RECORD_DECORATORS | RECORD_BASES} | {"dataclass", "s", "attrs"}
)
# field(...) calls: the keyword that holds the default, and whether the first positional does.
RECORD_FIELD_CALLS: dict[str, bool] = {
    "dataclasses.field": False, "attr.ib": False, "attr.attrib": False, "attr.field": False,
    "attrs.field": False, "pydantic.Field": True,
}
# Methods that may change a field after construction (and validators, by decorator name).
RECORD_HOOKS: frozenset[str] = frozenset({"__init__", "__post_init__", "__attrs_post_init__", "model_post_init"})
RECORD_VALIDATOR_WORD = "validat"  # validator, field_validator, model_validator, validates, validate

# Methods of a mapping that return their second argument when the key is missing.
MAPPING_DEFAULT_METHODS: frozenset[str] = frozenset({"get", "pop", "setdefault"})

# gradio: input components with choices, and what wires them to a function's parameters.
GRADIO_CHOICE_COMPONENTS: frozenset[str] = frozenset({"gradio.Dropdown", "gradio.Radio"})
GRADIO_INTERFACE = "gradio.Interface"
GRADIO_EVENTS: frozenset[str] = frozenset({"click", "change", "submit", "select", "input", "release", "upload", "then", "load"})

# ComfyUI custom nodes.
COMFY_INPUTS = "INPUT_TYPES"
COMFY_FUNCTION = "FUNCTION"
COMFY_SECTIONS: tuple[str, ...] = ("required", "optional")
# The V3 node schema (comfy_api): define_schema() returns io.Schema(inputs=[io.Combo.Input(
# "device", options=[...], default=...), ...]); execute() receives each input by name.
COMFY_SCHEMA = "define_schema"
COMFY_EXECUTE = "execute"
COMFY_INPUT = "Input"  # io.Combo.Input, io.String.Input ...
COMFY_OPTIONS = "options"
