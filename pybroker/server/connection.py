"""One client connection: length-prefixed frames in, responses out in request order.

The protocol reads with `asyncio.BufferedProtocol`: small frames are parsed out of a staging
buffer, and a frame too large for it is received directly into a buffer of its exact size, so
a 1 MiB produce request costs no copy. Frame sizes are checked against
`socket.request.max.bytes` before anything is allocated.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import struct
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from pybroker.server.dispatch import Dispatcher

log = logging.getLogger("pybroker.server")

_SIZE = struct.Struct(">i")
# A bytearray of a given size without zero-filling it: a large frame's buffer is overwritten
# by the socket before anything reads it, and bytearray(n) would clear 1 MiB per produce
# request for nothing (about 20 us).
_new_frame_buffer = ctypes.pythonapi.PyByteArray_FromStringAndSize
_new_frame_buffer.restype = ctypes.py_object
_new_frame_buffer.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t]
STAGE_SIZE = 256 * 1024
# Requests handled but not yet answered, per connection, before reading pauses.
MAX_IN_FLIGHT = 128


class _Slot:
    """A response position in the connection's ordered output."""

    __slots__ = ("parts", "done")

    def __init__(self) -> None:
        self.parts: Iterable[Any] | None = None
        self.done = False


class KafkaConnection(asyncio.BufferedProtocol):
    def __init__(self, dispatcher: "Dispatcher", listener_name: str, max_request_size: int) -> None:
        self.dispatcher = dispatcher
        self.listener_name = listener_name
        self.max_request_size = max_request_size
        self.transport: asyncio.Transport | None = None
        self.peer: str = "?"
        self.closed = False
        self.last_active = time.monotonic()
        self._stage = bytearray(STAGE_SIZE)
        self._stage_view = memoryview(self._stage)
        self._start = 0  # first unparsed byte in the stage
        self._end = 0  # end of received bytes in the stage
        self._frame: bytearray | None = None  # a large frame being received directly
        self._frame_view: memoryview | None = None
        self._filled = 0
        self._slots: deque[_Slot] = deque()
        self._out: list[Any] = []
        self._flush_scheduled = False
        self._loop = asyncio.get_running_loop()
        self._reading_paused = False
        self._writing_paused = False
        # Per-connection state handlers may keep (authentication, client software, ...).
        self.state: dict[str, Any] = {}

    # --- asyncio callbacks ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.dispatcher.connection_opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._slots.clear()
        self._frame = self._frame_view = None
        self.dispatcher.connection_closed(self)

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._update_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._frame_view is not None:
            return self._frame_view[self._filled :]
        if self._end == STAGE_SIZE:
            self._compact()
        return self._stage_view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self.last_active = time.monotonic()
        if self._frame_view is not None:
            self._filled += nbytes
            if self._filled == len(self._frame_view):
                frame = self._frame
                self._frame = self._frame_view = None
                assert frame is not None
                self._deliver(frame)
            return
        self._end += nbytes
        self._parse_stage()

    def eof_received(self) -> bool | None:
        return None  # close the transport

    # --- framing --------------------------------------------------------------------------
    def _compact(self) -> None:
        if self._start:
            remaining = self._end - self._start
            self._stage_view[:remaining] = self._stage_view[self._start : self._end]
            self._start = 0
            self._end = remaining

    def _parse_stage(self) -> None:
        stage = self._stage
        while not self.closed:
            available = self._end - self._start
            if available < 4:
                break
            (size,) = _SIZE.unpack_from(stage, self._start)
            if size < 0 or size > self.max_request_size:
                log.warning(
                    "closing connection from %s: frame size %d outside [0, %d] (socket.request.max.bytes)",
                    self.peer, size, self.max_request_size,
                )
                self.close()
                return
            if available >= 4 + size:
                begin = self._start + 4
                frame = bytearray(self._stage_view[begin : begin + size])
                self._start = begin + size
                self._deliver(frame)
                continue
            if 4 + size > STAGE_SIZE:
                # Receive the rest of this frame straight into its own buffer.
                frame = _new_frame_buffer(None, size)
                have = available - 4
                frame[:have] = self._stage_view[self._start + 4 : self._end]
                self._frame = frame
                self._frame_view = memoryview(frame)
                self._filled = have
                self._start = self._end = 0
                return
            break
        if self._start == self._end:
            self._start = self._end = 0
        elif self._end == STAGE_SIZE:
            self._compact()

    def _deliver(self, frame: bytearray) -> None:
        self.dispatcher.handle_frame(self, frame)

    # --- responses --------------------------------------------------------------------------
    def reserve(self) -> _Slot:
        """Take the next position in the output order; fill it with `complete`."""
        slot = _Slot()
        self._slots.append(slot)
        if len(self._slots) >= MAX_IN_FLIGHT:
            self._update_reading()
        return slot

    def complete(self, slot: _Slot, parts: Iterable[Any]) -> None:
        if self.closed:
            return
        slot.parts = parts
        slot.done = True
        slots = self._slots
        out = self._out
        while slots and slots[0].done:
            head = slots.popleft()
            if head.parts:
                out.extend(head.parts)
        # Responses ready in the same loop iteration leave in one system call: on loopback
        # every send costs the kernel a full trip through the TCP stack.
        if out and not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        self._update_reading()

    def _flush(self) -> None:
        self._flush_scheduled = False
        out = self._out
        if out and not self.closed and self.transport is not None:
            self.transport.writelines(out)
        self._out = []

    def abandon(self, slot: _Slot) -> None:
        """The request needs no response (acks=0); keep the order of the others."""
        self.complete(slot, ())

    def _update_reading(self) -> None:
        if self.closed or self.transport is None:
            return
        should_pause = self._writing_paused or len(self._slots) >= MAX_IN_FLIGHT
        if should_pause and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        elif not should_pause and self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
