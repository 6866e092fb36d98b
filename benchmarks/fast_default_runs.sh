#!/usr/bin/env bash
# The paired comparison of a faster default pipeline: five seeds per data set, with and
# without image_shape, beside end-to-end Adam on plain arrays, one JSON line per run in
# docs/results/fast_default.jsonl (runs already recorded there are skipped, so the script
# resumes where it stopped).  Summarise with
#   python benchmarks/recipes.py paired docs/results/fast_default.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEC_NP_DATA:-../shared/data}
OUT=${OUT:-docs/results/fast_default.jsonl}
SEEDS=${SEEDS:-0 1 2 3 4}
# the candidate: the layer-wise stage at most 10 epochs per depth, 3,000 Adam steps (at least
# 44 epochs, lr x epochs capped at 0.001 x 100): on 70,000 rows the same stages as dae-adam-cap-shift
FAST=(--recipe dae-adam-cap-shift --tag dae-adam-fast-shift
      --set layerwise.max_epochs=10 finetune.iterations=3000)
run() { python benchmarks/recipes.py run --data-dir "$DATA" --out "$OUT" "$@"; }
for ds in ${DATASETS:-mnist-test usps fashion-mnist}; do
  for seed in $SEEDS; do
    run "${FAST[@]}" --datasets "$ds" --seeds "$seed"
    run "${FAST[@]}" --datasets "$ds" --seeds "$seed" --plain
    run --recipe adam --datasets "$ds" --seeds "$seed" --plain
  done
done
