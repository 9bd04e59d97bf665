"""Fetch sessions (KIP-227): the broker remembers a consumer's partitions between fetches so
incremental fetches name only what changed and responses carry only what changed."""

from __future__ import annotations

import itertools
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

INITIAL_EPOCH = 0
FINAL_EPOCH = -1


@dataclass(slots=True)
class SessionPartition:
    """One partition of a session: what the client asked for and what it was last told."""

    topic: str | None
    topic_id: Any
    index: int
    fetch_offset: int
    max_bytes: int
    log_start_offset: int = -1
    current_leader_epoch: int = -1
    last_fetched_epoch: int = -1
    # What the last response said, to decide whether the next one must include the partition.
    sent_high_watermark: int = -1
    sent_last_stable_offset: int = -1
    sent_log_start_offset: int = -1


@dataclass(slots=True)
class FetchSession:
    session_id: int
    epoch: int  # the epoch the next incremental fetch must carry
    partitions: "OrderedDict[tuple[Any, int], SessionPartition]" = field(default_factory=OrderedDict)
    last_used_ms: int = 0


class SessionError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class FetchSessionCache:
    """Sessions by id, bounded; the least recently used session makes room for a new one."""

    FETCH_SESSION_ID_NOT_FOUND = 70
    INVALID_FETCH_SESSION_EPOCH = 71

    def __init__(self, max_sessions: int = 1000, seed: int | None = None) -> None:
        self.max_sessions = max_sessions
        self.sessions: "OrderedDict[int, FetchSession]" = OrderedDict()
        self._rng = random.Random(seed)

    def _new_id(self) -> int:
        for _ in itertools.count():
            sid = self._rng.randint(1, 0x7FFFFFFF)
            if sid not in self.sessions:
                return sid
        raise AssertionError

    def create(self, now_ms: int) -> FetchSession | None:
        if self.max_sessions <= 0:
            return None
        while len(self.sessions) >= self.max_sessions:
            self.sessions.popitem(last=False)
        session = FetchSession(self._new_id(), epoch=1, last_used_ms=now_ms)
        self.sessions[session.session_id] = session
        return session

    def close(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)

    def lookup(self, session_id: int, epoch: int, now_ms: int) -> FetchSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise SessionError(self.FETCH_SESSION_ID_NOT_FOUND)
        if epoch != session.epoch:
            raise SessionError(self.INVALID_FETCH_SESSION_EPOCH)
        self.sessions.move_to_end(session_id)
        session.last_used_ms = now_ms
        return session
