"""Weight converters: reference and released checkpoints into MMSeg 1.x.

* ``deeplabv2_*``: the DeepLabV2 ResNet-101 of YanchaoYang/FDA (shared by
  AdaptSegNet, ADVENT and DACS), its ImageNet initialization and FDA's
  released models (``tools/model_converters/deeplabv2_reference.py``);
* ``daformer_release``: DAFormer, HRDA and MIC released checkpoints, student
  or teacher (``tools/model_converters/daformer_release.py``).

SegFormer's MiT ImageNet weights are converted by MMSeg's own
``tools/model_converters/mit2mmseg.py``.
"""
