"""The partition log on disk: segments, sparse offset and time indexes, recovery, retention
and compaction."""

from storage.cleaner import CleanStats, LogCleaner, clean_log
from storage.config import LogConfig
from storage.errors import (
    ConfigError, CorruptIndexError, CorruptRecordError, LogClosedError, OffsetOutOfRangeError,
    OffsetsOutOfOrderError, RecordTooLargeError, StorageError,
)
from storage.files import FileCache
from storage.leader_epoch import LeaderEpochCache
from storage.log import AppendResult, Log, ProducerStateError, ReadResult
from storage.log_manager import LogManager
from storage.producer_state import ProducerCheck, ProducerStateManager

__all__ = [
    "AppendResult",
    "CleanStats",
    "ConfigError",
    "CorruptIndexError",
    "CorruptRecordError",
    "FileCache",
    "LeaderEpochCache",
    "Log",
    "LogCleaner",
    "LogClosedError",
    "LogConfig",
    "LogManager",
    "OffsetOutOfRangeError",
    "OffsetsOutOfOrderError",
    "ProducerCheck",
    "ProducerStateError",
    "ProducerStateManager",
    "ReadResult",
    "RecordTooLargeError",
    "StorageError",
    "clean_log",
]
