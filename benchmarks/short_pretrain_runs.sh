#!/usr/bin/env bash
# Round 29 of docs/defaults-study.md: the default's pretraining made shorter, for speed, on
# the MNIST test set.  ARM picks the change to the default ("dae-adam-short-shift"):
#   ARM=lw3k-ft128  3,000 layer-wise steps per depth (of 6,000) and Adam at batch 128 (of 256;
#                   the 44-epoch floor then runs 3,476 steps on 10,000 rows)
#   ARM=lw3k        the layer-wise cut alone
#   ARM=ft128       the batch cut alone
# Seeds SEEDS, with the image shape and/or as a plain array (KINDS), on DATASETS, one thread
# each (the same numbers for every thread count; two runs side by side use two cores best);
# one JSON line per fit in OUT (recorded fits are skipped, so the script resumes).  The
# round's runs:
#   ARM=lw3k-ft128 bash benchmarks/short_pretrain_runs.sh          # seeds 0-4, both kinds
#   ARM=lw3k KINDS=plain SEEDS="2 3" bash ...;  ARM=lw3k KINDS=images SEEDS="1 4" bash ...
#   ARM=ft128 KINDS=plain SEEDS="2 3" bash ...; ARM=ft128 KINDS=images SEEDS="0 1 4" bash ...
# Paired with the default's records of the same seeds, one thread each, same machine:
#   python benchmarks/paired.py OUT docs/results/fast_default.jsonl --a ARM \
#       --b fast-adam3k5e4-csr                                          # images
#   python benchmarks/paired.py OUT docs/results/clustering_mask_xeon.jsonl --a ARM \
#       --b none@2520 --a-plain --b-plain                               # plain arrays
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DEC_NP_DATA:-../shared/data}
OUT=${OUT:-docs/results/short_pretrain_xeon.jsonl}
case ${ARM:-lw3k-ft128} in
  lw3k-ft128) SET=(layerwise.iterations=3000 finetune.batch_size=128) ;;
  lw3k) SET=(layerwise.iterations=3000) ;;
  ft128) SET=(finetune.batch_size=128) ;;
  *) echo "ARM must be lw3k-ft128, lw3k or ft128" >&2; exit 2 ;;
esac
for ds in ${DATASETS:-mnist-test}; do
  for kind in ${KINDS:-images plain}; do
    PLAIN=()
    if [ "$kind" = plain ]; then PLAIN=(--plain); fi
    python benchmarks/recipes.py run --recipe dae-adam-short-shift --tag "${ARM:-lw3k-ft128}" \
        --set "${SET[@]}" --data-dir "$DATA" --out "$OUT" --n-jobs 1 --datasets "$ds" \
        --seeds ${SEEDS:-0 1 2 3 4} ${PLAIN[@]+"${PLAIN[@]}"}
  done
done
