"""Request dispatch: parse the header, decode the body, run the handler, encode the response.

Handlers are plain functions `handler(ctx, request)` returning the response object, an
awaitable of it (long polls, acks=all, controller round trips), or None when the request gets
no response (Produce with acks=0). Requests are handled in arrival order; responses leave in
that order too, whatever order their awaitables finish in.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from protocol import messages
from protocol.compiler import Codec
from protocol.errors import DecodeError, EncodeError, ErrorCode
from protocol.types import assemble, read_uvarint, skip_tagged

if TYPE_CHECKING:
    from pybroker.server.connection import KafkaConnection

log = logging.getLogger("pybroker.server")
request_log = logging.getLogger("pybroker.request")

API_VERSIONS = 18
_HEADER = struct.Struct(">hhi")
_INT16 = struct.Struct(">h")
_FRAME_HEAD = struct.Struct(">ii")


@dataclass(slots=True)
class ApiHandler:
    """An API the broker serves: its handler and the versions it implements.

    `advertised_min` lets an API be advertised from a lower version than it serves, as Kafka
    does for Produce (clients that only compress when Produce v0 is listed depend on it).
    """

    api_key: int
    min_version: int
    max_version: int
    fn: Callable[["RequestContext", Any], Any]
    advertised_min: int | None = None

    @property
    def advertised_range(self) -> tuple[int, int]:
        low = self.min_version if self.advertised_min is None else self.advertised_min
        return low, self.max_version


@dataclass(slots=True)
class RequestContext:
    """What a handler knows about the request besides its body."""

    connection: "KafkaConnection"
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    listener: str
    broker: Any
    frame_size: int
    state: dict[str, Any] = field(default_factory=dict)
    received: float = 0.0  # time.perf_counter() when the request was decoded

    @property
    def peer(self) -> str:
        return self.connection.peer


class Dispatcher:
    """Turns frames from connections into handler calls and responses."""

    def __init__(self, broker: Any, handlers: dict[int, ApiHandler]) -> None:
        self.broker = broker
        self.handlers = handlers
        self._table: list[ApiHandler | None] = [None] * (max(handlers, default=0) + 1)
        for key, h in handlers.items():
            self._table[key] = h
        self.connections: set["KafkaConnection"] = set()
        self.stats = getattr(broker, "stats", None)  # request latencies, connection counts
        self._request_codecs: dict[tuple[int, int], Codec] = {}
        self._response_codecs: dict[tuple[int, int], Codec] = {}

    # --- connection bookkeeping -----------------------------------------------------------
    def connection_opened(self, conn: "KafkaConnection") -> None:
        self.connections.add(conn)
        if self.stats is not None:
            self.stats.connections_opened[conn.listener_name] += 1
        log.debug("connection from %s on %s", conn.peer, conn.listener_name)

    def connection_closed(self, conn: "KafkaConnection") -> None:
        self.connections.discard(conn)
        log.debug("connection from %s closed", conn.peer)

    # --- codecs -----------------------------------------------------------------------------
    def request_codec(self, api_key: int, version: int) -> Codec:
        key = (api_key, version)
        codec = self._request_codecs.get(key)
        if codec is None:
            codec = self._request_codecs[key] = messages.request_codec(api_key, version)
        return codec

    def response_codec(self, api_key: int, version: int) -> Codec:
        key = (api_key, version)
        codec = self._response_codecs.get(key)
        if codec is None:
            codec = self._response_codecs[key] = messages.response_codec(api_key, version)
        return codec

    # --- requests ---------------------------------------------------------------------------
    def handle_frame(self, conn: "KafkaConnection", frame: bytearray) -> None:
        if len(frame) < 8:
            self._reject(conn, "request shorter than its header")
            return
        api_key, api_version, correlation_id = _HEADER.unpack_from(frame, 0)
        handler = self._table[api_key] if 0 <= api_key < len(self._table) else None
        if handler is None or not handler.min_version <= api_version <= handler.max_version:
            self._unsupported(conn, frame, api_key, api_version, correlation_id, handler)
            return
        try:
            codec = self.request_codec(api_key, api_version)
            client_id, pos = self._read_client_id(frame, codec.flexible)
            request = codec.decode(memoryview(frame), pos)
        except (DecodeError, KeyError) as exc:
            self._reject(conn, f"malformed request (api {api_key} v{api_version}): {exc}")
            return
        ctx = RequestContext(
            connection=conn,
            api_key=api_key,
            api_version=api_version,
            correlation_id=correlation_id,
            client_id=client_id,
            listener=conn.listener_name,
            broker=self.broker,
            frame_size=len(frame),
            state=conn.state,
            received=time.perf_counter(),
        )
        if request_log.isEnabledFor(logging.DEBUG):
            request_log.debug("%s -> api %d v%d corr %d %r", conn.peer, api_key, api_version, correlation_id, request)
        slot = conn.reserve()
        try:
            result = handler.fn(ctx, request)
        except Exception:
            log.exception("handler for api %d v%d failed; closing %s", api_key, api_version, conn.peer)
            conn.close()
            return
        if result is None:
            conn.abandon(slot)
            if self.stats is not None:
                self.stats.request_done(api_key, time.perf_counter() - ctx.received)
        elif asyncio.isfuture(result) or asyncio.iscoroutine(result):
            fut = asyncio.ensure_future(result)
            fut.add_done_callback(lambda f: self._finish(ctx, slot, f))
        else:
            self._send(ctx, slot, result)

    def _finish(self, ctx: RequestContext, slot: Any, fut: asyncio.Future) -> None:
        conn = ctx.connection
        if fut.cancelled():
            conn.abandon(slot)
            return
        exc = fut.exception()
        if exc is not None:
            log.error("handler for api %d v%d failed; closing %s", ctx.api_key, ctx.api_version, conn.peer,
                      exc_info=exc)
            conn.close()
            return
        result = fut.result()
        if result is None:
            conn.abandon(slot)
        else:
            self._send(ctx, slot, result)

    def _send(self, ctx: RequestContext, slot: Any, response: Any) -> None:
        conn = ctx.connection
        if conn.closed:
            return
        try:
            parts = self.encode_response(ctx.api_key, ctx.api_version, ctx.correlation_id, response)
        except EncodeError:
            log.exception("cannot encode response to api %d v%d; closing %s", ctx.api_key, ctx.api_version, conn.peer)
            conn.close()
            return
        conn.complete(slot, parts)
        if self.stats is not None:
            self.stats.request_done(ctx.api_key, time.perf_counter() - ctx.received)

    def encode_response(self, api_key: int, api_version: int, correlation_id: int, response: Any) -> list:
        codec = self.response_codec(api_key, api_version)
        b = bytearray(8)
        if codec.flexible and api_key != API_VERSIONS:
            b.append(0)  # response header v1: empty tag buffer
        splices: list = []
        codec.encode_into(response, b, splices)
        size = len(b) - 4 + sum(len(p) for _, p in splices)
        _FRAME_HEAD.pack_into(b, 0, size, correlation_id)
        return assemble(b, splices)

    @staticmethod
    def _read_client_id(frame: bytearray, flexible: bool) -> tuple[str | None, int]:
        (n,) = _INT16.unpack_from(frame, 8)
        pos = 10
        client_id = None
        if n >= 0:
            if pos + n > len(frame):
                raise DecodeError("client id runs past the end of the request")
            client_id = frame[pos : pos + n].decode("utf-8", "replace")
            pos += n
        if flexible:
            count, pos = read_uvarint(frame, pos)
            for _ in range(count):
                _, _, pos = skip_tagged(frame, pos)
        return client_id, pos

    def _reject(self, conn: "KafkaConnection", why: str) -> None:
        log.warning("closing connection from %s: %s", conn.peer, why)
        conn.close()

    def _unsupported(
        self, conn: "KafkaConnection", frame: bytearray, api_key: int, api_version: int, correlation_id: int,
        handler: ApiHandler | None,
    ) -> None:
        """Kafka's answer to a version or API the broker does not serve."""
        if api_key == API_VERSIONS:
            # A v0 body with UNSUPPORTED_VERSION and the full list lets the client retry at a
            # version both sides know.
            from pybroker.handlers.api_versions import api_versions_response

            response = api_versions_response(self.broker, ErrorCode.UNSUPPORTED_VERSION)
            slot = conn.reserve()
            conn.complete(slot, self.encode_response(API_VERSIONS, 0, correlation_id, response))
            return
        if handler is not None:
            # A version of a served API outside the served range, that the codec still reads
            # (Produce v0-2 are even advertised): an UNSUPPORTED_VERSION answer at that version.
            try:
                codec = self.request_codec(api_key, api_version)
                client_id, pos = self._read_client_id(frame, codec.flexible)
                request = codec.decode(memoryview(frame), pos)
                from pybroker.handlers.errors import error_response

                response = error_response(api_key, api_version, request, ErrorCode.UNSUPPORTED_VERSION)
                parts = self.encode_response(api_key, api_version, correlation_id, response) if response else None
            except (DecodeError, EncodeError, KeyError, ValueError):
                parts = None
            if parts is not None:
                slot = conn.reserve()
                conn.complete(slot, parts)
                return
        self._reject(conn, f"unsupported api {api_key} version {api_version}")
