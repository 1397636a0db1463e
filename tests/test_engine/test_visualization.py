"""Watching training: configs/_base_/tensorboard.py and wandb.py put
mmengine's visualizer backends into a config; a training run logs the UDA
loss terms to every backend (the local JSON log here, TensorBoard event files
where tensorboard is installed) and SegVisualizationHook writes validation
images through SegLocalVisualizer."""
import glob
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import VISBACKENDS
from mmengine.runner import Runner

from mmseg_fdacl.datasets.custom_config import write_custom_configs
from mmseg_fdacl.demo.custom_folders import (EXAMPLE_CLASSES,
                                             EXAMPLE_PALETTE,
                                             write_example_folders)
from tests.helpers import tiny_deeplabv2_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
UDA_TERMS = ('loss_ce_src', 'loss_ent_trg')


def _wrapper(tmp_path, fragment, backends_key):
    root = str(tmp_path / 'coast')
    write_example_folders(root, num_source=3, num_target=3, num_val=2,
                          size=(32, 48))
    leaf = write_custom_configs(
        'coast', EXAMPLE_CLASSES, EXAMPLE_PALETTE, f'{root}/source/images',
        f'{root}/source/labels', f'{root}/target/train',
        val_images=f'{root}/target/val/images',
        val_labels=f'{root}/target/val/labels', img_suffix='.jpg',
        seg_map_suffix='_mask.png', crop_size=(32, 48),
        out_dir=str(tmp_path / 'configs'))['stage1']
    tiny = tiny_deeplabv2_cfg(num_classes=5)
    path = tmp_path / 'configs' / 'watched.py'
    path.write_text(f'''
_base_ = [{osp.basename(leaf)!r},
          {osp.join(ROOT, 'configs', '_base_', fragment)!r}]
visualizer = dict(vis_backends=_base_.{backends_key})
default_hooks = dict(visualization=dict(_base_.val_visualization,
                                        interval=1),
                     logger=dict(interval=1), checkpoint=dict(interval=2))
model = dict(pretrained=None,
             backbone=dict({tiny['backbone']!r}, _delete_=True),
             decode_head=dict(in_channels=32, dilations=(1, 2)))
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', begin=0, end=2, by_epoch=False)]
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = dict(num_workers=0, persistent_workers=False)
''')
    return str(path)


@pytest.mark.parametrize('fragment, key, backend', [
    ('tensorboard.py', 'tensorboard_vis_backends', 'TensorboardVisBackend'),
    ('wandb.py', 'wandb_vis_backends', 'WandbVisBackend'),
])
def test_fragments_resolve_to_registered_backends(tmp_path, fragment, key,
                                                  backend):
    cfg = Config.fromfile(_wrapper(tmp_path, fragment, key))
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == ['LocalVisBackend', backend]
    assert cfg.visualizer.type == 'SegLocalVisualizer'
    assert all(VISBACKENDS.get(t) is not None for t in types)
    assert cfg.default_hooks.visualization.draw is True


def _train(tmp_path, backends):
    cfg = Config.fromfile(_wrapper(tmp_path, 'tensorboard.py',
                                   'tensorboard_vis_backends'))
    cfg.visualizer.vis_backends = backends
    # A visualizer of that name made earlier in this process (mmengine's
    # instances are global) would be reused with its own backends.
    cfg.visualizer.name = f'watched-{tmp_path.name}'
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    return osp.join(cfg.work_dir, runner.timestamp, 'vis_data')


def test_losses_and_validation_images_reach_the_backends(tmp_path):
    vis_data = _train(tmp_path, [dict(type='LocalVisBackend')])
    with open(osp.join(vis_data, 'scalars.json')) as f:
        rows = [json.loads(line) for line in f]
    train_rows = [r for r in rows if 'loss' in r]
    assert len(train_rows) == 2
    for term in UDA_TERMS:
        assert all(term in r for r in train_rows), (term, train_rows)
    assert any('mIoU' in r for r in rows)
    # SegVisualizationHook: the two validation images, drawn
    assert len(glob.glob(osp.join(vis_data, 'vis_image', '*.png'))) == 2


def test_tensorboard_event_files_hold_the_uda_loss_terms(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    vis_data = _train(tmp_path, [dict(type='LocalVisBackend'),
                                 dict(type='TensorboardVisBackend')])
    events = glob.glob(osp.join(vis_data, '**', 'events.out.tfevents.*'),
                       recursive=True)
    assert events
    acc = EventAccumulator(osp.dirname(events[0]))
    acc.Reload()
    tags = set(acc.Tags()['scalars'])
    for term in UDA_TERMS:
        assert term in tags, (term, sorted(tags))
    assert len(acc.Scalars(UDA_TERMS[0])) == 2
    assert acc.Tags()['images']  # the validation images
