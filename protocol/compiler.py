"""The one compiler from schemas to codecs: Python source per (message, version), exec'd once.

A message's structs become plain classes with `__slots__` holding the union of the fields of
every version (like Kafka's generated data classes). For each version the compiler emits
straight-line decode and encode functions: runs of fixed-width fields go through one
precompiled `struct.Struct`, and no field is interpreted at run time.
"""

from __future__ import annotations

import struct
import threading
import uuid
from typing import Any, Callable

from protocol import types as t
from protocol.errors import DecodeError, EncodeError
from protocol.schema import Field, MessageSpec, Struct

_MISSING = object()

_INT_TYPES = frozenset({"int8", "int16", "int32", "int64", "uint16", "uint32"})


class Message:
    """Base of every generated message and struct class."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _spec: MessageSpec | None = None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dicts and lists, for logging and tests."""

        def plain(v: Any) -> Any:
            if isinstance(v, Message):
                return v.to_dict()
            if isinstance(v, list):
                return [plain(x) for x in v]
            if isinstance(v, memoryview):
                return bytes(v)
            return v

        return {f: plain(getattr(self, f)) for f in self._fields}


# --- defaults -----------------------------------------------------------------------------

def _default_literal(f: Field) -> str | None:
    """A Python expression for the field's default, or None if it needs a fresh object."""
    d = f.default
    if f.is_array:
        return "None" if d == "null" else None
    if d == "null":
        return "None"
    if f.is_struct:
        return None
    if d is not None:
        if f.type in _INT_TYPES:
            return repr(int(d, 0))
        if f.type == "bool":
            return repr(d == "true")
        if f.type == "float64":
            return repr(float(d))
        if f.type == "string":
            return repr(d)
        if f.type == "uuid":
            return "_ZERO_UUID"
    return {
        "float64": "0.0",
        "bool": "False",
        "string": "''",
        "bytes": "b''",
        "records": "None",
        "uuid": "_ZERO_UUID",
    }.get(f.type, "0")


def _fresh_default(f: Field) -> str:
    """Expression that builds a fresh default object (lists, structs)."""
    if f.is_array:
        return "[]"
    return f"{f.type}()"


def default_expr(f: Field) -> str:
    lit = _default_literal(f)
    return lit if lit is not None else _fresh_default(f)


# --- classes --------------------------------------------------------------------------------

def _class_source(s: Struct) -> str:
    names = [f.name for f in s.fields]
    params = []
    body = []
    for f in s.fields:
        lit = _default_literal(f)
        if lit is not None:
            params.append(f"{f.name}={lit}")
            body.append(f"        self.{f.name} = {f.name}")
        else:
            params.append(f"{f.name}=_MISSING")
            body.append(
                f"        self.{f.name} = {_fresh_default(f)} if {f.name} is _MISSING else {f.name}"
            )
    lines = [
        f"class {s.name}(Message):",
        f"    __slots__ = {tuple(names)!r}",
        f"    _fields = {tuple(names)!r}",
        "    def __init__(" + ", ".join(["self"] + params) + "):",
    ]
    lines += body or ["        pass"]
    # A generated __eq__ compares fields directly; the codec uses it to decide whether a
    # tagged struct differs from its default.
    lines.append("    def __eq__(self, other):")
    lines.append("        if type(other) is not type(self):")
    lines.append("            return NotImplemented")
    compare = " and ".join(f"self.{n} == other.{n}" for n in names) or "True"
    lines.append(f"        return {compare}")
    lines.append("    __hash__ = None")
    return "\n".join(lines)


_class_cache: dict[int, dict[str, type]] = {}
_lock = threading.RLock()


def classes_for(spec: MessageSpec) -> dict[str, type]:
    """The generated classes of every struct of a message, by struct name."""
    with _lock:
        cached = _class_cache.get(id(spec))
        if cached is not None:
            return cached
        env: dict[str, Any] = {"Message": Message, "_MISSING": _MISSING, "_ZERO_UUID": t.ZERO_UUID}
        src = "\n\n".join(_class_source(s) for s in spec.structs.values())
        exec(compile(src, f"<pybroker classes {spec.name}>", "exec"), env)
        found = {name: env[name] for name in spec.structs}
        top = found[spec.name]
        top._spec = spec
        for name, cls in found.items():
            cls.__module__ = "protocol.messages"
            cls.__qualname__ = name if cls is top else f"{spec.name}.{name}"
            if cls is not top:
                setattr(top, name, cls)
        _class_cache[id(spec)] = found
        return found


# --- per-version code generation ----------------------------------------------------------

class _Gen:
    """Emits the decode and encode functions of every struct of one message version."""

    def __init__(self, spec: MessageSpec, version: int) -> None:
        self.spec = spec
        self.version = version
        self.flexible = version in spec.flexible
        self.lines: list[str] = []
        self.env: dict[str, Any] = {}
        self.counter = 0
        self.min_sizes: dict[str, int] = {}

    # helpers ---------------------------------------------------------------------------
    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "_c") -> str:
        n = self.name(prefix)
        self.env[n] = value
        return n

    def flex(self, f: Field) -> bool:
        return self.flexible and not f.never_flexible

    def regular(self, s: Struct) -> list[Field]:
        v = self.version
        return [
            f for f in s.fields
            if v in f.versions and not (self.flexible and f.is_tagged and v in f.tagged)
        ]

    def tagged(self, s: Struct) -> list[Field]:
        v = self.version
        if not self.flexible:
            return []
        return sorted(
            (f for f in s.fields if f.is_tagged and v in f.tagged and v in f.versions),
            key=lambda f: f.tag,
        )

    def runs(self, s: Struct) -> list[Field | list[Field]]:
        """The struct's regular fields in order, consecutive fixed-width scalars grouped into
        lists: each group is read or written with one precompiled struct."""
        out: list[Field | list[Field]] = []
        for f in self.regular(s):
            if f.type in t.FIXED and not f.is_array:
                if out and isinstance(out[-1], list):
                    out[-1].append(f)
                else:
                    out.append([f])
            else:
                out.append(f)
        return out

    def min_size(self, s: Struct) -> int:
        if s.name in self.min_sizes:
            return self.min_sizes[s.name]
        self.min_sizes[s.name] = 1  # guards recursion
        size = 1 if self.flexible else 0
        for f in self.regular(s):
            size += self.field_min_size(f)
        self.min_sizes[s.name] = size
        return size

    def field_min_size(self, f: Field) -> int:
        flex = self.flex(f)
        if f.is_array:
            return 1 if flex else 4
        if f.type in t.FIXED:
            return t.FIXED[f.type][1]
        if f.type == "uuid":
            return 16
        if f.type == "string":
            return 1 if flex else 2
        if f.type in ("bytes", "records"):
            return 1 if flex else 4
        if self.version in f.nullable:
            return 1
        return self.min_size(self.spec.struct_of(f))

    def nullable(self, f: Field) -> bool:
        return self.version in f.nullable

    # decoding --------------------------------------------------------------------------
    def reader(self, f: Field) -> str:
        """Name of the types.read_* function for a scalar variable-length field."""
        flex = self.flex(f)
        nul = self.nullable(f)
        kind = f.type
        if kind == "string":
            base = "string"
        elif kind == "bytes":
            base = "bytes"
        elif kind == "records":
            return "t.read_compact_records" if flex else "t.read_records"
        elif kind == "uuid":
            return "t.read_uuid"
        else:
            raise AssertionError(kind)
        if flex:
            return f"t.read_compact_nullable_{base}" if nul else f"t.read_compact_{base}"
        return f"t.read_nullable_{base}" if nul else f"t.read_{base}"

    def decode_value(self, f: Field, var: str, buf: str, pos: str, ind: str, element: bool = False) -> None:
        """Emit code that reads one field (or, with element=True, one array item) into var."""
        out = self.lines
        if f.is_array and not element:
            self.decode_array(f, var, buf, pos, ind)
            return
        if f.type in t.FIXED:
            s = self.const(struct.Struct(">" + t.FIXED[f.type][0]), "_S")
            width = t.FIXED[f.type][1]
            out.append(f"{ind}({var},) = {s}.unpack_from({buf}, {pos}); {pos} += {width}")
        elif f.is_struct:
            fn = f"d_{f.type}"
            if self.nullable(f) and not element:
                out.append(f"{ind}if t.INT8.unpack_from({buf}, {pos})[0] < 0:")
                out.append(f"{ind}    {var} = None; {pos} += 1")
                out.append(f"{ind}else:")
                out.append(f"{ind}    {var}, {pos} = {fn}({buf}, {pos} + 1)")
            else:
                out.append(f"{ind}{var}, {pos} = {fn}({buf}, {pos})")
        elif f.type == "string" and self.flex(f):
            # Most compact strings are short: read their one-byte length inline and call the
            # general reader only for long or null ones.
            n, e = self.name("_l"), self.name("_e")
            out.append(f"{ind}{n} = {buf}[{pos}]")
            out.append(f"{ind}if 0 < {n} < 128:")
            out.append(f"{ind}    {e} = {pos} + {n}")
            out.append(f"{ind}    if {e} > len({buf}):")
            out.append(f"{ind}        raise DecodeError('string runs past the end of the message')")
            out.append(f"{ind}    {var} = str({buf}[{pos} + 1:{e}], 'utf-8'); {pos} = {e}")
            out.append(f"{ind}else:")
            out.append(f"{ind}    {var}, {pos} = {self.reader(f)}({buf}, {pos})")
        else:
            out.append(f"{ind}{var}, {pos} = {self.reader(f)}({buf}, {pos})")

    def decode_array(self, f: Field, var: str, buf: str, pos: str, ind: str) -> None:
        out = self.lines
        flex = self.flex(f)
        nul = self.nullable(f)
        item = Field(name=f.name, type=f.type, versions=f.versions, never_flexible=f.never_flexible)
        min_item = max(1, self.field_min_size(item))
        n = self.name("_n")
        if flex:
            # Counts below 127 take one byte and bound the loop by themselves.
            out.append(f"{ind}{n} = {buf}[{pos}] - 1")
            out.append(f"{ind}if {n} < 127:")
            out.append(f"{ind}    {pos} += 1")
            out.append(f"{ind}else:")
            out.append(f"{ind}    {n}, {pos} = t.read_compact_array_length({buf}, {pos}, {min_item})")
        elif nul:
            out.append(f"{ind}{n}, {pos} = t.read_nullable_array_length({buf}, {pos}, {min_item})")
        else:
            out.append(f"{ind}{n}, {pos} = t.read_array_length({buf}, {pos}, {min_item})")
        if flex or nul:
            out.append(f"{ind}if {n} < 0:")
            if nul:
                out.append(f"{ind}    {var} = None")
            else:
                out.append(f"{ind}    raise DecodeError('null array where an array is required')")
            out.append(f"{ind}else:")
            ind += "    "
        if f.type in t.FIXED:
            letter, width = t.FIXED[f.type]
            out.append(f"{ind}{var}, {pos} = t.read_fixed_array({buf}, {pos}, {n}, {letter!r}, {width})")
            return
        item_var = self.name("_x")
        out.append(f"{ind}{var} = []")
        out.append(f"{ind}_append = {var}.append")
        out.append(f"{ind}for _ in range({n}):")
        self.decode_value(item, item_var, buf, pos, ind + "    ", element=True)
        out.append(f"{ind}    _append({item_var})")

    def emit_decoder(self, s: Struct) -> None:
        out = self.lines
        out.append(f"def d_{s.name}(buf, pos):")
        ind = "    "
        vars_: dict[str, str] = {}
        for run in self.runs(s):
            if isinstance(run, list):
                fmt = ">" + "".join(t.FIXED[g.type][0] for g in run)
                sname = self.const(struct.Struct(fmt), "_S")
                names = [f"v_{g.name}" for g in run]
                for g in run:
                    vars_[g.name] = f"v_{g.name}"
                out.append(f"{ind}{', '.join(names)}, = {sname}.unpack_from(buf, pos)")
                out.append(f"{ind}pos += {struct.calcsize(fmt)}")
                continue
            var = f"v_{run.name}"
            vars_[run.name] = var
            self.decode_value(run, var, "buf", "pos", ind)
        if self.flexible:
            tagged = self.tagged(s)
            for f in tagged:
                vars_[f.name] = f"v_{f.name}"
                out.append(f"{ind}v_{f.name} = {default_expr(f)}")
            out.append(f"{ind}_nt = buf[pos]")
            out.append(f"{ind}if _nt < 128:")
            out.append(f"{ind}    pos += 1")
            out.append(f"{ind}else:")
            out.append(f"{ind}    _nt, pos = t.read_uvarint(buf, pos)")
            out.append(f"{ind}for _ in range(_nt):")
            out.append(f"{ind}    _tag, _ts, pos = t.skip_tagged(buf, pos)")
            first = True
            for f in tagged:
                kw = "if" if first else "elif"
                first = False
                out.append(f"{ind}    {kw} _tag == {f.tag}:")
                out.append(f"{ind}        _tb = buf[_ts:pos]; _tp = 0")
                self.decode_value(f, f"v_{f.name}", "_tb", "_tp", ind + "        ")
        args = []
        for f in s.fields:
            args.append(vars_.get(f.name) or default_expr(f))
        out.append(f"{ind}return {s.name}({', '.join(args)}), pos")
        out.append("")

    # encoding --------------------------------------------------------------------------
    def writer(self, f: Field) -> str:
        flex = self.flex(f)
        nul = self.nullable(f)
        base = f.type
        if flex:
            return f"t.write_compact_nullable_{base}" if nul else f"t.write_compact_{base}"
        return f"t.write_nullable_{base}" if nul else f"t.write_{base}"

    def encode_value(self, f: Field, expr: str, b: str, sp: str, ind: str, element: bool = False) -> None:
        out = self.lines
        if f.is_array and not element:
            self.encode_array(f, expr, b, sp, ind)
            return
        if f.type in t.FIXED:
            s = self.const(struct.Struct(">" + t.FIXED[f.type][0]), "_S")
            out.append(f"{ind}{b} += {s}.pack({expr})")
        elif f.is_struct:
            fn = f"e_{f.type}"
            if self.nullable(f) and not element:
                v = self.name("_o")
                out.append(f"{ind}{v} = {expr}")
                out.append(f"{ind}if {v} is None:")
                out.append(f"{ind}    {b} += b'\\xff'")
                out.append(f"{ind}else:")
                out.append(f"{ind}    {b} += b'\\x01'; {fn}({v}, {b}, {sp})")
            else:
                out.append(f"{ind}{fn}({expr}, {b}, {sp})")
        elif f.type == "uuid":
            out.append(f"{ind}{b} += {expr}.bytes")
        elif f.type == "records":
            fn = "t.write_compact_records" if self.flex(f) else "t.write_records"
            out.append(f"{ind}{fn}({b}, {sp}, {expr})")
        else:
            out.append(f"{ind}{self.writer(f)}({b}, {expr})")

    def encode_array(self, f: Field, expr: str, b: str, sp: str, ind: str) -> None:
        out = self.lines
        flex = self.flex(f)
        nul = self.nullable(f)
        a = self.name("_a")
        out.append(f"{ind}{a} = {expr}")
        out.append(f"{ind}if {a} is None:")
        if nul:
            null_marker = b"\x00" if flex else b"\xff\xff\xff\xff"
            out.append(f"{ind}    {b} += {null_marker!r}")
        else:
            out.append(f"{ind}    raise EncodeError('{f.name}: null array at a version where it is not nullable')")
        out.append(f"{ind}else:")
        ind += "    "
        if flex:
            out.append(f"{ind}{b} += t.uvarint_bytes(len({a}) + 1)")
        else:
            out.append(f"{ind}{b} += t.INT32.pack(len({a}))")
        if f.type in t.FIXED:
            letter = t.FIXED[f.type][0]
            out.append(f"{ind}{b} += struct.pack('>%d{letter}' % len({a}), *{a})")
            return
        item = Field(name=f.name, type=f.type, versions=f.versions, never_flexible=f.never_flexible)
        x = self.name("_x")
        out.append(f"{ind}for {x} in {a}:")
        self.encode_value(item, x, b, sp, ind + "    ", element=True)

    def emit_encoder(self, s: Struct) -> None:
        out = self.lines
        out.append(f"def e_{s.name}(o, b, sp):")
        ind = "    "
        for run in self.runs(s):
            if isinstance(run, list):
                sname = self.const(struct.Struct(">" + "".join(t.FIXED[g.type][0] for g in run)), "_S")
                out.append(f"{ind}b += {sname}.pack({', '.join('o.' + g.name for g in run)})")
            else:
                self.encode_value(run, f"o.{run.name}", "b", "sp", ind)
        if self.flexible:
            tagged = self.tagged(s)
            if not tagged:
                out.append(f"{ind}b += b'\\x00'")
            else:
                out.append(f"{ind}_tags = []")
                for f in tagged:
                    cond = self.tag_present(f, f"o.{f.name}")
                    out.append(f"{ind}if {cond}:")
                    out.append(f"{ind}    _tb = bytearray()")
                    self.encode_value(f, f"o.{f.name}", "_tb", "None", ind + "    ")
                    out.append(f"{ind}    _tags.append(({f.tag}, _tb))")
                out.append(f"{ind}b += t.uvarint_bytes(len(_tags))")
                out.append(f"{ind}for _tag, _tb in _tags:")
                out.append(f"{ind}    b += t.uvarint_bytes(_tag); b += t.uvarint_bytes(len(_tb)); b += _tb")
        out.append(f"{ind}return b")
        out.append("")

    def tag_present(self, f: Field, expr: str) -> str:
        """A tagged field is written only when it differs from its default."""
        if f.is_array:
            return f"{expr} is not None" if f.default == "null" else f"len({expr}) != 0"
        if f.is_struct and _default_literal(f) is None:
            # Compare against one shared default instance instead of building one per call.
            return f"{expr} != {self.const(classes_for(self.spec)[f.type](), '_D')}"
        return f"{expr} != {default_expr(f)}"

    # assembling ------------------------------------------------------------------------
    def build(self) -> tuple[Callable, Callable, str]:
        structs = self.spec.structs
        for s in structs.values():
            self.emit_decoder(s)
            self.emit_encoder(s)
        src = "\n".join(self.lines)
        env = dict(self.env)
        env.update(classes_for(self.spec))
        env.update({"t": t, "struct": struct, "DecodeError": DecodeError, "EncodeError": EncodeError,
                    "_ZERO_UUID": t.ZERO_UUID, "uuid": uuid})
        label = f"<pybroker codec {self.spec.name} v{self.version}>"
        exec(compile(src, label, "exec"), env)
        return env[f"d_{self.spec.name}"], env[f"e_{self.spec.name}"], src


_DECODE_ERRORS = (struct.error, IndexError, ValueError, OverflowError, TypeError, RecursionError)
_ENCODE_ERRORS = (struct.error, AttributeError, TypeError, ValueError, OverflowError)


class Codec:
    """Encoder and decoder of one message at one version."""

    __slots__ = ("spec", "version", "flexible", "cls", "_decode", "_encode", "source")

    def __init__(self, spec: MessageSpec, version: int) -> None:
        if version not in spec.versions:
            raise ValueError(f"{spec.name} has no version {version}")
        self.spec = spec
        self.version = version
        self.flexible = version in spec.flexible
        self.cls = classes_for(spec)[spec.name]
        self._decode, self._encode, self.source = _Gen(spec, version).build()

    def decode(self, buf: t.Buffer, pos: int = 0) -> Any:
        """Decode a whole message starting at `pos`; trailing bytes are ignored."""
        return self.decode_at(buf, pos)[0]

    def decode_at(self, buf: t.Buffer, pos: int = 0) -> tuple[Any, int]:
        """Decode a message at `pos`; return it and the position after it."""
        try:
            return self._decode(buf, pos)
        except DecodeError:
            raise
        except _DECODE_ERRORS as exc:
            raise DecodeError(f"malformed {self.spec.name} v{self.version}: {exc}") from None

    def encode_into(self, obj: Any, b: bytearray, splices: list | None = None) -> bytearray:
        """Append the encoding to `b`. Large record payloads go to `splices` when given."""
        try:
            return self._encode(obj, b, splices)
        except EncodeError:
            raise
        except _ENCODE_ERRORS as exc:
            raise EncodeError(f"cannot encode {self.spec.name} v{self.version}: {exc}") from None

    def encode(self, obj: Any) -> bytes:
        return bytes(self.encode_into(obj, bytearray()))


_codec_cache: dict[tuple[int, int], Codec] = {}


def codec_for(spec: MessageSpec, version: int) -> Codec:
    """The compiled codec of `spec` at `version`, built on first use and cached."""
    key = (id(spec), version)
    codec = _codec_cache.get(key)
    if codec is None:
        with _lock:
            codec = _codec_cache.get(key)
            if codec is None:
                codec = Codec(spec, version)
                _codec_cache[key] = codec
    return codec
