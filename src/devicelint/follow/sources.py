"""Configuration sources: where a value's possible strings are declared rather than assigned.

A source declares a default and maybe choices (``add_argument("--device", default="auto",
choices=[...])``); the value read from it (``args.device``) may hold any of them. Each
declared tracked string becomes an origin of role "source" whose ``parameter`` says which
declaration it is ("default of --device", 'choice "auto" of --device'), and is then followed
like a literal: a test such as ``if args.device == "auto": ...`` still resolves it.

One small recogniser per kind; the library names are data in catalogue.py ("Sources").
Every table is built once per module or class (``Follower.source_tables``) and only for
text that mentions the kind.
"""

from __future__ import annotations

import ast
import re

from devicelint.catalogue import (
    ARGPARSE_DECLARE,
    ARGPARSE_DEFAULTS,
    ARGPARSE_PARSE,
    CLICK_CHOICES,
    CLICK_PARAMETERS,
    COMFY_EXECUTE,
    COMFY_FUNCTION,
    COMFY_INPUT,
    COMFY_INPUTS,
    COMFY_OPTIONS,
    COMFY_SCHEMA,
    COMFY_SECTIONS,
    GRADIO_CHOICE_COMPONENTS,
    GRADIO_EVENTS,
    GRADIO_INTERFACE,
    MAPPING_DEFAULT_METHODS,
    RECORD_BASES,
    RECORD_DECORATORS,
    RECORD_FIELD_CALLS,
    RECORD_HOOKS,
    RECORD_LAST_NAMES,
    RECORD_VALIDATOR_WORD,
    SOURCE_KINDS,
    TYPER_PARAMETERS,
)
from devicelint.dataclass import dataclass
from devicelint.follow.scopes import any_between
from devicelint.follow.values import EMPTY, AccessPath, Origin, State, path_of
from devicelint.sinks import qualified_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up
if TYPE_CHECKING:
    from devicelint.follow.engine import Follower
    from devicelint.follow.frame import Frame
    from devicelint.project import ModuleInfo

Parts = list[tuple[AccessPath, frozenset[Origin]]]
Declared = dict[str, frozenset[Origin]]  # name (dest, field, input, parameter) -> origins

SOURCE_ROLE = "source"

# The callee names (method or function) of the calls that read a source, besides record classes.
CALL_WORDS: frozenset[str] = frozenset({*ARGPARSE_PARSE, *MAPPING_DEFAULT_METHODS, "getattr", "vars"})


# --- declarations -> origins -----------------------------------------------------------


def _declared(
    follower: Follower, module: ModuleInfo, default: ast.expr | None, choices: ast.expr | None, subject: str
) -> frozenset[Origin]:
    """Origins of the tracked strings among a default and a literal list of choices."""
    found = []
    tracked = follower.vocabulary.is_tracked
    if isinstance(default, ast.Constant) and isinstance(default.value, str) and tracked(default.value):
        found.append(follower.origins.of(default, SOURCE_ROLE, module.path, None, f"default of {subject}"))
    for choice in _literals(choices):
        if tracked(choice.value):
            found.append(follower.origins.of(choice, SOURCE_ROLE, module.path, None, f'choice "{choice.value}" of {subject}'))
    return frozenset(found)


def _literals(node: ast.expr | None) -> list[ast.Constant]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _table(follower: Follower, key: tuple, build):
    tables = follower.source_tables
    if key not in tables:
        tables[key] = build()
    return tables[key]


# --- argparse ----------------------------------------------------------------------------


def argparse_options(follower: Follower, module: ModuleInfo, scope: ast.AST | None = None) -> Declared:
    """dest -> origins of the parser that ``parse_args()`` in ``scope`` parses: the options
    declared in that function if it declares any, else those of every other parser of the
    module (built in helpers, sub-parsers and groups included)."""
    if not _kinds(follower, module).argparse:
        return {}
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        own = _table(follower, ("argparse", id(scope)), lambda: _argparse_options(follower, module, _declarations(scope)))
        if own:
            return own
    return _table(follower, ("argparse", id(module)), lambda: _argparse_options(follower, module, _shared_declarations(module)))


def _declarations(scope: ast.AST) -> list[ast.Call]:
    return [
        node for node in ast.walk(scope)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (ARGPARSE_DECLARE, ARGPARSE_DEFAULTS)
    ]


def _shared_declarations(module: ModuleInfo) -> list[ast.Call]:
    """The declarations outside the functions that parse their own parser (one pass: each
    call is attributed to the innermost function around it)."""
    declared: list[tuple[ast.Call, int]] = []
    parsing: set[int] = set()
    stack: list[tuple[ast.AST, int]] = [(module.tree, 0)]
    while stack:
        node, owner = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            owner = id(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in (ARGPARSE_DECLARE, ARGPARSE_DEFAULTS):
                declared.append((node, owner))
            elif node.func.attr in ARGPARSE_PARSE:
                parsing.add(owner)
        stack.extend((child, owner) for child in ast.iter_child_nodes(node))
    return [call for call, owner in reversed(declared) if not owner or owner not in parsing]


def _argparse_options(follower: Follower, module: ModuleInfo, calls: list[ast.Call]) -> Declared:
    declared: Declared = {}
    overridden: Declared = {}
    for node in calls:
        if node.func.attr == ARGPARSE_DECLARE:  # type: ignore[attr-defined]
            dest, flag = _dest(node)
            if dest is not None:
                value = _declared(follower, module, _keyword(node, "default"), _keyword(node, "choices"), flag)
                declared[dest] = declared.get(dest, EMPTY) | value
        else:
            for kw in node.keywords:
                if kw.arg is not None:
                    value = _declared(follower, module, kw.value, None, f"{kw.arg} (set_defaults)")
                    overridden[kw.arg] = overridden.get(kw.arg, EMPTY) | value
    for dest, value in overridden.items():
        # set_defaults wins over add_argument's default; the choices stay possible
        kept = frozenset(o for o in declared.get(dest, EMPTY) if not o.parameter.startswith("default of"))  # type: ignore[union-attr]
        declared[dest] = kept | value
    return {dest: value for dest, value in declared.items() if value}


def _dest(call: ast.Call) -> tuple[str | None, str]:
    """(dest, how messages name the option) of an ``add_argument`` call."""
    flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    explicit = _keyword(call, "dest")
    longs = [f for f in flags if f.startswith("--")]
    flag = longs[0] if longs else (flags[0] if flags else "")
    if isinstance(explicit, ast.Constant) and isinstance(explicit.value, str):
        return explicit.value, flag or explicit.value
    if not flag or len(flags) != len(call.args):
        return None, flag
    return flag.lstrip("-").replace("-", "_"), flag


def _parse_args_parts(frame: Frame, call: ast.Call) -> Parts | None:
    where = ARGPARSE_PARSE[call.func.attr]  # type: ignore[attr-defined]
    options = argparse_options(frame.follower, frame.module, frame.scope)
    if not options:
        return None
    parts: Parts = [((f".{dest}",), value) for dest, value in sorted(options.items())]
    if where is None:
        return parts
    return [((where,), EMPTY), *(((where, *suffix), value) for suffix, value in parts)]


# --- click / typer / ComfyUI: values a function receives as parameters ------------------------


def entry_values(frame: Frame, node: ast.AST) -> dict[AccessPath, frozenset[Origin]]:
    """What the parameters of ``node`` receive from a source when nothing in the project calls
    it: click/typer declarations, or the INPUT_TYPES of a ComfyUI node."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {}
    found: dict[AccessPath, frozenset[Origin]] = {}
    kinds = _kinds(frame.follower, frame.module)
    if kinds.click and node.decorator_list:
        found.update(_click_parameters(frame, node))
    args = node.args
    if kinds.typer and (args.defaults or args.kw_defaults):
        found.update(_typer_parameters(frame, node))
    if frame.owner is None and kinds.gradio:
        for index, value in gradio_inputs(frame.follower, frame.module).get(node.name, {}).items():
            positional = [*args.posonlyargs, *args.args]
            if index < len(positional):
                found[(positional[index].arg,)] = value
    if frame.owner is not None and kinds.comfy:
        inputs = comfy_inputs(frame.follower, frame.module, frame.owner).get(node.name)
        if inputs:
            names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            kwargs = args.kwarg.arg if args.kwarg is not None else None
            for name, value in inputs.items():
                if name in names:
                    found[(name,)] = value
                elif kwargs is not None:
                    found[(kwargs, f"[{name!r}]")] = value
    return found


def _click_parameters(frame: Frame, node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[AccessPath, frozenset[Origin]]:
    found = {}
    imports = frame.module.imports
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call) or qualified_name(decorator.func, imports) not in CLICK_PARAMETERS:
            continue
        declarations = [a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        named = [d for d in declarations if not d.startswith("-")]
        longs = [d for d in declarations if d.startswith("--")]
        flag = (longs or declarations or [""])[0]
        name = named[0] if named else flag.lstrip("-").replace("-", "_").lower()
        if not name:
            continue
        flag = flag if flag.startswith("-") else f"argument {name}"
        kind = _keyword(decorator, "type")
        choices = None
        if isinstance(kind, ast.Call) and qualified_name(kind.func, imports) in CLICK_CHOICES and kind.args:
            choices = kind.args[0]
        value = _declared(frame.follower, frame.module, _keyword(decorator, "default"), choices, flag)
        if value:
            found[(name,)] = value
    return found


def _typer_parameters(frame: Frame, node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[AccessPath, frozenset[Origin]]:
    found = {}
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults), *zip(args.kwonlyargs, args.kw_defaults)]
    for arg, default in pairs:
        if not isinstance(default, ast.Call) or qualified_name(default.func, frame.module.imports) not in TYPER_PARAMETERS:
            continue
        declared = default.args[0] if default.args else _keyword(default, "default")
        value = _declared(frame.follower, frame.module, declared, None, "--" + arg.arg.replace("_", "-"))
        if value:
            found[(arg.arg,)] = value
    return found


def gradio_inputs(follower: Follower, module: ModuleInfo) -> dict[str, dict[int, frozenset[Origin]]]:
    """{function name: {parameter position: origins}} of the functions that gradio calls with
    a Dropdown's or Radio's value."""
    return _table(follower, ("gradio", id(module)), lambda: _gradio_inputs(follower, module))


@dataclass(frozen=True)
class _Kinds:
    """Which kinds of source a module's text can hold (read once: functions run many times)."""

    argparse: bool
    click: bool
    typer: bool
    comfy: bool
    gradio: bool


def _kinds(follower: Follower, module: ModuleInfo) -> _Kinds:
    key = ("kinds", id(module))
    found = follower.source_tables.get(key)
    if found is None:
        text = module.text
        imported = {q.split(".", 1)[0] for q in module.imports.values()}
        found = follower.source_tables[key] = _Kinds(
            argparse=ARGPARSE_DECLARE in text and any(name in text for name in ARGPARSE_PARSE),
            click="click" in imported,
            typer="typer" in imported,
            comfy=COMFY_INPUTS in text or COMFY_SCHEMA in text,
            gradio="gradio" in imported and ("Dropdown" in text or "Radio" in text),
        )
    return found  # type: ignore[return-value]


def _gradio_inputs(follower: Follower, module: ModuleInfo) -> dict[str, dict[int, frozenset[Origin]]]:
    imports = module.imports
    components: dict[str, list[ast.Call]] = {}  # name -> the gradio components assigned to it
    wirings: list[tuple[ast.expr, ast.expr]] = []  # (fn, inputs)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and (qualified_name(value.func, imports) or "").startswith("gradio."):
                components.setdefault(node.targets[0].id, []).append(value)  # a component; one per name, else unknown
        if isinstance(node, ast.Call):
            func = node.func
            fn = node.args[0] if node.args else _keyword(node, "fn")
            inputs = node.args[1] if len(node.args) > 1 else _keyword(node, "inputs")
            if fn is None or inputs is None:
                continue
            if qualified_name(func, imports) == GRADIO_INTERFACE or isinstance(func, ast.Attribute) and func.attr in GRADIO_EVENTS:
                wirings.append((fn, inputs))
    found: dict[str, dict[int, frozenset[Origin]]] = {}
    for fn, inputs in wirings:
        if not isinstance(fn, ast.Name) or not isinstance(inputs, (ast.List, ast.Tuple)):
            continue
        for index, element in enumerate(inputs.elts):
            if isinstance(element, ast.Name):
                assigned = components.get(element.id, [])
                element = assigned[0] if len(assigned) == 1 else None  # type: ignore[assignment]
            value = _gradio_choices(follower, module, element) if isinstance(element, ast.Call) else EMPTY
            if value:
                positions = found.setdefault(fn.id, {})
                positions[index] = positions.get(index, EMPTY) | value
    return found


def _gradio_choices(follower: Follower, module: ModuleInfo, call: ast.Call) -> frozenset[Origin]:
    name = qualified_name(call.func, module.imports)
    if name not in GRADIO_CHOICE_COMPONENTS:
        return EMPTY
    choices = call.args[0] if call.args else _keyword(call, "choices")
    label = _keyword(call, "label")
    kind = name.rsplit(".", 1)[1]
    subject = f'{kind} "{label.value}"' if isinstance(label, ast.Constant) and isinstance(label.value, str) else kind
    return _declared(follower, module, _keyword(call, "value"), choices, subject)


def comfy_inputs(follower: Follower, module: ModuleInfo, cls: ast.ClassDef) -> dict[str, Declared]:
    """{FUNCTION's method name: {input: origins}} of a ComfyUI node class."""
    return _table(follower, ("comfy", id(cls)), lambda: _comfy_inputs(follower, module, cls))


def _comfy_inputs(follower: Follower, module: ModuleInfo, cls: ast.ClassDef) -> dict[str, Declared]:
    function = inputs = schema = None
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == COMFY_FUNCTION for t in stmt.targets):
            if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                function = stmt.value.value
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == COMFY_INPUTS:
            inputs = stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == COMFY_SCHEMA:
            schema = stmt
    if schema is not None and function is None:
        declared = _comfy_schema_inputs(follower, module, cls, schema)
        return {COMFY_EXECUTE: declared} if declared else {}
    if function is None or inputs is None:
        return {}
    declared: Declared = {}
    for returned in _returned_dicts(inputs):
        for section, entries in zip(returned.keys, returned.values):
            if not (isinstance(section, ast.Constant) and section.value in COMFY_SECTIONS and isinstance(entries, ast.Dict)):
                continue
            for key, spec in zip(entries.keys, entries.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(spec, (ast.Tuple, ast.List)) and spec.elts):
                    continue
                choices = _module_list(module, spec.elts[0])
                options = spec.elts[1] if len(spec.elts) > 1 and isinstance(spec.elts[1], ast.Dict) else None
                default = None
                if options is not None:
                    default = next((v for k, v in zip(options.keys, options.values) if isinstance(k, ast.Constant) and k.value == "default"), None)
                subject = f"input {key.value} of node {cls.name}"
                value = _declared(follower, module, default, choices, subject)
                if value:
                    declared[key.value] = declared.get(key.value, EMPTY) | value
    return {function: declared} if declared else {}


def _comfy_schema_inputs(
    follower: Follower, module: ModuleInfo, cls: ast.ClassDef, schema: ast.FunctionDef | ast.AsyncFunctionDef
) -> Declared:
    """{input: origins} of the ``X.Input(name, options=[...], default=...)`` calls in a V3
    node's ``define_schema``."""
    declared: Declared = {}
    for node in ast.walk(schema):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == COMFY_INPUT):
            continue
        name = node.args[0] if node.args else _keyword(node, "id")
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            continue
        options = _keyword(node, COMFY_OPTIONS)
        value = _declared(
            follower, module, _keyword(node, "default"), _module_list(module, options) if options is not None else None,
            f"input {name.value} of node {cls.name}",
        )
        if value:
            declared[name.value] = declared.get(name.value, EMPTY) | value
    return declared


def _returned_dicts(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Dict]:
    """The dict literals a function returns, directly or through one local name."""
    assigned: dict[str, ast.Dict] = {}
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Dict):
            assigned[node.targets[0].id] = node.value
    for node in ast.walk(function):
        if isinstance(node, ast.Return):
            if isinstance(node.value, ast.Dict):
                found.append(node.value)
            elif isinstance(node.value, ast.Name) and node.value.id in assigned:
                found.append(assigned[node.value.id])
    return found


def _module_list(module: ModuleInfo, node: ast.expr) -> ast.expr:
    """A literal list, or the literal a module-level name is assigned (``DEVICES = [...]``)."""
    if isinstance(node, ast.Name):
        for stmt in module.tree.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets):
                return stmt.value
    return node


# --- records: dataclass / attrs / pydantic / NamedTuple --------------------------------------


def record_fields(follower: Follower, module: ModuleInfo, cls: ast.ClassDef) -> tuple[list[str], Declared]:
    """(the fields in order, field -> origins of its declared strings) of a record class;
    a field that a hook or validator mentions is left out (it may be resolved there)."""
    return _table(follower, ("record", id(cls)), lambda: _record_fields(follower, module, cls))


def _is_record(module: ModuleInfo, cls: ast.ClassDef) -> bool:
    imports = module.imports
    for decorator in cls.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if qualified_name(target, imports) in RECORD_DECORATORS:
            return True
    return any(qualified_name(base, imports) in RECORD_BASES for base in cls.bases)


def _record_fields(follower: Follower, module: ModuleInfo, cls: ast.ClassDef) -> tuple[list[str], Declared]:
    if not _is_record(module, cls):
        return [], {}
    order: list[str] = []
    declared: Declared = {}
    hooks = [
        s for s in cls.body
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (s.name in RECORD_HOOKS or any(RECORD_VALIDATOR_WORD in _last_name(d) for d in s.decorator_list))
    ]
    mentioned = set().union(*(follower.words_of(module, h) for h in hooks)) if hooks else set()
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            # attrs without annotations: device = attr.ib(default=...)
            if not (isinstance(stmt.value, ast.Call) and qualified_name(stmt.value.func, module.imports) in RECORD_FIELD_CALLS):
                continue
            name, annotation = stmt.targets[0].id, None
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if _last_name(stmt.annotation) == "ClassVar":
                continue
            name, annotation = stmt.target.id, stmt.annotation
        else:
            continue
        order.append(name)
        if name in mentioned:
            continue
        default = stmt.value
        if isinstance(default, ast.Call):
            positional = RECORD_FIELD_CALLS.get(qualified_name(default.func, module.imports) or "")
            if positional is None:
                continue
            default = default.args[0] if positional and default.args else _keyword(default, "default")
        choices = _literal_choices(annotation) if annotation is not None else None
        value = _declared(follower, module, default, choices, f"field {name} of {cls.name}")
        if value:
            declared[name] = value
    return order, declared


def _literal_choices(annotation: ast.expr) -> ast.expr | None:
    """The strings of a ``Literal[...]`` annotation (also inside Optional[...] and unions)."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Subscript):
            base = node.value
            name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
            if name == "Literal":
                return node.slice if isinstance(node.slice, ast.Tuple) else ast.Tuple(elts=[node.slice])
    return None


def _instance_parts(frame: Frame, call: ast.Call) -> Parts | None:
    """The fields a record constructor leaves at their declared values."""
    follower = frame.follower
    found = follower.definition_of(frame.module, call.func, accept=lambda t: t is follower.home or t is frame.module)
    if found is None or not isinstance(found[1], ast.ClassDef):
        return None
    module, cls = found
    order, declared = record_fields(follower, module, cls)
    if not declared or any(isinstance(a, ast.Starred) for a in call.args) or any(kw.arg is None for kw in call.keywords):
        return None  # *args / **kwargs may set any field
    given = set(order[: len(call.args)]) | {kw.arg for kw in call.keywords}
    return [((f".{name}",), value) for name, value in sorted(declared.items()) if name not in given]


# --- mapping defaults and vars() -----------------------------------------------------------


def _mapping_default(frame: Frame, call: ast.Call, state: State) -> frozenset[Origin] | None:
    """``d.get("device", "auto")`` / ``getattr(o, "device", "auto")``: the default, or the entry."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in MAPPING_DEFAULT_METHODS:
        receiver, call_args, key_step, label = func.value, call.args, "[{!r}]", f".{func.attr}"
    elif isinstance(func, ast.Name) and func.id == "getattr" and len(call.args) == 3 and not frame._shadowed("getattr"):
        receiver, call_args, key_step, label = call.args[0], call.args[1:], ".{}", "getattr"
    else:
        return None
    if len(call_args) != 2 or call.keywords:
        return None
    key, default = call_args
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return None
    value = EMPTY
    if frame.is_tracked_literal(default):
        value = frozenset({frame.follower.origins.of(default, SOURCE_ROLE, frame.module.path, None, f'default of {label}("{key.value}")')})  # type: ignore[arg-type]
    base = path_of(receiver)
    if base is not None:
        entry = (*base, key_step.format(key.value))
        held = frame.read(state, entry)
        if label == ".setdefault":
            state.set(entry, held | value)
        value = value | held
    return value


def _vars_parts(frame: Frame, call: ast.Call, state: State) -> Parts | None:
    """``vars(args)``: the namespace's attributes as string-keyed entries."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "vars" and len(call.args) == 1 and not call.keywords):
        return None
    if call.func.id in frame.module.imports or frame._shadowed("vars"):
        return None
    parts = frame.structure(call.args[0], state)  # a namespace held in a name, or parse_args() itself
    return [((f"[{suffix[0][1:]!r}]", *suffix[1:]), value) for suffix, value in parts if suffix[0].startswith(".")]


def call_value(frame: Frame, call: ast.Call, state: State) -> tuple[frozenset[Origin], Parts] | None:
    """(value, parts) of a call that reads a source, or None."""
    func = call.func
    if isinstance(func, ast.Attribute):
        name = func.attr
        if name in ARGPARSE_PARSE:
            parts = _parse_args_parts(frame, call)
            return (EMPTY, parts) if parts else None
    elif isinstance(func, ast.Name):
        name = func.id
    else:
        return None
    if name in MAPPING_DEFAULT_METHODS or name == "getattr":
        value = _mapping_default(frame, call, state)
        return (value, []) if value is not None else None
    if name == "vars":
        parts = _vars_parts(frame, call, state)
    elif name in frame.follower.home_records:
        parts = _instance_parts(frame, call)
    else:
        return None
    return (EMPTY, parts) if parts else None


# --- which scopes read a source ------------------------------------------------------------


def reader_names(follower: Follower, module: ModuleInfo, candidate_lines: set[int]) -> set[str]:
    """Words that mark the scopes receiving a value from a source declared in ``module``
    (``parse_args``, a record class's name, the method a ComfyUI node's FUNCTION names):
    those scopes run even when no candidate line is in them. A declaration of a tracked
    string holds a candidate line, so only the statements around one are looked at."""
    names: set[str] = set()
    kinds = _kinds(follower, module)
    lines = sorted(candidate_lines)
    if kinds.gradio:
        names.update(gradio_inputs(follower, module))
    for stmt in module.tree.body:
        if kinds.comfy and isinstance(stmt, ast.ClassDef):  # its choices may be a module-level list
            names.update(comfy_inputs(follower, module, stmt))
        if not any_between(lines, stmt.lineno, stmt.end_lineno or stmt.lineno):
            continue
        if kinds.argparse and ARGPARSE_DECLARE in _text_of(module, stmt):
            names.update(ARGPARSE_PARSE)  # a declaration around a candidate (a superset: no walk)
        if isinstance(stmt, ast.ClassDef) and stmt.name in records_with_sources(follower, module):
            names.add(stmt.name)
    return names


def _text_of(module: ModuleInfo, node: ast.stmt) -> str:
    return "".join(module.lines[node.lineno - 1 : node.end_lineno or node.lineno])


def records_with_sources(follower: Follower, module: ModuleInfo | None) -> frozenset[str]:
    """The top-level record classes of the reported module with a declared tracked string
    (another module's strings are reported there). Such a field holds a candidate line."""
    if module is None or module is not follower.home:
        return frozenset()
    key = ("records", id(module))
    found = follower.source_tables.get(key)  # asked for each call: no closure to build
    if found is None:
        lines = follower.candidate_lines
        found = follower.source_tables[key] = frozenset(
            stmt.name for stmt in module.tree.body
            if isinstance(stmt, ast.ClassDef) and _may_be_record(stmt)
            and (lines is None or any_between(lines, stmt.lineno, stmt.end_lineno or stmt.lineno))
            and record_fields(follower, module, stmt)[1]
        )
    return found  # type: ignore[return-value]


def may_read_escaping(importer: ModuleInfo, names: set[str], records: frozenset[str]) -> bool:
    """Whether an importer can read what escapes the reported module: it mentions one of the
    other escaping names, or calls a record class (an import only for a type hint or an
    isinstance() reads no field default). A text check, before the importer is parsed."""
    text = importer.text
    others = names - records
    if others and re.search(r"\b(?:" + "|".join(map(re.escape, sorted(others))) + r")\b", text):
        return True
    return any(f"{name}(" in text for name in names & records)


def _may_be_record(cls: ast.ClassDef) -> bool:
    """A cheap look at the last names of the decorators and bases (before resolving them)."""
    return any(_last_name(node) in RECORD_LAST_NAMES for node in (*cls.decorator_list, *cls.bases))


def _last_name(node: ast.expr) -> str:
    """``dataclass`` of ``@dataclasses.dataclass(frozen=True)``, ``ClassVar`` of ``ClassVar[str]``."""
    while isinstance(node, (ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


# --- documentation -------------------------------------------------------------------------


def render_doc() -> str:
    """The "Sources" table of DEV002.md, from the catalogue."""
    rows = ["| source | declares the strings | the value arrives in |", "| --- | --- | --- |"]
    rows += [f"| {kind.name} | {kind.declared} | {kind.read} |" for kind in SOURCE_KINDS]
    return "\n".join(rows) + "\n"
