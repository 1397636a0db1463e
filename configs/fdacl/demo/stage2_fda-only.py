# Ablation 'no CE, no CL': stage 2 with neither the contrastive term nor
# pseudo-label CE, i.e. FDA CE + entropy from the stage-1 checkpoint; the
# target needs no labels (no pseudo labels loaded) and no source-style copy.
# As configs/fdacl/deeplabv2_gta2cs_stage2-no-cl.py, which still loads them.
_base_ = './stage2.py'
train_dataloader = dict(
    dataset=dict(
        target=dict(pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackSegInputs')
        ]),
        pseudo_label_dir=None))
model = dict(
    data_preprocessor=dict(fda=dict(target_to_source=False)),
    lambda_cl=0.0)
