"""The README and the manual in docs/ show commands that run as written.

For README.md and every docs/*.md:

* the shell code blocks and inline command spans (``python ...``,
  ``bash ...``) name only files that exist (configs/, tools/, docs/), parse
  with ``bash -n``, and never call ``.venv/bin/python`` (the README says once
  how to activate the environment);
* every ``tools/*.py`` they run answers ``--help``;
* every ``make`` target they use exists;
* repository paths in inline code anywhere (configs/, tools/, docs/, tests/,
  mmseg_fdacl/) exist, and every relative link (with its ``#anchor``)
  resolves; the README and docs/README.md link every docs page.

The README has at most 260 lines, and the launch scripts (tools/dist_*.sh,
tools/slurm_*.sh) find the repository's ``.venv/bin/python`` by themselves.
Usage synopses are ``text`` blocks: their command lines get the same checks
(files, ``--help``), but tests/test_docs_commands.py does not run them, as it
does not run shell blocks marked as a download or GPU step.

No page speaks of what a user of the repository does not have: the
development's own history ("the deck", "REFERENCE", "the issue asked for",
"the external report", sessions) or machine paths (/work/..., ../shared).

Placeholders (CONFIG, CHECKPOINT, STAGE1.pth, ...) and paths under
work_dirs/, data/ and checkpoints/ are not checked.
"""
import os
import os.path as osp
import re
import shutil
import stat
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VENV_PY = osp.join(ROOT, '.venv', 'bin', 'python')
PY = VENV_PY if os.access(VENV_PY, os.X_OK) else sys.executable
README_MAX_LINES = 260

SHELL_LANGS = {'bash', 'sh', 'shell', 'console'}
SYNOPSIS_LANGS = {'text'}
# Words and paths of the development, not of the repository (case-sensitive
# where the word is a name in capitals).
PRIVATE = (
    re.compile(r'\bthe deck\b|\bdeck\'s\b', re.I),
    re.compile(r'\bREFERENCE\b'),
    re.compile(r'\b(?:the|this|our) issue\b', re.I),
    re.compile(r'\bfrom the [\w -]{1,30} issue\b', re.I),
    re.compile(r'\bexternal report\b', re.I),
    re.compile(r'\bsessions?\b', re.I),
    re.compile(r'/work/|\.\./shared|\bshared/wheels\b'),
)
# Pages another part of the project writes, with the words it still writes
# there; the test below fails once they are gone, so the entry is removed.
PRIVATE_PENDING = {
    # tools/benchmarks/run_all.py writes these captions (docs/benchmarks.md).
    'docs/benchmarks.md': ('From the FDA issue', 'From the loss issue'),
}
FENCE_RE = re.compile(r'^([ \t]*)```([\w+-]*)[ \t]*\n(.*?)^\1```[ \t]*$',
                      re.M | re.S)
# A repository path that a command names: starts a word (not the tail of
# another path such as mmseg's .mim/tools/...), ends in .py/.sh/.md.
PATH_RE = re.compile(
    r'(?<![\w./$-])((?:configs|tools|docs)/[\w./-]*?\.(?:py|sh|md))(?![\w/-])')
TEXT_PATH_RE = re.compile(
    r'(?<![\w./$-])((?:configs|tools|docs|tests|mmseg_fdacl)/[\w./-]*?'
    r'(?:\.(?:py|sh|md|json)|/))(?![\w-])')
TOOL_RE = re.compile(r'(?<![\w./$-])(tools/[\w./-]*?\.py)(?![\w/-])')
INLINE_RE = re.compile(r'(?<!`)`([^`\n]+)`(?!`)')
ENV_PREFIX_RE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*')
COMMAND_WORDS = ('python', 'bash', 'torchrun', 'make', 'pip')
LINK_RE = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)\)')
HEADING_RE = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$', re.M)


def markdown_files():
    docs = sorted(
        osp.join('docs', f) for f in os.listdir(osp.join(ROOT, 'docs'))
        if f.endswith('.md'))
    return ['README.md'] + docs


def read(rel):
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        return f.read()


def code_blocks(text):
    """(language, body) of every fenced block, indented ones included."""
    out = []
    for m in FENCE_RE.finditer(text):
        indent = m.group(1)
        body = '\n'.join(
            line[len(indent):] if line.startswith(indent) else line
            for line in m.group(3).split('\n'))
        out.append((m.group(2).lower(), body))
    return out


def strip_code_blocks(text):
    return FENCE_RE.sub('', text)


def inline_commands(text):
    """Inline code spans that are commands (``python tools/...``, ...)."""
    cmds = []
    for m in INLINE_RE.finditer(strip_code_blocks(text)):
        span = m.group(1).strip()
        word = ENV_PREFIX_RE.sub('', span).split(' ', 1)[0]
        if word in COMMAND_WORDS:
            cmds.append(span)
    return cmds


def shell_commands(rel):
    """The shell text of one markdown file: its shell blocks and inline
    command spans."""
    text = read(rel)
    blocks = [body for lang, body in code_blocks(text) if lang in SHELL_LANGS]
    return blocks, inline_commands(text)


def synopsis_lines(rel):
    """Command lines of the usage synopses (``text`` blocks)."""
    lines = []
    for lang, body in code_blocks(read(rel)):
        if lang not in SYNOPSIS_LANGS:
            continue
        for line in re.sub(r'\\\n\s*', ' ', body).split('\n'):
            word = ENV_PREFIX_RE.sub('', line.strip()).split(' ', 1)[0]
            if word in COMMAND_WORDS:
                lines.append(line.split(' #', 1)[0])
    return lines


def command_lines(rel):
    blocks, inline = shell_commands(rel)
    lines = []
    for block in blocks:
        for line in block.split('\n'):
            code = line.split(' #', 1)[0] if not line.lstrip().startswith(
                '#') else ''
            if code.strip():
                lines.append(code)
    return lines + inline + synopsis_lines(rel)


def all_commands():
    return {rel: command_lines(rel) for rel in markdown_files()}


def tools_run_by_docs():
    tools = set()
    for lines in all_commands().values():
        for line in lines:
            tools.update(TOOL_RE.findall(line))
    return sorted(tools)


def github_slug(heading):
    # GitHub's anchors: markup dropped, lower case, punctuation other than
    # '-' and '_' removed, spaces to '-'.
    text = re.sub(r'[`*]', '', heading)
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = text.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(rel):
    seen = {}
    out = set()
    for m in HEADING_RE.finditer(strip_code_blocks(read(rel))):
        slug = github_slug(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f'{slug}-{n}')
    return out


# --------------------------------------------------------------- the pages


def test_every_manual_page_is_found():
    files = markdown_files()
    for page in ('docs/README.md', 'docs/method_and_configs.md', 'docs/fda.md',
                 'docs/losses.md', 'docs/pseudo_labels.md',
                 'docs/distributed_and_fault_tolerance.md', 'docs/demo.md',
                 'docs/data.md', 'docs/benchmarking.md', 'docs/benchmarks.md',
                 'docs/fidelity.md'):
        assert page in files
    # The extraction itself finds commands (a broken regex would pass
    # every check below vacuously).
    assert 'tools/train.py' in tools_run_by_docs()
    assert any('tools/dist_train.sh' in line
               for line in all_commands()['README.md'])


def test_readme_length():
    n = len(read('README.md').splitlines())
    assert n <= README_MAX_LINES, (
        f'README.md has {n} lines (at most {README_MAX_LINES}); move detail '
        'into docs/')


@pytest.mark.parametrize('rel', markdown_files())
def test_paths_in_commands_exist(rel):
    missing = set()
    for line in command_lines(rel):
        for path in PATH_RE.findall(line):
            if not osp.exists(osp.join(ROOT, path)):
                missing.add(path)
    assert not missing, (
        f'{rel}: commands name missing files: {sorted(missing)}')


@pytest.mark.parametrize('rel', markdown_files())
def test_paths_in_text_exist(rel):
    """Repository files and folders named in inline code anywhere (prose
    included): configs/, tools/, docs/, tests/ and mmseg_fdacl/ paths."""
    missing = set()
    for span in INLINE_RE.findall(strip_code_blocks(read(rel))):
        for path in TEXT_PATH_RE.findall(span):
            if not osp.exists(osp.join(ROOT, path)):
                missing.add(path)
    assert not missing, f'{rel}: names missing files: {sorted(missing)}'


@pytest.mark.parametrize('rel', markdown_files())
def test_commands_use_the_activated_python(rel):
    bad = [line for line in command_lines(rel) if '.venv/bin/' in line]
    assert not bad, (
        f'{rel}: commands call the venv by path (say `python` after '
        f'`source .venv/bin/activate`): {bad}')


@pytest.mark.parametrize('rel', markdown_files())
def test_shell_blocks_parse(rel):
    blocks, _ = shell_commands(rel)
    for block in blocks:
        res = subprocess.run(['bash', '-n'], input=block, text=True,
                             capture_output=True, timeout=30)
        assert res.returncode == 0, f'{rel}: {res.stderr}\n{block}'


def test_make_targets_exist():
    makefile = read('Makefile')
    targets = set(re.findall(r'^([\w.-]+):', makefile, re.M))
    named = set()
    for lines in all_commands().values():
        for line in lines:
            m = re.match(r'^\s*(?:\S+=\S*\s+)*make\s+([\w.-]+)', line)
            if m:
                named.add(m.group(1))
    assert {'setup', 'demo', 'test'} <= named
    assert named <= targets, f'make targets missing: {named - targets}'


@pytest.mark.parametrize('rel', markdown_files())
def test_relative_links_resolve(rel):
    base = osp.dirname(osp.join(ROOT, rel))
    broken = []
    for target in LINK_RE.findall(strip_code_blocks(read(rel))):
        if re.match(r'^[a-z]+:', target):
            continue
        path, _, anchor = target.partition('#')
        full = osp.normpath(osp.join(base, path)) if path else osp.join(
            ROOT, rel)
        if not osp.exists(full):
            broken.append(target)
        elif anchor and full.endswith('.md'):
            if anchor not in anchors(osp.relpath(full, ROOT)):
                broken.append(target)
    assert not broken, f'{rel}: broken links {broken}'


def test_readme_and_index_link_every_docs_page():
    pages = {p for p in markdown_files() if p.startswith('docs/')}
    readme_links = {
        osp.normpath(t.partition('#')[0])
        for t in LINK_RE.findall(read('README.md'))}
    index_links = {
        osp.normpath(osp.join('docs', t.partition('#')[0]))
        for t in LINK_RE.findall(read('docs/README.md'))}
    assert pages <= readme_links, (
        f'README.md does not link {sorted(pages - readme_links)}')
    assert pages - {'docs/README.md'} <= index_links, (
        f'docs/README.md does not link {sorted(pages - index_links)}')


@pytest.mark.parametrize('rel', markdown_files())
def test_no_private_words_or_machine_paths(rel):
    text = read(rel)
    for word in PRIVATE_PENDING.get(rel, ()):
        text = text.replace(word, '')
    found = sorted({m.group(0) for p in PRIVATE for m in p.finditer(text)})
    assert not found, (
        f'{rel} speaks of what a user of the repository does not have: '
        f'{found}; name the paper, the repository or the method instead, '
        'and paths inside the repository')


def test_private_pending_entries_are_still_needed():
    for rel, words in PRIVATE_PENDING.items():
        text = read(rel)
        gone = [w for w in words if w not in text]
        assert not gone, (
            f'{rel} no longer contains {gone}: remove them from '
            'PRIVATE_PENDING in tests/test_docs.py')


def test_private_words_are_caught():
    """The patterns catch what they are for (and not ordinary prose)."""
    bad = ['as the deck says', 'REFERENCE Table 1', 'the issue asked for',
           'From the FDA issue:', 'of the external report', 'this session',
           'CKPT=/work/runs/x.pth', 'in ../shared/wheels']
    for text in bad:
        assert any(p.search(text) for p in PRIVATE), text
    good = ['the reference code', 'FDA reference repository',
            'quoted in YanchaoYang/FDA issue #12']
    for text in good:
        assert not any(p.search(text) for p in PRIVATE), text


def test_readme_says_how_to_activate():
    text = read('README.md')
    assert 'source .venv/bin/activate' in text


# ------------------------------------------------------- the tools they run


@pytest.mark.parametrize('tool', tools_run_by_docs())
def test_tool_answers_help(tool):
    res = subprocess.run([PY, tool, '--help'], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, (
        f'`python {tool} --help` exited {res.returncode}:\n'
        f'{res.stdout[-2000:]}\n{res.stderr[-4000:]}')
    assert 'usage' in res.stdout.lower()


# ------------------------------------------- the launch scripts' interpreter

STUB = """#!/usr/bin/env bash
echo "{name} $*" >> "{log}"
"""
LAUNCHERS = {
    # script: (arguments, what the interpreter or srun must be given)
    'tools/dist_train.sh': (['CFG.py', '2', '--work-dir', 'W'],
                            ['-m torch.distributed.run', '--nproc_per_node=2',
                             'tools/train.py CFG.py --launcher pytorch '
                             '--work-dir W']),
    'tools/dist_test.sh': (['CFG.py', 'CKPT.pth', '3', '--tta'],
                           ['-m torch.distributed.run', '--nproc_per_node=3',
                            'tools/test.py CFG.py CKPT.pth --launcher pytorch '
                            '--tta']),
    'tools/slurm_train.sh': (['PART', 'JOB', 'CFG.py', 'W'],
                             ['tools/train.py CFG.py --launcher=slurm '
                              '--work-dir W']),
    'tools/slurm_test.sh': (['PART', 'JOB', 'CFG.py', 'CKPT.pth'],
                            ['tools/test.py CFG.py CKPT.pth '
                             '--launcher=slurm']),
}


def _write_stub(path, name, log):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(STUB.format(name=name, log=log))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def _run_launcher(tmp_path, script, args, *, venv, python_env=None):
    """Run a copy of ``script`` in a fake checkout under tmp_path (with or
    without .venv/bin/python), from another working directory, with stub
    ``python`` and ``srun`` first on PATH; return the stubs' log."""
    repo = tmp_path / 'repo'
    (repo / 'tools').mkdir(parents=True)
    shutil.copy(osp.join(ROOT, script), repo / script)
    log = tmp_path / 'log.txt'
    bin_dir = tmp_path / 'bin'
    _write_stub(str(bin_dir / 'python'), 'PATH-python', log)
    _write_stub(str(bin_dir / 'srun'), 'srun', log)
    if venv:
        _write_stub(str(repo / '.venv' / 'bin' / 'python'), 'VENV-python',
                    log)
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHON', 'VIRTUAL_ENV')}
    env['PATH'] = f'{bin_dir}:/usr/bin:/bin'
    if python_env:
        _write_stub(python_env, 'ENV-python', log)
        env['PYTHON'] = python_env
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    res = subprocess.run(['bash', str(repo / script), *args], cwd=elsewhere,
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return log.read_text(), str(repo)


@pytest.mark.parametrize('script', sorted(LAUNCHERS))
def test_launcher_uses_the_repository_venv(tmp_path, script):
    args, expected = LAUNCHERS[script]
    log, repo = _run_launcher(tmp_path, script, args, venv=True)
    venv_py = osp.join(repo, '.venv', 'bin', 'python')
    if script.startswith('tools/slurm'):
        # srun is given the interpreter: srun ... <venv python> -u train.py
        assert log.startswith('srun '), log
        assert f' {venv_py} -u ' in log, log
    else:
        assert log.startswith('VENV-python '), log
    assert 'PATH-python' not in log
    for piece in expected:
        assert piece in log.replace(repo + '/', ''), (piece, log)


@pytest.mark.parametrize('script', sorted(LAUNCHERS))
def test_launcher_python_override_and_fallback(tmp_path, script):
    args, _ = LAUNCHERS[script]
    # $PYTHON wins over the venv.
    custom = str(tmp_path / 'custom' / 'python3')
    log, _ = _run_launcher(tmp_path / 'a', script, args, venv=True,
                           python_env=custom)
    assert custom in log or log.startswith('ENV-python '), log
    assert 'VENV-python' not in log and '.venv' not in log
    # Without a .venv: `python` from PATH, as before.
    log, _ = _run_launcher(tmp_path / 'b', script, args, venv=False)
    if script.startswith('tools/slurm'):
        assert ' python -u ' in log, log
    else:
        assert log.startswith('PATH-python '), log


def test_license_citation_and_faq():
    """LICENSE (Apache-2.0, as setup.py says, with its acknowledgements),
    the README's Citation section and the FAQ, all linked from the
    README."""
    license_text = read('LICENSE')
    assert 'Apache License' in license_text
    assert 'Version 2.0, January 2004' in license_text
    assert "license='Apache License 2.0'" in read('setup.py')
    for name in ('MMSegmentation', 'mmengine', 'mmcv', 'YanchaoYang/FDA',
                 'vikolss/DACS', 'lhoyer/DAFormer', 'lhoyer/HRDA',
                 'lhoyer/MIC'):
        assert name in license_text, name
    readme = read('README.md')
    citation = readme[readme.index('## Citation'):]
    for key in ('yang2020fda', 'tranheden2021dacs', 'hoyer2022daformer',
                'hoyer2022hrda', 'hoyer2023mic', 'khosla2020supcon'):
        assert key in citation, key
    links = {t.partition('#')[0] for t in LINK_RE.findall(readme)}
    assert {'LICENSE', 'docs/faq.md'} <= links
    assert 'estimate' in read('docs/faq.md').lower()
