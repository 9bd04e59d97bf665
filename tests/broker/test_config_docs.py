"""docs/configuration.md stays true to the config tables: every config pybroker acts on has a row
with its default, and every other known config is listed as accepted but not applicable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pybroker.config import BROKER_CONFIGS, GROUP_CONFIGS, PYBROKER_DEFAULTS, TOPIC_CONFIGS, BrokerConfig
from pybroker.config_defs import to_config_string

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.fixture(scope="module")
def rows() -> dict[str, list[str]]:
    """Table rows by config name (a name may have a row in more than one table)."""
    text = DOC.read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"\| `([a-z0-9.]+)` \|(.*)", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def _default_cell(row: str) -> str:
    return row.split("|")[0].strip()


def _shows(cell: str, expected: str | None) -> bool:
    if expected is None:
        return cell == "(none)"
    if expected == "":
        return cell == '""'
    return expected in cell


def _check_default(name: str, candidates: list[str], expected: str | None) -> None:
    cells = [_default_cell(row) for row in candidates]
    assert any(_shows(cell, expected) for cell in cells), (name, cells, expected)


def test_broker_configs_pybroker_acts_on_have_rows(rows: dict[str, list[str]]) -> None:
    broker = BrokerConfig.from_sources({}, {})
    for name, definition in BROKER_CONFIGS.items():
        if definition.applies and not definition.internal:
            assert name in rows, f"{name} missing from docs/configuration.md"
            _check_default(name, rows[name], broker.default_string(name))


def test_topic_and_group_configs_have_rows(rows: dict[str, list[str]]) -> None:
    for table in (TOPIC_CONFIGS, GROUP_CONFIGS):
        for name, definition in table.items():
            if definition.applies:
                assert name in rows, f"{name} missing from docs/configuration.md"
                _check_default(name, rows[name], to_config_string(definition.default, definition.type))


def test_zero_config_table_matches_the_builtin_defaults(rows: dict[str, list[str]]) -> None:
    for name, value in PYBROKER_DEFAULTS.items():
        assert f"`{value}`" in _default_cell(rows[name][0]), name


def test_everything_else_is_listed_as_not_applicable() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Accepted but not applicable", 1)[1]
    for table in (BROKER_CONFIGS, TOPIC_CONFIGS, GROUP_CONFIGS):
        for name, definition in table.items():
            if not definition.applies:
                assert f"`{name}`" in section, f"{name} missing from the not-applicable list"
