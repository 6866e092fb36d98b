#!/usr/bin/env bash
# The default pipeline of this checkout against the default of an earlier commit (BASE; by
# default 29fa74e, the package when the target "the default in 40% of the time" was set):
# whole fits on the MNIST test set, given its image shape and read as a plain array, each fit
# alone on the machine with DEC's default threads, the two commits alternated, seeds SEEDS.
# One JSON line per fit in OUT (benchmarks/fit_record.py; recorded fits are skipped, so the
# script resumes).  Both commits run from temporary worktrees, so the checkout may change
# meanwhile.  Table with
#   python benchmarks/paired.py OUT --a default --b default@BASE [--a-plain --b-plain]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(cd "${DEC_NP_DATA:-../shared/data}" && pwd)
BASE=${BASE:-29fa74e}
OUT=$(realpath -m "${OUT:-docs/results/before_after_xeon.jsonl}")
WORK=$(mktemp -d)
trap 'git worktree remove --force "$WORK/base" >/dev/null 2>&1 || true;
      git worktree remove --force "$WORK/head" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
git worktree add --detach "$WORK/head" HEAD >/dev/null 2>&1
BASE_TAG="default@$(git -C "$WORK/base" rev-parse --short HEAD)"
HEAD_TAG=default  # the record's "commit" says which
# the MNIST test set as .npy files, for the plain-array fits
PYTHONPATH="$WORK/head" python -c "
import sys, numpy as np
from dec_np.cli import load_data
X, y = load_data('mnist-test', sys.argv[1])[:2]
np.save(sys.argv[2] + '/X.npy', X); np.save(sys.argv[2] + '/y.npy', y)" "$DATA" "$WORK"
fit() {  # tree tag kind seed
  local data=(--dataset mnist-test) shape=(--image-shape 28,28)
  if [ "$3" = plain ]; then data=(--dataset "$WORK/X.npy" --labels "$WORK/y.npy"); shape=(); fi
  python benchmarks/fit_record.py --tree "$1" --tag "$2" --dataset mnist-test "${shape[@]}" \
      --out "$OUT" -- "${data[@]}" --seed "$4" --data-dir "$DATA"
}
for seed in ${SEEDS:-0}; do
  for kind in ${KINDS:-images plain}; do
    fit "$WORK/base" "$BASE_TAG" "$kind" "$seed"
    fit "$WORK/head" "$HEAD_TAG" "$kind" "$seed"
  done
done
