"""Garbage into every decoder: only DecodeError comes out, and quickly."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import messages
from protocol.compiler import codec_for
from protocol.errors import DecodeError
from protocol.headers import REQUEST_HEADER, RESPONSE_HEADER
from schema_strategies import message_strategy

SPECS = messages.all_specs() + [REQUEST_HEADER, RESPONSE_HEADER]
CASES = [(s, v) for s in SPECS for v in range(s.versions.low, s.versions.high + 1)]


def _decode_or_error(codec, data: bytes) -> None:
    try:
        codec.decode(data)
    except DecodeError:
        pass


@pytest.mark.parametrize("spec,version", CASES, ids=[f"{s.name}-v{v}" for s, v in CASES])
def test_random_bytes_raise_only_decode_error(spec, version):
    codec = codec_for(spec, version)
    rng = random.Random(f"{spec.name}-{version}")
    for size in (0, 1, 2, 3, 5, 8, 13, 40, 200):
        for _ in range(6):
            _decode_or_error(codec, rng.randbytes(size))
    # Huge declared sizes must be refused before anything is allocated.
    for prefix in (b"\x7f\xff\xff\xff", b"\xff\xff\xff\x7f", b"\xff\xff\xff\xff\x0f", b"\x80" * 9):
        _decode_or_error(codec, prefix * 4)


@pytest.mark.parametrize(
    "spec,version",
    [(s, s.versions.high) for s in SPECS] + [(s, s.versions.low) for s in SPECS],
    ids=[f"{s.name}-hi" for s in SPECS] + [f"{s.name}-lo" for s in SPECS],
)
def test_mutated_messages_raise_only_decode_error(spec, version):
    codec = codec_for(spec, version)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(message_strategy(spec, version), st.randoms(use_true_random=False))
    def check(msg, rng):
        data = bytearray(codec.encode(msg))
        for _ in range(4):
            mutated = bytearray(data)
            op = rng.randrange(3)
            if op == 0 and mutated:  # flip bytes
                for _ in range(rng.randint(1, 3)):
                    mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            elif op == 1 and mutated:  # truncate
                del mutated[rng.randrange(len(mutated)) :]
            else:  # insert garbage
                at = rng.randrange(len(mutated) + 1)
                mutated[at:at] = rng.randbytes(rng.randint(1, 6))
            _decode_or_error(codec, bytes(mutated))

    check()
