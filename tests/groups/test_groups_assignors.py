"""The server-side assignors: complete, exclusive, balanced and sticky assignments."""

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from pybroker.groups.assignors import RangeAssignor, UniformAssignor, MemberSpec

T1, T2, T3 = (uuid.UUID(int=i) for i in (1, 2, 3))


def specs(subs: dict[str, set], current: dict[str, dict] | None = None) -> dict[str, MemberSpec]:
    return {m: MemberSpec(m, frozenset(s), (current or {}).get(m, {})) for m, s in subs.items()}


def check_exclusive_and_complete(result, members, partitions):
    seen = {}
    for m, a in result.items():
        for tid, ps in a.items():
            assert tid in members[m].subscribed_topic_ids
            for p in ps:
                assert 0 <= p < partitions[tid]
                assert (tid, p) not in seen
                seen[(tid, p)] = m
    subscribed = {tid for s in members.values() for tid in s.subscribed_topic_ids}
    expected = {(tid, p) for tid, n in partitions.items() if tid in subscribed for p in range(n)}
    assert set(seen) == expected


def counts(result):
    return {m: sum(len(ps) for ps in a.values()) for m, a in result.items()}


def test_uniform_spreads_evenly():
    members = specs({"a": {T1}, "b": {T1}, "c": {T1}})
    r = UniformAssignor().assign(members, {T1: 10})
    check_exclusive_and_complete(r, members, {T1: 10})
    assert sorted(counts(r).values()) == [3, 3, 4]


def test_uniform_is_sticky_when_a_member_joins():
    members = specs({"a": {T1}, "b": {T1}})
    first = UniformAssignor().assign(members, {T1: 6})
    members = specs({"a": {T1}, "b": {T1}, "c": {T1}}, first)
    second = UniformAssignor().assign(members, {T1: 6})
    check_exclusive_and_complete(second, members, {T1: 6})
    moved = sum(len(first[m][T1] - second[m].get(T1, set())) for m in ("a", "b"))
    assert moved == 2 and sorted(counts(second).values()) == [2, 2, 2]


def test_uniform_heterogeneous_subscriptions():
    members = specs({"a": {T1}, "b": {T1, T2}, "c": {T2}})
    r = UniformAssignor().assign(members, {T1: 4, T2: 4})
    check_exclusive_and_complete(r, members, {T1: 4, T2: 4})
    assert max(counts(r).values()) - min(counts(r).values()) <= 1


def test_uniform_drops_unsubscribed_and_vanished_partitions():
    members = specs({"a": {T1}}, {"a": {T1: {0, 1, 7}, T2: {0}}})
    r = UniformAssignor().assign(members, {T1: 3, T2: 1})
    assert r == {"a": {T1: {0, 1, 2}}}


def test_range_assigns_contiguous_ranges_and_copartitions():
    members = specs({"a": {T1, T2}, "b": {T1, T2}, "c": {T1, T2}})
    r = RangeAssignor().assign(members, {T1: 7, T2: 7})
    check_exclusive_and_complete(r, members, {T1: 7, T2: 7})
    assert r["a"][T1] == {0, 1, 2} and r["b"][T1] == {3, 4} and r["c"][T1] == {5, 6}
    for m in r:
        assert r[m][T1] == r[m][T2]


def test_range_is_sticky():
    members = specs({"a": {T1}, "b": {T1}})
    first = RangeAssignor().assign(members, {T1: 4})
    second = RangeAssignor().assign(specs({"a": {T1}, "b": {T1}, "c": {T1}}, first), {T1: 4})
    assert second["a"][T1] <= first["a"][T1] and second["b"][T1] <= first["b"][T1]
    assert sum(len(a.get(T1, ())) for a in second.values()) == 4


subscriptions = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.frozensets(st.sampled_from([T1, T2, T3]), min_size=1), min_size=1)
partition_counts = st.fixed_dictionaries({T1: st.integers(0, 12), T2: st.integers(0, 12), T3: st.integers(0, 5)})


@settings(max_examples=200, deadline=None)
@given(subs=subscriptions, partitions=partition_counts, seed=st.randoms(use_true_random=False))
def test_assignors_are_exclusive_and_complete(subs, partitions, seed):
    for assignor in (UniformAssignor(), RangeAssignor()):
        # a random (possibly overlapping, stale) previous assignment
        current = {m: {tid: {p for p in range(14) if seed.random() < 0.3} for tid in s} for m, s in subs.items()}
        members = specs(subs, current)
        r = assignor.assign(members, partitions)
        check_exclusive_and_complete(r, members, partitions)


@settings(max_examples=200, deadline=None)
@given(n_members=st.integers(1, 6), n=st.integers(0, 30), seed=st.randoms(use_true_random=False))
def test_uniform_homogeneous_is_balanced(n_members, n, seed):
    subs = {f"m{i}": {T1} for i in range(n_members)}
    current = {m: {T1: {p for p in range(n) if seed.random() < 0.5}} for m in subs}
    r = UniformAssignor().assign(specs(subs, current), {T1: n})
    c = counts(r).values()
    assert max(c) - min(c) <= 1
