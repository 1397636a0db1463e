#!/usr/bin/env bash
# Create or complete the virtual environment at .venv (idempotent).
#
# Installs the real OpenMMLab stack: torch (CPU wheel unless TORCH_INDEX_URL
# points at a CUDA index), mmengine, mmcv 2.1.0 with compiled ops (built from
# source when no prebuilt wheel is found; about 20 minutes on 2 cores, cached
# by pip afterwards), mmsegmentation 1.2.2 and this package in editable mode.
# A wheelhouse at ../shared/wheels (or $WHEELHOUSE) is used when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
WHEELHOUSE=${WHEELHOUSE:-../shared/wheels}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
FIND_LINKS=()
if [ -d "$WHEELHOUSE" ]; then
  FIND_LINKS=(--find-links "$WHEELHOUSE")
  echo "[setup] using wheelhouse $WHEELHOUSE"
fi

"${PIP[@]}" install -q --upgrade pip wheel
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "[setup] installing torch==$TORCH_VERSION"
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${PIP[@]}" install -q "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" install -q "torch==$TORCH_VERSION"
  fi
fi
if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
  echo "[setup] installing mmcv 2.1.0 with ops (a source build takes ~20 min on 2 cores)"
  # mmcv 2.1.0's setup.py imports pkg_resources, which setuptools>=70 dropped;
  # torch pulls a newer setuptools, so pin it right before the build.
  "${PIP[@]}" install -q "setuptools<70"
  MMCV_WITH_OPS=1 "${PIP[@]}" install -q --no-build-isolation "${FIND_LINKS[@]}" mmcv==2.1.0
fi
"${PIP[@]}" install -q "${FIND_LINKS[@]}" -r requirements/mminstall.txt \
  -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import mmcv.ops, mmseg, mmseg_fdacl; print('[setup] ok: mmcv', mmcv.__version__, 'mmseg', mmseg.__version__)"
