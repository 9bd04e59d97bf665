"""The Kafka wire protocol: primitive types, declarative message schemas, the codec compiler,
record batches, compression codecs, error codes and API keys. Imports nothing of the project."""
