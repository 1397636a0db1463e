# Stage 2 with the deck's single beta, 0.01, instead of the notebook's 0.09:
# the ENet and VGG16 stage 2 (this project's first stage-2 recipe; those
# leaves also start from their stage-1 checkpoint).
_base_ = ['./stage2-fda-cl.py']
uda_model = dict(data_preprocessor=dict(fda=dict(beta=0.01)))
