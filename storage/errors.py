"""Exceptions the storage package raises, each carrying the Kafka error code it maps to."""

from __future__ import annotations

from typing import Any

from protocol.errors import CorruptRecordError, ErrorCode

__all__ = [
    "StorageError",
    "ConfigError",
    "OffsetOutOfRangeError",
    "RecordTooLargeError",
    "CorruptRecordError",
    "OffsetsOutOfOrderError",
    "InvalidTimestampError",
    "LogClosedError",
    "CorruptIndexError",
]


class StorageError(Exception):
    """Base of the storage package's exceptions."""

    error_code: ErrorCode = ErrorCode.UNKNOWN_SERVER_ERROR


class ConfigError(StorageError, ValueError):
    """An invalid topic or broker config value; the message names the key."""

    error_code = ErrorCode.INVALID_CONFIG

    def __init__(self, key: str, value: Any, reason: str) -> None:
        super().__init__(f"invalid value {value!r} for configuration {key}: {reason}")
        self.key = key
        self.value = value


class OffsetOutOfRangeError(StorageError):
    """A read or lookup below the log start offset or above the log end offset."""

    error_code = ErrorCode.OFFSET_OUT_OF_RANGE

    def __init__(self, offset: int, log_start_offset: int, log_end_offset: int) -> None:
        super().__init__(
            f"offset {offset} is out of range [{log_start_offset}, {log_end_offset}]"
        )
        self.offset = offset
        self.log_start_offset = log_start_offset
        self.log_end_offset = log_end_offset


class RecordTooLargeError(StorageError):
    """A batch larger than max.message.bytes (MESSAGE_TOO_LARGE), or an append larger than a
    whole segment (RECORD_LIST_TOO_LARGE)."""

    error_code = ErrorCode.MESSAGE_TOO_LARGE


class InvalidTimestampError(StorageError):
    """A CreateTime batch whose timestamps lie outside message.timestamp.before/after.max.ms."""

    error_code = ErrorCode.INVALID_TIMESTAMP


class OffsetsOutOfOrderError(StorageError):
    """A follower append whose offsets do not increase past the log end offset."""

    error_code = ErrorCode.UNKNOWN_SERVER_ERROR


class LogClosedError(StorageError):
    """An operation on a log that was closed or deleted."""

    error_code = ErrorCode.KAFKA_STORAGE_ERROR


class CorruptIndexError(StorageError):
    """An index file whose contents contradict its segment; it is rebuilt from the log."""

    error_code = ErrorCode.KAFKA_STORAGE_ERROR
