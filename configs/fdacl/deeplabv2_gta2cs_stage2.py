# Short name: stage 2 (FDA CE + entropy + contrastive with pseudo labels),
# DeepLabV2, GTA5 -> Cityscapes. Give the stage-1 checkpoint and the pseudo
# labels with --cfg-options load_from=... train_dataloader.dataset.pseudo_label_dir=...
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
