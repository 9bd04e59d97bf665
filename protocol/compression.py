"""The record-batch compression codecs (gzip, snappy, lz4, zstd), keyed by the codec id in
a batch's attributes, written as Kafka's Java producer writes them and read defensively.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from enum import IntEnum
from typing import Callable

import lz4.frame
import snappy
import zstandard

from protocol.errors import CorruptRecordError

# Decompressed output is capped so that a small hostile payload (a "zip bomb") cannot exhaust
# memory. 256 MiB is far above any sane batch (Kafka's message.max.bytes defaults to ~1 MiB
# compressed) yet small enough for one broker process to survive. Callers may pass their own.
DEFAULT_MAX_DECOMPRESSED_SIZE = 256 * 1024 * 1024

Buffer = bytes | bytearray | memoryview


class Codec(IntEnum):
    """Compression codec ids, as stored in the low three bits of batch attributes."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


# Java's GZIPOutputStream uses Deflater.DEFAULT_COMPRESSION (6); zstd-jni's default is 3.
GZIP_LEVEL = 6
ZSTD_LEVEL = 3

# snappy-java's SnappyOutputStream: 8-byte magic, then version and minimum compatible version.
XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
XERIAL_BLOCK_SIZE = 32 * 1024

# Decoding proceeds in bounded steps so the size cap is checked before memory is committed.
_STEP = 1024 * 1024
# A zstd RLE block turns 4 input bytes into up to 128 KiB; feeding 256 input bytes at a time
# keeps one step's output under ~8 MiB.
_ZSTD_INPUT_STEP = 256

_I32 = struct.Struct(">i")
_zstd_compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_zstd_decompressor = zstandard.ZstdDecompressor()


def compress(codec: int, data: Buffer) -> bytes:
    """Compress `data` with the codec id `codec` in the framing Kafka clients expect."""
    try:
        encoder = _ENCODERS[codec]
    except (KeyError, TypeError):
        raise CorruptRecordError(f"unknown compression codec {codec!r}") from None
    return encoder(data)


def decompress(codec: int, data: Buffer, max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> bytes:
    """Decompress `data` written with codec id `codec`.

    Raises CorruptRecordError for an unknown codec, malformed, truncated or trailing input,
    and for output that would exceed `max_size` bytes.
    """
    try:
        decoder = _DECODERS[codec]
    except (KeyError, TypeError):
        raise CorruptRecordError(f"unknown compression codec {codec!r}") from None
    try:
        return decoder(data, max_size)
    except CorruptRecordError:
        raise
    except (MemoryError, RecursionError):
        raise CorruptRecordError(f"{Codec(codec).name.lower()} data could not be decoded") from None
    except Exception as exc:  # the codec libraries raise assorted types for bad input
        detail = str(exc) or type(exc).__name__
        raise CorruptRecordError(f"corrupt {Codec(codec).name.lower()} data: {detail}") from exc


def _too_large(max_size: int) -> CorruptRecordError:
    return CorruptRecordError(f"decompressed data exceeds {max_size} bytes")


# --- none ---------------------------------------------------------------------------------


def _none_compress(data: Buffer) -> bytes:
    return bytes(data)


def _none_decompress(data: Buffer, max_size: int) -> bytes:
    if len(data) > max_size:
        raise _too_large(max_size)
    return bytes(data)


# --- gzip ---------------------------------------------------------------------------------


def _gzip_compress(data: Buffer) -> bytes:
    # mtime=0 keeps the output deterministic, as Java's GZIPOutputStream does.
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def _gzip_decompress(data: Buffer, max_size: int) -> bytes:
    out = bytearray()
    pending = bytes(data)
    if not pending:
        raise CorruptRecordError("empty gzip stream")
    # A gzip stream may hold several members back to back; each is read in bounded steps.
    while pending:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while not inflater.eof:
            out += inflater.decompress(pending, min(_STEP, max_size - len(out) + 1))
            if len(out) > max_size:
                raise _too_large(max_size)
            pending = inflater.unconsumed_tail
            if not pending and not inflater.eof:
                out += inflater.flush()
                if not inflater.eof:
                    raise CorruptRecordError("gzip stream is truncated")
        pending = inflater.unused_data
    if len(out) > max_size:
        raise _too_large(max_size)
    return bytes(out)


# --- snappy -------------------------------------------------------------------------------


def _snappy_compress(data: Buffer) -> bytes:
    view = memoryview(data)
    parts = [XERIAL_HEADER]
    # Empty input still gets one (empty) block: some readers take a bare header for raw snappy.
    for start in range(0, max(len(view), 1), XERIAL_BLOCK_SIZE):
        block = snappy.compress(bytes(view[start : start + XERIAL_BLOCK_SIZE]))
        parts.append(_I32.pack(len(block)))
        parts.append(block)
    return b"".join(parts)


def _snappy_decompress(data: Buffer, max_size: int) -> bytes:
    data = bytes(data)
    # Clients send either snappy-java's framing or a bare block. Version and compat are
    # ignored: some producers write them little-endian, and there is only one framing.
    if len(data) >= len(XERIAL_HEADER) and data.startswith(XERIAL_MAGIC):
        return _xerial_decompress(data, max_size)
    return _snappy_raw_decompress(data, max_size)


def _xerial_decompress(data: bytes, max_size: int) -> bytes:
    out = bytearray()
    pos = len(XERIAL_HEADER)
    end = len(data)
    while pos < end:
        if end - pos < 4:
            raise CorruptRecordError("snappy block length is truncated")
        length = _I32.unpack_from(data, pos)[0]
        pos += 4
        if length < 0 or length > end - pos:
            raise CorruptRecordError(f"snappy block length {length} does not fit the input")
        block = data[pos : pos + length]
        if _snappy_declared_length(block) > max_size - len(out):
            raise _too_large(max_size)
        out += snappy.uncompress(block)
        pos += length
    return bytes(out)


def _snappy_raw_decompress(block: bytes, max_size: int) -> bytes:
    # The block begins with its uncompressed length; check it before the library allocates.
    if _snappy_declared_length(block) > max_size:
        raise _too_large(max_size)
    return snappy.uncompress(block)


def _snappy_declared_length(block: bytes) -> int:
    value = 0
    for i in range(min(len(block), 5)):
        byte = block[i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value
    raise CorruptRecordError("snappy block length preamble is malformed")


# --- lz4 ----------------------------------------------------------------------------------


def _lz4_compress(data: Buffer) -> bytes:
    # The Java producer writes 64 KiB independent blocks, no checksums and no content size.
    return lz4.frame.compress(
        data,
        block_size=lz4.frame.BLOCKSIZE_MAX64KB,
        block_linked=False,
        block_checksum=False,
        content_checksum=False,
        store_size=False,
    )


def _lz4_decompress(data: Buffer, max_size: int) -> bytes:
    if not len(data):
        raise CorruptRecordError("empty lz4 frame")
    out = bytearray()
    decoder = lz4.frame.LZ4FrameDecompressor()
    pending: Buffer = data
    while True:
        out += decoder.decompress(pending, max_length=min(_STEP, max_size - len(out) + 1))
        pending = b""
        if len(out) > max_size:
            raise _too_large(max_size)
        if decoder.eof:
            break
        if decoder.needs_input:
            raise CorruptRecordError("lz4 frame is truncated")
    if decoder.unused_data:
        raise CorruptRecordError("unexpected bytes after the lz4 frame")
    return bytes(out)


# --- zstd ---------------------------------------------------------------------------------


def _zstd_compress(data: Buffer) -> bytes:
    return _zstd_compressor.compress(data)


def _zstd_decompress(data: Buffer, max_size: int) -> bytes:
    view = memoryview(data)
    if not len(view):
        raise CorruptRecordError("empty zstd stream")
    out = bytearray()
    pos = 0
    # Frames written by streaming encoders carry no content size, so one-shot decompression
    # cannot size its buffer; a decompression object fed small steps keeps output bounded.
    while pos < len(view):
        decoder = _zstd_decompressor.decompressobj()
        while not decoder.eof:
            if pos >= len(view):
                raise CorruptRecordError("zstd frame is truncated")
            step = view[pos : pos + _ZSTD_INPUT_STEP]
            pos += len(step)
            out += decoder.decompress(step)
            if len(out) > max_size:
                raise _too_large(max_size)
        # Bytes the finished frame did not use start the next frame.
        pos -= len(decoder.unused_data)
    return bytes(out)


_ENCODERS: dict[int, Callable[[Buffer], bytes]] = {
    Codec.NONE: _none_compress,
    Codec.GZIP: _gzip_compress,
    Codec.SNAPPY: _snappy_compress,
    Codec.LZ4: _lz4_compress,
    Codec.ZSTD: _zstd_compress,
}

_DECODERS: dict[int, Callable[[Buffer, int], bytes]] = {
    Codec.NONE: _none_decompress,
    Codec.GZIP: _gzip_decompress,
    Codec.SNAPPY: _snappy_decompress,
    Codec.LZ4: _lz4_decompress,
    Codec.ZSTD: _zstd_decompress,
}
