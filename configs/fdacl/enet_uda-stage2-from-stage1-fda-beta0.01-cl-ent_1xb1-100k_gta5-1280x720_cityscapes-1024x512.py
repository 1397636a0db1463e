# Stage 2 of the method with ENet (Paszke et al., 2016) in this project's first
# recipe: from the stage-1 checkpoint, FDA beta 0.01, poly decay over 150k
# iterations stopped at 100k. Other checkpoint or pseudo labels:
#   --cfg-options load_from=STAGE1.pth \
#                 train_dataloader.dataset.pseudo_label_dir=PSEUDO_LABEL_DIR
_base_ = [
    '../_base_/models/enet.py',
    '../_base_/uda/stage2-fda-beta0.01-cl.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The work_dir of enet_gta2cs_stage1.py (tools/train.py) and a folder in it
# for tools/generate_pseudo_labels.py --out.
stage1_checkpoint = 'work_dirs/enet_gta2cs_stage1/iter_100000.pth'
pseudo_label_dir = 'work_dirs/enet_gta2cs_stage1/pseudo_labels'
load_from = stage1_checkpoint
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
model = _base_.uda_model
