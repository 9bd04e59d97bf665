"""The client side of the wire protocol, without I/O: frame requests, match responses to them
by correlation id, and pick API versions from a broker's ApiVersions answer.

`ClientProtocol.request()` returns the bytes to send; `receive_data()` takes bytes as they
arrive and returns the decoded responses it completed. A socket, an asyncio stream or a test
can drive it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocol import messages
from protocol.errors import ErrorCode
from protocol.headers import (
    RequestHeader,
    request_header_codec,
    request_header_version,
    response_header_codec,
    response_header_version,
)

API_VERSIONS = 18

# The highest version of each API the tools fill in correctly. Above these, requests name
# topics by id (Produce 13, Fetch 13, OffsetCommit/OffsetFetch 10), which the tools do not need.
CLIENT_MAX_VERSIONS: dict[int, int] = {
    0: 12,  # Produce
    1: 12,  # Fetch
    2: 10,  # ListOffsets
    3: 12,  # Metadata
    8: 9,  # OffsetCommit
    9: 9,  # OffsetFetch
    10: 6,  # FindCoordinator
    11: 9,  # JoinGroup
    12: 4,  # Heartbeat
    13: 5,  # LeaveGroup
    14: 5,  # SyncGroup
    15: 6,  # DescribeGroups
    16: 5,  # ListGroups
    18: 4,  # ApiVersions
    19: 7,  # CreateTopics
    20: 6,  # DeleteTopics
    32: 4,  # DescribeConfigs
    33: 2,  # AlterConfigs
    37: 3,  # CreatePartitions
    42: 2,  # DeleteGroups
    44: 1,  # IncrementalAlterConfigs
    60: 1,  # DescribeCluster
}

_SIZE = struct.Struct(">i")
_CORRELATION = struct.Struct(">i")


class KafkaError(Exception):
    """An error code a broker answered with (or the client's own failure, as a Kafka code)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = ErrorCode.for_code(code)
        self.detail = message
        text = self.code.name if not message else f"{self.code.name}: {message}"
        super().__init__(text)

    @property
    def retriable(self) -> bool:
        return self.code.retriable


class UnsupportedApiError(Exception):
    """The broker and the tools share no version of an API."""


def check(code: int, message: str | None = None) -> None:
    """Raise KafkaError for a non-zero error code."""
    if code:
        raise KafkaError(code, message)


@dataclass(slots=True)
class _Pending:
    api_key: int
    version: int


class ClientProtocol:
    """Framing, correlation and version choice for one connection."""

    def __init__(self, client_id: str = "pybroker-tools") -> None:
        self.client_id = client_id
        self.versions: dict[int, tuple[int, int]] = {}  # the broker's ranges, once known
        self._next_correlation = 0
        self._pending: dict[int, _Pending] = {}
        self._buffer = bytearray()

    # --- versions ----------------------------------------------------------------------------
    def set_broker_versions(self, response: Any) -> None:
        self.versions = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}

    def version(self, api_key: int) -> int:
        """The highest version both the broker and the tools speak."""
        broker = self.versions.get(api_key)
        if broker is None:
            raise UnsupportedApiError(f"the broker does not serve API {api_key}")
        spec_versions = messages.request_spec(api_key).versions
        high = min(broker[1], CLIENT_MAX_VERSIONS.get(api_key, spec_versions.high), spec_versions.high)
        low = max(broker[0], spec_versions.low)
        if high < low:
            raise UnsupportedApiError(
                f"no common version of API {api_key}: broker {broker[0]}-{broker[1]}, tools up to {high}"
            )
        return high

    def supports(self, api_key: int) -> bool:
        try:
            self.version(api_key)
        except UnsupportedApiError:
            return False
        return True

    # --- requests and responses --------------------------------------------------------------
    def request(self, api_key: int, body: Any, version: int | None = None, *, expect_response: bool = True) -> tuple[int, bytes]:
        """Encode one request; returns its correlation id and the framed bytes."""
        if version is None:
            version = self.version(api_key)
        codec = messages.request_codec(api_key, version)
        correlation_id = self._next_correlation
        self._next_correlation = (self._next_correlation + 1) & 0x7FFFFFFF
        header = RequestHeader(
            request_api_key=api_key, request_api_version=version, correlation_id=correlation_id,
            client_id=self.client_id,
        )
        out = bytearray(4)
        request_header_codec(request_header_version(codec.flexible)).encode_into(header, out)
        codec.encode_into(body, out)
        _SIZE.pack_into(out, 0, len(out) - 4)
        if expect_response:
            self._pending[correlation_id] = _Pending(api_key, version)
        return correlation_id, bytes(out)

    def receive_data(self, data: bytes) -> list[tuple[int, Any]]:
        """Feed received bytes; returns (correlation id, response) for each completed frame."""
        self._buffer += data
        done = []
        while len(self._buffer) >= 4:
            (size,) = _SIZE.unpack_from(self._buffer, 0)
            if size < 4:
                raise KafkaError(ErrorCode.CORRUPT_MESSAGE, f"response frame of {size} bytes")
            if len(self._buffer) < 4 + size:
                break
            frame = bytes(self._buffer[4 : 4 + size])
            del self._buffer[: 4 + size]
            done.append(self._decode(frame))
        return done

    def _decode(self, frame: bytes) -> tuple[int, Any]:
        (correlation_id,) = _CORRELATION.unpack_from(frame, 0)
        pending = self._pending.pop(correlation_id, None)
        if pending is None:
            raise KafkaError(ErrorCode.CORRUPT_MESSAGE, f"response to unknown correlation id {correlation_id}")
        codec = messages.response_codec(pending.api_key, pending.version)
        header_version = response_header_version(pending.api_key, codec.flexible)
        _, pos = response_header_codec(header_version).decode_at(frame, 0)
        if pending.api_key == API_VERSIONS and pending.version > 0 and len(frame) >= 6:
            # A broker that does not know our ApiVersions version answers in v0 with
            # UNSUPPORTED_VERSION: read just the error code to tell.
            (error,) = struct.unpack_from(">h", frame, pos)
            if error == ErrorCode.UNSUPPORTED_VERSION:
                return correlation_id, messages.response_codec(API_VERSIONS, 0).decode(frame, pos)
        return correlation_id, codec.decode(frame, pos)

    @property
    def in_flight(self) -> int:
        return len(self._pending)
