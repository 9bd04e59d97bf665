"""A consumer-group scenario shared by the client tests: members join and leave a group on a
6-partition topic while a producer writes; every record must be seen exactly once.

Each client library plugs in through a small Member class (start, poll once, close); the
scenario drives them in threads and checks the result.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Callable, Protocol

PARTITIONS = 6


class Member(Protocol):
    name: str

    def poll(self) -> list[tuple[int, int, bytes]]:
        """Consume what is ready: (partition, offset, value); commit it before returning."""

    def assignment(self) -> set[int]:
        """Partitions currently assigned."""

    def close(self) -> None:
        """Leave the group (committing what was consumed)."""


class Runner:
    """Polls one member in a thread until stopped, recording what it sees."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.seen: list[tuple[int, int, bytes]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._closed = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"member-{member.name}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.seen.extend(self.member.poll())
        except BaseException as exc:  # reported by the scenario
            self.errors.append(exc)
        finally:
            try:
                self.member.close()
            except BaseException as exc:
                self.errors.append(exc)
            self._closed.set()

    def start(self) -> "Runner":
        self.thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self.thread.join(timeout)
        assert self._closed.is_set(), f"member {self.member.name} did not close"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run_join_leave_scenario(
    make_member: Callable[[str], Member],
    produce: Callable[[list[bytes]], None],
    *,
    total: int = 3000,
    timeout: float = 60,
) -> dict[str, list[tuple[int, int, bytes]]]:
    """Two members, then a third joins, then the first leaves; records keep flowing.

    Returns what each member saw. Asserts every record was consumed exactly once and that the
    group spread partitions over its members at each stage.
    """
    values = [b"rec-%06d" % i for i in range(total)]
    third = total // 3
    a = Runner(make_member("a")).start()
    b = Runner(make_member("b")).start()
    runners = [a, b]
    try:
        wait_until(lambda: a.member.assignment() and b.member.assignment()
                   and len(a.member.assignment() | b.member.assignment()) == PARTITIONS, timeout,
                   "two members to share the partitions")
        produce(values[:third])
        c = Runner(make_member("c")).start()
        runners.append(c)
        wait_until(lambda: all(r.member.assignment() for r in runners)
                   and len(set().union(*(r.member.assignment() for r in runners))) == PARTITIONS
                   and sum(len(r.member.assignment()) for r in runners) == PARTITIONS,
                   timeout, "three members to share the partitions")
        produce(values[third:2 * third])
        a.stop()
        wait_until(lambda: b.member.assignment() and c.member.assignment()
                   and len(b.member.assignment() | c.member.assignment()) == PARTITIONS
                   and len(b.member.assignment()) + len(c.member.assignment()) == PARTITIONS,
                   timeout, "the remaining two members to take over")
        produce(values[2 * third:])
        wait_until(lambda: sum(len(r.seen) for r in runners) >= total, timeout, "every record to be consumed")
        time.sleep(0.5)  # anything seen twice would show up now
    finally:
        for r in runners:
            if r.thread.is_alive():
                r.stop()
    for r in runners:
        assert not r.errors, f"{r.member.name}: {r.errors[0]!r}"
    counts = Counter(v for r in runners for _, _, v in r.seen)
    missing = [v for v in values if counts[v] == 0]
    twice = [v for v, n in counts.items() if n > 1]
    assert not missing, f"{len(missing)} records never consumed, e.g. {missing[:3]}"
    assert not twice, f"{len(twice)} records consumed more than once, e.g. {twice[:3]}"
    return {r.member.name: r.seen for r in runners}
