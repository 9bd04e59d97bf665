"""Finalized features: UpdateFeatures in the controller (Kafka 4's rules and messages), brokers
refused when they cannot run at a finalized level, the levels `format --feature` accepts, and
the bootstrap checkpoint."""

from __future__ import annotations

import pytest

from protocol.errors import ErrorCode
from pybroker.cli import parse_feature_levels
from pybroker.metadata import controller as c
from pybroker.metadata import features as feat
from pybroker.metadata import records as r
from pybroker.metadata.bootstrap import BOOTSTRAP_FILE, BootstrapError, read_bootstrap, write_bootstrap
from pybroker.metadata.image import MetadataImage
from pybroker.metadata.requests import BrokerRegistrationRequest, FeatureUpdate, UpgradeType

from metadata_helpers import CLUSTER, apply, broker_record, ctx, inc, make_image, tracker

TV = "transaction.version"
UP, SAFE, UNSAFE = UpgradeType.UPGRADE, UpgradeType.SAFE_DOWNGRADE, UpgradeType.UNSAFE_DOWNGRADE
PREFIX = "Invalid update version"


def broker(bid: int, tv: tuple[int, int] | None = (0, 2)) -> r.RegisterBrokerRecord:
    rec = broker_record(bid)
    if tv is not None:
        rec.features.append(r.BrokerFeature(name=TV, min_supported_version=tv[0], max_supported_version=tv[1]))
    return rec


def update(image, *updates, validate_only=False):
    return c.update_features(image, list(updates), validate_only, ctx(), node_id=1)


def message(res) -> str:
    assert res.response.code == ErrorCode.INVALID_UPDATE_VERSION and res.records == []
    return res.response.message


def test_upgrade_writes_a_feature_level_record_and_validate_only_writes_nothing():
    img = make_image(broker(1), broker(2))
    res = update(img, FeatureUpdate(TV, 2), validate_only=True)
    assert res.response.ok and res.records == []
    res = update(img, FeatureUpdate(TV, 2))
    assert res.response.ok
    assert [(x.name, x.feature_level) for x in res.records] == [(TV, 2)]
    assert apply(img, res.records).features[TV] == 2


def test_downgrades_need_a_downgrade_type_and_level_0_removes_the_feature():
    img = apply(make_image(broker(1)), [r.FeatureLevelRecord(name=TV, feature_level=2)])
    assert message(update(img, FeatureUpdate(TV, 1))) == (
        f"{PREFIX} 1 for feature {TV}. Can't downgrade the version of this feature without setting the "
        "upgrade type to either safe or unsafe downgrade.")
    for kind in (SAFE, UNSAFE):
        res = update(img, FeatureUpdate(TV, 1, kind))
        assert res.response.ok and res.records[0].feature_level == 1
    res = update(img, FeatureUpdate(TV, 0, SAFE))
    assert res.response.ok
    assert TV not in apply(img, res.records).features
    # a downgrade type with a higher level
    one = apply(img, [r.FeatureLevelRecord(name=TV, feature_level=1)])
    assert message(update(one, FeatureUpdate(TV, 2, SAFE))) == (
        f"{PREFIX} 2 for feature {TV}. Can't downgrade to a newer version.")
    # the same level again is accepted (and written) as an upgrade
    assert update(img, FeatureUpdate(TV, 2)).response.ok


def test_levels_the_cluster_does_not_support():
    img = make_image(broker(1), broker(2, tv=(0, 1)), broker(3, tv=None))
    assert message(update(img, FeatureUpdate(TV, 3))) == (
        f"{PREFIX} 3 for feature {TV}. Local controller 1 only supports versions 0-2")
    assert message(update(img, FeatureUpdate(TV, 2))) == (
        f"{PREFIX} 2 for feature {TV}. Broker 2 only supports versions 0-1")
    assert message(update(img, FeatureUpdate(TV, 1))) == (
        f"{PREFIX} 1 for feature {TV}. Broker 3 does not support this feature.")
    assert message(update(img, FeatureUpdate("share.version", 1))) == (
        f"{PREFIX} 1 for feature share.version. Local controller 1 does not support this feature.")
    assert message(update(img, FeatureUpdate("no.such.feature", 0, SAFE))) == (
        f"{PREFIX} 0 for feature no.such.feature. Feature no.such.feature not found.")
    assert message(update(img, FeatureUpdate(TV, -1, SAFE))) == (
        f"{PREFIX} -1 for feature {TV}. A feature version cannot be less than 0.")
    assert message(update(img, FeatureUpdate(TV, 1, 7))) == (
        f"{PREFIX} 1 for feature {TV}. The controller does not support the given upgrade type.")


def test_one_refusal_refuses_every_update():
    img = make_image(broker(1))
    res = update(img, FeatureUpdate(TV, 2), FeatureUpdate("kraft.version", 1))
    assert message(res) == f"{PREFIX} 1 for feature kraft.version. Local controller 1 does not support this feature."


def test_metadata_and_kraft_versions():
    img = apply(make_image(broker(1)), [r.FeatureLevelRecord(name="metadata.version", feature_level=24)])
    res = update(img, FeatureUpdate("metadata.version", 25))
    assert res.response.ok and apply(img, res.records).metadata_version == 25
    assert message(update(img, FeatureUpdate("metadata.version", 26))) == (
        f"{PREFIX} 26 for feature metadata.version. Local controller 1 only supports versions 7-25")
    assert message(update(img, FeatureUpdate("metadata.version", 20, SAFE))) == (
        "Unsupported metadata.version downgrade from 24 to 20. Refusing to perform the requested downgrade "
        "because it might delete metadata information.")
    assert message(update(img, FeatureUpdate("metadata.version", 20, UNSAFE))).endswith(
        "Unsafe metadata downgrade is not supported in this version.")
    res = update(img, FeatureUpdate("kraft.version", 0))
    assert res.response.ok and res.records == []


def test_a_broker_that_cannot_run_a_finalized_level_cannot_register():
    img = apply(make_image(), [r.FeatureLevelRecord(name=TV, feature_level=2)])

    def register(features):
        req = BrokerRegistrationRequest(broker_id=4, cluster_id=CLUSTER, incarnation_id=inc(4), listeners=[],
                                        features=features)
        return c.register_broker(img, req, ctx(), tracker()).response.error

    mv = {"metadata.version": (7, 25)}
    assert register({**mv, TV: (0, 2)}).ok
    err = register({**mv, TV: (0, 1)})
    assert err.code == ErrorCode.UNSUPPORTED_VERSION
    assert err.message == ("Unable to register because the broker does not support finalized version 2 of "
                           "transaction.version. The broker wants a version between 0 and 1, inclusive.")
    assert register(mv).message.endswith("between 0 and 0, inclusive.")


def test_format_levels():
    # As Kafka 4's Formatter: transaction.version 2 by default from metadata.version 4.0-IV2 on.
    assert feat.format_levels({}) == {"metadata.version": 25, TV: 2}
    assert feat.format_levels({"metadata.version": 23}) == {"metadata.version": 23}
    assert feat.format_levels({TV: 2}) == {"metadata.version": 25, TV: 2}
    assert feat.format_levels({TV: 0, "kraft.version": 0}) == {"metadata.version": 25}
    assert feat.format_levels({"metadata.version": 17, TV: 1}) == {"metadata.version": 17, TV: 1}
    with pytest.raises(ValueError, match="^Unsupported feature: group.version. Supported features are: "
                                         "kraft.version, transaction.version$"):
        feat.format_levels({"group.version": 1})
    with pytest.raises(ValueError, match="^No feature:transaction.version with feature level 3$"):
        feat.format_levels({TV: 3})
    with pytest.raises(ValueError, match="^No MetadataVersion with feature level 3"):
        feat.format_levels({"metadata.version": 3})
    with pytest.raises(ValueError, match="kraft.version"):
        feat.format_levels({"kraft.version": 1})


def test_parse_feature_arguments():
    assert parse_feature_levels(["transaction.version=2", " metadata.version = 25"]) == {
        TV: 2, "metadata.version": 25}
    with pytest.raises(ValueError, match="equals sign not found"):
        parse_feature_levels(["transaction.version"])
    with pytest.raises(ValueError, match="unable to parse x as a short"):
        parse_feature_levels(["transaction.version=x"])


def test_bootstrap_checkpoint_round_trip(tmp_path):
    assert read_bootstrap(tmp_path) is None
    path = write_bootstrap(tmp_path, {"metadata.version": 25, TV: 2})
    assert path.name == BOOTSTRAP_FILE and not [p for p in tmp_path.iterdir() if p.name != BOOTSTRAP_FILE]
    assert read_bootstrap(tmp_path) == {"metadata.version": 25, TV: 2}
    # the controller bootstraps a new log with exactly those records
    res = c.bootstrap(MetadataImage.empty(CLUSTER), ctx(bootstrap_features=read_bootstrap(tmp_path)))
    assert [(x.name, x.feature_level) for x in res.records] == [("metadata.version", 25), (TV, 2)]
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(BootstrapError):
        read_bootstrap(tmp_path)
