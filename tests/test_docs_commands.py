"""Every command block of README.md and docs/*.md runs as written.

For each markdown page, every fenced ``bash``/``sh``/``shell``/``console``
block is run with ``bash -e -o pipefail`` in a scratch copy of the
repository (configs/, tools/, Makefile, setup files; the package itself is
imported from the checkout) that holds generated data in the real folder
layouts: the demo's own data set in ``data/synthetic`` (as
configs/fdacl/demo/pipeline.py makes it, generated once per session), and a
small one in ``data/gta5`` and ``data/cityscapes`` (copies in
``../datasets``). The blocks of one page run in their order in one scratch
root, so a block may use what an earlier one made; a ``python`` block whose
first line is ``# NAME.py ...`` is written to ``NAME.py`` there first (the
spec files the pages tell the reader to write).

Nothing in a command is edited. What keeps a block cheap is the tiny form of
every config it loads (``tests/docs_commands/tiny.py``: a 4-channel
ResNet-18, 32x64 inputs, 2 iterations, small data sets), applied by
``tests/docs_commands/sitecustomize.py`` in the processes the block starts.

A block whose opening fence follows the line
``<!-- docs-test: skip (download) -->`` or ``<!-- docs-test: skip (gpu) -->``
is not run (tests/test_docs.py still checks the files it names and that its
tools answer ``--help``). Blocks are ``slow`` (``make test-all`` only) unless
every command of the block and of the page's earlier blocks is one of the
cheap ones in :data:`FAST`.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from typing import Dict, List, NamedTuple, Optional

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VENV_PY = osp.join(ROOT, '.venv', 'bin', 'python')
PY = VENV_PY if os.access(VENV_PY, os.X_OK) else sys.executable
SHELL_LANGS = {'bash', 'sh', 'shell', 'console'}
FENCE_RE = re.compile(r'^([ \t]*)```([\w+-]*)[ \t]*\n(.*?)^\1```[ \t]*$',
                      re.M | re.S)
MARKER_RE = re.compile(r'^<!-- docs-test: skip \((download|gpu)\) -->$')
ANY_MARKER_RE = re.compile(r'<!--\s*docs-test')
FILE_BLOCK_RE = re.compile(r'^# ([\w.-]+\.py)\b')
# Commands cheap enough for the default suite (a few seconds each).
FAST = (
    re.compile(r'^python tools/dataset_converters/gta5\.py '),
    re.compile(r'^python tools/compute_class_weights\.py '),
    re.compile(r'^python tools/run_pipeline\.py .*--status\b'),
    re.compile(r'^python tools/visualization/fda_figure\.py --demo-root '),
)
COPIED = ('configs', 'tools', 'requirements', 'Makefile', 'setup.py',
          'setup.cfg', 'requirements.txt')
TIMEOUT = 3600


class Block(NamedTuple):
    page: str
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    marker: Optional[str]  # 'download', 'gpu' or None


def markdown_files() -> List[str]:
    docs = sorted(
        osp.join('docs', f) for f in os.listdir(osp.join(ROOT, 'docs'))
        if f.endswith('.md'))
    return ['README.md'] + docs


def page_blocks(rel: str) -> List[Block]:
    """Every fenced block of a page, with the marker on the line before."""
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        text = f.read()
    out = []
    for m in FENCE_RE.finditer(text):
        indent = m.group(1)
        body = '\n'.join(
            ln[len(indent):] if ln.startswith(indent) else ln
            for ln in m.group(3).split('\n'))
        before = text[:m.start()].rstrip('\n').rsplit('\n', 1)[-1].strip()
        marker = MARKER_RE.match(before)
        out.append(Block(rel, text.count('\n', 0, m.start()) + 1,
                         m.group(2).lower(), body,
                         marker.group(1) if marker else None))
    return out


def commands(body: str) -> List[str]:
    """The command lines of a block (continuations joined, comments off)."""
    text = re.sub(r'\\\n\s*', ' ', body)
    out = []
    for line in text.split('\n'):
        line = line.split(' #', 1)[0].strip()
        if line and not line.startswith('#'):
            out.append(line)
    return out


def is_fast(block: Block) -> bool:
    lines = commands(block.body)
    env = re.compile(r'^(?:[A-Za-z_]\w*=\S*\s+)*')
    return bool(lines) and all(
        any(p.match(env.sub('', ln)) for p in FAST) for ln in lines)


def run_blocks() -> List[Block]:
    return [b for rel in markdown_files() for b in page_blocks(rel)
            if b.lang in SHELL_LANGS and b.marker is None]


def _params():
    params = []
    slow_page = set()
    for block in run_blocks():
        fast = is_fast(block) and block.page not in slow_page
        if not fast:
            slow_page.add(block.page)
        marks = [] if fast else [pytest.mark.slow]
        params.append(pytest.param(block, marks=marks,
                                   id=f'{block.page}:{block.line}'))
    return params


# ------------------------------------------------------------ scratch roots

def _write_venv(root: str) -> None:
    """A .venv whose python is the test interpreter, and `make`'s setup
    stamp newer than its inputs, so `make demo` runs no setup."""
    bin_dir = osp.join(root, '.venv', 'bin')
    os.makedirs(bin_dir)
    wrapper = osp.join(bin_dir, 'python')
    with open(wrapper, 'w') as f:
        f.write(f'#!/usr/bin/env bash\nexec {PY} "$@"\n')
    os.chmod(wrapper, 0o755)
    with open(osp.join(root, '.venv', '.mmseg_fdacl-setup'), 'w'):
        pass


_DEMO_DATA: Dict[str, str] = {}


def _demo_data(cache_dir: str) -> str:
    """The demo's own data set (the arguments of configs/fdacl/demo/
    pipeline.py, so `make demo` finds it done and a page's by-hand
    `tools/make_synthetic_uda.py` with those arguments writes the same
    files), generated once per test session."""
    if 'path' not in _DEMO_DATA:
        from mmengine.config import Config

        from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
        from mmseg_fdacl.demo.synthetic import generate_uda_data
        spec = Config.fromfile(
            osp.join(ROOT, 'configs', 'fdacl', 'demo', 'pipeline.py'))
        data = dict(spec.data)
        data.pop('out_dir')
        out = osp.join(cache_dir, 'synthetic')
        generate_uda_data(out, **data)
        convert_gta5_labels(osp.join(out, 'gta5'),
                            nproc=int(data.get('nproc', 1)))
        _DEMO_DATA['path'] = out
    return _DEMO_DATA['path']


def _write_data(root: str, cache_dir: str) -> None:
    from mmseg_fdacl.datasets.gta5 import convert_gta5_labels
    from mmseg_fdacl.demo.synthetic import generate_uda_data
    from tests.docs_commands.tiny import TINY_DATA
    shutil.copytree(_demo_data(cache_dir),
                    osp.join(root, 'data', 'synthetic'))
    # The real layouts, from a small set of the same kind: GTA5 as
    # downloaded (label ids only), Cityscapes with its train-id labels.
    small = osp.join(cache_dir, f'small_{len(os.listdir(cache_dir))}')
    generate_uda_data(small, seed=0, **TINY_DATA)
    for name in ('gta5', 'cityscapes'):
        shutil.copytree(osp.join(small, name), osp.join(root, 'data', name))
    convert_gta5_labels(osp.join(root, 'data', 'gta5'))
    elsewhere = osp.join(osp.dirname(root), 'datasets')
    shutil.copytree(osp.join(root, 'data'), elsewhere,
                    ignore=shutil.ignore_patterns('synthetic'))


def make_scratch_root(base: str, cache_dir: str) -> str:
    root = osp.join(base, 'repo')
    os.makedirs(root)
    for name in COPIED:
        src = osp.join(ROOT, name)
        if osp.isdir(src):
            shutil.copytree(src, osp.join(root, name), copy_function=shutil.
                            copy2, ignore=shutil.ignore_patterns(
                                '__pycache__'))
        elif osp.isfile(src):
            shutil.copy2(src, osp.join(root, name))
    _write_venv(root)
    _write_data(root, cache_dir)
    return root


def block_env(root: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop('VIRTUAL_ENV', None)
    env.update(
        PATH=f'{osp.join(root, ".venv", "bin")}:{env.get("PATH", "")}',
        PYTHONPATH=f'{osp.join(ROOT, "tests", "docs_commands")}:{ROOT}',
        DOCS_TEST_ROOT=root,
        OMP_NUM_THREADS=env.get('OMP_NUM_THREADS', '1'),
        MPLBACKEND='Agg')
    return env


class Page:
    """One page's scratch root and how far its blocks have run."""

    def __init__(self, rel: str, base: str, cache_dir: str) -> None:
        self.rel = rel
        self.root = make_scratch_root(base, cache_dir)
        self.blocks = page_blocks(rel)
        self.done = 0  # blocks handled so far (in page order)
        self.failed: Optional[str] = None

    def run_until(self, block: Block) -> subprocess.CompletedProcess:
        index = self.blocks.index(block)
        result = None
        while self.done <= index:
            b = self.blocks[self.done]
            self.done += 1
            if self.failed:
                raise AssertionError(
                    f'{self.rel}: an earlier block failed: {self.failed}')
            file_name = FILE_BLOCK_RE.match(b.body)
            if b.lang == 'python' and file_name:
                with open(osp.join(self.root, file_name.group(1)), 'w') as f:
                    f.write(b.body)
                continue
            if b.lang not in SHELL_LANGS or b.marker is not None:
                continue
            res = subprocess.run(
                ['bash', '-e', '-o', 'pipefail', '-c', b.body],
                cwd=self.root, env=block_env(self.root), text=True,
                capture_output=True, timeout=TIMEOUT)
            if res.returncode != 0:
                self.failed = f'line {b.line}'
            result = res
        return result


_PAGES: Dict[str, Page] = {}
_CACHE: Dict[str, str] = {}


def _cache_dir(tmp_path_factory) -> str:
    if 'dir' not in _CACHE:
        _CACHE['dir'] = str(tmp_path_factory.mktemp('docs_data'))
    return _CACHE['dir']


@pytest.fixture
def page_of(tmp_path_factory):

    def get(rel: str) -> Page:
        if rel not in _PAGES:
            base = str(tmp_path_factory.mktemp('docs_' + re.sub(
                r'\W', '_', rel)))
            _PAGES[rel] = Page(rel, base, _cache_dir(tmp_path_factory))
        return _PAGES[rel]

    return get


# ------------------------------------------------------------------- tests

def test_blocks_are_found_and_marked():
    """The extraction finds the pages' blocks (a broken regex would make
    every run test vanish), and every marker is one of the two kinds, on
    the line right before an opening fence."""
    blocks = [b for rel in markdown_files() for b in page_blocks(rel)]
    assert any(b.page == 'README.md' and 'run_pipeline.py' in b.body
               and b.marker is None for b in blocks)
    assert {b.marker for b in blocks} >= {None, 'download', 'gpu'}
    for rel in markdown_files():
        with open(osp.join(ROOT, rel), encoding='utf-8') as f:
            lines = f.read().split('\n')
        for i, line in enumerate(lines):
            if ANY_MARKER_RE.search(line):
                assert MARKER_RE.match(line.strip()), (
                    f'{rel}:{i + 1}: a docs-test marker is '
                    '`<!-- docs-test: skip (download) -->` or '
                    f'`<!-- docs-test: skip (gpu) -->`, got {line!r}')
                nxt = lines[i + 1] if i + 1 < len(lines) else ''
                assert nxt.lstrip().startswith('```'), (
                    f'{rel}:{i + 1}: the marker must be the line right '
                    'before a code fence')


def test_tiny_form_keeps_the_method():
    """The tiny form changes sizes, never the method: the stage-2 config
    keeps its losses, FDA, hook and schedule type."""
    from mmengine.config import Config

    from tests.docs_commands.tiny import ITERS, shrink
    path = osp.join(ROOT, 'configs', 'fdacl', 'deeplabv2_gta2cs_stage2.py')
    full = Config.fromfile(path)
    tiny = Config.fromfile(path)
    shrink(tiny._cfg_dict, ROOT)
    assert tiny.train_cfg.max_iters == ITERS
    assert tiny.model.backbone.depth == 18
    for key in ('type', 'lambda_cl', 'lambda_ent', 'entropy_loss',
                'entropy_resolution', 'embedding_resolution'):
        assert tiny.model[key] == full.model[key], key
    assert tiny.model.data_preprocessor.fda == full.model.data_preprocessor.fda
    assert tiny.custom_hooks == full.custom_hooks
    assert tiny.model.decode_head.loss_decode == \
        full.model.decode_head.loss_decode


def test_commands_get_the_tiny_configs(tmp_path):
    """In a block's environment, a config of the scratch root loads tiny
    (and one elsewhere as it is)."""
    root = str(tmp_path / 'repo')
    shutil.copytree(osp.join(ROOT, 'configs'), osp.join(root, 'configs'))
    code = ('from mmengine.config import Config; import os; '
            "c = Config.fromfile('configs/fdacl/demo/source-only.py'); "
            "d = Config.fromfile(os.path.join(os.environ['REPO'], "
            "'configs/fdacl/demo/source-only.py')); "
            'print(c.train_cfg.max_iters, d.train_cfg.max_iters, '
            'c.model.backbone.base_channels)')
    env = dict(block_env(root), REPO=ROOT)
    res = subprocess.run([PY, '-c', code], cwd=root, env=env, text=True,
                         capture_output=True, timeout=300)
    assert res.returncode == 0 and 'Error in sitecustomize' not in \
        res.stderr, res.stderr
    from tests.docs_commands.tiny import BASE_CHANNELS, ITERS
    assert res.stdout.split() == [str(ITERS), '400', str(BASE_CHANNELS)]


@pytest.mark.parametrize('block', _params())
def test_block_runs(block, page_of):
    page = page_of(block.page)
    res = page.run_until(block)
    assert res is not None
    assert res.returncode == 0, (
        f'{block.page}:{block.line} exited {res.returncode}:\n{block.body}\n'
        f'--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-6000:]}')
    assert 'Error in sitecustomize' not in res.stderr, res.stderr[-4000:]
