"""Grayscale as the method's stage 1 uses it: ITU-R BT.601 luma, 3 channels."""
import torch

#: BT.601 luma weights in R, G, B order (cv2's ``COLOR_BGR2GRAY``).
LUMA_RGB = (0.299, 0.587, 0.114)


def to_grayscale(img: torch.Tensor, *, rgb: bool = False) -> torch.Tensor:
    """Replace the color of ``... x 3 x H x W`` pixels by their luma.

    Args:
        img (Tensor): ``3 x H x W`` or ``N x 3 x H x W`` pixels (any float
            range; the weights sum to 1).
        rgb (bool): Channel order of ``img``: RGB if True, BGR (what
            ``LoadImageFromFile`` gives) if False. Default: False.

    Returns:
        Tensor: Same shape, three equal channels.
    """
    if img.dim() not in (3, 4) or img.shape[-3] != 3:
        raise ValueError('to_grayscale: expected 3 x H x W or N x 3 x H x W '
                         f'pixels, got shape {tuple(img.shape)}.')
    weights = LUMA_RGB if rgb else LUMA_RGB[::-1]
    w = img.new_tensor(weights).view(3, 1, 1)
    gray = (img * w).sum(-3, keepdim=True)
    return gray.expand_as(img).contiguous()
