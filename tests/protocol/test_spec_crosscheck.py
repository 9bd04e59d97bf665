"""Cross-check the project's schemas against Apache Kafka's message specs.

Two sources: the Kafka 4.0 snapshot in ../shared/reference (when present), and the newer specs
that kafka-python (a test dependency) ships as package data. For every version a source
defines, the fields present at that version (names, types, nullability, tags, defaults) must
match, recursively.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from protocol import messages
from protocol.compiler import default_expr
from protocol.headers import REQUEST_HEADER, RESPONSE_HEADER
from protocol.schema import Field, MessageSpec, VersionRange, snake_case

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "kafka-message-specs"


def _kafka_python_specs() -> Path | None:
    try:
        from importlib.resources import files

        path = Path(str(files("kafka.protocol.schemas") / "resources"))
    except (ImportError, ModuleNotFoundError):
        return None
    return path if path.is_dir() else None


KAFKA_PYTHON_SPECS = _kafka_python_specs()

# APIs Kafka 4.0 removed with ZooKeeper; the project has no schemas for them.
REMOVED_KEYS = {4, 5, 6, 7}
# Kafka 4.1 renamed ListClientMetricsResources (key 74) to ListConfigResources, field names
# included, without changing v0's bytes; the project follows the newer names, which the newer
# specs check.
RENAMED = {"ListClientMetricsResourcesRequest", "ListClientMetricsResourcesResponse"}


def load(path: Path) -> dict:
    return json.loads(re.sub(r"//.*", "", path.read_text()))


def ours_by_name() -> dict[str, MessageSpec]:
    found = {s.name: s for s in messages.all_specs()}
    found[REQUEST_HEADER.name] = REQUEST_HEADER
    found[RESPONSE_HEADER.name] = RESPONSE_HEADER
    return found


def reference_files() -> list[Path]:
    out = []
    for folder in (REFERENCE, KAFKA_PYTHON_SPECS):
        if folder is None or not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.json")):
            spec = load(p)
            if spec.get("apiKey") in REMOVED_KEYS or spec["name"] in RENAMED:
                continue
            out.append(p)
    return out


def _label(p: Path) -> str:
    return ("kafka-python/" if KAFKA_PYTHON_SPECS and p.parent == KAFKA_PYTHON_SPECS else "") + p.stem


def _range(text: str | None, default: str = "none") -> VersionRange:
    return VersionRange.parse(text if text is not None else default)


def _type_of(ref_type: str) -> tuple[str, bool]:
    if ref_type.startswith("[]"):
        return ref_type[2:], True
    return ref_type, False


def _compare_fields(
    where: str, ours: list[Field], ref: list[dict], version: int, common: dict, ours_spec: MessageSpec
) -> None:
    ref_present = [f for f in ref if version in _range(f["versions"])]
    our_present = [f for f in ours if version in f.versions]
    assert [snake_case(f["name"]) for f in ref_present] == [f.name for f in our_present], (
        f"{where} v{version}: field list differs"
    )
    for rf, of in zip(ref_present, our_present):
        at = f"{where}.{of.name} v{version}"
        rtype, is_array = _type_of(rf["type"])
        assert (of.type, of.is_array) == (rtype, is_array), f"{at}: type"
        assert (version in _range(rf.get("nullableVersions"))) == (version in of.nullable), f"{at}: nullable"
        if "tag" in rf:
            tagged = _range(rf.get("taggedVersions"), rf["versions"])
            assert of.tag == int(rf["tag"]), f"{at}: tag"
            assert (version in tagged) == (version in of.tagged), f"{at}: tagged versions"
        else:
            assert of.tag is None, f"{at}: tag"
        if "default" in rf:
            d = rf["default"]
            d = str(d).lower() if isinstance(d, bool) else str(d)
            assert of.default == d, f"{at}: default"
        else:
            assert of.default is None, f"{at}: default"
        assert (rf.get("flexibleVersions") == "none") == of.never_flexible, f"{at}: flexible override"
        default_expr(of)  # every default must compile
        if rtype[0].isupper():
            ref_children = rf.get("fields") or common[rtype]["fields"]
            our_children = ours_spec.struct_of(of).fields
            _compare_fields(at, our_children, ref_children, version, common, ours_spec)


@pytest.mark.parametrize("path", reference_files(), ids=_label)
def test_schema_matches_reference(path):
    ref = load(path)
    ours = ours_by_name().get(ref["name"])
    assert ours is not None, f"no schema for {ref['name']}"
    if "apiKey" in ref:
        assert ours.api_key == ref["apiKey"]
    ref_versions = _range(ref["validVersions"])
    # The project may add newer versions but must cover every one the reference defines.
    assert ours.versions.low <= ref_versions.low and ours.versions.high >= ref_versions.high
    ref_flexible = _range(ref.get("flexibleVersions"))
    common = {c["name"]: c for c in ref.get("commonStructs", [])}
    for v in range(ref_versions.low, ref_versions.high + 1):
        assert (v in ref_flexible) == (v in ours.flexible), f"v{v}: flexible"
        _compare_fields(ours.name, ours.fields, ref.get("fields", []), v, common, ours)


def test_every_reference_api_has_a_schema():
    assert reference_files(), "no spec source to check against"
    names = {load(p)["name"] for p in reference_files()}
    assert names <= set(ours_by_name())
