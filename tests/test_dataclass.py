"""devicelint.dataclass behaves as the standard dataclasses for every shape devicelint uses:
each class below is made twice, by each decorator, and every observable result compared."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

import devicelint.dataclass as ours

# (decorator options, field declarations, a few constructor calls: (args, kwargs))
SHAPES = {
    "frozen": (
        {"frozen": True},
        [("code", "str", None), ("line", "int", None), ("label", "str", {"default": ""}), ("steps", "tuple", {"default": ()})],
        [(("DEV001", 3), {}), (("DEV002", 4, "x"), {}), ((), {"code": "DEV900", "line": 1, "steps": (1, 2)})],
    ),
    "frozen, compare=False field": (
        {"frozen": True},
        [("code", "str", None), ("related", "tuple", {"field": {"default": (), "compare": False}})],
        [(("DEV001",), {}), (("DEV001", (1,)), {}), (("DEV002", (1,)), {})],
    ),
    "frozen, one field, factory": (
        {"frozen": True},
        [("types", "frozenset", {"field": {"default_factory": frozenset}})],
        [((), {}), ((frozenset({"npu"}),), {})],
    ),
    "frozen, eq=False": (
        {"frozen": True, "eq": False},
        [("value", "str", None), ("path", "str | None", {"default": None})],
        [(("auto",), {}), (("auto", "a.py"), {})],
    ),
    "plain, factories": (
        {},
        [("files", "list[str]", {"field": {"default_factory": list}}), ("errors", "dict", {"field": {"default_factory": dict}})],
        [((), {}), ((["a.py"],), {"errors": {"b": 1}})],
    ),
    "plain, eq=False": (
        {"eq": False},
        [("modules", "dict", {"field": {"default_factory": dict}}), ("count", "int", {"default": 0})],
        [((), {}), (({"m": 1}, 2), {})],
    ),
    "slots": (
        {"slots": True},
        [("path", "str", None), ("findings", "tuple", {"default": ()}), ("error", "str | None", {"default": None})],
        [(("a.py",), {}), (("a.py", (1,)), {"error": "cannot read"})],
    ),
    "no fields, frozen": ({"frozen": True}, [], [((), {})]),
}


def make(decorator, options: dict, fields: list, post_init: bool = False) -> type:
    namespace: dict = {"__annotations__": {}, "__module__": __name__, "__qualname__": "Shape"}
    for name, annotation, spec in fields:
        namespace["__annotations__"][name] = annotation
        if spec is None:
            continue
        if "field" in spec:
            namespace[name] = decorator.field(**spec["field"])
        else:
            namespace[name] = spec["default"]
    if post_init:
        def __post_init__(self) -> None:
            object.__setattr__(self, "seen", [getattr(self, name) for name, _, _ in fields])

        namespace["__post_init__"] = __post_init__
    return decorator.dataclass(**options)(type("Shape", (), namespace))


def observe(cls: type, calls: list) -> list:
    """Everything a user of the class can see, as comparable values."""
    seen: list = []
    globals()["Shape"] = cls  # pickle finds a class by its module and name
    made = [cls(*args, **kwargs) for args, kwargs in calls]
    for one in made:
        seen.append(("repr", repr(one)))
        seen.append(("vars", sorted(vars(one).items()) if hasattr(one, "__dict__") else None))
        seen.append(("slots", getattr(cls, "__slots__", None), hasattr(one, "__dict__")))
        for other in made:
            seen.append(("eq", one == other, one != other))
        seen.append(("eq other type", one == object(), one == ()))
        try:
            seen.append(("hash", hash(one) == hash(copy.copy(one))))
        except TypeError as error:
            seen.append(("hash", str(error)))
        for name in list(cls.__annotations__)[:1]:
            try:
                setattr(one, name, "changed")
                seen.append(("set", getattr(one, name)))
            except AttributeError as error:
                seen.append(("set refused", str(error)))
            try:
                setattr(one, "other", 1)
                seen.append(("set other", one.other))
            except AttributeError as error:
                seen.append(("set other refused", type(error).__name__ == "FrozenInstanceError"))
        again = pickle.loads(pickle.dumps(one))
        seen.append(("pickle", repr(again), again == one))
    for name, _ in cls.__annotations__.items():
        seen.append(("class attribute", name, repr(getattr(cls, name, "absent"))))
    seen.append(("match_args", cls.__match_args__))
    return seen


@pytest.mark.parametrize("shape", SHAPES)
def test_a_class_behaves_as_a_standard_dataclass(shape: str) -> None:
    options, fields, calls = SHAPES[shape]
    assert observe(make(ours, options, fields), calls) == observe(make(dataclasses, options, fields), calls)


@pytest.mark.parametrize("shape", [name for name, (options, _, _) in SHAPES.items() if not options.get("slots")])
def test_replace_and_post_init_as_the_standard(shape: str) -> None:
    options, fields, calls = SHAPES[shape]  # (the test's __post_init__ stores an attribute: no __slots__)
    mine, theirs = make(ours, options, fields, post_init=True), make(dataclasses, options, fields, post_init=True)
    for args, kwargs in calls:
        a, b = mine(*args, **kwargs), theirs(*args, **kwargs)
        assert a.seen == b.seen
        for name in cls_fields(fields):
            assert repr(ours.replace(a, **{name: "new"})) == repr(dataclasses.replace(b, **{name: "new"}))
        assert repr(ours.replace(a)) == repr(dataclasses.replace(b))


def cls_fields(fields: list) -> list[str]:
    return [name for name, _, _ in fields]


def test_a_default_factory_makes_a_new_value_each_time() -> None:
    cls = make(ours, {}, [("files", "list", {"field": {"default_factory": list}})])
    assert cls().files is not cls().files


@pytest.mark.parametrize(
    ("options", "fields", "error"),
    [
        ({}, [("a", "int", {"default": 1}), ("b", "int", None)], TypeError),  # non-default after default
        ({}, [("a", "list", {"default": []})], ValueError),  # mutable default
        ({}, [("a", "ClassVar[int]", {"default": 1})], TypeError),  # not supported: refused, not misread
        ({"order": True}, [("a", "int", None)], TypeError),  # an option devicelint does not use
    ],
)
def test_what_is_not_supported_is_refused(options: dict, fields: list, error: type) -> None:
    with pytest.raises(error):
        make(ours, options, fields)


@pytest.mark.parametrize(("args", "kwargs"), [((1, 2, 3), {}), ((), {"nope": 1}), ((), {})])
def test_bad_calls_fail_as_the_standard(args: tuple, kwargs: dict) -> None:
    fields = [("a", "int", None), ("b", "int", {"default": 0})]
    errors = []
    for decorator in (ours, dataclasses):
        with pytest.raises(TypeError) as raised:
            make(decorator, {"frozen": True}, fields)(*args, **kwargs)
        errors.append(str(raised.value).split("__init__() ")[-1])
    assert errors[0] == errors[1]


def test_replace_refuses_an_unknown_field() -> None:
    cls = make(ours, {"frozen": True}, [("a", "int", None)])
    with pytest.raises(TypeError):
        ours.replace(cls(1), b=2)


def test_methods_the_class_defines_are_kept() -> None:
    namespace = {"__annotations__": {"a": "int"}, "__repr__": lambda self: "mine", "__qualname__": "K"}
    cls = ours.dataclass(frozen=True)(type("K", (), namespace))
    assert repr(cls(1)) == "mine"
