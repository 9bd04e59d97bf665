"""The controller's ElectLeaders: preferred and unclean elections as Kafka decides them."""

from __future__ import annotations

import uuid

from protocol.errors import ErrorCode
from pybroker.metadata import controller as c
from pybroker.metadata import records as r
from pybroker.metadata.image import NO_LEADER

from metadata_helpers import apply, broker_record, ctx, make_image, topic_records

T = uuid.UUID(int=7)


def image():
    # p0: the preferred replica 1 leads. p1: 2 leads, 1 is preferred and in the ISR.
    # p2: 3 leads, preferred 1 is out of the ISR. p3: no leader, only 3 (fenced) in the ISR.
    return make_image(
        broker_record(1), broker_record(2), broker_record(3, fenced=True),
        *topic_records("t", T, [[1, 2], [1, 2], [1, 3], [2, 3]],
                       isr=[[1, 2], [1, 2], [3], [3]], leader=[1, 2, 3, NO_LEADER]),
    )


def codes(result) -> dict[tuple[str, int], ErrorCode]:
    return {(t, p): e.code for t, p, e in result.response}


def test_preferred_elections():
    img = image()
    res = c.elect_leaders(img, c.PREFERRED_ELECTION, [("t", 0), ("t", 1), ("t", 2), ("t", 9), ("nope", 0)], ctx())
    assert codes(res) == {
        ("t", 0): ErrorCode.ELECTION_NOT_NEEDED, ("t", 1): ErrorCode.NONE,
        ("t", 2): ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
        ("t", 9): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ("nope", 0): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    }
    [change] = res.records
    assert isinstance(change, r.PartitionChangeRecord) and (change.partition_id, change.leader) == (1, 1)
    after = apply(img, res.records)
    p1 = after.topics_by_name["t"].partitions[1]
    assert p1.leader == 1 and p1.leader_epoch == img.topics_by_name["t"].partitions[1].leader_epoch + 1


def test_unclean_election_takes_a_live_replica_out_of_the_isr():
    img = image()
    res = c.elect_leaders(img, c.UNCLEAN_ELECTION, [("t", 0), ("t", 3)], ctx())
    assert codes(res) == {("t", 0): ErrorCode.ELECTION_NOT_NEEDED, ("t", 3): ErrorCode.NONE}
    after = apply(img, res.records)
    p3 = after.topics_by_name["t"].partitions[3]
    assert (p3.leader, p3.isr) == (2, (2,))


def test_every_partition_reports_only_the_elections_that_were_needed():
    res = c.elect_leaders(image(), c.PREFERRED_ELECTION, None, ctx())
    assert codes(res) == {("t", 1): ErrorCode.NONE, ("t", 2): ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
                          ("t", 3): ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE}
