# This project's combination, online: the method's FDA and pixel contrast as
# switches of SelfTrainingEncoderDecoder, for a self-training recipe
# (daformer-recipe.py in the DeepLabV2 leaf). `online_fda` goes to the
# UDADataPreProcessor: the source in the target's style (beta 0.01) for its
# cross-entropy and the pasted ClassMix pixels, and the target in the source's
# style, on which the teacher predicts the pseudo labels (the view the
# method's pseudo labels come from). `online_fda_cl` goes to the model: FDA's
# entropy term (0.005) on the target and the cross-view pixel contrast of
# stage 2 (weight 1, temperature 0.07, 2000 positions, L2-normalized logits)
# on the teacher's pseudo labels.
online_fda = dict(beta=0.01, source_to_target=True, target_to_source=True)
_base_ = ['./method-contrast.py']
online_fda_cl = dict(
    pseudo_label_view='source_style',
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    **_base_.method_contrast)
