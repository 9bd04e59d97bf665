// Drives a broker with Apache Kafka's own Java clients (kafka-clients) for the integration
// tests. Each scenario prints facts as "key=value" lines for the test to assert on, and exits
// non-zero when a client call fails.
//
//   java -cp <jars>:<classes> JavaClientCheck <scenario> <bootstrap> <topic> [args...]

import java.time.Duration;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.*;

public class JavaClientCheck {
    static final Duration POLL = Duration.ofMillis(200);

    public static void main(String[] args) throws Exception {
        String scenario = args[0], bootstrap = args[1], topic = args[2];
        switch (scenario) {
            case "produce-consume" -> produceConsume(bootstrap, topic, Integer.parseInt(args[3]), args[4], args[5]);
            case "admin" -> admin(bootstrap, topic);
            case "transactions" -> transactions(bootstrap, topic);
            case "fencing" -> fencing(bootstrap, topic);
            case "group-join-leave" -> groupJoinLeave(bootstrap, topic, args[3]);
            case "tool-calls" -> toolCalls(bootstrap, topic);
            case "produce-paced" -> producePaced(bootstrap, topic, Integer.parseInt(args[3]));
            case "consume-transform-produce" -> consumeTransformProduce(bootstrap, topic, Integer.parseInt(args[3]));
            case "regex-and-times" -> regexAndTimes(bootstrap, topic);
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    static void say(String key, Object value) {
        System.out.println(key + "=" + value);
    }

    static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20000);
        return p;
    }

    static Properties consumerProps(String bootstrap, String group, String protocol) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (group != null) {
            c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
            if (protocol.equals("classic")) {
                c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
            }
        }
        return c;
    }

    /** Default producer settings (idempotent, acks=all), then a group consumer reads it all back. */
    static void produceConsume(String bootstrap, String topic, int count, String compression, String protocol) throws Exception {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            // Nothing set: Kafka 3.0+ producers default to enable.idempotence=true and acks=all.
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, "k" + (i % 10), "v" + i);
                r.headers().add("seq", Integer.toString(i).getBytes());
                sent.add(producer.send(r));
            }
            long maxOffset = -1;
            for (Future<RecordMetadata> f : sent) {
                maxOffset = Math.max(maxOffset, f.get().offset());
            }
            say("produced", sent.size());
        }
        // The broker saw an idempotent producer: a producer id with sequence numbers.
        try (Admin admin = Admin.create(a)) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) tps.add(new TopicPartition(topic, i));
            Set<Long> ids = new HashSet<>();
            int lastSequence = -1;
            for (var state : admin.describeProducers(tps).all().get().values()) {
                for (ProducerState ps : state.activeProducers()) {
                    ids.add(ps.producerId());
                    lastSequence = Math.max(lastSequence, ps.lastSequence());
                }
            }
            say("producer.ids", ids.size());
            say("producer.last.sequence.positive", lastSequence > 0);
        }
        String group = "java-" + UUID.randomUUID();
        Map<Integer, Long> lastOffset = new HashMap<>();
        Set<String> values = new HashSet<>();
        boolean ordered = true, headersOk = true;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, protocol))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60000;
            while (values.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(POLL)) {
                    Long prev = lastOffset.put(r.partition(), r.offset());
                    if (prev != null && r.offset() <= prev) ordered = false;
                    Header h = r.headers().lastHeader("seq");
                    if (h == null || !("v" + new String(h.value())).equals(r.value())) headersOk = false;
                    values.add(r.value());
                }
                consumer.commitSync();
            }
            say("consumed", values.size());
            say("ordered", ordered);
            say("headers", headersOk);
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
            long total = 0;
            for (OffsetAndMetadata om : committed.values()) total += om == null ? 0 : om.offset();
            say("committed", total);
        }
    }

    static void admin(String bootstrap, String topic) throws Exception {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            DescribeClusterResult cluster = admin.describeCluster();
            say("cluster.nodes", cluster.nodes().get().size());
            say("cluster.controller", cluster.controller().get() != null);
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1)
                    .configs(Map.of("retention.ms", "3600000")))).all().get();
            say("listed", admin.listTopics().names().get().contains(topic));
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            say("partitions", d.partitions().size());
            say("topic.id", d.topicId() != null && !d.topicId().equals(Uuid.ZERO_UUID));
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                    new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET)))).all().get();
            Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
            say("cleanup.policy", cfg.get("cleanup.policy").value());
            say("retention.ms", cfg.get("retention.ms").value());
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
            d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            say("partitions.after", d.partitions().size());
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            for (int i = 0; i < 4; i++) specs.put(new TopicPartition(topic, i), OffsetSpec.latest());
            long ends = 0;
            for (var info : admin.listOffsets(specs).all().get().values()) ends += info.offset();
            say("end.offsets", ends);
            FeatureMetadata features = admin.describeFeatures().featureMetadata().get();
            say("features.metadata.version", features.finalizedFeatures().containsKey("metadata.version"));
            admin.deleteTopics(List.of(topic)).all().get();
            long deadline = System.currentTimeMillis() + 10000;
            boolean gone = false;
            while (!gone && System.currentTimeMillis() < deadline) {
                gone = !admin.listTopics().names().get().contains(topic);
                if (!gone) Thread.sleep(100);
            }
            say("deleted", gone);
        }
    }

    /** One committed and one aborted transaction; read_committed sees only the committed one. */
    static void transactions(String bootstrap, String topic) throws Exception {
        Properties p = producerProps(bootstrap);
        String txId = "java-tx-" + UUID.randomUUID();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, "k", "committed-" + i));
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, "k", "aborted-" + i));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>(topic, "k", "late-" + i));
            producer.commitTransaction();
        }
        // Transaction version 2 bumps the epoch at every commit and abort; version 1 does not.
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            TransactionDescription d = admin.describeTransactions(List.of(txId)).description(txId).get();
            say("state", d.state());
            say("epoch", d.producerEpoch());
        }
        for (String isolation : List.of("read_committed", "read_uncommitted")) {
            Properties c = consumerProps(bootstrap, null, null);
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
            List<String> seen = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
                List<TopicPartition> parts = new ArrayList<>();
                for (PartitionInfo pi : consumer.partitionsFor(topic)) parts.add(new TopicPartition(topic, pi.partition()));
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                int expected = isolation.equals("read_committed") ? 15 : 25;
                long deadline = System.currentTimeMillis() + 30000;
                while (seen.size() < expected && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(POLL)) seen.add(r.value());
                }
                // Anything beyond what is expected would arrive now.
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) seen.add(r.value());
            }
            long committed = seen.stream().filter(v -> !v.startsWith("aborted")).count();
            say(isolation + ".total", seen.size());
            say(isolation + ".committed", committed);
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** "ok", or the simple class name of what the call threw (unwrapping ExecutionException). */
    static String outcome(Call call) {
        try {
            call.run();
            return "ok";
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause().getClass().getSimpleName();
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    /** A second producer with the same transactional.id fences the first. */
    static void fencing(String bootstrap, String topic) throws Exception {
        String txId = "java-fence-" + UUID.randomUUID();
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);
        KafkaProducer<String, String> first = new KafkaProducer<>(p);
        first.initTransactions();
        first.beginTransaction();
        first.send(new ProducerRecord<>(topic, "k", "zombie")).get();
        try (KafkaProducer<String, String> second = new KafkaProducer<>(p)) {
            second.initTransactions();
            say("first.send", outcome(() -> first.send(new ProducerRecord<>(topic, "k", "zombie-2")).get()));
            say("first.commit", outcome(first::commitTransaction));
            say("first.abort", outcome(first::abortTransaction));
            second.beginTransaction();
            second.send(new ProducerRecord<>(topic, "k", "winner")).get();
            second.commitTransaction();
            say("second", "committed");
        } finally {
            first.close(Duration.ofSeconds(5));
        }
    }

    /** One group member on its own thread: polls, commits after every batch and before giving
     * partitions up, and publishes its assignment for the driver. */
    static final class Member implements Runnable, ConsumerRebalanceListener {
        final KafkaConsumer<String, String> consumer;
        final Map<String, Integer> seen;
        final AtomicBoolean running = new AtomicBoolean(true);
        volatile Set<Integer> assignment = Set.of();
        volatile Throwable failure;
        final Thread thread = new Thread(this);

        Member(String bootstrap, String group, String protocol, String topic, Map<String, Integer> seen) {
            this.consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, protocol));
            this.seen = seen;
            consumer.subscribe(List.of(topic), this);
            thread.start();
        }

        public void run() {
            try {
                while (running.get()) {
                    ConsumerRecords<String, String> records = consumer.poll(POLL);
                    for (ConsumerRecord<String, String> r : records) seen.merge(r.value(), 1, Integer::sum);
                    if (!records.isEmpty()) consumer.commitSync();
                    Set<Integer> now = new HashSet<>();
                    for (TopicPartition tp : consumer.assignment()) now.add(tp.partition());
                    assignment = now;
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(30)));
            }
        }

        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            consumer.commitSync();  // hand over exactly where this member stopped
        }

        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(30000);
        }
    }

    static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        // Generous: a member that could not leave in time is only dropped at the broker's
        // session timeout (group.consumer.session.timeout.ms, 45 s by default).
        long deadline = System.currentTimeMillis() + 120000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    static String describeGroup(String bootstrap, String group) {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            return d.groupState() + " " + d.members().stream()
                    .map(m -> m.consumerId() + "=" + m.assignment().topicPartitions()).toList();
        } catch (Exception e) {
            return "describe failed: " + e;
        }
    }

    static boolean shareAll(List<Member> members, int partitions) {
        Set<Integer> union = new HashSet<>();
        int sum = 0;
        for (Member m : members) {
            if (m.assignment.isEmpty()) return false;
            union.addAll(m.assignment);
            sum += m.assignment.size();
        }
        return union.size() == partitions && sum == partitions;
    }

    /** Two members, a third joins, the first leaves, records flowing all along: every record is
     * consumed exactly once. */
    static void groupJoinLeave(String bootstrap, String topic, String protocol) throws Exception {
        int partitions = 6, perStage = 500;
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
        String group = "java-group-" + UUID.randomUUID();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        List<Member> members = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            members.add(new Member(bootstrap, group, protocol, topic, seen));
            members.add(new Member(bootstrap, group, protocol, topic, seen));
            waitFor("two members to share the partitions", () -> shareAll(members, partitions));
            int next = 0;
            for (int stage = 0; stage < 3; stage++) {
                for (int i = 0; i < perStage; i++, next++) producer.send(new ProducerRecord<>(topic, "k" + next, "v" + next));
                producer.flush();
                if (stage == 0) {
                    members.add(new Member(bootstrap, group, protocol, topic, seen));
                    waitFor("three members to share the partitions", () -> shareAll(members, partitions));
                } else if (stage == 1) {
                    members.remove(0).stop();
                    try {
                        waitFor("two members to take over", () -> shareAll(members, partitions));
                    } catch (IllegalStateException e) {
                        throw new IllegalStateException(e.getMessage() + "; clients see "
                                + members.stream().map(m -> m.assignment.toString()).toList()
                                + ", the broker: " + describeGroup(bootstrap, group), e);
                    }
                }
            }
            int total = next;
            waitFor("every record", () -> seen.size() >= total);
            Thread.sleep(1000);  // anything delivered twice would arrive now
        } finally {
            for (Member m : members) m.stop();
        }
        for (Member m : members) if (m.failure != null) throw new RuntimeException(m.failure);
        say("unique", seen.size());
        say("duplicates", seen.values().stream().filter(n -> n > 1).count());
    }

    /** The admin calls Kafka's CLI tools are built on (kafka-consumer-groups, kafka-log-dirs,
     * kafka-delete-records, kafka-transactions, kafka-metadata-quorum, kafka-cluster,
     * kafka-leader-election, kafka-acls), against a topic with records, a group and a
     * transaction. */
    static void toolCalls(String bootstrap, String topic) throws Exception {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
                for (int i = 0; i < 20; i++) producer.send(new ProducerRecord<>(topic, i % 2, "k", "v" + i));
            }
            TopicPartition p0 = new TopicPartition(topic, 0), p1 = new TopicPartition(topic, 1);
            String group = "java-tools-" + UUID.randomUUID();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, "classic"))) {
                consumer.subscribe(List.of(topic));
                int got = 0;
                long deadline = System.currentTimeMillis() + 30000;
                while (got < 20 && System.currentTimeMillis() < deadline) got += consumer.poll(POLL).count();
                consumer.commitSync();
                // kafka-consumer-groups --describe, while the member is in the group
                ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                say("group.state", g.groupState());
                say("group.members", g.members().size());
                say("group.assigned", g.members().iterator().next().assignment().topicPartitions().size());
            }
            say("groups.listed", admin.listGroups().all().get().stream().anyMatch(l -> l.groupId().equals(group)));
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            say("group.offsets", offsets.get(p0).offset() + offsets.get(p1).offset());
            // kafka-consumer-groups --reset-offsets --to-earliest, then --delete-offsets and --delete
            admin.alterConsumerGroupOffsets(group, Map.of(p0, new OffsetAndMetadata(0), p1, new OffsetAndMetadata(0))).all().get();
            offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            say("group.offsets.reset", offsets.get(p0).offset() + offsets.get(p1).offset());
            admin.deleteConsumerGroupOffsets(group, Set.of(p1)).all().get();
            say("group.offsets.after.delete", admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().size());
            admin.deleteConsumerGroups(List.of(group)).all().get();
            say("group.deleted", admin.listGroups().all().get().stream().noneMatch(l -> l.groupId().equals(group)));
            // kafka-delete-records and ListOffsets earliest
            admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(4))).all().get();
            say("earliest.after.delete", admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).partitionResult(p0).get().offset());
            // kafka-log-dirs --describe
            var dirs = admin.describeLogDirs(List.of(admin.describeCluster().nodes().get().iterator().next().id())).allDescriptions().get();
            boolean found = dirs.values().stream().flatMap(m -> m.values().stream())
                    .anyMatch(d -> d.replicaInfos().containsKey(p0) && d.replicaInfos().get(p0).size() > 0);
            say("log.dirs.has.partition", found);
            // kafka-metadata-quorum describe --status, kafka-cluster cluster-id
            QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
            say("quorum.leader", quorum.leaderId());
            say("quorum.voters", quorum.voters().size());
            say("cluster.id", admin.describeCluster().clusterId().get() != null);
            // kafka-leader-election --election-type preferred: the preferred replica already leads
            var election = admin.electLeaders(ElectionType.PREFERRED, Set.of(p0)).partitions().get();
            say("election", election.get(p0).map(e -> e.getClass().getSimpleName()).orElse("elected"));
            say("election.all", admin.electLeaders(ElectionType.PREFERRED, null).partitions().get().size());
            // kafka-acls --list: no authorizer, as a Kafka broker without one says
            say("acls", outcome(() -> admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values().get()));
            // kafka-transactions list / describe-producers
            String txId = "java-tools-tx-" + UUID.randomUUID();
            Properties tp = producerProps(bootstrap);
            tp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(tp)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 1, "k", "in-txn")).get();
                say("txn.listed", admin.listTransactions().all().get().stream().anyMatch(l -> l.transactionalId().equals(txId)));
                say("txn.state", admin.describeTransactions(List.of(txId)).description(txId).get().state());
                var producers = admin.describeProducers(List.of(p1)).partitionResult(p1).get().activeProducers();
                say("txn.open.on.partition", producers.stream().anyMatch(ps -> ps.currentTransactionStartOffset().isPresent()));
                producer.abortTransaction();
            }
        }
    }

    /** `count` records with the default (idempotent) producer, spread out over time, printing
     * "acked=N" as acknowledgements arrive so a test can restart the broker midway. */
    static void producePaced(String bootstrap, String topic, int count) throws Exception {
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120000);
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        java.util.concurrent.atomic.AtomicInteger acked = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, String.format("%08d", i)), (md, e) -> {
                    if (e != null) failed.incrementAndGet();
                    int n = acked.incrementAndGet();
                    if (n % 500 == 0) {
                        System.out.println("acked=" + n);
                        System.out.flush();
                    }
                });
                if (i % 200 == 0) Thread.sleep(20);
            }
            producer.flush();
        }
        say("failed", failed.get());
        say("produced", acked.get());
    }

    /** Exactly-once consume-transform-produce as Kafka Streams does it: a read_committed group
     * consumer, a transactional producer, the consumer's offsets committed in each transaction
     * with sendOffsetsToTransaction (KIP-447 group metadata). `<topic>-in` to `<topic>-out`. */
    static void consumeTransformProduce(String bootstrap, String topic, int count) throws Exception {
        String in = topic + "-in", out = topic + "-out", group = "java-eos-" + UUID.randomUUID();
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(in, 3, (short) 1), new NewTopic(out, 3, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(in, "k" + i, "in-" + i));
        }
        Properties c = consumerProps(bootstrap, group, "classic");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "java-eos-" + UUID.randomUUID());
        int transactions = 0, processed = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
             KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            consumer.subscribe(List.of(in));
            long deadline = System.currentTimeMillis() + 60000;
            while (processed < count && System.currentTimeMillis() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(POLL);
                if (records.isEmpty()) continue;
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    producer.send(new ProducerRecord<>(out, r.key(), r.value().replace("in-", "out-")));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    processed++;
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                transactions++;
            }
            long committed = 0;
            for (OffsetAndMetadata om : consumer.committed(consumer.assignment()).values()) committed += om == null ? 0 : om.offset();
            say("committed", committed);
        }
        say("transactions.positive", transactions > 0);
        Properties v = consumerProps(bootstrap, null, null);
        v.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Set<String> seen = new HashSet<>();
        int total = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(v)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (int i = 0; i < 3; i++) parts.add(new TopicPartition(out, i));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long deadline = System.currentTimeMillis() + 30000;
            while (seen.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(POLL)) {
                    seen.add(r.value());
                    total++;
                }
            }
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                seen.add(r.value());
                total++;
            }
        }
        say("output.unique", seen.size());
        say("output.total", total);
    }

    /** KIP-848 subscription by a regular expression the broker evaluates (SubscriptionPattern),
     * topics created after the member joined included, and offsetsForTimes (ListOffsets by
     * timestamp). Topics `<topic>-a`, `<topic>-b` match `<topic>-.*`; `<topic>x` does not. */
    static void regexAndTimes(String bootstrap, String topic) throws Exception {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(a);
             KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap));
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                     consumerProps(bootstrap, "java-regex-" + UUID.randomUUID(), "consumer"))) {
            admin.createTopics(List.of(new NewTopic(topic + "-a", 2, (short) 1), new NewTopic(topic + "x", 1, (short) 1)))
                    .all().get();
            consumer.subscribe(new SubscriptionPattern(topic + "-.*"));  // topic names here hold no regex syntax
            Set<String> seen = new HashSet<>();
            long deadline = System.currentTimeMillis() + 10000;
            while (consumer.assignment().isEmpty() && System.currentTimeMillis() < deadline) consumer.poll(POLL);
            // A matching topic created after the member subscribed joins its assignment too.
            admin.createTopics(List.of(new NewTopic(topic + "-b", 1, (short) 1))).all().get();
            long t0 = System.currentTimeMillis();
            for (String t : List.of(topic + "-a", topic + "-b", topic + "x")) {
                for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>(t, null, t0 + i * 1000L, "k", t + "/" + i)).get();
            }
            deadline = System.currentTimeMillis() + 30000;
            while (seen.size() < 10 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(POLL)) seen.add(r.value());
            }
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) seen.add(r.value());
            Set<String> topics = new TreeSet<>();
            for (TopicPartition tp : consumer.assignment()) topics.add(tp.topic().substring(topic.length()));
            say("assigned.topics", String.join(",", topics));
            say("consumed", seen.size());
            say("consumed.unmatched", seen.stream().filter(v -> v.startsWith(topic + "x/")).count());
            // The first record at or after t0 + 2.5 s in <topic>-b is its fourth (offset 3).
            TopicPartition b0 = new TopicPartition(topic + "-b", 0);
            var found = consumer.offsetsForTimes(Map.of(b0, t0 + 2500)).get(b0);
            say("offset.for.time", found == null ? "none" : found.offset() + "@" + (found.timestamp() - t0));
        }
    }
}
