#!/bin/bash
# restart.sh BIN SPECS LOADSECS S R: start the daemon (storage on), load it
# with otlpload for LOADSECS (throughput mode), kill -9 it at the end, start
# it again and send for 3 s more (NOLOAD=1: not) while it restores. Prints
# the time from the restart to listening (accepting spans) and to the
# "state restored" log line. OTLPLOAD is the otlpload binary.
BIN=$1; export SPECS=$2; LOAD=${3:-58}; S=${4:-10}; R=${5:-1000}
OTLPLOAD=${OTLPLOAD:-otlpload}; CFG=$(dirname "$0")/config.yaml
export DATA=$(mktemp -d)
now() { date +%s.%N; }
waitport() { while ! (echo > /dev/tcp/127.0.0.1/24317) 2>/dev/null; do sleep 0.005; done; }
t0=$(now); $BIN --config $CFG > $DATA.log1 2>&1 & pid=$!
waitport; echo "cold start to listening: $(echo "$(now) - $t0" | bc) s"
while ! grep -qP "\tstate restored\t" $DATA.log1; do sleep 0.01; done
$OTLPLOAD -addr 127.0.0.1:24317 -duration ${LOAD}s -services $S -routes $R -pid $pid 2>&1 | tail -1
kill -9 $pid; wait $pid 2>/dev/null
echo "at the kill: wal $(du -sb $DATA/wal | cut -f1) bytes on disk (sealed segments compressed), checkpoints $(du -sb $DATA/checkpoints | cut -f1)"
t0=$(now); $BIN --config $CFG > $DATA.log2 2>&1 & pid=$!
waitport; echo "restart to listening: $(echo "$(now) - $t0" | bc) s"
lpid=""
if [ -z "$NOLOAD" ]; then $OTLPLOAD -addr 127.0.0.1:24317 -duration 3s -services $S -routes $R > $DATA.load2 2>&1 & lpid=$!; fi
while ! grep -qP "\tstate restored\t" $DATA.log2; do sleep 0.005; done
echo "restart to restored: $(echo "$(now) - $t0" | bc) s"
grep -P "\tstate restored\t" $DATA.log2 | grep -o '"took".*'
if [ -n "$lpid" ]; then wait $lpid; tail -1 $DATA.load2 | grep -o '"spans_failed":[0-9]*'; fi
kill $pid; wait $pid 2>/dev/null; rm -rf $DATA $DATA.*
