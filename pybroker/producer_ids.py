"""Producer ids for idempotent and transactional producers, handed out from blocks the
controller allocates (ProducerIdsRecord), as Kafka's AllocateProducerIds does."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from protocol.errors import ErrorCode

log = logging.getLogger("pybroker.producer_ids")

# Ask for the next block once this fraction of the current one is used.
PREFETCH_AT = 0.9


class ProducerIdError(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or ErrorCode(code).name)
        self.code = code


class ProducerIdManager:
    """Hands out ids from the current block, fetching the next block ahead of need."""

    def __init__(self, allocate: Callable[[], Awaitable[Any]]) -> None:
        self._allocate = allocate
        self._next = 0
        self._end = 0  # exclusive
        self._size = 0
        self._spare: tuple[int, int] | None = None
        self._fetching: asyncio.Task | None = None

    def _start_fetch(self) -> asyncio.Task:
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(self._fetch())
            # A fetch nobody awaits (next_id_now) must not leave an unretrieved exception.
            self._fetching.add_done_callback(lambda t: t.cancelled() or t.exception())
        return self._fetching

    async def _fetch(self) -> None:
        block = await self._allocate()
        if not block.error.ok:
            raise ProducerIdError(block.error.code, block.error.message or "")
        self._spare = (block.first_producer_id, block.first_producer_id + block.size)

    def _take_spare(self) -> bool:
        if self._spare is None:
            return False
        self._next, self._end = self._spare
        self._size = self._end - self._next
        self._spare = None
        return True

    async def next_id(self) -> int:
        while self._next >= self._end:
            if not self._take_spare():
                try:
                    await self._start_fetch()
                except ProducerIdError:
                    raise
                except Exception as exc:  # the controller could not be reached or failed
                    log.warning("could not allocate producer ids: %s", exc)
                    raise ProducerIdError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) from None
        return self._take()

    def next_id_now(self) -> int:
        """An id from the blocks already fetched, without waiting, as Kafka's coordinator takes
        them: ProducerIdError(COORDINATOR_LOAD_IN_PROGRESS), retriable, while the next block is
        still being fetched."""
        if self._next >= self._end and not self._take_spare():
            self._start_fetch()
            raise ProducerIdError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        return self._take()

    def _take(self) -> int:
        pid = self._next
        self._next += 1
        if self._spare is None and self._size and self._end - self._next <= self._size * (1 - PREFETCH_AT):
            self._start_fetch()
        return pid
