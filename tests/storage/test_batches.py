"""storage.batches.validate_payload agrees with protocol.records.validate_batches everywhere."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from protocol.errors import CorruptRecordError
from protocol.records import validate_batches
from storage.batches import last_sequence, validate_payload
from storage_helpers import make_batch


def outcome(fn, buf):
    try:
        return "ok", fn(buf)
    except CorruptRecordError as e:
        return "error", str(e)


@st.composite
def payloads(draw):
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, 4))
        parts.append(make_batch(n, value_size=draw(st.integers(0, 40)),
                                base_sequence=draw(st.sampled_from([-1, 0, 2**31 - 2])),
                                producer_id=draw(st.sampled_from([-1, 7]))))
    buf = bytearray(b"".join(parts))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "cut", "junk"]))
        if kind == "flip" and buf:
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] ^= draw(st.integers(1, 255))
        elif kind == "cut" and buf:
            del buf[draw(st.integers(0, len(buf) - 1)):]
        else:
            buf += draw(st.binary(max_size=70))
    return bytes(buf)


@settings(max_examples=400, deadline=None)
@given(payloads())
def test_validate_payload_matches_protocol(buf):
    kind, expected = outcome(validate_batches, buf)
    got_kind, got = outcome(lambda b: validate_payload(memoryview(b)), buf)
    assert got_kind == kind
    if kind == "error":
        assert got == expected
    else:
        assert [(p, tuple(h)) for p, h in expected] == [(p, tuple(h)) for p, _s, h in got]
        for (p, h), (_p, size, _t) in zip(expected, got):
            assert size == h.size
            assert last_sequence(h.base_sequence, h.last_offset_delta) == h.last_sequence
