# Short name: stage 2 (FDA CE + entropy + contrastive with pseudo labels),
# DeepLabV2, GTA5 -> Cityscapes, from the ImageNet initialisation as the
# method. Give the pseudo labels with
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=DIR
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
