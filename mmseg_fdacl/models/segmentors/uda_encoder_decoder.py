"""Encoder-decoder segmentor trained for unsupervised domain adaptation.

Losses of one iteration (each switched by its weight):

* cross-entropy on the source batch (plain, grayscale or FDA-stylized into the
  target style by :class:`UDADataPreProcessor`);
* entropy minimization on the target batch (Vu et al., "ADVENT", CVPR 2019;
  with FDA's Charbonnier penalty, Yang & Soatto, CVPR 2020);
* a pixel-level supervised contrastive loss (Khosla et al., NeurIPS 2020,
  per pixel as Wang et al., ICCV 2021) between the target and its
  source-stylized copy, both labeled by the target's pseudo label;
* optionally cross-entropy on the target pseudo labels (FDA's self-training).

Only the loss differs from :class:`mmseg.models.EncoderDecoder`: ``predict``
and ``tensor`` modes, the parameter names and so the checkpoints are the
same, so ``tools/test.py`` evaluates a checkpoint of this model with the plain
segmentation config.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptSampleList, SampleList
from torch import Tensor

from .contrast_schedule import check_cl_schedule, cl_factor
from .contrast_term import ContrastTermMixin
from .grad_norms import feature_grad_norms
from .uda_utils import (check_weight, stack_pseudo_labels, suffix_keys,
                        valid_mask)

_EMBEDDINGS = ('projection', 'logits')
_FORWARD_VIEWS = ('separate', 'joint')
_RESOLUTIONS = ('native', 'input')


@MODELS.register_module()
class UDAEncoderDecoder(ContrastTermMixin, EncoderDecoder):
    """:class:`EncoderDecoder` whose ``loss`` adds the target-domain terms.

    ``loss`` takes the source batch as ``inputs``/``data_samples`` and the
    target keys produced by :class:`UDADataPreProcessor`. Loss keys:
    ``loss_ce_src`` and ``acc_seg_src`` (source CE; other decode losses get the
    same ``_src`` suffix), ``loss_ent_trg`` (already x ``lambda_ent``),
    ``loss_cl`` (x ``lambda_cl``), ``loss_ce_trg_pl`` and ``acc_seg_trg_pl``
    (x ``lambda_pseudo_ce``). A term whose weight is 0 has no key; before
    ``warmup_iters`` the entropy and contrastive keys are constant zeros (no
    graph, no gradient) so the log keeps its columns. With ``cl_schedule``
    the log also has ``cl_factor`` (the schedule's factor of
    ``lambda_cl``). After :meth:`request_grad_norms`, the next ``loss``
    call adds ``gnorm_<term>`` (e.g. ``gnorm_ce_src``, ``gnorm_cl``): the
    norm of each term's gradient at the shared features
    (:mod:`.grad_norms`); :class:`FeatureGradNormHook` asks on logging
    iterations.

    Args:
        backbone, decode_head, and by keyword neck, auxiliary_head,
            train_cfg, test_cfg, data_preprocessor, pretrained, init_cfg: As
            :class:`EncoderDecoder`. With ``embedding='projection'`` the
            ``auxiliary_head`` must be a single :class:`ProjectionHead`; it
            only produces embeddings (its own loss is not used).
        source_ce (bool): Cross-entropy on the source batch. Default: True.
        lambda_ent (float): Weight of the target entropy. FDA: 0.005.
            Default: 0.
        entropy_loss (dict): The entropy loss config, without
            ``loss_weight`` (that is ``lambda_ent``).
            Default: ``dict(type='EntropyLoss', charbonnier_eta=2.0)``.
        lambda_cl (float): Weight of the contrastive loss. Default: 0.
        contrast_loss (dict): The contrastive loss config, without
            ``loss_weight``. Default: ``dict(type='PixelContrastLoss')``.
        embedding (str): ``'projection'`` (the auxiliary ProjectionHead) or
            ``'logits'`` (L2-normalized class scores). Default: 'projection'.
        lambda_pseudo_ce (float): Weight of cross-entropy on the target
            pseudo labels. Default: 0.
        warmup_iters (int): Iterations before the target terms (entropy,
            contrastive and pseudo-label CE alike) switch on (the method's
            stage 2 used 50000 for entropy and contrast). The iteration is
            read from mmengine's ``MessageHub`` (``'iter'``, set by the
            runner); outside a runner it counts as 0. Default: 0.
        entropy_resolution (str): ``'native'`` computes the entropy on the
            decoder's logits at their own (stride-8) resolution, as FDA's
            ``model/deeplab.py``; ``'input'`` on logits upsampled to the
            input size (a different mean: the same ``lambda_ent`` weighs it
            differently). Default: 'native'.
        embedding_resolution (str): ``'input'`` samples pixels on the input
            grid, the embeddings upsampled there (the method's contrastive
            loss takes full-resolution logits; its cross-view form upsamples
            only the drawn positions, the SupCon form the whole maps, whose
            memory grows with ``D x H x W``: fine for 19 logits, large for a
            256-d projection);
            ``'native'`` samples at the decoder's resolution, with the labels
            downsampled. Default: 'input'.
        forward_views (str): ``'separate'`` runs the network once per view
            (source, target, stylized target), so BatchNorm statistics stay
            per domain, as the reference code; ``'joint'`` concatenates the
            views into one batch (one pass, shared statistics; views must
            have the same size). Default: 'separate'.
        cl_schedule (dict, optional): Weight schedule of the contrastive
            term (:mod:`.contrast_schedule`): None is the reference's hard
            switch (full ``lambda_cl`` from ``warmup_iters``);
            ``dict(type='linear', start=S, ramp_iters=R)`` multiplies
            ``lambda_cl`` by ``clip((i - S + 1) / R, 0, 1)`` at iteration
            ``i``; ``dict(type='step', start=S)`` switches at ``S``. ``start``
            defaults to ``warmup_iters``; the other target terms keep
            ``warmup_iters``. Default: None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 *,
                 source_ce: bool = True,
                 lambda_ent: float = 0.0,
                 entropy_loss: ConfigType = dict(
                     type='EntropyLoss', charbonnier_eta=2.0),
                 lambda_cl: float = 0.0,
                 contrast_loss: ConfigType = dict(type='PixelContrastLoss'),
                 embedding: str = 'projection',
                 lambda_pseudo_ce: float = 0.0,
                 warmup_iters: int = 0,
                 forward_views: str = 'separate',
                 entropy_resolution: str = 'native',
                 embedding_resolution: str = 'input',
                 cl_schedule: Optional[dict] = None,
                 **kwargs) -> None:
        # neck, auxiliary_head, train_cfg, test_cfg, data_preprocessor,
        # pretrained, init_cfg: EncoderDecoder's, by keyword.
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        if not isinstance(source_ce, bool):
            raise ValueError('UDAEncoderDecoder: `source_ce` must be a bool, '
                             f'got {source_ce!r}.')
        self.source_ce = source_ce
        self.lambda_ent = check_weight('lambda_ent', lambda_ent)
        self.lambda_cl = check_weight('lambda_cl', lambda_cl)
        self.lambda_pseudo_ce = check_weight('lambda_pseudo_ce',
                                              lambda_pseudo_ce)
        if (not isinstance(warmup_iters, int) or isinstance(warmup_iters, bool)
                or warmup_iters < 0):
            raise ValueError('UDAEncoderDecoder: `warmup_iters` must be an '
                             f'int >= 0, got {warmup_iters!r}.')
        self.warmup_iters = warmup_iters
        self.cl_schedule = check_cl_schedule(cl_schedule, warmup_iters)
        self._grad_norms_requested = False
        if embedding not in _EMBEDDINGS:
            raise ValueError(f'UDAEncoderDecoder: `embedding` must be one of '
                             f'{_EMBEDDINGS}, got {embedding!r}.')
        self.embedding = embedding
        if forward_views not in _FORWARD_VIEWS:
            raise ValueError(f'UDAEncoderDecoder: `forward_views` must be one '
                             f'of {_FORWARD_VIEWS}, got {forward_views!r}.')
        self.forward_views = forward_views
        for name, value in (('entropy_resolution', entropy_resolution),
                            ('embedding_resolution', embedding_resolution)):
            if value not in _RESOLUTIONS:
                raise ValueError(f'UDAEncoderDecoder: `{name}` must be one '
                                 f'of {_RESOLUTIONS}, got {value!r}.')
        self.entropy_resolution = entropy_resolution
        self.embedding_resolution = embedding_resolution
        if not (self.source_ce or self.lambda_ent or self.lambda_cl
                or self.lambda_pseudo_ce):
            raise ValueError(
                'UDAEncoderDecoder: every loss is off (source_ce=False and '
                'lambda_ent = lambda_cl = lambda_pseudo_ce = 0); enable one.')
        self.entropy_loss = self._build_loss('entropy_loss', entropy_loss,
                                             self.lambda_ent)
        self.contrast_loss = self._build_loss('contrast_loss', contrast_loss,
                                              self.lambda_cl)
        if self.lambda_cl > 0:
            self._check_contrast_setup()

    @staticmethod
    def _build_loss(name: str, cfg: ConfigType, weight: float):
        if weight == 0:
            return None
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise ValueError(f'UDAEncoderDecoder: `{name}` must be a loss '
                             f'config dict with a type, got {cfg!r}.')
        if 'loss_weight' in cfg:
            lam = 'lambda_ent' if name == 'entropy_loss' else 'lambda_cl'
            raise ValueError(
                f'UDAEncoderDecoder: set the weight of `{name}` with `{lam}`, '
                f"not its loss_weight (got {cfg['loss_weight']!r}).")
        cfg = dict(cfg)
        cfg['loss_weight'] = weight
        return MODELS.build(cfg)

    # -- helpers ---------------------------------------------------------
    def current_iter(self) -> int:
        """The runner's iteration, or 0 outside a runner.

        mmengine's ``RuntimeInfoHook`` (a default hook of every runner)
        publishes it as the ``MessageHub`` info ``'iter'`` before each
        training iteration; that is the route the warm-up reads.
        """
        it = MessageHub.get_current_instance().get_info('iter')
        return 0 if it is None else int(it)

    def request_grad_norms(self) -> None:
        """Make the next :meth:`loss` call also return the gradient norm of
        each term at the shared features (``gnorm_<term>``; one partial
        backward per term, so only when asked)."""
        self._grad_norms_requested = True

    def contrast_factor(self, it: int) -> float:
        """The factor of ``lambda_cl`` at iteration ``it`` (see
        ``cl_schedule``)."""
        return cl_factor(self.cl_schedule, it, self.warmup_iters)

    def _features(self, views: List[Tensor]) -> List[List[Tensor]]:
        """Backbone (+neck) features of each view."""
        if self.forward_views == 'separate' or len(views) == 1:
            return [self.extract_feat(v) for v in views]
        shapes = {tuple(v.shape[1:]) for v in views}
        if len(shapes) != 1:
            raise ValueError(
                "UDAEncoderDecoder: forward_views='joint' needs views of one "
                f"size, got {sorted(shapes)}; use forward_views='separate'.")
        sizes = [v.shape[0] for v in views]
        feats = self.extract_feat(torch.cat(views))
        per_level = [f.split(sizes) for f in feats]
        return [[lvl[i] for lvl in per_level] for i in range(len(views))]

    # -- modes -----------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor',
                **kwargs):
        """As :meth:`EncoderDecoder.forward`; in ``'loss'`` mode the target
        keys of :class:`UDADataPreProcessor` go to :meth:`loss`."""
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        return super().forward(inputs, data_samples, mode)

    def loss(self,
             inputs: Tensor,
             data_samples: SampleList,
             target_inputs: Optional[Tensor] = None,
             target_data_samples: OptSampleList = None,
             target_src_style_inputs: Optional[Tensor] = None) -> dict:
        """Compute the configured losses (no backward here).

        Args:
            inputs (Tensor): Source images ``N x 3 x H x W`` (normalized,
                possibly stylized).
            data_samples (list[SegDataSample]): Source samples with
                ``gt_sem_seg``.
            target_inputs (Tensor, optional): Target images.
            target_data_samples (list[SegDataSample], optional): Target
                samples; ``gt_sem_seg`` holds the pseudo label when given.
            target_src_style_inputs (Tensor, optional): Target images in the
                source style (for the contrastive term).

        Returns:
            dict[str, Tensor]: The loss terms and accuracies.
        """
        return self._uda_losses(inputs, data_samples, target_inputs,
                                target_data_samples, target_src_style_inputs)

    def _uda_losses(self,
                    inputs: Tensor,
                    data_samples: SampleList,
                    target_inputs: Optional[Tensor],
                    target_data_samples: OptSampleList,
                    target_src_style_inputs: Optional[Tensor],
                    contrast_labels: Optional[Tensor] = None) -> dict:
        """The losses of :meth:`loss`; ``contrast_labels`` (``N x H x W``)
        replace the target samples' pseudo labels in the contrastive term
        (online self-training gives the teacher's)."""
        it = self.current_iter()
        warm = it >= self.warmup_iters
        factor = self.contrast_factor(it)
        use_ent = self.entropy_loss is not None and warm
        use_cl = self.contrast_loss is not None and factor > 0
        use_pce = self.lambda_pseudo_ce > 0 and warm
        if (use_ent or use_cl or use_pce) and target_inputs is None:
            raise ValueError(
                'UDAEncoderDecoder: the target terms need `target_inputs`; '
                'train with UDADataset and UDADataPreProcessor.')
        if use_cl and target_src_style_inputs is None:
            raise ValueError(
                'UDAEncoderDecoder: lambda_cl > 0 needs '
                '`target_src_style_inputs`; set data_preprocessor.fda with '
                'target_to_source=True.')

        views, names = [], []
        if self.source_ce:
            views.append(inputs)
            names.append('src')
        if use_ent or use_cl or use_pce:
            views.append(target_inputs)
            names.append('trg')
        if use_cl:
            views.append(target_src_style_inputs)
            names.append('trg_src_style')
        feats = dict(zip(names, self._features(views)))

        losses = dict()
        if self.source_ce:
            losses = self._source_losses(feats['src'], data_samples)
            losses.update(
                self._extra_source_losses(inputs, feats['src'],
                                          data_samples))
        zero = inputs.new_zeros(())
        # Constant zeros (no graph) keep the log's columns.
        if self.entropy_loss is not None and not warm:
            losses['loss_ent_trg'] = zero
        if self.contrast_loss is not None and not use_cl:
            losses['loss_cl'] = zero
        if self.lambda_pseudo_ce > 0 and not warm:
            losses['loss_ce_trg_pl'] = zero
        if self.contrast_loss is not None and self.cl_schedule is not None:
            losses['cl_factor'] = inputs.new_tensor(factor)
        if 'trg' in feats:
            self._target_losses(losses, feats, target_inputs,
                                target_data_samples, contrast_labels, use_ent,
                                use_cl, use_pce, factor)
        if self._grad_norms_requested:
            self._grad_norms_requested = False
            losses.update(
                feature_grad_norms(
                    losses, [f for view in feats.values() for f in view]))
        return losses

    def _target_losses(self, losses: Dict[str, Tensor],
                       feats: Dict[str, List[Tensor]], target_inputs: Tensor,
                       target_data_samples: OptSampleList,
                       contrast_labels: Optional[Tensor], use_ent: bool,
                       use_cl: bool, use_pce: bool, factor: float) -> None:
        """Add the switched-on target terms to ``losses``."""
        x_t = feats['trg']
        logits_t = self.decode_head.forward(x_t)
        if use_ent:
            losses['loss_ent_trg'] = self._entropy(logits_t, target_inputs,
                                                   target_data_samples)
        if use_pce:
            losses.update(self._pseudo_ce(logits_t, target_data_samples))
        if use_cl:
            if contrast_labels is None:
                contrast_labels = stack_pseudo_labels(target_data_samples)
            loss_cl = self._contrast(x_t, logits_t, feats['trg_src_style'],
                                     target_inputs, contrast_labels)
            # The hard switch's factor is 1: the loss is left as it is.
            losses['loss_cl'] = loss_cl if factor == 1.0 else factor * loss_cl

    def _source_losses(self, x: List[Tensor],
                       data_samples: SampleList) -> Dict[str, Tensor]:
        """Decode (and non-projection auxiliary) losses, ``_src`` keys."""
        losses = suffix_keys(
            self._decode_head_forward_train(x, data_samples), '_src')
        if self.with_auxiliary_head and not self._projection_aux:
            losses.update(
                suffix_keys(
                    self._auxiliary_head_forward_train(x, data_samples),
                    '_src'))
        return losses

    def _extra_source_losses(self, inputs: Tensor, x: List[Tensor],
                             data_samples: SampleList) -> Dict[str, Tensor]:
        """Further terms on the source features ``x`` (of ``inputs``); none
        here, subclasses add theirs (the ImageNet feature distance)."""
        return dict()

    def _entropy(self, logits_t: Tensor, target_inputs: Tensor,
                 target_data_samples: SampleList) -> Tensor:
        """Target entropy at ``entropy_resolution``, padding masked out."""
        mask = valid_mask(target_inputs, target_data_samples)
        if self.entropy_resolution == 'input':
            return self.entropy_loss(
                self._to_input_size(logits_t, target_inputs), mask)
        mask = F.interpolate(
            mask[:, None].float(), size=logits_t.shape[2:],
            mode='nearest')[:, 0].bool()
        return self.entropy_loss(logits_t, mask)

    def _pseudo_ce(self, logits_t: Tensor,
                   target_data_samples: SampleList) -> Dict[str, Tensor]:
        """Decode-head loss on the pseudo labels, ``_trg_pl`` keys."""
        stack_pseudo_labels(target_data_samples)
        pce = self.decode_head.loss_by_feat(logits_t, target_data_samples)
        return {
            key + '_trg_pl':
            value * self.lambda_pseudo_ce if 'loss' in key else value
            for key, value in pce.items()
        }
