# deeplabv2_coast_dacs.py watched in TensorBoard (docs/visualization.md): the
# loss terms, lr and mIoU as scalars, every 50th validation image drawn.
_base_ = ['./deeplabv2_coast_dacs.py', '../../_base_/tensorboard.py']
visualizer = dict(vis_backends=_base_.tensorboard_vis_backends)
default_hooks = dict(visualization=_base_.val_visualization)
