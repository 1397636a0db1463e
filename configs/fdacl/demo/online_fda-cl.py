# FDA + CL online on the demo: online_rcs.py with the switches of
# configs/_base_/uda/fda-cl-online.py (the source in the target's style, FDA
# beta 0.01; the teacher's pseudo labels on the target in the source's style;
# entropy 0.005 and the cross-view pixel contrast of stage 2 on them).
_base_ = ['./online_rcs.py', '../../_base_/uda/fda-cl-online.py']
model = dict(
    **_base_.online_fda_cl, data_preprocessor=dict(fda=_base_.online_fda))
