"""Models and the prediction a pseudo label is read from.

Each target image goes through an inference pipeline, then, on its 0-255
pixels, FDA target->source with a source reference image (``beta``; the
reference is a fixed image, or per target image a source image drawn with
``numpy.random.default_rng([seed, image_index])``, so the draw does not
depend on sharding), then optional grayscale
(:func:`mmseg_fdacl.utils.grayscale.to_grayscale`). Each model's own
``data_preprocessor`` normalizes it and ``test_step`` predicts (whole or
sliding-window, as the model's ``test_cfg`` says); the logits are resized to
the ORIGINAL image size. Several models are ensembled by averaging their
softmax (FDA's multi-band transfer, MBT).
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import nn

from mmseg_fdacl.fda import fda_amplitude_swap
from mmseg_fdacl.utils.grayscale import to_grayscale

__all__ = ['build_models', 'Predictor']


def build_models(model: Union[dict, ConfigDict],
                 checkpoints: Sequence[str],
                 device: Union[str, torch.device] = 'cpu') -> List[nn.Module]:
    """Build one model per checkpoint in eval mode on ``device``.

    A checkpoint of the UDA segmentor loads into a plain ``EncoderDecoder``
    and back: state-dict keys are the same; heads the checkpoint lacks (e.g.
    a projection head) keep their initialization (mmengine warns), and are
    not used for prediction.

    Args:
        model (dict): Model config (``cfg.model``).
        checkpoints (Sequence[str]): Checkpoint files.
        device (str | torch.device): Where to run.

    Returns:
        list[nn.Module]: The models.

    Raises:
        ValueError: If a checkpoint's tensors do not fit the model.
    """
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    models = []
    for ckpt in checkpoints:
        # ConfigDict: mmseg reads test_cfg by attribute (test_cfg.mode).
        cfg = ConfigDict(copy.deepcopy(dict(model)))
        cfg.pop('pretrained', None)
        cfg['train_cfg'] = None
        net = MODELS.build(cfg)
        loaded = load_checkpoint(
            net, ckpt, map_location='cpu', strict=False, logger='current')
        _check_checkpoint_shapes(net, loaded, ckpt)
        net.to(device).eval()
        models.append(net)
    return models


def _check_checkpoint_shapes(net: nn.Module, loaded: dict,
                             ckpt: str) -> None:
    """Refuse a checkpoint whose tensors do not fit the model.

    mmengine's non-strict loading only warns about a shape mismatch and keeps
    the random initialization, so a checkpoint of a model with another number
    of classes would silently label with an untrained classifier.
    """
    state = loaded.get('state_dict', loaded)
    own = net.state_dict()
    wrong = [(k, tuple(v.shape), tuple(own[k].shape))
             for k, v in state.items()
             if k in own and hasattr(v, 'shape') and v.shape != own[k].shape]
    if wrong:
        key, theirs, ours = wrong[0]
        raise ValueError(
            f'checkpoint {ckpt!r} does not fit the model config: {key} has '
            f'shape {theirs} in the checkpoint but {ours} in the model '
            f'({len(wrong)} mismatching tensors). It was probably trained '
            'with another number of classes or another architecture; pass '
            'the config it was trained with.')


class Predictor:
    """Averaged softmax of several models on source-stylized target images.

    Args:
        models (Sequence[nn.Module]): From :func:`build_models`.
        pipeline (Sequence[dict]): Inference pipeline (transform configs).
        beta (float, optional): FDA window; None predicts on the raw image.
        grayscale (bool): Predict on grayscale images.
        reference (str, optional): A fixed FDA reference image.
        source_paths (Sequence[str]): Images the per-image reference is drawn
            from when ``reference`` is None.
        seed (int): Seed of that draw.
    """

    def __init__(self, models: Sequence[nn.Module], pipeline: Sequence[dict],
                 beta: Optional[float], grayscale: bool,
                 reference: Optional[str], source_paths: Sequence[str],
                 seed: int) -> None:
        init_default_scope('mmseg')
        self.models = list(models)
        self.pipeline = Compose(list(pipeline))
        self.beta = beta
        self.grayscale = grayscale
        self.reference = reference
        self.source_paths = list(source_paths)
        self.seed = seed
        self._ref_cache: Dict[str, torch.Tensor] = {}

    def reference_path(self, index: int) -> str:
        """The FDA reference of target image ``index``.

        The fixed reference, or a source image drawn with
        ``numpy.random.default_rng([seed, index])``: the same whatever the
        sharding or the order the images are labeled in.
        """
        if self.reference is not None:
            return self.reference
        rng = np.random.default_rng([self.seed, index])
        return self.source_paths[int(rng.integers(len(self.source_paths)))]

    def _reference_image(self, index: int) -> torch.Tensor:
        path = self.reference_path(index)
        if path not in self._ref_cache:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(
                    f'could not read FDA reference image {path!r}')
            ref = torch.from_numpy(img).permute(2, 0, 1)[None].float()
            if self.reference is None:
                return ref  # random draws: do not grow a cache
            self._ref_cache[path] = ref
        return self._ref_cache[path]

    def stylize(self, img: torch.Tensor, index: int) -> torch.Tensor:
        """FDA target->source (if ``beta``), then grayscale (if asked).

        Args:
            img (Tensor): ``1 x 3 x H x W`` float BGR pixels in 0-255.
            index (int): The image's index (selects the reference).

        Returns:
            Tensor: The pixels the models predict on.
        """
        if self.beta is not None:
            ref = self._reference_image(index).to(img.device)
            img = fda_amplitude_swap(img, ref, self.beta, clip=True)
        if self.grayscale:
            img = to_grayscale(img)
        return img

    @torch.no_grad()
    def _averaged_softmax(self, img_path: str, index: int) -> torch.Tensor:
        """``C x H x W`` averaged softmax, on the models' device."""
        data = self.pipeline(dict(img_path=img_path, reduce_zero_label=False,
                                  seg_fields=[]))
        # FDA and grayscale run where the models are (the GPU, if any).
        device = next(self.models[0].parameters()).device
        img = self.stylize(data['inputs'][None].to(device).float(), index)
        prob = None
        for model in self.models:
            batch = dict(inputs=[img[0]], data_samples=[data['data_samples']])
            sample = model.test_step(batch)[0]
            p = sample.seg_logits.data.float().softmax(dim=0)
            prob = p if prob is None else prob + p
        prob /= len(self.models)
        return prob

    def __call__(self, img_path: str,
                 index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(pred, conf)`` at the original image size.

        Args:
            img_path (str): The target image.
            index (int): Its index in the target set.

        Returns:
            tuple: ``H x W`` uint8 predicted classes and float confidences
            (max of the averaged softmax).
        """
        conf, pred = self._averaged_softmax(img_path, index).max(dim=0)
        return pred.cpu().numpy().astype(np.uint8), conf.cpu().numpy()

    def probabilities(self, img_path: str, index: int) -> np.ndarray:
        """Return the class scores at the original image size.

        What class-normalized selection (CBST) needs: every class's score,
        not only the argmax and its confidence.

        Args:
            img_path (str): The target image.
            index (int): Its index in the target set.

        Returns:
            np.ndarray: ``C x H x W`` float32 averaged softmax.
        """
        return self._averaged_softmax(img_path, index).cpu().numpy()
