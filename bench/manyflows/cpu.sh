#!/bin/bash
# cpu.sh BIN SPECS S R: the daemon's CPU per span (storage on) under otlpload
# -services S -routes R for 20 s (throughput mode), then from /metrics the
# evaluation time while ingesting, series dropped and the page's size.
BIN=$1; export SPECS=$2; S=$3; R=$4
export DATA=$(mktemp -d)
$BIN --config $(dirname "$0")/config.yaml > $DATA.log 2>&1 & pid=$!
while ! (echo > /dev/tcp/127.0.0.1/24317) 2>/dev/null; do sleep 0.01; done
while ! grep -qP "\tstate restored\t|burnwatch started" $DATA.log; do sleep 0.01; done
sleep 1
${OTLPLOAD:-otlpload} -addr 127.0.0.1:24317 -duration 20s -services $S -routes $R -pid $pid 2>&1 | tail -1 | grep -o '"server_cpu_us_per_span":[0-9.]*\|"spans_per_sec":[0-9.]*' | tr '\n' ' '
echo
curl -s http://127.0.0.1:29464/metrics | grep -E "^burnwatch_evaluation_duration_seconds_(sum|count)|^burnwatch_metrics_series_dropped|^burnwatch_storage_checkpoint"; grep -c "checkpoint" $DATA.log
grep -c . <(curl -s http://127.0.0.1:29464/metrics) ; curl -s http://127.0.0.1:29464/metrics | wc -c
kill $pid; wait $pid 2>/dev/null; rm -rf $DATA $DATA.log
