"""The coordinator runtime with a small key-value shard: records appended, replayed, reloaded
after a restart; timers; routing by Kafka's hash."""

from __future__ import annotations

import asyncio

import pytest

from pybroker.coordinator import CoordinatorError, CoordinatorRecord, CoordinatorRuntime, Effects, java_string_hash, partition_for
from pybroker.embedded import EmbeddedBroker
from protocol.errors import ErrorCode


class KVShard:
    """Keeps the latest value per key; replayed from its partition."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.data: dict[str, str] = {}
        self.replayed: list[int] = []
        self.fired: list[str] = []

    def replay(self, offset, record, producer_id, producer_epoch):
        self.replayed.append(offset)
        if record.value is None:
            self.data.pop(record.key.decode(), None)
        else:
            self.data[record.key.decode()] = record.value.decode()

    def on_loaded(self, now_ms):
        return Effects()

    def on_timer(self, key, now_ms):
        self.fired.append(key)
        return Effects(records=[CoordinatorRecord(key.encode(), b"fired")])

    def on_unloaded(self):
        return Effects()

    def put(self, key, value, token, now_ms):
        return Effects(records=[CoordinatorRecord(key.encode(), value and value.encode())]).respond(token, "ok")

    def get(self, key, token, now_ms):
        return Effects().respond(token, self.data.get(key))

    def later(self, key, delay_ms, token, now_ms):
        return Effects(timers=[(key, now_ms + delay_ms)]).respond(token, "armed")


def test_java_string_hash_matches_java():
    # Values of "".hashCode(), "a".hashCode(), "group".hashCode() and a non-ASCII string in Java.
    assert java_string_hash("") == 0
    assert java_string_hash("a") == 97
    assert java_string_hash("group") == 98629247
    assert java_string_hash("polygenelubricants") == -2147483648
    assert partition_for("polygenelubricants", 50) == 0
    assert java_string_hash("é") == 233


def test_put_get_reload_and_timers(tmp_path):
    async def scenario():
        data = tmp_path / "data"
        shards: dict[int, KVShard] = {}

        def factory(p):
            shards[p] = KVShard(p)
            return shards[p]

        async def started():
            b = EmbeddedBroker(data)
            await b.start_async()
            runtime = CoordinatorRuntime(b.broker, "__kv", 3, 1, {"cleanup.policy": "compact"}, factory)
            b.broker.add_coordinator(99, runtime)
            assert await runtime.ensure_topic()
            for _ in range(100):
                if len(runtime.loaded_shards()) == 3:
                    break
                await asyncio.sleep(0.01)
            return b, runtime

        b, runtime = await started()
        assert await runtime.call("alpha", lambda s, t, now: s.put("alpha", "1", t, now)) == "ok"
        assert await runtime.call("alpha", lambda s, t, now: s.put("alpha", "2", t, now)) == "ok"
        assert await runtime.call("beta", lambda s, t, now: s.put("beta", "x", t, now)) == "ok"
        assert await runtime.call("alpha", lambda s, t, now: s.get("alpha", t, now)) == "2"
        assert await runtime.call("tick", lambda s, t, now: s.later("tick", 20, t, now)) == "armed"
        await asyncio.sleep(0.2)
        tick_shard = shards[runtime.partition_for("tick")]
        assert tick_shard.fired == ["tick"]
        assert tick_shard.data["tick"] == "fired"
        await b.stop_async()

        shards.clear()
        b, runtime = await started()
        try:
            assert await runtime.call("alpha", lambda s, t, now: s.get("alpha", t, now)) == "2"
            assert await runtime.call("beta", lambda s, t, now: s.get("beta", t, now)) == "x"
            assert await runtime.call("tick", lambda s, t, now: s.get("tick", t, now)) == "fired"
            # Offsets replayed on load are dense per partition.
            for shard in shards.values():
                assert shard.replayed == list(range(len(shard.replayed)))
        finally:
            await b.stop_async()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_unknown_partition_is_not_coordinator(tmp_path):
    async def scenario():
        async with EmbeddedBroker(tmp_path / "d") as b:
            runtime = CoordinatorRuntime(b.broker, "__kv2", 2, 1, {}, KVShard)
            with pytest.raises(CoordinatorError) as err:
                await runtime.call("x", lambda s, t, now: s.get("x", t, now))
            assert err.value.code == ErrorCode.NOT_COORDINATOR

    asyncio.run(asyncio.wait_for(scenario(), 30))
