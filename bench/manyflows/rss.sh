#!/bin/bash
# rss.sh BIN SPECS S R RATE SECS: the daemon's resident memory (storage on)
# at listening and after SECS of otlpload paced at RATE server spans a second.
BIN=$1; export SPECS=$2; S=$3; R=$4; RATE=$5; SECS=$6
export DATA=$(mktemp -d)
t0=$(date +%s.%N)
$BIN --config $(dirname "$0")/config.yaml > $DATA.log 2>&1 & pid=$!
while ! (echo > /dev/tcp/127.0.0.1/24317) 2>/dev/null; do sleep 0.01; done
echo "start to listening: $(echo "$(date +%s.%N) - $t0" | bc) s; rss $(grep VmRSS /proc/$pid/status)"
${OTLPLOAD:-otlpload} -addr 127.0.0.1:24317 -rate $RATE -duration ${SECS}s -services $S -routes $R -pid $pid 2>&1 | tail -1 | cut -c1-200
grep -E "VmRSS|VmHWM" /proc/$pid/status
curl -s http://127.0.0.1:29464/metrics | grep -E "^go_memstats_heap_inuse_bytes|^go_memstats_heap_alloc_bytes|^process_resident_memory_bytes|^burnwatch_flows |^go_memstats_sys_bytes"
curl -s http://127.0.0.1:29464/metrics | grep -E "^burnwatch_evaluation_duration_seconds_(sum|count)"
kill $pid; wait $pid 2>/dev/null; rm -rf $DATA
