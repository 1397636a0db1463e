"""ClassMix masks and mixing: hand-checkable cases, choice rule, seeding."""
import pytest
import torch

from mmseg_fdacl.models.utils import ClassMix, class_mix_masks, mix

# Classes {0, 1, 2} plus ignored pixels (255).
LABEL = torch.tensor([[[0, 0, 1, 1], [0, 2, 2, 1], [255, 2, 2, 1],
                       [255, 255, 0, 0]]])


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize('seed', range(6))
def test_mask_covers_exactly_the_chosen_classes(seed):
    mask = class_mix_masks(LABEL, _gen(seed), pool='image')
    assert mask.shape == (1, 1, 4, 4) and mask.dtype == torch.float32
    chosen = set(LABEL[mask[:, 0] == 1].tolist())
    # Three classes present -> (3 + 1) // 2 = 2 chosen; 255 is never one.
    assert len(chosen) == 2 and chosen <= {0, 1, 2}
    expected = torch.isin(LABEL, torch.tensor(sorted(chosen))).float()
    assert torch.equal(mask[:, 0], expected)
    assert not mask[:, 0][LABEL == 255].any()
    # The documented rule: the first k of randperm(n) over the sorted classes.
    perm = torch.randperm(3, generator=_gen(seed))
    assert chosen == set(perm[:2].tolist())


def test_mixed_image_and_label_stay_aligned():
    src_lbl = LABEL.clone()
    trg_lbl = torch.tensor([[[3, 3, 4, 4]] * 4])
    # Pixel values record where they came from: 100 + label (source) or
    # 200 + label (target), in every channel.
    src_img = (100 + src_lbl.float()).unsqueeze(1).expand(1, 3, 4, 4)
    trg_img = (200 + trg_lbl.float()).unsqueeze(1).expand(1, 3, 4, 4)
    for seed in range(6):
        mask = class_mix_masks(src_lbl, _gen(seed), pool='image')
        img = mix(mask, src_img, trg_img)
        lbl = mix(mask, src_lbl, trg_lbl)
        assert lbl.dtype == torch.long and img.dtype == torch.float32
        from_source = img[:, 0] < 200
        assert torch.equal(from_source, mask[:, 0].bool())
        assert torch.equal(lbl, torch.where(from_source, src_lbl, trg_lbl))
        assert torch.equal(img[:, 0] - torch.where(from_source, 100, 200),
                           lbl.float())
        assert (img == img[:, :1]).all()


@pytest.mark.parametrize('n,k', [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3)])
def test_number_of_chosen_classes(n, k):
    # n classes in a row, plus ignored pixels that must not count.
    label = torch.tensor([[list(range(n)) + [255, 255]]]).expand(1, 3, n + 2)
    for seed in range(4):
        mask = class_mix_masks(label.contiguous(), _gen(seed), pool='image')
        assert len(set(label[mask[:, 0] == 1].tolist())) == k


def test_image_pool_classes_are_per_image_and_unlabeled_image_empty():
    labels = torch.stack([
        torch.tensor([[0, 1], [0, 1]]),
        torch.tensor([[5, 6], [7, 8]]),
        torch.full((2, 2), 255),
        torch.tensor([[3, 3], [3, 3]]),
    ])
    masks = class_mix_masks(labels, _gen(0), pool='image')
    assert len(set(labels[0][masks[0, 0] == 1].tolist())) == 1
    assert len(set(labels[1][masks[1, 0] == 1].tolist())) == 2
    assert not masks[2].any()
    assert masks[3].all()


def test_ignore_index_is_configurable():
    label = torch.tensor([[[0, 1], [-1, -1]]])
    for seed in range(4):
        mask = class_mix_masks(label, _gen(seed), ignore_index=-1,
                               pool='image')
        assert not mask[0, 0, 1].any() and mask[0, 0, 0].sum() == 1


def test_batch_pool_is_daformers_rule():
    # DAFormer's get_class_masks: the pool is torch.unique of the whole
    # batch (255 included); each image draws half of it with its own
    # permutation, in batch order.
    labels = torch.stack([
        torch.tensor([[0, 1], [255, 1]]),
        torch.tensor([[2, 2], [3, 3]]),
    ])
    pool = [0, 1, 2, 3, 255]  # 5 values -> 3 chosen per image
    for seed in range(8):
        gen = _gen(seed)
        masks = class_mix_masks(labels, _gen(seed))
        for i in range(2):
            chosen = torch.tensor(pool)[torch.randperm(5, generator=gen)[:3]]
            assert torch.equal(masks[i, 0],
                               torch.isin(labels[i], chosen).float())
    # 255 is drawn sometimes: ignored source pixels are then pasted.
    pasted = [class_mix_masks(labels, _gen(s))[0, 0, 1, 0].item()
              for s in range(20)]
    assert 0.0 in pasted and 1.0 in pasted


def test_seeded_determinism():
    labels = torch.arange(10).repeat(8, 10, 1) % 10
    first = class_mix_masks(labels, _gen(3))
    assert torch.equal(first, class_mix_masks(labels, _gen(3)))
    assert not torch.equal(first, class_mix_masks(labels, _gen(4)))
    gen = _gen(3)
    class_mix_masks(labels, gen)
    again = _gen(3)
    class_mix_masks(labels, again)
    assert torch.equal(gen.get_state(), again.get_state())


def test_mix_shapes_dtypes_and_soft_masks():
    mask = torch.tensor([[[[1.0, 0.0], [0.25, 1.0]]]])
    fg = torch.full((1, 2, 2, 2), 4.0, dtype=torch.float64)
    bg = torch.zeros_like(fg)
    out = mix(mask, fg, bg)
    assert out.dtype == torch.float64
    assert torch.equal(
        out[0, 1], torch.tensor([[4.0, 0.0], [1.0, 4.0]], dtype=torch.float64))
    weights = mix(mask, torch.ones(1, 2, 2), torch.full((1, 2, 2), 0.5))
    assert torch.allclose(weights, torch.tensor([[[1.0, 0.5], [0.625, 1.0]]]))
    labels = mix(mask.round(), torch.full((1, 2, 2), 7),
                 torch.zeros(1, 2, 2, dtype=int))
    assert labels.tolist() == [[[7, 0], [0, 7]]]
    squeezed = mix(mask[:, 0].round(), torch.full((1, 2, 2), 7),
                   torch.zeros(1, 2, 2, dtype=int))
    assert torch.equal(squeezed, labels)


def test_class_wrapper_matches_functions():
    cm = ClassMix(ignore_index=255)
    assert torch.equal(
        cm.masks(LABEL, _gen(1)), class_mix_masks(LABEL, _gen(1)))
    assert 'ignore_index=255' in repr(cm) and "pool='batch'" in repr(cm)
    assert ClassMix.mix is not None


@pytest.mark.parametrize('kwargs,match', [
    (dict(labels=LABEL.float()), 'integer'),
    (dict(labels=LABEL[None]), 'N x H x W'),
    (dict(generator=0), 'torch.Generator'),
    (dict(ignore_index=2.5), 'ignore_index'),
    (dict(pool='dataset'), '`pool`'),
])
def test_bad_arguments(kwargs, match):
    args = dict(labels=LABEL, generator=_gen(0), ignore_index=255)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        class_mix_masks(**args)


def test_bad_mix_arguments():
    mask = torch.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match='same shape'):
        mix(mask, torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 5))
    with pytest.raises(ValueError, match='same dtype'):
        mix(mask, torch.ones(1, 4, 4), torch.ones(1, 4, 4, dtype=int))
    with pytest.raises(ValueError, match='N x 1 x H x W'):
        mix(
            torch.ones(1, 4, 4), torch.ones(1, 3, 4, 4),
            torch.ones(1, 3, 4, 4))
    with pytest.raises(ValueError, match='N x 1 x H x W'):
        mix(torch.ones(1, 2, 4, 4), torch.ones(1, 4, 4), torch.ones(1, 4, 4))
    with pytest.raises(ValueError, match='ignore_index'):
        ClassMix(ignore_index=None)
