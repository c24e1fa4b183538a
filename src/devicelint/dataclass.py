"""``dataclass``, ``field`` and ``replace``: the part of the standard ``dataclasses`` that
devicelint uses, made for start-up.

The standard module imports ``inspect`` (6 ms) and compiles each generated method of each
class separately (0.4 ms a class, 0.7 ms a frozen one): with devicelint's 38 classes, a
third of the time a run on one file took. Here a class costs one compile, of its
``__init__`` alone (0.1 ms); ``__eq__``, ``__hash__`` and ``__repr__`` are closures over an
``operator.attrgetter`` of the fields.

What is supported is what devicelint's classes use, with the standard semantics
(tests/test_dataclass.py compares each with ``dataclasses``): fields from the class's own
annotations (no base dataclasses, no ``ClassVar``/``InitVar``), defaults and
``field(default=..., default_factory=..., compare=...)``, ``__post_init__``, ``frozen``,
``eq``, ``slots``; anything else raises TypeError or ValueError when the class is made.
Methods the class defines itself are kept, as the standard decorator keeps them.

A frozen instance's fields are set in its ``__dict__`` directly (the standard one calls
``object.__setattr__`` per field): the same result, a few times faster to make.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING (type checkers take it as true) without importing typing: 2-4 ms of start-up


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen instance (as ``dataclasses.FrozenInstanceError``)."""


class Field:
    __slots__ = ("name", "default", "default_factory", "compare")

    def __init__(self, default, default_factory, compare) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name: str | None = None
        self.default, self.default_factory, self.compare = default, default_factory, compare


def _field(*, default=MISSING, default_factory=MISSING, compare=True) -> Field:
    return Field(default, default_factory, compare)


_SUPPORTED = frozenset({"frozen", "eq", "slots"})


def _dataclass(cls=None, /, **options):
    unknown = set(options) - _SUPPORTED
    if unknown:
        raise TypeError(f"devicelint.dataclass does not support {sorted(unknown)}")
    if cls is None:
        return lambda cls: _process(cls, **options)
    return _process(cls, **options)


def _replace(obj, /, **changes):
    """A copy of ``obj`` with some fields changed, made by ``__init__`` (as ``dataclasses.replace``)."""
    fields = obj.__class__.__devicelint_fields__
    for name in changes:
        if name not in fields:
            raise TypeError(f"{obj.__class__.__name__}.__init__() got an unexpected keyword argument {name!r}")
    for name in fields:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def _fields_of(cls) -> dict[str, Field]:
    fields = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.split("[", 1)[0].rsplit(".", 1)[-1] in ("ClassVar", "InitVar"):
            raise TypeError(f"{cls.__name__}.{name}: devicelint.dataclass does not support {annotation}")
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            spec = value
        else:
            if isinstance(value, (list, dict, set)):
                raise ValueError(f"mutable default {type(value)} for field {name} is not allowed: use default_factory")
            spec = Field(value, MISSING, True)
        spec.name = name
        fields[name] = spec
    return fields


def _init_source(cls, fields: dict[str, Field], frozen: bool, slots: bool) -> tuple[str, dict]:
    """The source of ``__init__``, and the names it needs (defaults, factories)."""
    names: dict = {"_MISSING": MISSING}
    parameters, body = [], []
    seen_default = False
    if frozen and not slots:  # a __dict__: the fields go there directly
        body.append("_d = self.__dict__")
        store = "_d[{name!r}] = {value}"
    elif frozen:
        names["_set"] = object.__setattr__
        store = "_set(self, {name!r}, {value})"
    else:
        store = "self.{name} = {value}"
    for name, spec in fields.items():
        value = name
        if spec.default_factory is not MISSING:
            names[f"_factory_{name}"] = spec.default_factory
            parameters.append(f"{name}=_MISSING")
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
            seen_default = True
        elif spec.default is not MISSING:
            names[f"_default_{name}"] = spec.default
            parameters.append(f"{name}=_default_{name}")
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            parameters.append(name)
        body.append(store.format(name=name, value=value))
    if "__post_init__" in cls.__dict__:
        body.append("self.__post_init__()")
    source = f"def __init__({', '.join(['self', *parameters])}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    return source, names


def _process(cls, frozen: bool = False, eq: bool = True, slots: bool = False):
    fields = _fields_of(cls)
    if slots:
        if "__slots__" in cls.__dict__:
            raise TypeError(f"{cls.__name__} already specifies __slots__")
        namespace = {k: v for k, v in cls.__dict__.items() if k not in fields and k not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = tuple(fields)
        cls = type(cls)(cls.__name__, cls.__bases__, namespace)
    else:
        for name, spec in fields.items():  # as the standard decorator: a field's default stays a class attribute
            if isinstance(cls.__dict__.get(name), Field):
                if spec.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
    source, names = _init_source(cls, fields, frozen, slots)
    exec(compile(source, f"<devicelint.dataclass {cls.__qualname__}.__init__>", "exec"), names)
    _set_default(cls, "__init__", names["__init__"])
    cls.__devicelint_fields__ = tuple(fields)
    cls.__match_args__ = tuple(fields)
    _set_default(cls, "__repr__", _repr_of(tuple(fields)))
    if eq:
        values = _values_of([name for name, spec in fields.items() if spec.compare])
        _set_default(cls, "__eq__", _eq_of(values))
        if cls.__dict__.get("__hash__", None) is None:  # none of its own
            cls.__hash__ = _hash_of(values) if frozen else None
    if frozen:
        _set_default(cls, "__setattr__", _frozen_setattr(cls, fields))
        _set_default(cls, "__delattr__", _frozen_delattr(cls, fields))
    return cls


def _values_of(names: list[str]):
    """The tuple of the compared fields' values (attrgetter of one name gives the value alone)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda self: (get(self),)
    return lambda self: ()


def _set_default(cls, name: str, value) -> None:
    if name not in cls.__dict__:
        value.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, value)


def _repr_of(names: tuple[str, ...]):
    getters = [(name, attrgetter(name)) for name in names]

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={get(self)!r}' for name, get in getters)})"

    return __repr__


def _eq_of(values):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash_of(values):
    def __hash__(self) -> int:
        return hash(values(self))

    return __hash__


def _frozen_setattr(cls, fields):
    def __setattr__(self, name, value):
        if type(self) is cls or name in fields:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls, fields):
    def __delattr__(self, name):
        if type(self) is cls or name in fields:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


if TYPE_CHECKING:  # type checkers know the standard ones (and so each class's __init__)
    from dataclasses import dataclass, field, replace
else:
    dataclass, field, replace = _dataclass, _field, _replace
