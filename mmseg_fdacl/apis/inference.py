"""Run a trained model of this project on images, folders and videos.

:class:`UDASegInferencer` is MMSeg's ``MMSegInferencer`` for this project's
configs and checkpoints: the student weights (``state_dict``) or the mean
teacher's (``checkpoint['mean_teacher']``, written by ``MeanTeacherHook``),
the config's test pipeline (or its ``test_pipeline`` when a config has no
test set), class names and palette from the checkpoint (or the config), and
sliding-window inference for large images. :func:`infer` writes, for each
input, a label PNG of class ids and an overlay; a video gives an overlay
video and one label PNG per frame. ``tools/infer.py`` is its command line
(``docs/inference.md``).
"""
import copy
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmengine.config import Config
from mmseg.apis import MMSegInferencer
from mmseg.structures import SegDataSample

__all__ = [
    'UDASegInferencer', 'infer', 'list_inputs', 'teacher_state_dict',
    'IMAGE_SUFFIXES', 'VIDEO_SUFFIXES'
]

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')
_WEIGHTS = ('student', 'teacher')
_TEACHER_KEY = 'mean_teacher'  # MeanTeacherHook's checkpoint key
_DROP = ('LoadAnnotations', 'SafeLoadAnnotations', 'LoadDepthAnnotation',
         'LoadPseudoLabel')


def teacher_state_dict(checkpoint: dict, path: str = 'the checkpoint') -> dict:
    """The mean teacher's weights as a segmentor state dict.

    ``MeanTeacherHook`` saves the teacher (a ``TeacherEMA``: the segmentor
    as ``module`` plus an update counter ``steps``) under
    ``checkpoint['mean_teacher']``.

    Args:
        checkpoint (dict): A loaded checkpoint.
        path (str): Its file, for the message.

    Returns:
        dict: Keys as the student's ``state_dict`` (``backbone.*``, ...).

    Raises:
        KeyError: If the checkpoint has no teacher.
    """
    state = checkpoint.get(_TEACHER_KEY)
    if not state:
        raise KeyError(
            f'{path} has no {_TEACHER_KEY!r} (it was not trained with '
            'MeanTeacherHook, e.g. a stage-1/2 or source-only run); use the '
            "student weights (weights='student', tools/infer.py --weights "
            'student).')
    return {k[len('module.'):]: v for k, v in state.items()
            if k.startswith('module.')}


def _find_pipeline(cfg: Config) -> List[dict]:
    """The config's test pipeline, else its ``test_pipeline`` variable."""
    test = cfg.get('test_dataloader') or {}
    pipeline = (test.get('dataset') or {}).get('pipeline') or cfg.get(
        'test_pipeline') or [dict(type='LoadImageFromFile'),
                             dict(type='PackSegInputs')]
    return [copy.deepcopy(t) for t in pipeline if t.get('type') not in _DROP]


def _config_metainfo(cfg: Config) -> Optional[dict]:
    """classes and palette of the config's test (or training) dataset."""
    from mmseg.registry import DATASETS
    candidates = []
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset') or {}
        candidates += [ds.get('source'), ds]
    for ds in candidates:
        if not isinstance(ds, dict):
            continue
        meta = ds.get('metainfo')
        if not meta and isinstance(ds.get('type'), str):
            cls = DATASETS.get(ds['type'])
            meta = getattr(cls, 'METAINFO', None)
        if meta and meta.get('classes'):
            return dict(classes=tuple(meta['classes']),
                        palette=meta.get('palette'))
    return None


class UDASegInferencer(MMSegInferencer):
    """MMSeg's inferencer with this project's configs and checkpoints.

    Example::

        inferencer = UDASegInferencer(
            'configs/fdacl/deeplabv2_gta2cs_dacs.py', 'iter_250000.pth',
            weights='teacher', slide=(512, 512))
        samples = inferencer(['a.png', 'b.png'], return_datasamples=True)

    Args:
        config (str | Config): The training or test config.
        checkpoint (str): A checkpoint of ``tools/train.py``.
        weights (str): ``'student'`` (the trained model, what
            ``tools/test.py`` evaluates) or ``'teacher'`` (the mean teacher
            of an online recipe). Default: 'student'.
        slide (tuple[int, int], optional): ``(h, w)`` windows for
            sliding-window inference (MMSeg's ``mode='slide'``); None keeps
            the config's ``test_cfg``. Default: None.
        stride (tuple[int, int], optional): Window stride; default two
            thirds of ``slide``.
        device (str, optional): E.g. ``'cuda:0'`` or ``'cpu'``; default
            CUDA when available.

    Raises:
        ValueError: If ``weights`` or ``slide`` is invalid.
        KeyError: If ``weights='teacher'`` and the checkpoint has none.
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: str,
                 *,
                 weights: str = 'student',
                 slide: Optional[Tuple[int, int]] = None,
                 stride: Optional[Tuple[int, int]] = None,
                 device: Optional[str] = None) -> None:
        if weights not in _WEIGHTS:
            raise ValueError(f'UDASegInferencer: `weights` must be one of '
                             f'{_WEIGHTS}, got {weights!r}.')
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'UDASegInferencer: checkpoint {checkpoint!r} not found.')
        cfg = Config.fromfile(config) if isinstance(config, str) else \
            copy.deepcopy(config)
        if cfg.get('custom_imports'):
            from mmengine.utils import import_modules_from_strings
            import_modules_from_strings(**cfg['custom_imports'])
        if slide is not None:
            if len(slide) != 2 or min(slide) < 1:
                raise ValueError('UDASegInferencer: `slide` must be (h, w) '
                                 f'of positive ints, got {slide!r}.')
            stride = stride or tuple(max(1, s * 2 // 3) for s in slide)
            cfg.model.test_cfg = dict(mode='slide', crop_size=tuple(slide),
                                      stride=tuple(stride))
        # MMSegInferencer reads the pipeline from test_dataloader.
        cfg.test_dataloader = dict(dataset=dict(
            pipeline=_find_pipeline(cfg)))
        self.weights_kind = weights
        self.checkpoint_path = checkpoint
        self._cfg_meta = _config_metainfo(cfg)
        super().__init__(model=cfg, weights=checkpoint, device=device,
                         scope=cfg.get('default_scope', 'mmseg'))

    def _load_weights_to_model(self, model, checkpoint: Optional[dict],
                               cfg) -> None:
        if checkpoint is not None and self.weights_kind == 'teacher':
            checkpoint = dict(checkpoint, state_dict=teacher_state_dict(
                checkpoint, repr(self.checkpoint_path)))
        if checkpoint is not None and 'dataset_meta' not in checkpoint.get(
                'meta', {}) and self._cfg_meta is not None:
            meta = dict(checkpoint.get('meta') or {},
                        dataset_meta=self._cfg_meta)
            checkpoint = dict(checkpoint, meta=meta)
        super()._load_weights_to_model(model, checkpoint, cfg)


def list_inputs(path: str) -> Tuple[str, List[str]]:
    """What ``path`` is and the files it names.

    Args:
        path (str): An image, a video, or a folder (searched recursively for
            images).

    Returns:
        tuple[str, list[str]]: ``('image' | 'folder' | 'video', files)``.

    Raises:
        FileNotFoundError: If nothing is there.
        ValueError: If the suffix is neither an image nor a video.
    """
    if osp.isdir(path):
        files = sorted(
            osp.join(d, f) for d, _, fs in os.walk(path) for f in fs
            if f.lower().endswith(IMAGE_SUFFIXES))
        if not files:
            raise FileNotFoundError(
                f'no image ({", ".join(IMAGE_SUFFIXES)}) under {path!r}.')
        return 'folder', files
    if not osp.isfile(path):
        raise FileNotFoundError(f'input {path!r} does not exist.')
    suffix = osp.splitext(path)[1].lower()
    if suffix in VIDEO_SUFFIXES:
        return 'video', [path]
    if suffix in IMAGE_SUFFIXES:
        return 'image', [path]
    raise ValueError(f'input {path!r}: suffix {suffix!r} is neither an image '
                     f'{IMAGE_SUFFIXES} nor a video {VIDEO_SUFFIXES}.')


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _as_list(samples) -> List[SegDataSample]:
    return samples if isinstance(samples, list) else [samples]


def _label(sample: SegDataSample) -> np.ndarray:
    return sample.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)


def _overlay(inferencer: UDASegInferencer, rgb: np.ndarray,
             sample: SegDataSample, opacity: float) -> np.ndarray:
    vis = inferencer.visualizer
    vis.set_dataset_meta(**inferencer.model.dataset_meta)
    vis.alpha = opacity
    vis.add_datasample('pred', rgb, sample, draw_gt=False, draw_pred=True,
                       show=False, with_labels=False)
    return vis.get_image()


def _write_png(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    if not cv2.imwrite(path, img):
        raise OSError(f'could not write {path!r}; check that the output '
                      'folder is writable')


def _infer_video(inferencer: UDASegInferencer, path: str, out_dir: str,
                 batch_size: int, opacity: float,
                 write_labels: bool) -> Dict[str, object]:
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise OSError(f'OpenCV cannot open the video {path!r}.')
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    stem = osp.splitext(osp.basename(path))[0]
    vis_path = osp.join(out_dir, 'vis', stem + '.mp4')
    os.makedirs(osp.dirname(vis_path), exist_ok=True)
    writer, frames, done = None, [], 0
    try:
        while True:
            ok, frame = cap.read()
            if ok:
                frames.append(frame)
            if frames and (not ok or len(frames) == batch_size):
                samples = _as_list(inferencer(
                    frames, return_datasamples=True, batch_size=batch_size))
                for frame_bgr, sample in zip(frames, samples):
                    if write_labels:
                        _write_png(osp.join(out_dir, 'labels', stem,
                                            f'{done:06d}.png'),
                                   _label(sample))
                    vis = _overlay(inferencer, frame_bgr[..., ::-1], sample,
                                   opacity)[..., ::-1]
                    if writer is None:
                        h, w = vis.shape[:2]
                        writer = cv2.VideoWriter(
                            vis_path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                            (w, h))
                    writer.write(np.ascontiguousarray(vis))
                    done += 1
                frames = []
            if not ok:
                break
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if done == 0:
        raise OSError(f'the video {path!r} has no readable frame.')
    return dict(frames=done, video=vis_path)


def infer(inferencer: UDASegInferencer,
          inputs: str,
          out_dir: str,
          *,
          batch_size: int = 1,
          opacity: float = 0.5,
          write_labels: bool = True,
          write_overlays: bool = True) -> Dict[str, object]:
    """Predict an image, every image of a folder, or every frame of a video.

    Writes under ``out_dir``: ``labels/<name>.png`` (uint8 class ids, the
    input's path relative to the folder kept) and ``vis/<name>.png`` (the
    prediction in the palette over the image); for a video
    ``vis/<video>.mp4`` and ``labels/<video>/<frame>.png``.

    Args:
        inferencer (UDASegInferencer): The model.
        inputs (str): An image, a folder or a video file.
        out_dir (str): Output folder.
        batch_size (int): Images per forward pass. Default: 1.
        opacity (float): Overlay opacity in [0, 1]. Default: 0.5.
        write_labels (bool): Write the label PNGs. Default: True.
        write_overlays (bool): Write the overlays (always for a video).
            Default: True.

    Returns:
        dict: ``kind``, ``count`` (images or frames) and the output paths.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f'infer: `opacity` must be in [0, 1], got '
                         f'{opacity!r}.')
    kind, files = list_inputs(inputs)
    if kind == 'video':
        res = _infer_video(inferencer, files[0], out_dir, batch_size,
                           opacity, write_labels)
        return dict(kind=kind, count=res['frames'], video=res['video'],
                    labels=osp.join(out_dir, 'labels'))
    root = inputs if kind == 'folder' else osp.dirname(inputs)
    for chunk in _chunks(files, max(1, batch_size) * 8):
        samples = _as_list(inferencer(list(chunk), return_datasamples=True,
                                      batch_size=batch_size))
        for path, sample in zip(chunk, samples):
            rel = osp.splitext(osp.relpath(path, root))[0] + '.png'
            if write_labels:
                _write_png(osp.join(out_dir, 'labels', rel), _label(sample))
            if write_overlays:
                rgb = mmcv.imread(path, channel_order='rgb')
                _write_png(osp.join(out_dir, 'vis', rel),
                           _overlay(inferencer, rgb, sample,
                                    opacity)[..., ::-1])
    return dict(kind=kind, count=len(files),
                labels=osp.join(out_dir, 'labels'),
                vis=osp.join(out_dir, 'vis'))
