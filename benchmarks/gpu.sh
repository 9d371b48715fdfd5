#!/usr/bin/env bash
# The GPU evidence of issue 14, in one call of at most 8 minutes on a machine with an NVIDIA
# GPU whose Python already has CuPy (and PyTorch and JAX for the comparison): only
# manualnn's tree travels, nothing is installed.  From the repository root:
#
#     bash benchmarks/gpu.sh            # PYTHON=... to choose the interpreter
#
# 1. the GPU tests (the CuPy backend's kernels, every backend's gradients, training equal
#    to NumPy's, --device cuda end to end), where pytest is there;
# 2. the default recipe (manualnn train --device cuda, 30 epochs) on Fashion-MNIST, with
#    the test accuracy and the seconds.  The dataset does not travel with the tree: where
#    /usr/share/datasets/fashion-mnist is missing, data of Fashion-MNIST's shape (60000 +
#    10000 rows of 784 pixels 0..255, 10 classes) is generated there and the run says so;
#    its accuracy then measures nothing but that the run works;
# 3. benchmarks/bench_gpu.py: one epoch of configurations a, c and the large one for
#    manualnn (CuPy), PyTorch eager CUDA, JAX jit and the matmul bound, as a table.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" MANUALNN_KERNELS=numpy SCIPY_ARRAY_API=1
OUT=${OUT:-/tmp}/manualnn-gpu
mkdir -p "$OUT"
step() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" - <<'EOF'
import importlib
for name in ["numpy", "cupy", "torch", "jax", "safetensors", "tqdm", "threadpoolctl",
             "array_api_compat", "array_api_strict", "pytest", "hypothesis", "autograd",
             "sklearn", "scipy"]:
    try:
        m = importlib.import_module(name)
        print(f"{name:18} {getattr(m, '__version__', '?')}")
    except Exception as exc:  # noqa: BLE001
        print(f"{name:18} missing ({type(exc).__name__})")
import cupy
print("cupy.is_available():", cupy.is_available())
EOF

step "1. GPU tests"
if "$PY" -c "import pytest" 2>/dev/null; then
  TESTS="tests/backend/test_cupy.py tests/backend/test_backends.py tests/cli/test_device.py"
  "$PY" -c "import hypothesis, autograd" 2>/dev/null && TESTS="$TESTS tests/core/test_gradients_backends.py"
  "$PY" -c "import sklearn, array_api_compat" 2>/dev/null && TESTS="$TESTS tests/sklearn/test_array_api.py"
  timeout 120 "$PY" -m pytest -q -p no:cacheprovider -rs $TESTS 2>&1 | tail -25
else
  echo "pytest is not installed on this machine: no tests run"
fi

step "2. the default recipe with --device cuda"
DATA=()
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  "$PY" - "$OUT/fashion-shape.npz" <<'EOF'
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
print("Fashion-MNIST is not on this machine: generated data of its shape,", sys.argv[1])
EOF
  DATA=(--dataset "$OUT/fashion-shape.npz")
else
  echo "data: Fashion-MNIST from /usr/share/datasets/fashion-mnist"
fi
rm -rf "$OUT/run"
start=$(date +%s%N)
timeout 180 "$PY" -m manualnn train --device cuda --quiet "${DATA[@]}" --out "$OUT/run"
echo "seconds (data, 30 epochs, files): $(( ($(date +%s%N) - start) / 1000000 / 1000 ))"
timeout 30 "$PY" -m manualnn evaluate "$OUT/run" --device cpu | head -2   # the GPU's model on the CPU

step "3. one epoch: manualnn (CuPy), PyTorch eager CUDA, JAX jit, the matmul bound"
timeout 150 "$PY" benchmarks/bench_gpu.py --repeats 3
