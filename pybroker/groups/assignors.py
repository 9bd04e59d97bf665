"""The server-side assignors of KIP-848 consumer groups: `uniform` and `range`.

An assignor maps the group's members (their subscribed topic ids and current target
assignment) and the subscribed topics' partition counts to a new target assignment. Both are
sticky: a member keeps what it had as far as balance allows, so that a rebalance moves few
partitions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Mapping, Protocol

Assignment = dict[uuid.UUID, set[int]]


@dataclass(slots=True)
class MemberSpec:
    """What an assignor knows of a member."""

    member_id: str
    subscribed_topic_ids: frozenset[uuid.UUID]
    current: Mapping[uuid.UUID, frozenset[int] | set[int]] = field(default_factory=dict)
    instance_id: str | None = None
    rack_id: str | None = None


class Assignor(Protocol):
    name: str

    def assign(self, members: Mapping[str, MemberSpec],
               partitions: Mapping[uuid.UUID, int]) -> dict[str, Assignment]:
        """The new target assignment of every member (members with nothing get an empty map)."""
        ...


class UniformAssignor:
    """Spreads all subscribed partitions evenly over the members subscribed to them.

    Every member keeps the partitions of its current assignment it is still subscribed to;
    unassigned partitions go to the least loaded eligible member; then partitions move from the
    most to the least loaded eligible members until no move can even the counts further. With
    identical subscriptions the member counts differ by at most one.
    """

    name = "uniform"

    def assign(self, members: Mapping[str, MemberSpec],
               partitions: Mapping[uuid.UUID, int]) -> dict[str, Assignment]:
        result: dict[str, Assignment] = {m: {} for m in members}
        counts = {m: 0 for m in members}
        owner: dict[tuple[uuid.UUID, int], str] = {}
        subscribers: dict[uuid.UUID, list[str]] = {}
        for member_id in sorted(members):
            for tid in members[member_id].subscribed_topic_ids:
                if tid in partitions:
                    subscribers.setdefault(tid, []).append(member_id)
        # 1. stickiness: keep valid current partitions (the first claimant wins a duplicate)
        for member_id in sorted(members):
            spec = members[member_id]
            for tid, parts in sorted(spec.current.items()):
                if tid not in spec.subscribed_topic_ids or tid not in partitions:
                    continue
                for p in sorted(parts):
                    if p < partitions[tid] and (tid, p) not in owner:
                        owner[(tid, p)] = member_id
                        result[member_id].setdefault(tid, set()).add(p)
                        counts[member_id] += 1
        topic_sets = {frozenset(members[m].subscribed_topic_ids & partitions.keys()) for m in members}
        if len(topic_sets) == 1 and members:
            return self._homogeneous(members, partitions, result, counts, owner, sorted(subscribers))
        # 2. hand out unassigned partitions to the least loaded subscriber
        for tid in sorted(subscribers):
            eligible = subscribers[tid]
            for p in range(partitions[tid]):
                if (tid, p) in owner:
                    continue
                target = min(eligible, key=lambda m: (counts[m], m))
                owner[(tid, p)] = target
                result[target].setdefault(tid, set()).add(p)
                counts[target] += 1
        # 3. balance: move from the most loaded member while some eligible member has 2 fewer
        while True:
            moved = False
            for source in sorted(members, key=lambda m: (-counts[m], m)):
                best: tuple[int, str, uuid.UUID, int] | None = None
                for tid in sorted(result[source]):
                    for p in sorted(result[source][tid], reverse=True):
                        for candidate in subscribers.get(tid, ()):
                            if counts[candidate] <= counts[source] - 2:
                                option = (counts[candidate], candidate, tid, p)
                                if best is None or option < best:
                                    best = option
                        break  # one partition per topic is enough to find the candidates
                if best is not None:
                    _, target, tid, p = best
                    result[source][tid].discard(p)
                    if not result[source][tid]:
                        del result[source][tid]
                    result[target].setdefault(tid, set()).add(p)
                    counts[source] -= 1
                    counts[target] += 1
                    moved = True
                    break
            if not moved:
                return result


    @staticmethod
    def _homogeneous(members: Mapping[str, MemberSpec], partitions: Mapping[uuid.UUID, int],
                     result: dict[str, Assignment], counts: dict[str, int],
                     owner: dict[tuple[uuid.UUID, int], str], topics: list[uuid.UUID]) -> dict[str, Assignment]:
        """Identical subscriptions: quotas of floor or ceil(partitions / members), the larger
        quotas to the members that already hold the most, then one pass to trim and fill."""
        total = sum(partitions[tid] for tid in topics)
        base, extra = divmod(total, len(members))
        ranked = sorted(members, key=lambda m: (-counts[m], m))
        quota = {m: base + (1 if i < extra else 0) for i, m in enumerate(ranked)}
        pool: list[tuple[uuid.UUID, int]] = []
        for m in ranked:
            excess = counts[m] - quota[m]
            if excess <= 0:
                continue
            held = sorted(((tid, p) for tid, ps in result[m].items() for p in ps), reverse=True)
            for tid, p in held[:excess]:
                result[m][tid].discard(p)
                if not result[m][tid]:
                    del result[m][tid]
                del owner[(tid, p)]
                pool.append((tid, p))
            counts[m] -= excess
        released = set(pool)
        free = sorted(pool + [(tid, p) for tid in topics for p in range(partitions[tid])
                              if (tid, p) not in owner and (tid, p) not in released])
        i = 0
        for m in sorted(members):
            while counts[m] < quota[m]:
                tid, p = free[i]
                i += 1
                result[m].setdefault(tid, set()).add(p)
                counts[m] += 1
        return result


class RangeAssignor:
    """Kafka's server-side range assignor: per topic, each subscribed member gets a contiguous
    share (the first `n % members` members one more), keeping what it had up to its share, so
    that co-partitioned topics are assigned alike."""

    name = "range"

    def assign(self, members: Mapping[str, MemberSpec],
               partitions: Mapping[uuid.UUID, int]) -> dict[str, Assignment]:
        result: dict[str, Assignment] = {m: {} for m in members}
        members_per_topic: dict[uuid.UUID, list[str]] = {}
        for member_id in sorted(members):
            for tid in sorted(members[member_id].subscribed_topic_ids):
                if tid in partitions:
                    members_per_topic.setdefault(tid, []).append(member_id)
        for tid, topic_members in sorted(members_per_topic.items()):
            n = partitions[tid]
            quota, extra = divmod(n, len(topic_members))
            sticky: set[int] = set()
            unfilled: list[tuple[str, int]] = []
            for member_id in topic_members:
                # (a partition two members claim stays with the first: targets are exclusive)
                current = sorted(p for p in members[member_id].current.get(tid, ()) if p < n and p not in sticky)
                kept = current[:min(len(current), quota)]
                if kept:
                    result[member_id].setdefault(tid, set()).update(kept)
                    sticky.update(kept)
                remaining = quota - len(current)
                if remaining < 0 and extra > 0:
                    extra -= 1
                    result[member_id].setdefault(tid, set()).add(current[quota])
                    sticky.add(current[quota])
                else:
                    unfilled.append((member_id, max(remaining, 0)))
            unassigned = [p for p in range(n) if p not in sticky]
            start = 0
            for member_id, remaining in unfilled:
                if extra > 0:
                    remaining += 1
                    extra -= 1
                if remaining > 0:
                    take = unassigned[start:start + remaining]
                    start += remaining
                    if take:
                        result[member_id].setdefault(tid, set()).update(take)
        return result


ASSIGNORS: dict[str, Assignor] = {a.name: a for a in (UniformAssignor(), RangeAssignor())}
