"""Imports go one way: demo -> method -> MMSeg/mmengine."""
import ast
import glob
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(ROOT, 'mmseg_fdacl')


def _imports(path):
    """Absolute names of the modules a file imports (relative ones
    resolved)."""
    package = osp.relpath(osp.dirname(path), ROOT).split(osp.sep)
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level \
                else []
            yield '.'.join(base + ([node.module] if node.module else []))


def test_method_does_not_import_the_demo():
    offenders = []
    for path in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True):
        if osp.relpath(path, PACKAGE).split(osp.sep)[0] == 'demo':
            continue
        offenders += [(osp.relpath(path, ROOT), name)
                      for name in _imports(path)
                      if name.startswith('mmseg_fdacl.demo')]
    assert not offenders


def test_method_imports_without_matplotlib_or_the_demo():
    code = ('import sys, mmseg_fdacl; '
            'print(sorted(m for m in sys.modules if m == "matplotlib" '
            'or m.startswith("mmseg_fdacl.demo")))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'
