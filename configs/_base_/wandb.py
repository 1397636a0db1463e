# Watch training in Weights & Biases: mmengine's WandbVisBackend next to the
# local JSON log (the same scalars and validation images as tensorboard.py;
# needs `pip install wandb` and `wandb login`). Use it as tensorboard.py:
#   _base_ = ['./deeplabv2_coast_dacs.py', '../../_base_/wandb.py']
#   visualizer = dict(vis_backends=_base_.wandb_vis_backends)
#   default_hooks = dict(visualization=_base_.val_visualization)
wandb_vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='WandbVisBackend', init_kwargs=dict(project='mmseg_fdacl')),
]
val_visualization = dict(type='SegVisualizationHook', draw=True, interval=50)
