"""Fixtures of the group coordinator tests."""

import pytest

from group_harness import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()
