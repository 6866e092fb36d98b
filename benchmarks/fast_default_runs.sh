#!/usr/bin/env bash
# The paired comparison of a faster pipeline with the default: five seeds per data set, one
# JSON line per run in docs/results/fast_default.jsonl (runs already recorded there are
# skipped, so the script resumes where it stopped).  The candidate (round 19 of
# docs/defaults-study.md): the default's layer-wise stage, 2,000 Adam steps at lr 0.0005 on
# shifted images, then a clustering phase on shifted images capped at 2,520 iterations.
# The default's runs of the same seeds are the "default" arm of docs/results/augment_paired.jsonl
# (benchmarks/augment_runs.py); table both with
#   python benchmarks/paired.py docs/results/fast_default.jsonl docs/results/augment_paired.jsonl \
#       --a fast-adam2k5e4-cs --b default --machine EPYC
# Two one-thread runs side by side use two cores best: SEEDS="0 2 4" beside SEEDS="1 3".
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEC_NP_DATA:-../shared/data}
OUT=${OUT:-docs/results/fast_default.jsonl}
FAST=(--recipe dae-adam-cap-shift --tag fast-adam2k5e4-cs
      --set finetune.iterations=2000 finetune.lr=0.0005
      --dec 'augment={"shift": 0.1}' max_iter=2520)
for ds in ${DATASETS:-mnist-test usps fashion-mnist}; do
  for seed in ${SEEDS:-0 1 2 3 4}; do
    python benchmarks/recipes.py run --data-dir "$DATA" --out "$OUT" --n-jobs 1 "${FAST[@]}" \
        --datasets "$ds" --seeds "$seed"
  done
done
