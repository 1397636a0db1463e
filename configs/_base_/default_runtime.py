# Runtime settings shared by every experiment (MMSeg 1.x style).
# `custom_imports` and `default_scope` live in the model bases and in every
# leaf config; they are not repeated here because mmengine refuses a key that
# two `_base_` files both define.
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
# A local checkpoint to initialise the whole model from (not resumed).
load_from = None
resume = False
randomness = dict(seed=0)
tta_model = dict(type='SegTTAModel')
