#!/usr/bin/env bash
# Send events to algowatch from any language: POST NDJSON (one JSON event per line).
#   ALGOWATCH_URL=http://127.0.0.1:8000 ALGOWATCH_TOKEN=... examples/ingest_ndjson.sh
# Give every event a unique event_id: a retry of the same batch is then harmless; and stamp it
# with the time it happened (here: an order two seconds ago, and a mark now; GNU date).
set -euo pipefail
url="${ALGOWATCH_URL:-http://127.0.0.1:8000}"
auth=()
if [ -n "${ALGOWATCH_TOKEN:-}" ]; then auth=(-H "Authorization: Bearer ${ALGOWATCH_TOKEN}"); fi

then=$(date -u -d '2 seconds ago' +%Y-%m-%dT%H:%M:%S)
now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
curl --silent --show-error --fail-with-body "${auth[@]}" \
  -H 'Content-Type: application/x-ndjson' \
  --data-binary @- "$url/api/v1/events" <<NDJSON
{"type":"order_submitted","event_id":"curl-1","ts":"${then}.000Z","order_id":"A1","symbol":"AAPL","side":"buy","quantity":10,"order_type":"market","arrival_price":190.0}
{"type":"order_acknowledged","event_id":"curl-2","ts":"${then}.120Z","order_id":"A1"}
{"type":"order_filled","event_id":"curl-3","ts":"${then}.350Z","order_id":"A1","fill_id":"F1","quantity":10,"price":190.05,"fee":0.35}
{"type":"mark","event_id":"curl-4","ts":"${now}","symbol":"AAPL","price":191.0}
NDJSON
echo
curl --silent --show-error --fail-with-body "${auth[@]}" "$url/api/v1/positions"
echo
