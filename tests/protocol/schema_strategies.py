"""Hypothesis strategies that generate any message a schema allows at a given version."""

from __future__ import annotations

from hypothesis import strategies as st

from protocol.compiler import classes_for
from protocol.schema import Field, MessageSpec

_INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint16": (0, (1 << 16) - 1),
    "uint32": (0, (1 << 32) - 1),
}

_text = st.text(max_size=12)
_binary = st.binary(max_size=24)


def _scalar(spec: MessageSpec, f: Field, version: int, flexible: bool, depth: int) -> st.SearchStrategy:
    kind = f.type
    if kind in _INT_RANGES:
        lo, hi = _INT_RANGES[kind]
        return st.integers(lo, hi)
    if kind == "bool":
        return st.booleans()
    if kind == "float64":
        return st.floats(allow_nan=False)
    if kind == "uuid":
        return st.uuids()
    if kind == "string":
        return _text
    if kind in ("bytes", "records"):
        return _binary
    return struct_strategy(spec, spec.struct_of(f).name, version, flexible, depth + 1)


def _field(spec: MessageSpec, f: Field, version: int, flexible: bool, depth: int) -> st.SearchStrategy:
    item = _scalar(spec, f, version, flexible, depth)
    if f.is_array:
        value = st.lists(item, max_size=3 if depth < 3 else 1)
    else:
        value = item
    if version in f.nullable:
        value = st.none() | value
    return value


def struct_strategy(spec: MessageSpec, name: str, version: int, flexible: bool, depth: int = 0) -> st.SearchStrategy:
    cls = classes_for(spec)[name]
    struct = spec.structs[name]
    kwargs = {}
    for f in struct.fields:
        if version in f.versions:
            kwargs[f.name] = _field(spec, f, version, flexible, depth)
    return st.builds(cls, **kwargs)


def message_strategy(spec: MessageSpec, version: int) -> st.SearchStrategy:
    return struct_strategy(spec, spec.name, version, version in spec.flexible)
