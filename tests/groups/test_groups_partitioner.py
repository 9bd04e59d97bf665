"""The group -> __consumer_offsets partition mapping matches Kafka's (Java String.hashCode)."""

import pytest

from pybroker.coordinator.partitioner import java_abs, java_string_hash, partition_for


@pytest.mark.parametrize("s, expected", [
    ("", 0),
    ("hello", 99162322),
    ("abc", 96354),
    ("Hello World", -862545276),
    ("Aa", 2112),
    ("BB", 2112),
    ("polygenelubricants", -2147483648),  # the classic Integer.MIN_VALUE string
    ("\U0001F600", 1772899),  # a surrogate pair: two UTF-16 code units
    ("\u00e9t\u00e9", 233 * 31 * 31 + 116 * 31 + 233),
])
def test_java_string_hash(s, expected):
    assert java_string_hash(s) == expected


def test_utils_abs_maps_min_value_to_zero():
    assert java_abs(-(1 << 31)) == 0
    assert java_abs(-5) == 5
    assert java_abs(7) == 7


@pytest.mark.parametrize("group, partitions, expected", [
    ("hello", 50, 22),
    ("Hello World", 50, 26),  # abs(-862545276) % 50
    ("polygenelubricants", 50, 0),  # Utils.abs(MIN_VALUE) == 0, not a negative partition
    ("", 50, 0),
    ("abc", 7, 96354 % 7),
])
def test_partition_for(group, partitions, expected):
    assert partition_for(group, partitions) == expected


def test_partition_for_rejects_no_partitions():
    with pytest.raises(ValueError):
        partition_for("g", 0)
