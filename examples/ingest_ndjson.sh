#!/usr/bin/env bash
# Send events to algowatch from any language: POST NDJSON (one JSON event per line).
#   ALGOWATCH_URL=http://127.0.0.1:8000 ALGOWATCH_TOKEN=... examples/ingest_ndjson.sh
# Give every event a unique event_id: a retry of the same batch is then harmless.
set -euo pipefail
url="${ALGOWATCH_URL:-http://127.0.0.1:8000}"
auth=()
if [ -n "${ALGOWATCH_TOKEN:-}" ]; then auth=(-H "Authorization: Bearer ${ALGOWATCH_TOKEN}"); fi

curl --silent --show-error --fail-with-body "${auth[@]}" \
  -H 'Content-Type: application/x-ndjson' \
  --data-binary @- "$url/api/v1/events" <<'NDJSON'
{"type":"order_submitted","event_id":"curl-1","ts":"2025-01-02T14:30:00Z","order_id":"A1","symbol":"AAPL","side":"buy","quantity":10,"order_type":"market","arrival_price":190.0}
{"type":"order_acknowledged","event_id":"curl-2","ts":"2025-01-02T14:30:00.120Z","order_id":"A1"}
{"type":"order_filled","event_id":"curl-3","ts":"2025-01-02T14:30:00.350Z","order_id":"A1","fill_id":"F1","quantity":10,"price":190.05,"fee":0.35}
{"type":"mark","event_id":"curl-4","ts":"2025-01-02T14:31:00Z","symbol":"AAPL","price":191.0}
NDJSON
echo
curl --silent --show-error --fail-with-body "${auth[@]}" "$url/api/v1/positions"
echo
