"""Fixtures shared by the whole suite: brokers on loopback with ephemeral ports."""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

_counter = itertools.count()


@pytest.fixture(scope="session")
def broker(kafka_session_broker):
    """One in-process broker shared by the session (its own loop in a background thread): the
    pybroker pytest plugin's shared broker."""
    return kafka_session_broker


@pytest.fixture
def topic_name(request) -> str:
    """A unique, valid topic name for one test."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"t-{base}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def pytest_configure(config):
    os.environ.setdefault("PYBROKER_TEST", "1")
