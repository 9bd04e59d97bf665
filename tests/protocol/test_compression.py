"""Compression codecs: round trips, the exact framings Kafka clients use, interop with client
libraries, size caps and defensive decoding of garbage."""

from __future__ import annotations

import gzip
import os
import struct
import time

import lz4.frame
import pytest
import snappy
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.compression import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    XERIAL_BLOCK_SIZE,
    XERIAL_HEADER,
    Codec,
    compress,
    decompress,
)
from protocol.errors import CorruptRecordError, DecodeError

CODECS = list(Codec)
COMPRESSING = [c for c in Codec if c != Codec.NONE]

SAMPLES = [
    b"",
    b"x",
    b"hello kafka " * 1000,
    os.urandom(XERIAL_BLOCK_SIZE),
    os.urandom(3 * XERIAL_BLOCK_SIZE + 17),
    bytes(200_000),
]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("data", SAMPLES, ids=lambda d: f"{len(d)}B")
def test_round_trip(codec, data):
    assert decompress(codec, compress(codec, data)) == data


@pytest.mark.parametrize("codec", CODECS)
@given(data=st.binary(max_size=5000))
def test_round_trip_property(codec, data):
    assert decompress(codec, compress(codec, data)) == data


@pytest.mark.parametrize("codec", CODECS)
def test_accepts_any_buffer(codec):
    data = b"abc" * 500
    packed = compress(codec, memoryview(bytearray(data)))
    assert decompress(codec, memoryview(packed)) == data
    assert decompress(codec, bytearray(packed)) == data


def test_codec_ids_match_kafka():
    assert [int(c) for c in Codec] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("codec", [5, 6, 7, -1, 99, None, "gzip"])
def test_unknown_codec(codec):
    with pytest.raises(CorruptRecordError):
        compress(codec, b"data")
    with pytest.raises(CorruptRecordError):
        decompress(codec, b"data")


def test_corrupt_record_error_is_a_decode_error():
    assert issubclass(CorruptRecordError, DecodeError)


# --- snappy framing -------------------------------------------------------------------------


def test_snappy_xerial_header_bytes():
    packed = compress(Codec.SNAPPY, b"payload")
    assert packed[:16] == b"\x82SNAPPY\x00" + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x01"


def test_snappy_xerial_blocks_are_32k_of_input():
    data = os.urandom(2 * XERIAL_BLOCK_SIZE + 100)
    packed = compress(Codec.SNAPPY, data)
    pos, chunks = 16, []
    while pos < len(packed):
        (length,) = struct.unpack_from(">i", packed, pos)
        chunks.append(snappy.uncompress(packed[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    assert pos == len(packed)
    assert [len(c) for c in chunks] == [XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 100]
    assert b"".join(chunks) == data


@pytest.mark.parametrize("data", SAMPLES[1:], ids=lambda d: f"{len(d)}B")
def test_snappy_raw_block_decodes(data):
    assert decompress(Codec.SNAPPY, snappy.compress(data)) == data


def test_snappy_xerial_little_endian_version_is_accepted():
    block = snappy.compress(b"some data")
    framed = b"\x82SNAPPY\x00" + struct.pack("<ii", 1, 1) + struct.pack(">i", len(block)) + block
    assert decompress(Codec.SNAPPY, framed) == b"some data"


def test_snappy_xerial_bad_block_length():
    block = snappy.compress(b"some data")
    header = XERIAL_HEADER
    for length in (-1, len(block) + 1, 1 << 30):
        with pytest.raises(CorruptRecordError):
            decompress(Codec.SNAPPY, header + struct.pack(">i", length) + block)
    with pytest.raises(CorruptRecordError):
        decompress(Codec.SNAPPY, header + b"\x00\x00")


# --- lz4, gzip, zstd framings ---------------------------------------------------------------


def test_lz4_frame_descriptor_matches_java_producer():
    packed = compress(Codec.LZ4, b"payload" * 100)
    # magic, FLG = version 1 + independent blocks (no checksums, no size), BD = 64 KiB max.
    assert packed[:4] == b"\x04\x22\x4d\x18"
    assert packed[4] == 0x60
    assert packed[5] == 0x40
    assert packed.endswith(b"\x00\x00\x00\x00")


def test_lz4_empty_frame_is_header_and_end_mark():
    assert compress(Codec.LZ4, b"") == bytes.fromhex("04224d1860408200000000")


def test_lz4_reads_frames_with_checksums_and_linked_blocks():
    data = b"linked blocks " * 20000
    packed = lz4.frame.compress(
        data, block_linked=True, content_checksum=True, block_checksum=True, store_size=True
    )
    assert decompress(Codec.LZ4, packed) == data


def test_lz4_checksum_mismatch_is_corrupt():
    packed = bytearray(lz4.frame.compress(b"abc" * 1000, content_checksum=True))
    packed[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError):
        decompress(Codec.LZ4, bytes(packed))


def test_gzip_is_a_standard_deterministic_stream():
    packed = compress(Codec.GZIP, b"payload")
    assert packed[:3] == b"\x1f\x8b\x08"
    assert packed == compress(Codec.GZIP, b"payload")
    assert gzip.decompress(packed) == b"payload"


def test_gzip_reads_concatenated_members():
    assert decompress(Codec.GZIP, gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"


def test_zstd_reads_frames_without_content_size():
    data = os.urandom(1000) * 200
    streaming = zstandard.ZstdCompressor(write_content_size=False).compress(data)
    chunker = zstandard.ZstdCompressor().compressobj()
    streamed = chunker.compress(data) + chunker.flush()
    for frame in (streaming, streamed):
        params = zstandard.get_frame_parameters(frame)
        assert params.content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert decompress(Codec.ZSTD, streaming) == data
    assert decompress(Codec.ZSTD, streamed) == data


def test_zstd_reads_concatenated_frames():
    frame = zstandard.ZstdCompressor().compress(b"x" * 5000)
    assert decompress(Codec.ZSTD, frame + frame) == b"x" * 10000


# --- interop with client libraries ----------------------------------------------------------

_INTEROP = [b"", b"k" * 10, b"interop " * 30000, os.urandom(100_000)]


@pytest.mark.parametrize("data", _INTEROP, ids=lambda d: f"{len(d)}B")
def test_kafka_python_codecs_agree(data):
    from kafka import codec as kc

    pairs = {
        Codec.GZIP: (kc.gzip_encode, kc.gzip_decode),
        Codec.SNAPPY: (kc.snappy_encode, kc.snappy_decode),
        Codec.LZ4: (kc.lz4_encode, kc.lz4_decode),
        Codec.ZSTD: (kc.zstd_encode, kc.zstd_decode),
    }
    for codec, (encode, decode) in pairs.items():
        assert decompress(codec, encode(data)) == data, codec
        assert decode(compress(codec, data)) == data, codec
    assert decompress(Codec.SNAPPY, kc.snappy_encode(data, xerial_compatible=False)) == data


@pytest.mark.parametrize("data", _INTEROP, ids=lambda d: f"{len(d)}B")
def test_aiokafka_codecs_agree(data):
    from aiokafka import codec as ac

    pairs = {
        Codec.GZIP: (ac.gzip_encode, ac.gzip_decode),
        Codec.SNAPPY: (ac.snappy_encode, ac.snappy_decode),
        Codec.LZ4: (ac.lz4_encode, ac.lz4_decode),
        Codec.ZSTD: (ac.zstd_encode, ac.zstd_decode),
    }
    for codec, (encode, decode) in pairs.items():
        assert decompress(codec, encode(data)) == data, codec
        assert decode(compress(codec, data)) == data, codec


# --- size caps ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_max_size_is_inclusive(codec):
    data = b"0123456789" * 1000
    packed = compress(codec, data)
    assert decompress(codec, packed, max_size=len(data)) == data
    with pytest.raises(CorruptRecordError, match="exceeds"):
        decompress(codec, packed, max_size=len(data) - 1)


@pytest.mark.parametrize("codec", COMPRESSING)
def test_bomb_is_refused_without_inflating_it(codec):
    packed = compress(codec, bytes(64 * 1024 * 1024))
    started = time.monotonic()
    with pytest.raises(CorruptRecordError, match="exceeds"):
        decompress(codec, packed, max_size=1024 * 1024)
    assert time.monotonic() - started < 2


def test_snappy_declared_length_checked_before_allocation():
    # A raw block that claims 4 GiB of output in its five-byte preamble.
    with pytest.raises(CorruptRecordError):
        decompress(Codec.SNAPPY, b"\xff\xff\xff\xff\x0f\x00")


def test_default_cap_is_documented_size():
    assert DEFAULT_MAX_DECOMPRESSED_SIZE == 256 * 1024 * 1024


# --- defensive decoding ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", COMPRESSING)
def test_empty_input_is_corrupt(codec):
    with pytest.raises(CorruptRecordError):
        decompress(codec, b"")


@pytest.mark.parametrize("codec", COMPRESSING)
def test_truncated_and_trailing_input_is_corrupt(codec):
    packed = compress(codec, os.urandom(5000) * 3)
    for cut in (1, 5, len(packed) // 2, len(packed) - 1):
        with pytest.raises(CorruptRecordError):
            decompress(codec, packed[:cut])
    with pytest.raises(CorruptRecordError):
        decompress(codec, packed + b"\x01garbage")


@pytest.mark.parametrize("codec", CODECS)
@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_garbage_raises_only_corrupt_record_error(codec, data):
    try:
        decompress(codec, data, max_size=1 << 20)
    except CorruptRecordError:
        pass


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    mutated = bytearray(data)
    for pos, value in zip(positions, values):
        mutated[pos % len(mutated)] ^= value or 1
    return bytes(mutated)


@pytest.mark.parametrize("codec", COMPRESSING)
@settings(max_examples=300, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=3000),
    positions=st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
    values=st.lists(st.integers(0, 255), min_size=1, max_size=4),
)
def test_mutated_streams_raise_only_corrupt_record_error(codec, payload, positions, values):
    mutated = _flip(compress(codec, payload), positions, values)
    started = time.monotonic()
    try:
        decompress(codec, mutated, max_size=1 << 20)
    except CorruptRecordError:
        pass
    assert time.monotonic() - started < 1
