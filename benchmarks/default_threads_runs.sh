#!/usr/bin/env bash
# The default as a user runs it: `dec-np fit` with DEC's default threads (BLAS's own, all
# cores), each fit alone on the machine, seeds SEEDS, on the data sets DATASETS: "mnist-test"
# (the MNIST test set with its image shape), "mnist-test-plain" (the same read as a plain
# array), "mnist" (all 70,000 images), or any other named data set (with its image shape).
# One JSON line per fit in OUT (benchmarks/fit_record.py, tag "default"; recorded fits are
# skipped, so the script resumes).  The checkout runs from a temporary worktree of HEAD, so it
# may change meanwhile.  Paired with the same seeds at one thread (the study's records; their
# fit times were taken two runs side by side, so read only the accuracy there):
#   python benchmarks/paired.py OUT docs/results/fast_default.jsonl --a default --b fast-adam3k5e4-csr
#   python benchmarks/paired.py OUT docs/results/clustering_mask_xeon.jsonl --a default \
#       --b none@2520 --a-plain --b-plain
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(cd "${DEC_NP_DATA:-../shared/data}" && pwd)
OUT=$(realpath -m "${OUT:-docs/results/default_blas_xeon.jsonl}")
WORK=$(mktemp -d)
trap 'git worktree remove --force "$WORK/head" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git worktree add --detach "$WORK/head" HEAD >/dev/null 2>&1
for ds in ${DATASETS:-mnist-test mnist-test-plain}; do
  if [ "$ds" = mnist-test-plain ] && [ ! -f "$WORK/X.npy" ]; then
    PYTHONPATH="$WORK/head" python -c "
import sys, numpy as np
from dec_np.cli import load_data
X, y = load_data('mnist-test', sys.argv[1])[:2]
np.save(sys.argv[2] + '/X.npy', X); np.save(sys.argv[2] + '/y.npy', y)" "$DATA" "$WORK"
  fi
  for seed in ${SEEDS:-0 1 2 3 4}; do
    if [ "$ds" = mnist-test-plain ]; then
      python benchmarks/fit_record.py --tree "$WORK/head" --tag default --dataset mnist-test \
          --out "$OUT" -- --dataset "$WORK/X.npy" --labels "$WORK/y.npy" --seed "$seed" \
          --data-dir "$DATA"
    else
      shape=$(PYTHONPATH="$WORK/head" python -c "
import sys
from dec_np.cli import load_data
print(','.join(map(str, load_data(sys.argv[1], sys.argv[2])[2])))" "$ds" "$DATA")
      python benchmarks/fit_record.py --tree "$WORK/head" --tag default --dataset "$ds" \
          --image-shape "$shape" --out "$OUT" -- --dataset "$ds" --seed "$seed" --data-dir "$DATA"
    fi
  done
done
