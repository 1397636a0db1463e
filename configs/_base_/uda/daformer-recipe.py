# DAFormer's training strategy without the transformer (Hoyer et al., CVPR
# 2022, on DeepLabV2): DACS (dacs.py) with the teacher's alpha raised to
# 0.999; rare-class sampling of the source (temperature 0.01, images with more
# than 3000 pixels of the class, from the GTA5 converter's class_stats.json);
# no pseudo-label weight on the top 15 and bottom 120 rows (Cityscapes' ego
# car and image border); DAFormer's colour-jitter strength 0.2; and the
# ImageNet feature distance (0.005 x the L2 distance between the student's
# source features and those of its frozen ImageNet-initialized backbone, on
# cells that thing classes cover at least 75% of). The feature distance needs
# ImageNet weights (model.pretrained): a model without them sets
# imnet_feature_dist=None.
_base_ = ['./dacs.py']
uda_model = dict(
    pseudo_weight_ignore_top=15,
    pseudo_weight_ignore_bottom=120,
    strong_augment=dict(color_jitter_s=0.2),
    imnet_feature_dist=dict(
        lambda_fd=0.005,
        classes=(6, 7, 11, 12, 13, 14, 15, 16, 17, 18),
        scale_min_ratio=0.75))
custom_hooks = [dict(type='MeanTeacherHook', alpha=0.999, evaluate='student')]
# Leaves give it to the UDADataset (train_dataloader.dataset).
rare_class_sampling = dict(
    class_stats='class_stats.json', temperature=0.01, min_pixels=3000,
    min_crop_ratio=0.5)
