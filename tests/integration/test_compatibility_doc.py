"""docs/compatibility.md's API table is what the broker advertises and serves."""

import re
from pathlib import Path

from protocol.api_keys import ApiKey
from pybroker.handlers import broker_handlers

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


def _range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def test_api_table_matches_the_broker():
    rows = re.findall(r"^\| (\d+) \| (\w+) \| ([\d-]+) \| ([\d-]+) \|$", DOC.read_text(), re.M)
    documented = {int(k): (name, _range(adv), _range(served)) for k, name, adv, served in rows}
    actual = {
        key: (ApiKey(key).name, h.advertised_range, (h.min_version, h.max_version))
        for key, h in broker_handlers().items()
    }
    assert documented == actual
