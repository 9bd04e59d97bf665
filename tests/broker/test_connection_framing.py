"""Length-prefixed framing in KafkaConnection, driven through the BufferedProtocol calls an
event loop makes: frames arrive whole and byte-exact however the stream is cut, including
frames larger than the staging buffer (received into their own, not zero-filled, buffers)."""

from __future__ import annotations

import asyncio
import os
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from pybroker.server.connection import STAGE_SIZE, KafkaConnection


class Frames:
    """The dispatcher side: records every frame delivered."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def handle_frame(self, conn, frame) -> None:
        self.frames.append(bytes(frame))

    def connection_opened(self, conn) -> None:
        pass

    def connection_closed(self, conn) -> None:
        pass


class Transport:
    def __init__(self) -> None:
        self.closed = False

    def get_extra_info(self, name):
        return ("127.0.0.1", 1) if name == "peername" else None

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def feed(stream: bytes, cuts: list[int], max_request_size: int = 100 << 20) -> tuple[list[bytes], Transport]:
    """Deliver `stream` to a connection in pieces ending at the sorted `cuts`, each piece
    copied into the buffers the connection hands out, as the loop's recv_into does."""

    async def run() -> tuple[list[bytes], Transport]:
        frames, transport = Frames(), Transport()
        conn = KafkaConnection(frames, "PLAINTEXT", max_request_size)  # type: ignore[arg-type]
        conn.connection_made(transport)  # type: ignore[arg-type]
        pos = 0
        for end in sorted(set(cuts)) + [len(stream)]:
            while pos < end and not conn.closed:
                buf = conn.get_buffer(-1)
                n = min(len(buf), end - pos)
                buf[:n] = stream[pos:pos + n]
                conn.buffer_updated(n)
                pos += n
        return frames.frames, transport

    return asyncio.run(run())


def framed(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def test_a_frame_larger_than_the_stage_arrives_byte_exact_between_small_ones():
    big = os.urandom(3 * STAGE_SIZE + 123)
    bodies = [b"a" * 10, big, b"b" * 20, os.urandom(STAGE_SIZE), b""]
    stream = b"".join(framed(b) for b in bodies)
    frames, transport = feed(stream, [7, 1000, STAGE_SIZE + 5, 2 * STAGE_SIZE, len(stream) - 3])
    assert frames == bodies
    assert not transport.closed


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.one_of(st.integers(0, 300), st.integers(STAGE_SIZE - 8, 2 * STAGE_SIZE + 8)), min_size=1, max_size=5),
    cuts=st.lists(st.floats(0, 1), max_size=12),
)
def test_any_cut_of_the_stream_gives_the_same_frames(sizes, cuts):
    bodies = [bytes([i + 1]) * n for i, n in enumerate(sizes)]
    stream = b"".join(framed(b) for b in bodies)
    frames, _ = feed(stream, [int(c * len(stream)) for c in cuts])
    assert frames == bodies


def test_a_frame_over_the_request_size_limit_closes_before_anything_is_allocated():
    stream = framed(b"ok") + struct.pack(">i", 2_000_000) + b"x" * 100
    frames, transport = feed(stream, [], max_request_size=1_000_000)
    assert frames == [b"ok"]
    assert transport.closed
