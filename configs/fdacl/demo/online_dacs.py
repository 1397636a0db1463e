# Online self-training on the demo, DACS' recipe (configs/_base_/uda/dacs.py
# on the demo's small model): mean teacher, ClassMix, colour jitter and blur,
# quality-weighted pseudo labels. tools/run_pipeline.py initializes it from
# the source-only checkpoint (load_from): the demo has no ImageNet weights,
# and a teacher starting from random weights labels nothing worth learning;
# same 400 iterations and optimizer as the other rows. The teacher's alpha is DACS'
# 0.99: 0.999 would average over more iterations than the run has.
_base_ = ['./_base_uda.py', '../../_base_/uda/dacs.py']
model = dict(_base_.uda_model)
