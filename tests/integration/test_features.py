"""Finalized features on the wire: a cluster formatted with `--feature` (the CLI and
EmbeddedBroker), ApiVersions listing supported and finalized levels, and UpdateFeatures at each
version, also through kafka-python's admin client (confluent-kafka has no such API)."""

from __future__ import annotations

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.cli import main as cli_main
from pybroker.embedded import EmbeddedBroker
from pybroker.tools.client import BrokerConnection

TV = "transaction.version"
FAILED = "The update failed for all features since the following feature had an error: "


def finalized(conn: BrokerConnection) -> dict[str, int]:
    r = conn.request(18, m.ApiVersionsRequest(client_software_name="t", client_software_version="1"), version=4)
    return {f.name: f.max_version_level for f in r.finalized_features}


def supported(conn: BrokerConnection, version: int = 4) -> dict[str, tuple[int, int]]:
    r = conn.request(18, m.ApiVersionsRequest(client_software_name="t", client_software_version="1"),
                     version=version)
    return {f.name: (f.min_version, f.max_version) for f in r.supported_features}


def update(conn: BrokerConnection, version: int, *updates, validate_only: bool = False):
    R = m.UpdateFeaturesRequest
    keys = [R.FeatureUpdateKey(feature=name, max_version_level=level, allow_downgrade=kind in (2, 3),
                               upgrade_type=kind) for name, level, kind in updates]
    return conn.request(57, R(timeout_ms=5000, feature_updates=keys, validate_only=validate_only), version=version)


@pytest.fixture
def broker(tmp_path):
    """A cluster formatted with transaction.version 0, to upgrade and downgrade from there."""
    with EmbeddedBroker(tmp_path / "data", features={TV: 0}) as b:
        conn = BrokerConnection("127.0.0.1", b.port).connect()
        try:
            yield b, conn
        finally:
            conn.close()


def test_a_new_cluster_finalizes_transaction_version_2_as_kafka_4_does(tmp_path):
    with EmbeddedBroker(tmp_path / "data") as b, BrokerConnection("127.0.0.1", b.port).connect() as conn:
        assert finalized(conn) == {"metadata.version": 25, TV: 2}
        assert supported(conn)[TV] == (0, 2)
        assert TV not in supported(conn, version=3)  # features with minimum 0 are left out before v4


def test_a_cluster_formatted_with_transaction_version_0_finalizes_only_metadata_version(broker):
    _b, conn = broker
    assert finalized(conn) == {"metadata.version": 25}


def test_update_features_versions_and_errors(broker):
    b, conn = broker
    r = update(conn, 2, (TV, 2, 1), validate_only=True)
    assert (r.error_code, r.error_message, r.results) == (ErrorCode.NONE, None, [])
    assert TV not in finalized(conn)
    r = update(conn, 1, (TV, 1, 1))
    assert r.error_code == ErrorCode.NONE
    assert [(x.feature, x.error_code, x.error_message) for x in r.results] == [(TV, 0, "NONE")]
    assert finalized(conn)[TV] == 1
    assert b.broker.image.features[TV] == 1
    # one refused feature fails the whole request, at the top level, at every version
    for version in (0, 1, 2):
        r = update(conn, version, (TV, 2, 1), ("no.such.feature", 1, 1))
        assert r.error_code == ErrorCode.INVALID_UPDATE_VERSION and r.results == []
        assert r.error_message == FAILED + ("Invalid update version 1 for feature no.such.feature. "
                                            "Local controller 1 does not support this feature.")
    # a downgrade needs a downgrade type
    r = update(conn, 2, (TV, 0, 1))
    assert r.error_message == FAILED + (f"Invalid update version 0 for feature {TV}. Can't downgrade the version "
                                        "of this feature without setting the upgrade type to either safe or "
                                        "unsafe downgrade.")
    r = update(conn, 2, (TV, 3, 1))
    assert r.error_message == FAILED + f"Invalid update version 3 for feature {TV}. Local controller 1 only supports versions 0-2"
    assert finalized(conn)[TV] == 1
    # version 0's allow_downgrade is a safe downgrade
    r = update(conn, 0, (TV, 0, 2))
    assert r.error_code == ErrorCode.NONE and [x.feature for x in r.results] == [TV]
    assert TV not in finalized(conn)


def test_kafka_python_describe_and_update_features(broker):
    kafka_admin = pytest.importorskip("kafka.admin")
    from kafka.errors import InvalidUpdateVersionError

    b, _conn = broker
    admin = kafka_admin.KafkaAdminClient(bootstrap_servers=b.bootstrap_servers)
    try:
        features = admin.describe_features()
        assert features[TV]["supported"] == (0, 2) and "finalized" not in features[TV]
        assert features["metadata.version"]["finalized"] == (25, 25)
        assert admin.update_features({TV: 2}, validate_only=True) == {TV: "OK"}
        assert "finalized" not in admin.describe_features()[TV]
        assert admin.update_features({TV: 2}) == {TV: "OK"}
        assert admin.describe_features()[TV]["finalized"] == (2, 2)
        with pytest.raises(InvalidUpdateVersionError, match="Can't downgrade the version"):
            admin.update_features({TV: 1})
        assert admin.update_features({TV: ("SAFE_DOWNGRADE", 1)}) == {TV: "OK"}
        assert admin.describe_features()[TV]["finalized"] == (1, 1)
    finally:
        admin.close()


def test_embedded_broker_formats_with_features_and_restarts_with_them(tmp_path):
    data = tmp_path / "data"
    with EmbeddedBroker(data, features={TV: 2}) as b:
        with BrokerConnection("127.0.0.1", b.port).connect() as conn:
            assert finalized(conn) == {"metadata.version": 25, TV: 2}
            assert update(conn, 2, (TV, 0, 2)).error_code == ErrorCode.NONE
    # the metadata log keeps the downgrade: the bootstrap levels apply to a new log only
    with EmbeddedBroker(data, features={TV: 2}) as b:
        with BrokerConnection("127.0.0.1", b.port).connect() as conn:
            assert finalized(conn) == {"metadata.version": 25}


def test_format_command_with_features(tmp_path, capsys):
    data = tmp_path / "data"
    args = ["format", "--override", "node.id=1", "--override", f"log.dirs={data}", "-t", "AAAAAAAAAAAAAAAAAAAAAA"]
    assert cli_main([*args, "--feature", "no.such=1"]) == 1
    assert "Unsupported feature: no.such." in capsys.readouterr().err
    assert cli_main([*args, "--feature", f"{TV}=2"]) == 0
    assert f"Bootstrap features: metadata.version=25, {TV}=2" in capsys.readouterr().out
    assert (data / "bootstrap.checkpoint").exists()
    with EmbeddedBroker(data) as b:
        with BrokerConnection("127.0.0.1", b.port).connect() as conn:
            assert finalized(conn)[TV] == 2
