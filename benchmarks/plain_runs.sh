#!/usr/bin/env bash
# The default on plain arrays (no image_shape: never shifted) beside other pipelines, paired by
# seed: five seeds per data set, one JSON line per run in $OUT (runs already recorded there are
# skipped, so the script resumes).  ARMS names the recipes (benchmarks/recipes.py), by default
# the package's default ("dae-adam-short-shift"), the previous default ("dae-adam-cap-shift")
# and end-to-end Adam ("adam"); each fit runs on one host thread (N_JOBS), so that two copies
# of the script (SEEDS="0 2 4" beside SEEDS="1 3") use two cores.  Summarise with
#   python benchmarks/paired.py docs/results/default_plain*.jsonl --a dae-adam-short-shift \
#       --b dae-adam-cap-shift --a-plain --b-plain [--machine Xeon]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEC_NP_DATA:-../shared/data}
OUT=${OUT:-docs/results/default_plain.jsonl}
run() { python benchmarks/recipes.py run --data-dir "$DATA" --out "$OUT" --plain \
            --n-jobs "${N_JOBS:-1}" "$@"; }
for ds in ${DATASETS:-mnist-test usps fashion-mnist}; do
  for seed in ${SEEDS:-0 1 2 3 4}; do
    for arm in ${ARMS:-dae-adam-short-shift dae-adam-cap-shift adam}; do
      run --recipe "$arm" --datasets "$ds" --seeds "$seed"
    done
  done
done
