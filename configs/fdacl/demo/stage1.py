# Stage 1 of the method: grayscale source and target (color is the most
# domain-specific cue), cross-entropy on the source and entropy minimization
# on the target. Its predictions on source-stylized target images become the
# pseudo labels of stage 2 (see pseudo_labels in pipeline.py).
_base_ = './_base_uda.py'
model = dict(
    data_preprocessor=dict(
        grayscale=dict(source=True, target=True, test=True)),
    lambda_ent=0.005)
