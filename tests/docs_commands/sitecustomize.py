"""Loaded at interpreter start by the documented commands the docs test runs
(tests/test_docs_commands.py puts this folder first on PYTHONPATH): every
config file loaded from the scratch root ($DOCS_TEST_ROOT) is made tiny
(tests/docs_commands/tiny.py). Nothing else changes."""
import os
import os.path as osp

_ROOT = os.environ.get('DOCS_TEST_ROOT')

if _ROOT:
    from mmengine.config import Config

    from tests.docs_commands.tiny import shrink

    _fromfile = Config.fromfile  # a staticmethod in mmengine 0.10

    def _tiny_fromfile(filename, *args, **kwargs):
        cfg = _fromfile(filename, *args, **kwargs)
        path = osp.realpath(osp.abspath(str(filename)))
        if path.startswith(osp.realpath(_ROOT) + os.sep):
            shrink(cfg._cfg_dict, _ROOT)
        return cfg

    Config.fromfile = staticmethod(_tiny_fromfile)
    os.environ['DOCS_TEST_TINY'] = '1'
