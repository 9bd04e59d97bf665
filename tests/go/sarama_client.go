// Drives Sarama (Shopify's Go client) against a broker: a synchronous producer with keys,
// headers and each codec, then a consumer group reading everything back with committed offsets.
// Prints one JSON line with what it consumed.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type record struct {
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       string            `json:"key"`
	Value     string            `json:"value"`
	Headers   map[string]string `json:"headers"`
}

type handler struct {
	mu       sync.Mutex
	received []record
	want     int
	done     chan struct{}
	once     sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		headers := map[string]string{}
		for _, hd := range m.Headers {
			headers[string(hd.Key)] = string(hd.Value)
		}
		h.mu.Lock()
		h.received = append(h.received, record{m.Partition, m.Offset, string(m.Key), string(m.Value), headers})
		n := len(h.received)
		h.mu.Unlock()
		s.MarkMessage(m, "")
		if n >= h.want {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	bootstrap, topic := os.Args[1], os.Args[2]
	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0 // the oldest protocol versions Kafka 4.x brokers still serve
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
	// With a retention time Sarama commits with OffsetCommit v2, which Kafka 4.x still serves
	// (without one it uses v1, which Kafka 4.0 removed).
	config.Consumer.Offsets.Retention = 24 * time.Hour

	admin, err := sarama.NewClusterAdmin([]string{bootstrap}, config)
	if err != nil {
		fail(err)
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		fail(err)
	}
	admin.Close()

	sent := 0
	for _, codec := range []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP,
		sarama.CompressionSnappy, sarama.CompressionLZ4, sarama.CompressionZSTD} {
		config.Producer.Compression = codec
		producer, err := sarama.NewSyncProducer([]string{bootstrap}, config)
		if err != nil {
			fail(err)
		}
		var msgs []*sarama.ProducerMessage
		for i := 0; i < 20; i++ {
			msgs = append(msgs, &sarama.ProducerMessage{
				Topic:   topic,
				Key:     sarama.StringEncoder(fmt.Sprintf("k%d", sent%4)),
				Value:   sarama.StringEncoder(fmt.Sprintf("v%d", sent)),
				Headers: []sarama.RecordHeader{{Key: []byte("n"), Value: []byte(fmt.Sprint(sent))}},
			})
			sent++
		}
		if err := producer.SendMessages(msgs); err != nil {
			fail(err)
		}
		producer.Close()
	}

	group, err := sarama.NewConsumerGroup([]string{bootstrap}, topic+"-group", config)
	if err != nil {
		fail(err)
	}
	h := &handler{want: sent, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				fail(err)
			}
		}
	}()
	select {
	case <-h.done:
	case <-time.After(40 * time.Second):
		fail(fmt.Errorf("consumed %d of %d records", len(h.received), sent))
	}
	cancel()
	group.Close() // commits the marked offsets

	h.mu.Lock()
	defer h.mu.Unlock()
	out, _ := json.Marshal(map[string]interface{}{"sent": sent, "received": h.received})
	fmt.Println(string(out))
}
