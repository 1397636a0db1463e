# SYNTHIA (labeled source) paired with Cityscapes train images (unlabeled
# target), as gta5-cityscapes_uda.py: SYNTHIA 1280x760 with 1024x512 crops
# (FDA's sizes), Cityscapes resized to 1024x512; validation/test on Cityscapes
# val scored over 19, 16 (mIoU16) and 13 (mIoU13) classes.
# Data roots on the command line:
#   --cfg-options train_dataloader.dataset.source.data_root=data/synthia \
#                 train_dataloader.dataset.target.data_root=data/cityscapes \
#                 val_dataloader.dataset.data_root=data/cityscapes
_base_ = [
    '../datasets/synthia_1280x760.py',
    '../datasets/cityscapes_1024x512.py',
]
target_train_dataset = dict(
    type={{_base_.target_dataset_type}},
    data_root={{_base_.target_data_root}},
    data_prefix=dict(img_path='leftImg8bit/train'),
    pipeline={{_base_.target_train_pipeline}})
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='UDADataset',
        source={{_base_.train_dataloader.dataset}},
        target=target_train_dataset,
        pairing='random',
        seed=0,
        pseudo_label_dir=None))
val_evaluator = {{_base_.synthia_evaluator}}
test_evaluator = val_evaluator
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
