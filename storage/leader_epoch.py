"""The leader-epoch cache of one partition (epoch -> first offset), persisted in
`leader-epoch-checkpoint`, answering OffsetForLeaderEpoch as Kafka does."""

from __future__ import annotations

import os
import threading
from bisect import bisect_left, bisect_right

from storage.checkpoints import LEADER_EPOCH_CHECKPOINT, read_epochs, write_epochs

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class LeaderEpochCache:
    """Entries strictly increase in both epoch and start offset."""

    def __init__(self, directory: str, *, load: bool = True) -> None:
        self.path = os.path.join(directory, LEADER_EPOCH_CHECKPOINT)
        self._epochs: list[int] = []
        self._offsets: list[int] = []
        self._lock = threading.Lock()
        self.dirty = False
        if load:
            for epoch, offset in read_epochs(self.path):
                self._assign(epoch, offset)
            self.dirty = False

    # -- queries ------------------------------------------------------------------------------

    def entries(self) -> list[tuple[int, int]]:
        with self._lock:
            return list(zip(self._epochs, self._offsets))

    @property
    def latest_epoch(self) -> int | None:
        return self._epochs[-1] if self._epochs else None

    def latest_entry(self) -> tuple[int, int] | None:
        with self._lock:
            return (self._epochs[-1], self._offsets[-1]) if self._epochs else None

    def end_offset_for_epoch(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(largest epoch <= `epoch`, its end offset) as OffsetForLeaderEpoch answers.

        The end offset is the start offset of the next larger epoch, or the log end offset for
        the latest epoch; (-1, -1) for an undefined or unknown-and-too-large epoch.
        """
        with self._lock:
            epochs, offsets = self._epochs, self._offsets
            if epoch == UNDEFINED_EPOCH:
                return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
            if epochs and epochs[-1] == epoch:
                return epoch, log_end_offset
            higher = bisect_right(epochs, epoch)
            if higher == len(epochs):
                return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
            if higher == 0:
                # Older than anything cached: the data is gone; point the follower at what
                # the leader still has.
                return epoch, offsets[0]
            return epochs[higher - 1], offsets[higher]

    def epoch_for_offset(self, offset: int) -> int | None:
        with self._lock:
            i = bisect_right(self._offsets, offset) - 1
            return self._epochs[i] if i >= 0 else None

    # -- updates ------------------------------------------------------------------------------

    def assign(self, epoch: int, start_offset: int) -> bool:
        """Record that `epoch` starts at `start_offset`; entries that contradict it go."""
        with self._lock:
            return self._assign(epoch, start_offset)

    def _assign(self, epoch: int, start_offset: int) -> bool:
        if epoch < 0 or start_offset < 0:
            raise ValueError(f"invalid leader epoch entry ({epoch}, {start_offset})")
        epochs, offsets = self._epochs, self._offsets
        if epochs and epochs[-1] == epoch and offsets[-1] <= start_offset:
            return False
        while epochs and (epochs[-1] >= epoch or offsets[-1] >= start_offset):
            epochs.pop()
            offsets.pop()
        epochs.append(epoch)
        offsets.append(start_offset)
        self.dirty = True
        return True

    def truncate_from_end(self, end_offset: int) -> None:
        """Drop entries starting at or after `end_offset` (log truncated to end there)."""
        with self._lock:
            keep = bisect_left(self._offsets, end_offset)
            if keep < len(self._offsets) and end_offset >= 0:
                del self._epochs[keep:]
                del self._offsets[keep:]
                self.dirty = True

    def truncate_from_start(self, start_offset: int) -> None:
        """Drop entries wholly before `start_offset`; the one covering it now starts there."""
        with self._lock:
            i = bisect_right(self._offsets, start_offset) - 1
            if i < 0:
                return
            if i == 0 and self._offsets[0] == start_offset:
                return
            del self._epochs[:i]
            del self._offsets[:i]
            self._offsets[0] = start_offset
            self.dirty = True

    def clear(self) -> None:
        with self._lock:
            self._epochs.clear()
            self._offsets.clear()
            self.dirty = True

    def write(self, *, sync: bool = True) -> None:
        entries = self.entries()
        write_epochs(self.path, entries, sync=sync)
        self.dirty = False
