#!/usr/bin/env bash
# scripts/setup.sh - installs what building, running and testing Sluice needs,
# from Debian's packages and npm only. Idempotent: when everything is present
# it checks and returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_BUILD=(build-essential make pkg-config zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
           libssl-dev openssl python3 librdkafka-dev libmicrohttpd-dev libjansson-dev)
DEB_TEST=(kcat python3-kafka python3-confluent-kafka prometheus clang libclang-rt-14-dev)
# Only for `make bench` (scripts/setup.sh --bench): the machine's limits, the peers
# the benchmark compares against, the load generators' client libraries, the chart.
DEB_BENCH=(fio iperf3 redis-server redis-tools nats-server gnuplot-nox librdkafka-dev libnats-dev)
want=("${DEB_BUILD[@]}" "${DEB_TEST[@]}")
[ "${1:-}" = "--bench" ] && want+=("${DEB_BENCH[@]}")
# The machine image may carry its own Node.js (which conflicts with Debian's npm):
# ask Debian for node and npm only when the commands are missing.
command -v node >/dev/null || want+=(nodejs)
command -v npm >/dev/null || want+=(npm)

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs for the JavaScript client tests, pinned in tests/integration/js/package.json.
if [ -f tests/integration/js/package.json ] && [ ! -d tests/integration/js/node_modules/kafkajs ]; then
    echo "setup: installing kafkajs (npm)"
    (cd tests/integration/js && npm install --no-audit --no-fund --silent >/dev/null)
fi
