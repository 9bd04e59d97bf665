// Drives kafkajs against a broker: admin, keyed records with headers (plain and gzip), a
// consumer group reading them back, and a transaction. Prints one JSON line with the outcome.
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");

async function main() {
  const [bootstrap, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: "pybroker-kafkajs-test", brokers: [bootstrap], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = [];
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    const messages = [];
    for (let i = 0; i < 50; i++) {
      const n = sent.length;
      messages.push({ key: `k${n % 5}`, value: `v${n}`, headers: { n: String(n) } });
      sent.push(n);
    }
    await producer.send({ topic, compression, messages, acks: -1 });
  }

  const txProducer = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await txProducer.connect();
  const tx = await txProducer.transaction();
  await tx.send({ topic, messages: [{ key: "tx", value: "committed" }] });
  await tx.commit();
  const aborted = await txProducer.transaction();
  await aborted.send({ topic, messages: [{ key: "tx", value: "aborted" }] });
  await aborted.abort();

  const consumer = kafka.consumer({ groupId: `${topic}-group`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = [];
  const expected = sent.length + 1;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${expected} records`)), 30000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          key: message.key.toString(),
          value: message.value.toString(),
          headers: Object.fromEntries(Object.entries(message.headers || {}).map(([k, v]) => [k, v.toString()])),
        });
        if (received.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  const offsets = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
  await consumer.disconnect();
  await producer.disconnect();
  await txProducer.disconnect();
  await admin.disconnect();
  console.log(JSON.stringify({ partitions: metadata.topics[0].partitions.length, received, offsets }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
