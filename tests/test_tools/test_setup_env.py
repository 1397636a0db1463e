"""tools/setup_env.sh's decisions, with stub ``python``/``pip``/``nvcc``:
TORCH_INDEX_URL replaces a torch of another build even in a finished
environment, mmcv is then rebuilt against it with FORCE_CUDA=1 (not from
pip's cache), and a rerun with nothing changed installs neither."""
import os
import os.path as osp
import shutil
import stat
import subprocess

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# A venv python: `-c` answers the script's probes from state files, `-m pip`
# logs its arguments (and FORCE_CUDA) and installs "torch" / "mmcv" there.
STUB_PYTHON = r'''#!/usr/bin/env bash
state="$(dirname "$0")/../state"
if [ "$1" = "-c" ]; then
  case "$2" in
    *"torch.__version__, 'cuda="*) cat "$state/torch" 2>/dev/null || exit 1 ;;
    "import mmcv.ops"|"import mmcv") [ -f "$state/mmcv" ] || exit 1 ;;
    *) echo ok ;;
  esac
  exit 0
fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  shift 2
  echo "pip $* FORCE_CUDA=${FORCE_CUDA:-unset}" >> "$state/log"
  case "$*" in
    *"torch=="*"--index-url "*cu126*) echo "2.13.0+cu126 cuda=12.6" > "$state/torch" ;;
    *"torch=="*) echo "2.13.0+cpu cuda=None" > "$state/torch" ;;
  esac
  case "$*" in *"mmcv=="*) touch "$state/mmcv" ;; esac
fi
'''


def _setup(tmp_path):
    repo = tmp_path / 'repo'
    (repo / 'tools').mkdir(parents=True)
    shutil.copy(osp.join(ROOT, 'tools', 'setup_env.sh'), repo / 'tools')
    venv = repo / '.venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'state').mkdir()
    py = venv / 'bin' / 'python'
    py.write_text(STUB_PYTHON)
    py.chmod(py.stat().st_mode | stat.S_IXUSR)
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    nvcc = bin_dir / 'nvcc'
    nvcc.write_text('#!/usr/bin/env bash\n')
    nvcc.chmod(nvcc.stat().st_mode | stat.S_IXUSR)
    return repo, venv / 'state', bin_dir


def _run(repo, bin_dir, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in ('TORCH_INDEX_URL', 'FORCE_CUDA', 'WHEELHOUSE',
                         'VENV', 'CUDA_HOME')}
    full.update(PATH=f'{bin_dir}:/usr/bin:/bin', CUDA_HOME='/nonexistent',
                WHEELHOUSE='/nonexistent', **env)
    res = subprocess.run(['bash', str(repo / 'tools' / 'setup_env.sh')],
                         env=full, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def _pip_log(state):
    path = state / 'log'
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def test_cuda_index_replaces_a_cpu_torch_and_rebuilds_mmcv(tmp_path):
    repo, state, bin_dir = _setup(tmp_path)
    # A finished CPU environment.
    _run(repo, bin_dir)
    log = _pip_log(state)
    assert any('torch==2.13.0' in ln for ln in log)
    (mmcv, ) = [ln for ln in log if 'mmcv==2.1.0' in ln]
    assert 'FORCE_CUDA=unset' in mmcv
    # Nothing changed: neither torch nor mmcv is installed again.
    _run(repo, bin_dir)
    log = _pip_log(state)
    assert not [ln for ln in log if 'torch==' in ln or 'mmcv==' in ln], log
    # The CUDA index: torch replaced, mmcv rebuilt against it with CUDA ops.
    url = 'https://download.pytorch.org/whl/cu126'
    out = _run(repo, bin_dir, TORCH_INDEX_URL=url)
    assert 'not the cu126 build' in out
    log = _pip_log(state)
    (torch, ) = [ln for ln in log if 'torch==2.13.0' in ln]
    assert f'--index-url {url}' in torch and '--force-reinstall' in torch
    (mmcv, ) = [ln for ln in log if 'mmcv==2.1.0' in ln]
    for piece in ('FORCE_CUDA=1', '--no-cache-dir', '--force-reinstall',
                  '--no-build-isolation'):
        assert piece in mmcv, (piece, mmcv)
    # Again with the same index: nothing to do.
    _run(repo, bin_dir, TORCH_INDEX_URL=url)
    log = _pip_log(state)
    assert not [ln for ln in log if 'torch==' in ln or 'mmcv==' in ln], log


def test_cuda_torch_without_nvcc_warns(tmp_path):
    repo, state, bin_dir = _setup(tmp_path)
    (bin_dir / 'nvcc').unlink()
    out = _run(repo, bin_dir,
               TORCH_INDEX_URL='https://download.pytorch.org/whl/cu126')
    assert 'no nvcc was found' in out
    (mmcv, ) = [ln for ln in _pip_log(state) if 'mmcv==2.1.0' in ln]
    assert 'FORCE_CUDA=0' in mmcv
