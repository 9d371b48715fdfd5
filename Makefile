# manualnn: the two commands are `make demo` and `make test` (`make docs` builds the site).
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
FASHION := /usr/share/datasets/fashion-mnist

.PHONY: demo course test bench venv data browser docs clean

# [fast]: numba, for the compiled loops (Adam, relu layers, the loss) and for calling
# NumPy's own BLAS for gemm/axpy updates; optional (manualnn falls back to NumPy without
# it), installed here for speed.  [report]: Jinja2 and matplotlib, for report.html.
$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[plot,fast,report]'
	touch $@

# PyTorch (CPU build, pinned: an unpinned install pulls a multi-GB CUDA build) only
# enables the optional cross-checks against torch.optim; without it they are skipped.
# The notebook test runs docs/lecture.ipynb in a kernel of this venv: registered here, so
# no kernel of the machine (another Python) is picked up.
$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (manualnn)' >/dev/null
	$(PIP) install torch==2.13.0 || echo "torch==2.13.0 not installed: its cross-checks are skipped"
	touch $@

venv: $(VENV)/.base

# Fashion-MNIST from Debian's package when missing and apt is usable.
data:
	@if [ ! -f $(FASHION)/train-images-idx3-ubyte.gz ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	  else \
	    echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist'" >&2; exit 2; \
	  fi; \
	fi

# Debian's chromium and its driver, for the report's test in a real browser, when apt is
# usable; otherwise that test is skipped, saying why (never a failure of make test).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
	      || echo "chromium not installed: the browser test is skipped" >&2; \
	  else \
	    echo "chromium is missing (sudo apt-get install chromium chromium-driver): the browser test is skipped" >&2; \
	  fi; \
	fi

# The main job: the default recipe on Fashion-MNIST, its evaluation, and its report.
demo: $(VENV)/.base data
	rm -rf runs/demo
	time $(PY) -m manualnn train --out runs/demo --report
	$(PY) -m manualnn evaluate runs/demo --plot
	@echo "report: runs/demo/report.html (open it in a browser)"

# The course's homework-0 models (softmax regression, two-layer network) via simple_ml.
course: $(VENV)/.base data
	$(PY) -m manualnn.cli.demo $(FASHION)

# The epoch benchmark of issue 4: manualnn against its matmul-only bound, PyTorch and
# scikit-learn, on one core (pinned) and on all; torch is pinned here (never a runtime
# dependency) to its CPU build.  More: make bench BENCH_ARGS='--rows 60000'
# Time to accuracy and the scikit-learn comparison run on all cores too.  The scaling rows
# (issue 15): the all-reduce between 2 MPI ranks, and 2 ranks x 1 thread against 1 x 2.
# Tables with no options against scikit-learn's MLP (issue 24; pyarrow, palmerpenguins).
$(VENV)/.bench: $(VENV)/.base
	$(PIP) install -e '.[bench]' 'torch==2.13.0'
	touch $@

bench: $(VENV)/.bench
	-@$(MAKE) --no-print-directory data
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_epoch.py $(BENCH_ARGS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/time_to_accuracy.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_memory.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_sklearn.py --threads 1
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_sklearn.py \
	  --dtypes float64 --out benchmarks/results_sklearn_all_cores.md
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_allreduce.py \
	  --out benchmarks/results_allreduce.md
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_scaling.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_tabular.py

test: $(VENV)/.test browser
	$(PY) -m pytest

# The documentation site (Sphinx + MyST + Furo; docs/conf.py says why): every warning and
# every broken link or reference fails the build (-W, nitpicky -n).  Open
# docs/_build/html/index.html.  make test builds it too (tests/test_docs.py).
$(VENV)/.docs: $(VENV)/.base
	$(PIP) install -e '.[docs]'
	touch $@

docs: $(VENV)/.docs
	rm -rf docs/_build docs/api/generated
	$(PY) -m sphinx -b html -W --keep-going -n -q docs docs/_build/html
	@echo "site: docs/_build/html/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis docs/_build docs/api/generated
