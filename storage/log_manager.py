"""All partition logs under `log.dirs`: loading at start-up, creation and deletion, the
broker-level checkpoint files, clean-shutdown markers, retention passes and the cleaner.

Threading contract: `get_log`, `get_or_create_log`, `delete_log` and `run_retention` run on the
broker's event loop (they do no fsync). `flush_due_logs`/`Log.flush`, `write_checkpoints`,
`startup` and `close` fsync and belong in an executor. The cleaner is a thread of its own.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

from storage.checkpoints import (
    CLEANER_OFFSET_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT,
    CorruptCheckpointError, has_clean_shutdown, read_offsets, remove_clean_shutdown,
    write_clean_shutdown, write_offsets,
)
from storage.config import LogConfig
from storage.files import FileCache, fsync_dir
from storage.log import Clock, Log, wall_clock_ms
from storage.producer_state import DEFAULT_PRODUCER_ID_EXPIRATION_MS

logger = logging.getLogger(__name__)

HIGH_WATERMARK_CHECKPOINT = "replication-offset-checkpoint"
DELETE_DIR_SUFFIX = "-delete"
FUTURE_DIR_SUFFIX = "-future"
STRAY_DIR_SUFFIX = "-stray"
METADATA_DIR_PREFIX = "__cluster_metadata-"

TopicPartition = tuple[str, int]


def default_max_open_files() -> int:
    """Half the soft descriptor limit, at most 4096: sockets need the rest."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ValueError, OSError):
        soft = 1024
    if soft == resource.RLIM_INFINITY:
        soft = 8192
    return max(16, min(4096, soft // 2))


def parse_partition_dir(name: str) -> TopicPartition | None:
    """`<topic>-<partition>` as Kafka names partition directories; None for anything else."""
    if name.endswith((DELETE_DIR_SUFFIX, FUTURE_DIR_SUFFIX, STRAY_DIR_SUFFIX)) or "-" not in name:
        return None
    topic, _, part = name.rpartition("-")
    if not topic or not part.isdigit():
        return None
    return topic, int(part)


def partition_dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


def delete_dir_name(topic: str, partition: int) -> str:
    """Kafka's name for a partition directory awaiting deletion."""
    suffix = f".{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
    prefix = f"{topic}-{partition}"
    return prefix[: 255 - len(suffix)] + suffix


class LogManager:
    """Owns every partition log of a broker."""

    def __init__(
        self, log_dirs: Iterable[Path | str], default_config: LogConfig | None = None, *,
        clock: Clock | None = None, topic_config: Callable[[str], LogConfig] | None = None,
        max_open_files: int | None = None, recovery_threads: int = 1,
        producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS, broker_epoch: int = -1,
    ) -> None:
        self.log_dirs = [Path(d) for d in log_dirs]
        if not self.log_dirs:
            raise ValueError("at least one log dir is required")
        self.default_config = default_config or LogConfig()
        self._topic_config = topic_config
        self.clock = clock or wall_clock_ms
        self.cache = FileCache(max_open_files or default_max_open_files())
        self.recovery_threads = max(1, recovery_threads)
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self.broker_epoch = broker_epoch
        self._logs: dict[TopicPartition, Log] = {}
        self._log_dir_of: dict[TopicPartition, Path] = {}
        # Partitions per log dir, kept as logs come and go: new logs go to the emptiest dir.
        self._dir_counts: dict[Path, int] = {d: 0 for d in self.log_dirs}
        self._lock = threading.RLock()
        self._pending_dir_deletes: list[tuple[int, Path]] = []
        self.cleaner = None  # storage.cleaner.LogCleaner once started
        self._started = False

    # ------------------------------------------------------------------------------------------
    # start-up and shutdown

    def config_for(self, topic: str) -> LogConfig:
        return self._topic_config(topic) if self._topic_config else self.default_config

    def startup(self) -> None:
        """Load every partition directory. After a clean shutdown nothing is scanned."""
        now = self.clock()
        for log_dir in self.log_dirs:
            os.makedirs(log_dir, exist_ok=True)
            clean = has_clean_shutdown(str(log_dir))
            rps = self._read_checkpoint(log_dir, RECOVERY_POINT_CHECKPOINT)
            starts = self._read_checkpoint(log_dir, LOG_START_OFFSET_CHECKPOINT)
            hws = self._read_checkpoint(log_dir, HIGH_WATERMARK_CHECKPOINT)
            cleaned = self._read_checkpoint(log_dir, CLEANER_OFFSET_CHECKPOINT)
            jobs = []
            for entry in sorted(os.scandir(log_dir), key=lambda e: e.name):
                if not entry.is_dir():
                    continue
                if entry.name.endswith(DELETE_DIR_SUFFIX):
                    self._pending_dir_deletes.append((now, Path(entry.path)))
                    continue
                if entry.name.startswith(METADATA_DIR_PREFIX):
                    continue  # the KRaft metadata log is opened by raft, not here
                tp = parse_partition_dir(entry.name)
                if tp is None:
                    logger.warning("ignoring unexpected directory %s", entry.path)
                    continue
                jobs.append((tp, Path(entry.path)))

            def load(job: tuple[TopicPartition, Path]) -> tuple[TopicPartition, Log]:
                tp, path = job
                log = Log.open(
                    path, self.config_for(tp[0]), clock=self.clock, cache=self.cache,
                    recovery_point=rps.get(tp, 0), log_start_offset=starts.get(tp, 0),
                    high_watermark=hws.get(tp), clean_shutdown=clean,
                    producer_id_expiration_ms=self.producer_id_expiration_ms,
                )
                log.cleaner_checkpoint = cleaned.get(tp)
                return tp, log

            if self.recovery_threads > 1 and len(jobs) > 1:
                with ThreadPoolExecutor(self.recovery_threads) as pool:
                    loaded = list(pool.map(load, jobs))
            else:
                loaded = [load(j) for j in jobs]
            with self._lock:
                for tp, log in loaded:
                    if tp in self._logs:
                        raise RuntimeError(f"partition {tp[0]}-{tp[1]} exists in two log dirs")
                    self._logs[tp] = log
                    self._log_dir_of[tp] = log_dir
                    self._dir_counts[log_dir] = self._dir_counts.get(log_dir, 0) + 1
            # From now on a crash must be detected at the next start.
            remove_clean_shutdown(str(log_dir))
        self.purge_deleted_dirs(now)
        self._started = True

    def _read_checkpoint(self, log_dir: Path, name: str) -> dict[TopicPartition, int]:
        try:
            return read_offsets(str(log_dir / name))
        except CorruptCheckpointError as e:
            # A bad checkpoint only costs recovery time: logs fall back to a full scan.
            logger.warning("ignoring %s: %s", log_dir / name, e)
            return {}

    def close(self) -> None:
        """Stop the cleaner, close every log (fsync, snapshots), write the checkpoints and the
        clean-shutdown marker in each log dir."""
        self.stop_cleaner()
        with self._lock:
            for log in self._logs.values():
                log.close()
            self.write_checkpoints()
            self.purge_deleted_dirs(1 << 62)
            for log_dir in self.log_dirs:
                write_clean_shutdown(str(log_dir), self.broker_epoch)
            self.cache.close_all()

    # ------------------------------------------------------------------------------------------
    # logs

    def get_log(self, topic: str, partition: int) -> Log | None:
        return self._logs.get((topic, partition))

    def all_logs(self) -> dict[TopicPartition, Log]:
        with self._lock:
            return dict(self._logs)

    def get_or_create_log(self, topic: str, partition: int, config: LogConfig | None = None) -> Log:
        """The partition's log, created in the log dir holding the fewest partitions."""
        tp = (topic, partition)
        with self._lock:
            log = self._logs.get(tp)
            if log is not None:
                return log
            counts = self._dir_counts
            log_dir = min(self.log_dirs, key=lambda d: counts[d])
            path = log_dir / partition_dir_name(topic, partition)
            log = Log.open(
                path, config or self.config_for(topic), clock=self.clock, cache=self.cache,
                # A directory that already exists was not loaded at start-up: trust nothing.
                clean_shutdown=not path.exists(),
                producer_id_expiration_ms=self.producer_id_expiration_ms,
            )
            self._logs[tp] = log
            self._log_dir_of[tp] = log_dir
            counts[log_dir] += 1
            return log

    def log_dir_of(self, topic: str, partition: int) -> Path | None:
        return self._log_dir_of.get((topic, partition))

    def delete_log(self, topic: str, partition: int) -> bool:
        """Topic deletion: rename the directory to `<topic>-<partition>.<uuid>-delete`, forget
        the log, remove the directory after file.delete.delay.ms (as Kafka does)."""
        tp = (topic, partition)
        with self._lock:
            log = self._logs.pop(tp, None)
            log_dir = self._log_dir_of.pop(tp, None)
            if log is None or log_dir is None:
                return False
            self._dir_counts[log_dir] -= 1
            if self.cleaner is not None:
                self.cleaner.abort(log)
            log.close_without_flush()
            target = log_dir / delete_dir_name(topic, partition)
            os.replace(log.dir, target)
            self._pending_dir_deletes.append((self.clock() + log.config.file_delete_delay_ms, target))
            return True

    def purge_deleted_dirs(self, now_ms: int | None = None) -> int:
        now = self.clock() if now_ms is None else now_ms
        keep, gone = [], 0
        for due, path in self._pending_dir_deletes:
            if due <= now:
                shutil.rmtree(path, ignore_errors=True)
                gone += 1
            else:
                keep.append((due, path))
        self._pending_dir_deletes = keep
        if gone:
            for log_dir in self.log_dirs:
                fsync_dir(str(log_dir))
        return gone

    # ------------------------------------------------------------------------------------------
    # periodic work

    def run_retention(self, now_ms: int | None = None) -> int:
        """One retention pass (every log.retention.check.interval.ms): time/size retention,
        log-start breaches, delayed file and directory deletion, producer-id expiry.
        Returns the number of segments deleted."""
        now = self.clock() if now_ms is None else now_ms
        deleted = 0
        for log in list(self._logs.values()):
            deleted += log.apply_retention(now)
            log.remove_expired_producers(now)
        self.purge_deleted_dirs(now)
        return deleted

    def flush_due_logs(self, now_ms: int | None = None) -> list[Log]:
        """Logs whose flush.ms elapsed with unflushed data; call `flush()` on them in an
        executor. Logs past flush.messages say so in their AppendResult instead."""
        now = self.clock() if now_ms is None else now_ms
        return [log for log in list(self._logs.values()) if log.flush_due(now)]

    def write_checkpoints(self) -> None:
        """Write recovery points, log start offsets, high watermarks and cleaner offsets of
        every log dir (Kafka does this every log.flush.offset.checkpoint.interval.ms)."""
        with self._lock:
            by_dir: dict[Path, dict[TopicPartition, Log]] = {d: {} for d in self.log_dirs}
            for tp, log in self._logs.items():
                by_dir[self._log_dir_of[tp]][tp] = log
        for log_dir, logs in by_dir.items():
            write_offsets(str(log_dir / RECOVERY_POINT_CHECKPOINT),
                          {tp: log.recovery_point for tp, log in logs.items()})
            write_offsets(str(log_dir / LOG_START_OFFSET_CHECKPOINT),
                          {tp: log.log_start_offset for tp, log in logs.items()})
            write_offsets(str(log_dir / HIGH_WATERMARK_CHECKPOINT),
                          {tp: log.high_watermark for tp, log in logs.items()})
            write_offsets(str(log_dir / CLEANER_OFFSET_CHECKPOINT),
                          {tp: log.cleaner_checkpoint for tp, log in logs.items()
                           if log.cleaner_checkpoint is not None})

    # ------------------------------------------------------------------------------------------
    # compaction

    def start_cleaner(self, *, backoff_ms: int = 15_000, dedupe_buffer_entries: int = 1 << 20) -> None:
        """Start the background compaction thread (log.cleaner.enable)."""
        from storage.cleaner import LogCleaner

        if self.cleaner is None:
            self.cleaner = LogCleaner(self, backoff_ms=backoff_ms, max_map_entries=dedupe_buffer_entries)
            self.cleaner.start()

    def stop_cleaner(self) -> None:
        if self.cleaner is not None:
            self.cleaner.stop()
            self.cleaner = None
