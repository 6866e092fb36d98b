#!/usr/bin/env bash
# GPU check for a lent machine (CuPy, NumPy, SciPy, pytest and PyTorch preinstalled; no network,
# nothing is installed).  In order, each step under its own time limit (about 7.5 minutes in all):
#   1. the numeric test files on CuPy (tests/test_backend_parity.py: CuPy against NumPy);
#   2. when $DEC_NP_DATA holds MNIST, the whole 70k pipeline with default settings
#      (`dec-np fit --dataset mnist --backend cupy`), its metrics.json kept;
#   3. bench.py: one epoch of each stage, dec_np on CuPy beside PyTorch-CUDA, same network;
#   4. bench.py --scaling: one DEC epoch for N up to 1,000,000, with memory.
# At most eight files land in $OUT when set (the device tool brings back no more), else in
# ./gpu_check_logs.  STEPS picks and orders the steps, SEEDS the pipeline's seeds (a
# metrics file each), TESTS the test files, LIMIT_TESTS, LIMIT_FIT (per seed), LIMIT_BENCH
# and LIMIT_SCALING the seconds each may take:
#   DEC_NP_DATA=/path/to/data bash benchmarks/gpu_check.sh
#   STEPS="3 1 2" SEEDS="1 2" TESTS="tests/test_augment.py" bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
LOG="${OUT:-gpu_check_logs}"
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
status=0
SEEDS="${SEEDS:-0}"
# seconds each step may take (one pipeline fit for step 2)
LIMIT_TESTS="${LIMIT_TESTS:-120}" LIMIT_FIT="${LIMIT_FIT:-210}"
LIMIT_BENCH="${LIMIT_BENCH:-90}" LIMIT_SCALING="${LIMIT_SCALING:-90}"
TESTS="${TESTS:-tests/test_layers.py tests/test_losses_optim.py tests/test_dec_math.py
  tests/test_autoencoder.py tests/test_kmeans.py tests/test_metrics.py
  tests/test_backend_parity.py tests/test_strict_backend.py tests/test_augment.py}"
stamp() { echo "== $(date -u +%FT%TZ) $*" | tee -a "$LOG/log.txt"; }

stamp "environment"
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
  $PY -c "import sys, numpy, scipy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'scipy', scipy.__version__, 'cupy', cupy.__version__, 'gpus', cupy.cuda.runtime.getDeviceCount())"
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tail -1
  git log -1 --format='commit %H %cd' 2>/dev/null; nproc
} 2>&1 | tee -a "$LOG/log.txt"

step1() {
stamp "1. CuPy test files"
if $PY -c "import pytest" 2>/dev/null; then
  # shellcheck disable=SC2086
  DEC_NP_BACKEND=cupy timeout "$LIMIT_TESTS" $PY -m pytest -q -p no:cacheprovider --tb=short -rfE \
    $TESTS > "$LOG/pytest.txt" 2>&1
  rc=$?; [ $rc -ne 0 ] && status=1
  tail -25 "$LOG/pytest.txt" | tee -a "$LOG/log.txt"; echo "pytest exit $rc" | tee -a "$LOG/log.txt"
else
  echo "pytest is not installed here: the tests were NOT run" | tee -a "$LOG/log.txt"; status=1
fi
}

step2() {
if [ -n "${DEC_NP_DATA:-}" ] && [ -d "$DEC_NP_DATA/mnist" ]; then
  for seed in $SEEDS; do
    stamp "2. MNIST-70k, default pipeline on CuPy, seed $seed"
    t0=$(date +%s.%N)
    timeout "$LIMIT_FIT" $PY -m dec_np fit --dataset mnist --backend cupy --seed "$seed" --no-figures \
      --out "/tmp/fit70k_$seed" > "/tmp/pipeline70k_$seed.txt" 2>&1
    rc=$?; [ $rc -ne 0 ] && status=1
    t1=$(date +%s.%N)
    cp "/tmp/fit70k_$seed/metrics.json" "$LOG/pipeline70k_seed${seed}_metrics.json" 2>/dev/null
    tail -4 "/tmp/pipeline70k_$seed.txt" | tee -a "$LOG/log.txt"
    echo "pipeline seed $seed exit $rc, wall $($PY -c "print(round($t1 - $t0, 1))") s" \
      | tee -a "$LOG/log.txt"
  done
else
  echo "DEC_NP_DATA/mnist not found: the 70k pipeline was skipped" | tee -a "$LOG/log.txt"
fi
}

step3() {
stamp "3. one epoch per stage, dec_np CuPy beside PyTorch-CUDA, N=70000"
timeout "$LIMIT_BENCH" $PY benchmarks/bench.py --backend cupy,torch-cuda --n 70000 --repeat 2 \
  --json "$LOG/bench.json" 2>&1 | tee -a "$LOG/log.txt"
[ ${PIPESTATUS[0]} -ne 0 ] && status=1
}

step4() {
stamp "4. DEC epoch against N"
timeout "$LIMIT_SCALING" $PY benchmarks/bench.py --scaling --backend cupy,torch-cuda \
  --json "$LOG/scaling.json" 2>&1 | tee -a "$LOG/log.txt"
[ ${PIPESTATUS[0]} -ne 0 ] && status=1
}

for s in ${STEPS:-1 2 3 4}; do "step$s"; done
stamp "gpu_check exit status $status"
exit $status
