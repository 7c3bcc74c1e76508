#!/usr/bin/env bash
# Burnwatch's time to page, measured as ../shared/bench/peerpipeline/run.sh
# measures the stock pipeline: otlpload at 400 spans/s, 60 s healthy (0.05%
# errors) then 100% errors; the page is the first webhook delivery carrying
# "severity":"page" at webhooksink. Prints milliseconds from the outage's start.
#
#   bench/timetopage.sh            (from the project root; ports 4317 and 9099 on 127.0.0.1)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/../shared/bench}
W=$(mktemp -d); BIN=${BIN:-$(dirname "$W")/bench-bin}
mkdir -p "$BIN"
for t in otlpload webhooksink; do
  [ -x "$BIN/$t" ] || (cd "$BENCH/$t" && go build -o "$BIN/$t" .) || exit 2
done
(cd "$ROOT" && go build -o "$W/burnwatch" ./cmd/burnwatch) || exit 2
cd "$W"
"$BIN/webhooksink" -listen 127.0.0.1:9099 -out deliveries.jsonl >sink.log 2>&1 & S=$!
BURNWATCH_WEBHOOK_URL=http://127.0.0.1:9099/burnwatch BURNWATCH_BENCH_SPECS="$ROOT/bench/specs.yaml" \
  "$W/burnwatch" --config "$ROOT/bench/config.yaml" >bw.log 2>&1 & B=$!
sleep 3
"$BIN/otlpload" -rate 400 -phases "60s:err=0.0005;600s:err=1.0" >load.log 2>&1 & L=$!
outage=$(( $(date +%s%N) + 60000000000 ))
page=""
while kill -0 $L 2>/dev/null; do
  grep -q '"severity":"page"' deliveries.jsonl 2>/dev/null && { page=$(date +%s%N); break; }
  sleep 0.2
done
kill $L $S $B 2>/dev/null; wait 2>/dev/null
[ -n "$page" ] || { echo "no page within the run; logs in $W"; exit 1; }
echo "burnwatch (evaluation 1s): page $(( (page - outage) / 1000000 )) ms after the outage began"
rm -rf "$W"
