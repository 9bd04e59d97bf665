"""Replica placement for new partitions: leaders round-robin over the active brokers from a
random start, followers shifted along, racks alternated (Kafka's rack-aware assignment)."""

from __future__ import annotations

import random
from typing import Sequence

from pybroker.metadata.image import BrokerRegistration


class PlacementError(ValueError):
    """Not enough brokers to place the replicas; the message is Kafka's."""


def _replica_index(first: int, shift: int, j: int, n: int) -> int:
    return (first + 1 + (shift + j) % (n - 1)) % n


def _rack_alternated(brokers: Sequence[BrokerRegistration]) -> tuple[list[int], dict[int, str]]:
    by_rack: dict[str, list[int]] = {}
    racks: dict[int, str] = {}
    for b in sorted(brokers, key=lambda b: b.id):
        rack = b.rack or ""
        racks[b.id] = rack
        by_rack.setdefault(rack, []).append(b.id)
    order = sorted(by_rack)
    iters = {rack: iter(ids) for rack, ids in by_rack.items()}
    out: list[int] = []
    i = 0
    while len(out) < len(racks):
        nxt = next(iters[order[i]], None)
        if nxt is not None:
            out.append(nxt)
        i = (i + 1) % len(order)
    return out, racks


def place_replicas(brokers: Sequence[BrokerRegistration], num_partitions: int, replication_factor: int,
                   rng: random.Random, start_partition: int = 0) -> list[list[int]]:
    """Replica lists (preferred leader first) for partitions start_partition.. of a topic.

    `brokers` are the brokers that may host replicas (registered, unfenced, not shutting down).
    """
    if replication_factor <= 0:
        raise PlacementError(f"Invalid replication factor {replication_factor}: the replication factor must be positive.")
    n = len(brokers)
    if n == 0:
        raise PlacementError("All brokers are currently fenced.")
    if replication_factor > n:
        raise PlacementError(f"The target replication factor of {replication_factor} cannot be reached "
                             f"because only {n} broker(s) are registered.")
    ids, racks = _rack_alternated(brokers)
    rack_aware = len(set(racks.values())) > 1
    num_racks = len(set(racks.values()))
    start = rng.randrange(n)
    shift = rng.randrange(n)
    out: list[list[int]] = []
    p = max(0, start_partition)
    for _ in range(num_partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start) % n
        replicas = [ids[first]]
        if not rack_aware:
            replicas += [ids[_replica_index(first, shift, j, n)] for j in range(replication_factor - 1)]
        else:
            used_racks = {racks[ids[first]]}
            used = {ids[first]}
            k = 0
            for _r in range(replication_factor - 1):
                while True:
                    b = ids[_replica_index(first, shift * num_racks, k, n)]
                    k += 1
                    # Prefer a broker on a rack without a replica, and never repeat a broker.
                    if (racks[b] not in used_racks or len(used_racks) == num_racks) and \
                            (b not in used or len(used) == n):
                        replicas.append(b)
                        used_racks.add(racks[b])
                        used.add(b)
                        break
        out.append(replicas)
        p += 1
    return out
