#!/usr/bin/env bash
# GPU check for a lent machine (CuPy, NumPy, SciPy, pytest and PyTorch preinstalled; no network,
# nothing is installed).  In order, each step under its own time limit (about 7.5 minutes in all):
#   1. the numeric test files on CuPy (tests/test_backend_parity.py: CuPy against NumPy);
#   2. when $DEC_NP_DATA holds MNIST, the whole 70k pipeline with default settings
#      (`dec-np fit --dataset mnist --backend cupy`), its metrics.json kept;
#   3. bench.py: one epoch of each stage, dec_np on CuPy beside PyTorch-CUDA, same network;
#   4. bench.py --scaling: one DEC epoch for N up to 1,000,000, with memory.
# At most eight files land in $OUT when set (the device tool brings back no more), else in
# ./gpu_check_logs.
#   DEC_NP_DATA=/path/to/data bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
LOG="${OUT:-gpu_check_logs}"
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
status=0
stamp() { echo "== $(date -u +%FT%TZ) $*" | tee -a "$LOG/log.txt"; }

stamp "environment"
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
  $PY -c "import sys, numpy, scipy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'scipy', scipy.__version__, 'cupy', cupy.__version__, 'gpus', cupy.cuda.runtime.getDeviceCount())"
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tail -1
  git log -1 --format='commit %H %cd' 2>/dev/null; nproc
} 2>&1 | tee -a "$LOG/log.txt"

stamp "1. CuPy test files"
if $PY -c "import pytest" 2>/dev/null; then
  DEC_NP_BACKEND=cupy timeout 120 $PY -m pytest -q -p no:cacheprovider --tb=short -rfE \
    tests/test_layers.py tests/test_losses_optim.py tests/test_dec_math.py \
    tests/test_autoencoder.py tests/test_kmeans.py tests/test_metrics.py \
    tests/test_backend_parity.py tests/test_strict_backend.py tests/test_augment.py \
    > "$LOG/pytest.txt" 2>&1
  rc=$?; [ $rc -ne 0 ] && status=1
  tail -25 "$LOG/pytest.txt" | tee -a "$LOG/log.txt"; echo "pytest exit $rc" | tee -a "$LOG/log.txt"
else
  echo "pytest is not installed here: the tests were NOT run" | tee -a "$LOG/log.txt"; status=1
fi

stamp "2. MNIST-70k, default pipeline on CuPy"
if [ -n "${DEC_NP_DATA:-}" ] && [ -d "$DEC_NP_DATA/mnist" ]; then
  t0=$(date +%s.%N)
  timeout 210 $PY -m dec_np fit --dataset mnist --backend cupy --seed 0 --no-figures \
    --out /tmp/fit70k > "$LOG/pipeline70k.txt" 2>&1
  rc=$?; [ $rc -ne 0 ] && status=1
  t1=$(date +%s.%N)
  cp /tmp/fit70k/metrics.json "$LOG/pipeline70k_metrics.json" 2>/dev/null
  tail -15 "$LOG/pipeline70k.txt" | tee -a "$LOG/log.txt"
  echo "pipeline exit $rc, wall $(echo "$t1 - $t0" | bc 2>/dev/null || $PY -c "print($t1 - $t0)") s" \
    | tee -a "$LOG/log.txt"
else
  echo "DEC_NP_DATA/mnist not found: the 70k pipeline was skipped" | tee -a "$LOG/log.txt"
fi

stamp "3. one epoch per stage, dec_np CuPy beside PyTorch-CUDA, N=70000"
timeout 90 $PY benchmarks/bench.py --backend cupy,torch-cuda --n 70000 --repeat 2 \
  --json "$LOG/bench.json" 2>&1 | tee -a "$LOG/log.txt"
[ ${PIPESTATUS[0]} -ne 0 ] && status=1

stamp "4. DEC epoch against N"
timeout 90 $PY benchmarks/bench.py --scaling --backend cupy,torch-cuda \
  --json "$LOG/scaling.json" 2>&1 | tee -a "$LOG/log.txt"
[ ${PIPESTATUS[0]} -ne 0 ] && status=1

stamp "gpu_check exit status $status"
exit $status
