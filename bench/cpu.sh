#!/usr/bin/env bash
# Server CPU per span and peak memory of three daemons on the same otlpload
# command, run alternately so that a busy machine weighs on each alike:
#   fast     Burnwatch with the fast receiver (bench/config-fast.yaml)
#   upstream Burnwatch on the otlp receiver + flow processor + slo connector (bench/config.yaml)
#   peer     ../shared/bench/peer: the collector with the spanmetrics connector
# Each line: round, daemon, server CPU µs per span, spans/s, peak RSS (VmHWM).
#
#   bench/cpu.sh                         # throughput: 3 rounds of 20 s each
#   ROUNDS=3 LOAD="-rate 10000 -duration 30s" bench/cpu.sh   # the sidecar footprint
#   DAEMONS="fast peer" bench/cpu.sh     # a subset
#
# From the project root; it listens on 127.0.0.1:$PORT (14317) and :$METRICS (19464).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/../shared/bench}
ROUNDS=${ROUNDS:-3}
LOAD=${LOAD:--duration 20s}
DAEMONS=${DAEMONS:-fast upstream peer}
PORT=${PORT:-14317}
METRICS=${METRICS:-19464}
W=$(mktemp -d)
for t in otlpload peer; do
  (cd "$BENCH/$t" && go build -o "$W/$t" .) || exit 2
done
(cd "$ROOT" && go build -o "$W/burnwatch" ./cmd/burnwatch) || exit 2

start() {
  case $1 in
  fast) exec env BURNWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:$PORT BURNWATCH_METRICS_ENDPOINT=127.0.0.1:$METRICS \
    BURNWATCH_BENCH_SPECS="$ROOT/bench/specs.yaml" "$W/burnwatch" --config "$ROOT/bench/config-fast.yaml" ;;
  upstream) exec env BURNWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:$PORT BURNWATCH_METRICS_ENDPOINT=127.0.0.1:$METRICS \
    BURNWATCH_BENCH_SPECS="$ROOT/bench/specs.yaml" "$W/burnwatch" --config "$ROOT/bench/config.yaml" ;;
  peer) exec env PEER_GRPC=127.0.0.1:$PORT "$W/peer" --config "$BENCH/peer/peer.yaml" ;;
  esac
}

printf 'round\tdaemon\tcpu_us_per_span\tspans_per_s\tpeak_rss_kib\n'
for r in $(seq "$ROUNDS"); do
  for d in $DAEMONS; do
    start "$d" >"$W/$d.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    # shellcheck disable=SC2086
    out=$("$W/otlpload" -addr "127.0.0.1:$PORT" -pid "$pid" $LOAD 2>/dev/null)
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null
    cpu=$(echo "$out" | sed -n 's/.*"server_cpu_us_per_span":\([0-9.]*\).*/\1/p')
    sps=$(echo "$out" | sed -n 's/.*"spans_per_sec":\([0-9.]*\).*/\1/p')
    printf '%s\t%s\t%.3f\t%.0f\t%s\n' "$r" "$d" "$cpu" "$sps" "$hwm"
  done
done
rm -rf "$W"
