#!/usr/bin/env bash
# GPU check for a lent machine (CuPy, NumPy, SciPy preinstalled; no network, nothing is installed).
# Runs the numeric tests on CuPy, then a short benchmark and, when $DEC_NP_DATA holds MNIST,
# the whole 70k pipeline with default settings; about 8 minutes.  Logs go to $OUT
# when set (the device tool), else to ./gpu_check_logs.
#   bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
LOG="${OUT:-gpu_check_logs}"
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
status=0

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $PY -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__, 'gpus', cupy.cuda.runtime.getDeviceCount())"
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tail -1
} 2>&1 | tee "$LOG/env.txt"

if $PY -c "import pytest" 2>/dev/null; then
  DEC_NP_BACKEND=cupy timeout 200 $PY -m pytest -q -x -p no:cacheprovider \
    tests/test_layers.py tests/test_losses_optim.py tests/test_dec_math.py \
    tests/test_autoencoder.py tests/test_kmeans.py tests/test_metrics.py \
    tests/test_backend_parity.py tests/test_strict_backend.py 2>&1 | tee "$LOG/pytest.txt"
  status=${PIPESTATUS[0]}
else
  echo "pytest is not installed here: the tests were NOT run (nothing can be installed offline)" \
    | tee "$LOG/pytest.txt"
  status=1
fi

timeout 150 $PY benchmarks/bench.py --backend cupy,torch-cuda --n 70000 --repeat 2 \
  --json "$LOG/bench.json" 2>&1 | tee "$LOG/bench.txt" || status=1
timeout 120 $PY benchmarks/bench.py --scaling --backend cupy,torch-cuda \
  --json "$LOG/scaling.json" 2>&1 | tee "$LOG/scaling.txt" || status=1
# The whole MNIST-70k pipeline with default settings (pretraining + k-means + DEC) on CuPy,
# only when the data is reachable: carry a copy and set DEC_NP_DATA (no download offline).
if [ -n "${DEC_NP_DATA:-}" ] && [ -d "$DEC_NP_DATA/mnist" ]; then
  /usr/bin/time -v timeout 240 $PY -m dec_np fit --dataset mnist --backend cupy --seed 0 \
    --no-figures --out "$LOG/fit70k" > "$LOG/pipeline70k.txt" 2>&1 || status=1
  tail -30 "$LOG/pipeline70k.txt"
else
  echo "DEC_NP_DATA/mnist not found: the 70k pipeline timing was skipped" | tee "$LOG/pipeline70k.txt"
fi
echo "gpu_check exit status $status" | tee -a "$LOG/env.txt"
exit $status
