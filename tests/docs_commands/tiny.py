"""The tiny form of any config the documented commands load.

tests/test_docs_commands.py runs every command block of README.md and
docs/*.md as written, in a scratch copy of the repository with generated data
in the real folder layouts. What makes that cheap is not an edited command
but this module: ``sitecustomize.py`` (next to it, put on ``PYTHONPATH`` by
the runner) wraps ``mmengine.config.Config.fromfile`` so that every config
file loaded from the scratch root comes back shrunk by :func:`shrink`:

* a training/test config: a ResNet-18 trunk with 4 base channels and a
  DeepLabV2 head (any segmentor whose model keeps ``backbone`` and a plain
  ``decode_head``), 32x64 inputs, batch <= 2, no dataloader workers, at most
  :data:`ITERS` iterations (checkpoint, validation and logging intervals to
  match), warm-ups that end before that, small contrastive samples and MIC
  blocks, tiny "ImageNet" weights where a term needs them;
* a pipeline spec (``configs`` + ``work_dir``) stays as it is: the runner
  has its data set (``data/synthetic``) in place already.

Method switches, losses, hooks, datasets and schedules stay as configured.
A model family this cannot shrink (e.g. a head that wraps another head)
raises an error naming it: add its tiny form to :data:`HEAD_SHRINKERS`.
"""
import copy
import os
import os.path as osp
from typing import Callable, Dict

ITERS = 2
H, W = 32, 64
BASE_CHANNELS = 4
FEAT_CHANNELS = BASE_CHANNELS * 8  # ResNet-18, last stage
#: The small data set of the real layouts (data/gta5, data/cityscapes).
TINY_DATA = dict(num_source=8, num_target_train=8, num_target_val=4,
                 size=(H, W), nproc=1)

TINY_BACKBONE = dict(
    type='ResNetV1c', depth=18, base_channels=BASE_CHANNELS,
    stem_channels=2 * BASE_CHANNELS, num_stages=4, out_indices=(3, ),
    dilations=(1, 1, 1, 2), strides=(1, 2, 1, 1),
    norm_cfg=dict(type='BN', requires_grad=True), contract_dilation=True)
PLAIN_HEADS = ('DLV2Head', 'ASPPHead', 'DepthwiseSeparableASPPHead',
               'FCNHead', 'FCN8sHead', 'ENetHead', 'SegformerHead',
               'DAFormerHead', 'UPerHead', 'PSPHead')


def _tiny_plain_head(head: dict) -> dict:
    """A DeepLabV2 head with the original classes, loss and alignment."""
    out = dict(type='DLV2Head', in_channels=FEAT_CHANNELS, in_index=0,
               dilations=(1, 2), num_classes=head.get('num_classes', 19))
    for key in ('loss_decode', 'align_corners', 'ignore_index'):
        if key in head:
            out[key] = copy.deepcopy(head[key])
    return out


#: decode_head type -> its tiny form (a function of the head config).
HEAD_SHRINKERS: Dict[str, Callable[[dict], dict]] = {
    t: _tiny_plain_head for t in PLAIN_HEADS}


def _pipelines(cfg: dict):
    """Every transform list of the config's datasets (and top-level
    ``*pipeline`` variables)."""
    out = [v for k, v in cfg.items()
           if k.endswith('pipeline') and isinstance(v, list)]
    todo = [cfg.get(k) for k in ('train_dataloader', 'val_dataloader',
                                 'test_dataloader')]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k == 'pipeline' and isinstance(v, list):
                    out.append(v)
                elif isinstance(v, (dict, list)):
                    todo.append(v)
        elif isinstance(node, list):
            todo.extend(node)
    return out


def _shrink_pipeline(pipeline: list) -> None:
    for t in pipeline:
        if not isinstance(t, dict):
            continue
        if t.get('type') == 'Resize' and 'scale' in t:
            t.update(scale=(W, H), keep_ratio=False)
        if t.get('type') == 'RandomCrop':
            t['crop_size'] = (H, W)
        if t.get('type') == 'RandomResize':
            t.update(scale=(W, H), ratio_range=(1.0, 1.0), keep_ratio=False)


def _imnet_weights(root: str) -> str:
    """Weights of the tiny trunk, saved once, as a stand-in for ImageNet."""
    path = osp.join(root, 'checkpoints', 'docs_test_tiny_imnet.pth')
    if not osp.isfile(path):
        import torch
        from mmengine.config import ConfigDict
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        os.makedirs(osp.dirname(path), exist_ok=True)
        net = MODELS.build(ConfigDict(copy.deepcopy(TINY_BACKBONE)))
        torch.save(dict(state_dict=net.state_dict()), path)
    return path


def _shrink_model(model: dict, root: str) -> None:
    head = model.get('decode_head')
    if 'backbone' not in model or not isinstance(head, dict):
        return
    shrink_head = HEAD_SHRINKERS.get(head.get('type'))
    if shrink_head is None:
        raise NotImplementedError(
            f'tests/docs_commands/tiny.py has no tiny form for decode_head '
            f'type {head.get("type")!r}: add one to HEAD_SHRINKERS.')
    model['backbone'] = copy.deepcopy(TINY_BACKBONE)
    model['decode_head'] = shrink_head(head)
    aux = model.get('auxiliary_head')
    if isinstance(aux, dict):
        aux.update(in_channels=FEAT_CHANNELS, in_index=0)
        if 'channels' in aux:
            aux['channels'] = 16
    elif isinstance(aux, list):
        model.pop('auxiliary_head')
    model['pretrained'] = None
    model.pop('init_cfg', None)
    if model.get('imnet_feature_dist'):
        model['pretrained'] = _imnet_weights(root)
    pre = model.get('data_preprocessor')
    if isinstance(pre, dict) and pre.get('size') is not None:
        pre['size'] = (H, W)
    warm = model.get('warmup_iters')
    if isinstance(warm, int) and warm >= ITERS:
        model['warmup_iters'] = ITERS - 1
    for key in ('contrast_loss', 'online_contrast_loss'):
        if isinstance(model.get(key), dict) and model[key].get(
                'max_samples'):
            model[key]['max_samples'] = 64
    if isinstance(model.get('mask'), dict):
        model['mask']['block_size'] = 8


def _shrink_loops(cfg: dict) -> None:
    train = cfg.get('train_cfg') or {}
    iters = train.get('max_iters')
    if iters is not None and iters > ITERS:
        train['max_iters'] = ITERS
    if 'val_interval' in train:
        train['val_interval'] = train.get('max_iters') or ITERS
    hooks = cfg.get('default_hooks') or {}
    if isinstance(hooks.get('checkpoint'), dict):
        hooks['checkpoint']['interval'] = train.get('max_iters') or ITERS
    if isinstance(hooks.get('logger'), dict):
        hooks['logger']['interval'] = 1
    for hook in cfg.get('custom_hooks') or []:
        if (isinstance(hook, dict) and hook.get('type') == 'PseudoLabelHook'
                and isinstance(hook.get('interval'), int)):
            hook['interval'] = 1  # self-training rounds within ITERS
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if isinstance(loader, dict):
            loader.update(num_workers=0, persistent_workers=False)
            if (loader.get('batch_size') or 0) > 2:
                loader['batch_size'] = 2
    ds = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    if isinstance(ds.get('rare_class_sampling'), dict):
        ds['rare_class_sampling']['min_pixels'] = 10
    env = cfg.get('env_cfg')
    if isinstance(env, dict):
        env['mp_cfg'] = dict(mp_start_method='fork', opencv_num_threads=0)


def shrink(cfg: dict, root: str) -> dict:
    """Shrink a loaded config dict in place (see the module doc).

    Args:
        cfg (dict): ``Config._cfg_dict`` of a file under ``root``.
        root (str): The scratch root (tiny weights are written there).

    Returns:
        dict: ``cfg``.
    """
    if 'configs' in cfg and 'work_dir' in cfg and 'model' not in cfg:
        return cfg  # a pipeline spec: its data set is generated as given
    if isinstance(cfg.get('model'), dict):
        _shrink_model(cfg['model'], root)
        for pipeline in _pipelines(cfg):
            _shrink_pipeline(pipeline)
        _shrink_loops(cfg)
    return cfg
