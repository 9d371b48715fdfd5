#!/usr/bin/env bash
# The GPU evidence of issues 14 and 26, in one call of at most 6 minutes (a deadline of
# 340 s shared by the steps, each also capped by its own timeout) on a machine with an
# NVIDIA GPU whose Python already has CuPy (and PyTorch and JAX for the comparison): only
# manualnn's tree travels, nothing is installed, nothing is downloaded.
#
# The data travels in the git-ignored folder .gpu-data/ (Fashion-MNIST's four .gz files,
# 30 MB, read through $MANUALNN_DATA), made here first:
#
#     mkdir -p .gpu-data/fashion-mnist
#     cp /usr/share/datasets/fashion-mnist/*.gz .gpu-data/fashion-mnist/
#
# then, from the repository root on the GPU machine (the device tool: command
# "bash benchmarks/gpu.sh", carry [".gpu-data"], timeout_s 420, which leaves a minute):
#
#     bash benchmarks/gpu.sh            # PYTHON=... the interpreter; OUT=... where to write
#     DEVICE=cpu EPOCHS=1 ROWS=3000 bash benchmarks/gpu.sh   # a dry run without a GPU
#
# 1. the GPU tests (the CuPy backend's kernels, every backend's contracts, training equal
#    to NumPy's, --device cuda end to end), where pytest is there;
# 2. the default recipe (manualnn train --device cuda, 30 epochs) on Fashion-MNIST, with
#    the test accuracy and the seconds, and the GPU's model evaluated on the CPU.  Without
#    .gpu-data/ or /usr/share/datasets/fashion-mnist, data of Fashion-MNIST's shape is
#    generated there and the run says so: its accuracy then measures nothing;
# 3. benchmarks/bench_gpu.py: one epoch of configurations a, c and the large one for
#    manualnn (CuPy), PyTorch eager CUDA, JAX jit and the matmul bound, as a table;
# 4. the default recipe on the CPU (this machine's cores), for the seconds, if time is left.
#
# CuPy compiles each kernel once (NVRTC) into CUPY_CACHE_DIR, here one folder for all the
# steps (the tests' compilations serve the training); a cold cache costs tens of seconds.
# Everything printed is also in $OUT/manualnn-gpu/log.txt, beside the two runs' folders
# (their checkpoints removed at the end: the models stay).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda} EPOCHS=${EPOCHS:-30} ROWS=${ROWS:-60000}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" MANUALNN_KERNELS=numpy SCIPY_ARRAY_API=1
export PYTHONUNBUFFERED=1   # a step stopped by its timeout still shows what it printed
export CUPY_CACHE_DIR=${CUPY_CACHE_DIR:-${TMPDIR:-/tmp}/manualnn-cupy-cache}
OUT=${OUT:-/tmp}/manualnn-gpu
mkdir -p "$OUT" "$CUPY_CACHE_DIR"
exec > >(tee "$OUT/log.txt") 2>&1
DEADLINE=$(( $(date +%s) + 340 ))
step() { echo; echo "== $* ($(date -u +%H:%M:%S), $(( DEADLINE - $(date +%s) )) s left)"; }
# seconds STATUS: the training's seconds since $start, or how it ended (124: its timeout)
seconds() {
  local s=$(( ($(date +%s%N) - start) / 1000000000 ))
  (( $1 == 0 )) && echo "seconds (data, $EPOCHS epochs, files): $s" \
    || echo "the training ended with status $1 after $s s (124: stopped by its timeout)"
}
# capped CAP COMMAND...: the command under a timeout of CAP seconds or of what is left
# before the deadline, whichever is less; skipped when under 10 s are left
capped() {
  local cap=$1 left=$(( DEADLINE - $(date +%s) ))
  shift
  (( left < 10 )) && { echo "skipped: the deadline is reached"; return 124; }
  timeout $(( left < cap ? left : cap )) "$@"
}

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 60 "$PY" - <<'EOF'
import importlib
for name in ["numpy", "cupy", "torch", "jax", "safetensors", "tqdm", "threadpoolctl",
             "array_api_compat", "array_api_strict", "pytest", "hypothesis", "autograd",
             "sklearn", "scipy", "numba", "mpi4py"]:
    try:
        m = importlib.import_module(name)
        print(f"{name:18} {getattr(m, '__version__', '?')}")
    except Exception as exc:  # noqa: BLE001
        print(f"{name:18} missing ({type(exc).__name__})")
try:
    import cupy
    print("cupy.is_available():", cupy.is_available())
except ImportError:
    print("cupy.is_available(): no CuPy")
EOF

DATA=()
if [ -f .gpu-data/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  export MANUALNN_DATA="$PWD/.gpu-data"
  echo "data: Fashion-MNIST from .gpu-data/fashion-mnist"
elif [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "data: Fashion-MNIST from /usr/share/datasets/fashion-mnist"
else
  timeout 60 "$PY" - "$OUT/fashion-shape.npz" <<'EOF'
import sys
import numpy as np
rng = np.random.default_rng(0)
protos = rng.uniform(0, 255, (10, 784))
def split(n):
    y = rng.integers(0, 10, n)
    X = np.clip(protos[y] * 0.5 + rng.uniform(0, 127, (n, 784)), 0, 255).astype(np.uint8)
    return X, y
X, y = split(60000)
Xt, yt = split(10000)
np.savez(sys.argv[1], X=X, y=y, X_test=Xt, y_test=yt)
print("data: NOT Fashion-MNIST (no .gpu-data/): generated data of its shape,", sys.argv[1])
EOF
  DATA=(--dataset "$OUT/fashion-shape.npz")
fi

step "1. GPU tests"
if "$PY" -c "import pytest" 2>/dev/null; then
  TESTS="tests/backend/test_cupy.py tests/backend/test_backends.py tests/cli/test_device.py"
  "$PY" -c "import hypothesis, autograd" 2>/dev/null && TESTS="$TESTS tests/core/test_gradients_backends.py"
  "$PY" -c "import sklearn, array_api_compat" 2>/dev/null && TESTS="$TESTS tests/sklearn/test_array_api.py"
  capped 120 "$PY" -m pytest -p no:cacheprovider --tb=short -rfEs $TESTS > "$OUT/tests.txt" 2>&1
  tail -40 "$OUT/tests.txt"   # the whole of it, tracebacks too, in tests.txt
else
  echo "pytest is not installed on this machine: no tests run"
fi

step "2. the default recipe with --device $DEVICE"
rm -rf "$OUT/run"
start=$(date +%s%N)
capped 120 "$PY" -m manualnn train --device "$DEVICE" --epochs "$EPOCHS" --quiet \
  "${DATA[@]}" --out "$OUT/run"
seconds "$?"
echo "the $DEVICE model evaluated on the CPU:"
capped 40 "$PY" -m manualnn evaluate "$OUT/run" --device cpu | head -2

step "3. one epoch: manualnn (CuPy), PyTorch eager CUDA, JAX jit, the matmul bound"
capped 120 "$PY" benchmarks/bench_gpu.py --repeats 3 --rows "$ROWS"

step "4. the default recipe on the CPU, for the seconds"
rm -rf "$OUT/run-cpu"
start=$(date +%s%N)
capped 90 env -u MANUALNN_KERNELS "$PY" -m manualnn train --device cpu \
  --epochs "$EPOCHS" --quiet "${DATA[@]}" --out "$OUT/run-cpu"
seconds "$?"
rm -f "$OUT"/run*/checkpoint.safetensors   # what comes back: the models, the log
step "done"
