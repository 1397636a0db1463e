# Inputs as torchvision/open-mmlab ImageNet models expect them: RGB, ImageNet
# mean/std (ENet, VGG16). The DeepLabV2 reference trunk uses the caffe mean
# instead (deeplabv2_r101-d8.py).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
