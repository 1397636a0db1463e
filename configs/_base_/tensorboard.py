# Watch training in TensorBoard: mmengine's TensorboardVisBackend next to the
# local JSON log, for every scalar the runner logs (each loss term of the UDA
# segmentors: loss_ce_src, loss_ent_trg, loss_cl, loss_ce_mix, ...; lr;
# mIoU) and the validation images that MMSeg's SegVisualizationHook draws
# with SegLocalVisualizer (prediction next to the ground truth in the
# dataset's palette). A fragment cannot redefine `visualizer` or
# `default_hooks` next to a model base (mmengine refuses a key that two
# `_base_` files of one list define), so a config that uses it says:
#   _base_ = ['./deeplabv2_coast_dacs.py', '../../_base_/tensorboard.py']
#   visualizer = dict(vis_backends=_base_.tensorboard_vis_backends)
#   default_hooks = dict(visualization=_base_.val_visualization)
# Then `tensorboard --logdir work_dirs/<config name>` (needs
# `pip install tensorboard`; docs/visualization.md).
tensorboard_vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
# Every `interval`-th validation image is drawn and sent to every backend
# (files under <work_dir>/<timestamp>/vis_data/vis_image with the local one).
val_visualization = dict(type='SegVisualizationHook', draw=True, interval=50)
