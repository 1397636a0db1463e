#!/usr/bin/env bash
# Create or complete the virtual environment at .venv (idempotent).
#
# Installs the real OpenMMLab stack: torch (the default PyPI wheel, or the
# build of the index TORCH_INDEX_URL points at, e.g. a CUDA one), mmengine,
# mmcv 2.1.0 with compiled ops (built from source when no prebuilt wheel is
# found; about 20 minutes on 2 cores, cached by pip afterwards),
# mmsegmentation 1.2.2 and this package in editable mode.
#
# Rerunning it is cheap and safe:
# * with TORCH_INDEX_URL, a torch of another build (e.g. +cpu where the index
#   is .../cu126) is replaced, and mmcv is then rebuilt against the new torch;
# * mmcv is rebuilt whenever the torch it was built against changed
#   ($VENV/.mmcv-built-against records it); against a CUDA torch the build
#   sets FORCE_CUDA=1 (nvcc must match torch's CUDA version) and uses
#   neither pip's cache nor the wheelhouse, which may hold CPU builds.
# Prebuilt wheels: WHEELHOUSE (default: a `shared/wheels` folder beside the
# checkout, ../shared/wheels) is searched when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
WHEELHOUSE=${WHEELHOUSE:-../shared/wheels}
MMCV_STAMP="$VENV/.mmcv-built-against"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip)
FIND_LINKS=()
if [ -d "$WHEELHOUSE" ]; then
  FIND_LINKS=(--find-links "$WHEELHOUSE")
  echo "[setup] using wheelhouse $WHEELHOUSE"
fi

torch_build() {  # e.g. 2.13.0+cu126 cuda=12.6, or nothing without torch
  "$PY" -c "import torch; print(torch.__version__, 'cuda=' + str(torch.version.cuda))" 2>/dev/null || true
}

"${PIP[@]}" install -q --upgrade pip wheel
have=$(torch_build)
built_against=$(cat "$MMCV_STAMP" 2>/dev/null || true)
if [ -n "$have" ] && [ -z "$built_against" ] && "$PY" -c "import mmcv.ops" 2>/dev/null; then
  # Working ops from an earlier setup (made before this record existed).
  built_against=$have
  echo "$have" > "$MMCV_STAMP"
fi
want_tag=""
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  # The index's last path part is the build tag of its wheels (cu126, cpu).
  want_tag=$(basename "${TORCH_INDEX_URL%/}")
fi
reinstall_torch=0
if [ -z "$have" ]; then
  reinstall_torch=1
elif [ -n "$want_tag" ] && [[ "${have%% *}" != *"+$want_tag" ]]; then
  echo "[setup] torch ${have%% *} is not the $want_tag build of $TORCH_INDEX_URL: replacing it"
  reinstall_torch=1
fi
if [ "$reinstall_torch" = 1 ]; then
  echo "[setup] installing torch==$TORCH_VERSION"
  if [ -n "$want_tag" ]; then
    "${PIP[@]}" install -q --force-reinstall "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" install -q "torch==$TORCH_VERSION"
  fi
  have=$(torch_build)
fi

if ! "$PY" -c "import mmcv.ops" 2>/dev/null || [ "$built_against" != "$have" ]; then
  echo "[setup] installing mmcv 2.1.0 with ops against torch $have (a source build takes ~20 min on 2 cores)"
  # mmcv 2.1.0's setup.py imports pkg_resources, which setuptools>=70 dropped;
  # torch pulls a newer setuptools, so pin it right before the build.
  "${PIP[@]}" install -q "setuptools<70"
  MMCV_ARGS=(--no-build-isolation)
  if [ -n "$built_against" ] || "$PY" -c "import mmcv" 2>/dev/null; then
    # Built against another torch: rebuild, not pip's cached wheel.
    MMCV_ARGS+=(--force-reinstall --no-deps --no-cache-dir)
  fi
  if [[ "$have" != *"cuda=None"* ]]; then
    if [ -z "${FORCE_CUDA:-}" ] && ! command -v nvcc >/dev/null 2>&1 \
        && [ ! -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then
      echo "[setup] warning: torch is a CUDA build but no nvcc was found (PATH, CUDA_HOME):" \
           "mmcv's ops are built for the CPU only; install the CUDA toolkit of torch's CUDA version and rerun"
      FORCE_CUDA=0
    fi
    export FORCE_CUDA=${FORCE_CUDA:-1}
    # Prebuilt wheels in the wheelhouse or pip's cache may be CPU builds.
    MMCV_ARGS+=(--no-cache-dir --no-binary mmcv)
    echo "[setup] FORCE_CUDA=$FORCE_CUDA"
  else
    MMCV_ARGS+=("${FIND_LINKS[@]}")
  fi
  MMCV_WITH_OPS=1 "${PIP[@]}" install -q "${MMCV_ARGS[@]}" mmcv==2.1.0
  echo "$have" > "$MMCV_STAMP"
fi
"${PIP[@]}" install -q "${FIND_LINKS[@]}" -r requirements/mminstall.txt \
  -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$PY" -c "import mmcv.ops, mmseg, mmseg_fdacl, torch; print('[setup] ok: torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmseg', mmseg.__version__)"
