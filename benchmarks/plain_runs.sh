#!/usr/bin/env bash
# The default on plain arrays (no image_shape: never shifted) beside end-to-end Adam, paired by
# seed: five seeds per data set, one JSON line per run in docs/results/default_plain.jsonl
# (runs already recorded there are skipped, so the script resumes).  Summarise with
#   python benchmarks/paired.py docs/results/default_plain.jsonl --a dae-adam-cap-shift \
#       --b adam --a-plain --b-plain
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEC_NP_DATA:-../shared/data}
OUT=${OUT:-docs/results/default_plain.jsonl}
run() { python benchmarks/recipes.py run --data-dir "$DATA" --out "$OUT" --plain "$@"; }
for ds in ${DATASETS:-mnist-test usps fashion-mnist}; do
  for seed in ${SEEDS:-0 1 2 3 4}; do
    run --recipe dae-adam-cap-shift --datasets "$ds" --seeds "$seed"
    run --recipe adam --datasets "$ds" --seeds "$seed"
  done
done
