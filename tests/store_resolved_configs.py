"""Store the resolved content of the given configs in
tests/data/resolved_configs.json (what tests/test_resolved_configs.py
compares every runnable config with).

Run it for a new config, or for one whose settings are meant to change (say
so in the commit), never to make a refactor pass::

    python tests/store_resolved_configs.py configs/fdacl/NEW.py [...]
"""
import json
import os.path as osp
import sys

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.test_resolved_configs import CARRIERS, _jsonable  # noqa: E402

STORE = osp.join(REPO, 'tests', 'data', 'resolved_configs.json')


def main(paths):
    with open(STORE) as f:
        stored = json.load(f)
    for path in paths:
        key = osp.relpath(osp.abspath(path), osp.join(REPO, 'configs'))
        cfg = Config.fromfile(osp.join(REPO, 'configs', key)).to_dict()
        got = _jsonable(cfg, cfg.get('default_scope'))
        stored[key] = {k: v for k, v in got.items() if k not in CARRIERS}
        print(f'stored {key}')
    with open(STORE, 'w') as f:
        json.dump(stored, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main(sys.argv[1:])
