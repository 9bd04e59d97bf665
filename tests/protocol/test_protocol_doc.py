"""docs/protocol.md's table of APIs and versions matches the schemas."""

import re
from pathlib import Path

from protocol import messages

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_doc_table_matches_schemas():
    rows = re.findall(r"^\| (\d+) \| (\w+) \| ([\d+-]+) \| ([\w+-]+) \|", DOC.read_text(), re.M)
    documented = {int(k): (name, versions, flexible) for k, name, versions, flexible in rows}
    actual = {}
    for key in messages.API_MODULES:
        spec = messages.request_spec(key)
        actual[key] = (spec.name[: -len("Request")], str(spec.versions), str(spec.flexible))
    assert documented == actual
