# Stage 2 of the method with VGG16 FCN-8s in this project's first
# recipe: from the stage-1 checkpoint, FDA beta 0.01, poly decay over 150k
# iterations stopped at 100k. The pseudo labels are made from the stage-1
# checkpoint before training (PseudoLabelHook); another checkpoint:
#   --cfg-options stage1_checkpoint=STAGE1.pth load_from=STAGE1.pth
_base_ = [
    '../_base_/models/vgg16_fcn8s.py',
    '../_base_/uda/stage2-fda-beta0.01-cl.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The final checkpoint of vgg16_gta2cs_stage1.py (tools/train.py).
stage1_checkpoint = 'work_dirs/vgg16_gta2cs_stage1/iter_100000.pth'
load_from = stage1_checkpoint
model = _base_.uda_model
