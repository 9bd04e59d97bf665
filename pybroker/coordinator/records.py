"""How coordinators frame their records: an int16 version (or record type) before a message,
as Kafka writes keys and values in `__consumer_offsets` and `__transaction_state`."""

from __future__ import annotations

import struct
from typing import Any

from protocol.compiler import codec_for
from protocol.errors import DecodeError
from protocol.schema import MessageSpec

_INT16 = struct.Struct(">h")


def write_versioned(prefix: int, spec: MessageSpec, version: int, obj: Any) -> bytes:
    """`prefix` as an int16, then `obj` encoded with `spec` at `version`."""
    return _INT16.pack(prefix) + codec_for(spec, version).encode(obj)


def read_prefix(data: bytes, what: str) -> int:
    """The int16 that starts a key or value."""
    if len(data) < 2:
        raise DecodeError(f"{what} is shorter than its version")
    return _INT16.unpack_from(data, 0)[0]


def read_versioned_value(data: bytes, spec: MessageSpec) -> tuple[int, Any]:
    """(written version, message) of a value: an int16 version, then the message.

    A value written by a newer version is read with the highest version known here (KIP-915):
    fields newer versions add are tagged, so the known prefix decodes.
    """
    version = read_prefix(data, f"{spec.name} value")
    if version in spec.versions:
        used = version
    elif version > spec.versions.high:
        used = spec.versions.high
    else:
        raise DecodeError(f"{spec.name} has no version {version}")
    return version, codec_for(spec, used).decode(data, 2)
