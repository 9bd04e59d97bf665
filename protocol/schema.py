"""How a message is declared: version ranges, fields and structs, parsed from a compact text form.

A schema is data. Each field is one line, children indented by two spaces under their parent:

    <name> <type> [<versions>] [option ...]

`type` is a primitive (int8 int16 int32 int64 uint16 uint32 float64 bool uuid string bytes
records), a struct name (a single nested struct), or `[T]` for an array of either. `versions`
defaults to `0+`. Options: `nullable=<range>`, `default=<value>`, `tag=<n>` with optional
`tagged=<range>` (defaults to the field's versions), `ignorable`, `key` (map key), `entity=<kind>`,
`flexible=none` (never use compact encoding for this field), `zerocopy`.
Structs shared by several fields are declared in a message's `structs` text: a struct name at
the left margin, its fields indented below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

PRIMITIVES = frozenset(
    {"int8", "int16", "int32", "int64", "uint16", "uint32", "float64", "bool", "uuid", "string",
     "bytes", "records"}
)

_MAX_VERSION = 0x7FFF


@dataclass(slots=True, frozen=True)
class VersionRange:
    """An inclusive range of versions; `none` is the empty range."""

    low: int
    high: int

    @classmethod
    def parse(cls, text: str) -> "VersionRange":
        text = text.strip()
        if text == "none":
            return cls(1, 0)
        if text.endswith("+"):
            return cls(int(text[:-1]), _MAX_VERSION)
        if "-" in text:
            low, high = text.split("-", 1)
            return cls(int(low), int(high))
        return cls(int(text), int(text))

    def __contains__(self, version: int) -> bool:
        return self.low <= version <= self.high

    @property
    def empty(self) -> bool:
        return self.low > self.high

    def __str__(self) -> str:
        if self.empty:
            return "none"
        if self.high == _MAX_VERSION:
            return f"{self.low}+"
        if self.low == self.high:
            return str(self.low)
        return f"{self.low}-{self.high}"


NONE = VersionRange(1, 0)


@dataclass(slots=True)
class Field:
    """One field of a struct, with the versions it exists in and how it is encoded."""

    name: str
    type: str  # primitive or struct name; arrays have is_array set and type = element type
    versions: VersionRange
    is_array: bool = False
    nullable: VersionRange = NONE
    default: str | None = None  # the declared default, as text; None means the type's own
    tag: int | None = None
    tagged: VersionRange = NONE
    ignorable: bool = False
    map_key: bool = False
    entity: str | None = None
    never_flexible: bool = False
    zero_copy: bool = False
    fields: list["Field"] = field(default_factory=list)  # for an inline struct

    @property
    def is_struct(self) -> bool:
        return self.type not in PRIMITIVES

    @property
    def is_tagged(self) -> bool:
        return self.tag is not None


@dataclass(slots=True)
class Struct:
    """A named group of fields: the message itself, or a nested or shared struct."""

    name: str
    fields: list[Field]


@dataclass
class MessageSpec:
    """A request, response, header or data message: its versions and its structs.

    The field text is parsed on first use, so that declaring every API costs little at import.
    """

    name: str
    api_key: int | None
    kind: str  # request | response | header | data
    versions: VersionRange
    flexible: VersionRange
    fields_text: str = ""
    structs_text: str = ""
    listeners: tuple[str, ...] = ()

    @cached_property
    def fields(self) -> list[Field]:
        return parse_fields(self.fields_text)

    @cached_property
    def common(self) -> dict[str, Struct]:
        return parse_structs(self.structs_text)

    @cached_property
    def structs(self) -> dict[str, Struct]:
        """Every struct of the message by name, the message itself first."""
        found: dict[str, Struct] = {self.name: Struct(self.name, self.fields)}

        def visit(fields: list[Field]) -> None:
            for f in fields:
                if not f.is_struct:
                    continue
                if f.fields:
                    if f.type not in found:
                        found[f.type] = Struct(f.type, f.fields)
                    visit(f.fields)
                elif f.type in self.common:
                    if f.type not in found:
                        found[f.type] = self.common[f.type]
                        visit(self.common[f.type].fields)
                else:
                    raise ValueError(f"{self.name}: unknown struct type {f.type!r} of {f.name}")

        visit(self.fields)
        return found

    def struct_of(self, f: Field) -> Struct:
        return self.structs[f.type]


class SchemaError(ValueError):
    """A schema text that does not parse."""


_LINE = re.compile(r"^( *)(\S.*)$")


def _parse_lines(text: str) -> list[tuple[int, list[str]]]:
    rows = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        m = _LINE.match(line)
        assert m is not None
        indent = len(m.group(1))
        if indent % 2:
            raise SchemaError(f"indentation must be a multiple of two: {raw!r}")
        rows.append((indent // 2, m.group(2).split()))
    return rows


def _parse_field(tokens: list[str]) -> Field:
    if len(tokens) < 2:
        raise SchemaError(f"a field needs a name and a type: {' '.join(tokens)!r}")
    name, type_text, rest = tokens[0], tokens[1], tokens[2:]
    is_array = type_text.startswith("[")
    if is_array:
        if not type_text.endswith("]"):
            raise SchemaError(f"bad array type {type_text!r}")
        type_text = type_text[1:-1]
    versions = VersionRange.parse("0+")
    if rest and (rest[0][0].isdigit() or rest[0] == "none"):
        versions = VersionRange.parse(rest.pop(0))
    f = Field(name=name, type=type_text, versions=versions, is_array=is_array)
    tagged_text = None
    for opt in rest:
        key, _, value = opt.partition("=")
        if key == "nullable":
            f.nullable = VersionRange.parse(value)
        elif key == "default":
            f.default = "" if value == '""' else value
        elif key == "tag":
            f.tag = int(value)
        elif key == "tagged":
            tagged_text = value
        elif key == "ignorable":
            f.ignorable = True
        elif key == "key":
            f.map_key = True
        elif key == "entity":
            f.entity = value
        elif key == "flexible" and value == "none":
            f.never_flexible = True
        elif key == "zerocopy":
            f.zero_copy = True
        else:
            raise SchemaError(f"unknown option {opt!r} on field {name}")
    if f.tag is not None:
        f.tagged = VersionRange.parse(tagged_text) if tagged_text else f.versions
    return f


def parse_fields(text: str) -> list[Field]:
    """Parse an indented field list into a tree of Fields."""
    root: list[Field] = []
    stack: list[list[Field]] = [root]
    for depth, tokens in _parse_lines(text):
        if depth >= len(stack):
            raise SchemaError(f"unexpected indentation at {' '.join(tokens)!r}")
        del stack[depth + 1 :]
        f = _parse_field(tokens)
        stack[depth].append(f)
        stack.append(f.fields)
    return root


def parse_structs(text: str) -> dict[str, Struct]:
    """Parse shared struct declarations: a name at the margin, its fields indented below."""
    structs: dict[str, Struct] = {}
    current: list[str] = []
    name = None

    def flush() -> None:
        if name is not None:
            structs[name] = Struct(name, parse_fields("\n".join(current)))

    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            flush()
            name = line.split()[0]
            current = []
        else:
            current.append(line[2:])
    flush()
    return structs


def message(
    name: str,
    *,
    kind: str,
    versions: str,
    flexible: str = "none",
    fields: str = "",
    structs: str = "",
    api_key: int | None = None,
    listeners: tuple[str, ...] = (),
) -> MessageSpec:
    """Declare a message from its version ranges and field text."""
    return MessageSpec(
        name=name,
        api_key=api_key,
        kind=kind,
        versions=VersionRange.parse(versions),
        flexible=VersionRange.parse(flexible),
        fields_text=fields,
        structs_text=structs,
        listeners=listeners,
    )


_SNAKE_1 = re.compile(r"(.)([A-Z][a-z]+)")
_SNAKE_2 = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """`ThrottleTimeMs` -> `throttle_time_ms`: how the project names Kafka's fields."""
    name = name.replace("KRaft", "Kraft")
    return _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", name)).lower()
