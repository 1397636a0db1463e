# The counterpart of stage2_reference-timing.py without the contrastive term:
# from scratch, FDA cross-entropy throughout, entropy from iteration 333 (the
# last sixth), no pseudo labels and no source-style copy of the target (as
# stage2_fda-only.py). The pair measures what the contrastive term adds under
# the reference's timing.
_base_ = './stage2_fda-only.py'
model = dict(warmup_iters=333)
