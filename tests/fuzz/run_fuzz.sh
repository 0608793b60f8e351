#!/bin/sh
# Runs one libFuzzer target for a bounded time: run_fuzz.sh BINARY CORPUS SECONDS
set -eu
bin=$1 corpus=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
exec "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4194304 \
  -print_final_stats=1 "$scratch" "$corpus"
