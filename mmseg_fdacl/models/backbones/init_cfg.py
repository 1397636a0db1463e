"""The ``pretrained`` / ``init_cfg`` convention shared by our backbones."""
from typing import Optional, Union

from mmseg.utils import OptConfigType

#: Default initialization when no weights are given (MMSeg's ResNet habit).
DEFAULT_INIT_CFG = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


def resolve_init_cfg(owner: str, pretrained: Optional[str],
                     init_cfg: OptConfigType) -> Union[dict, list]:
    """Turn ``pretrained`` (a local checkpoint path) into an ``init_cfg``.

    Args:
        owner (str): Backbone name, for error messages.
        pretrained (str, optional): Local checkpoint path; nothing is
            downloaded.
        init_cfg (dict | list, optional): An explicit initialization.

    Returns:
        dict | list: ``Pretrained`` from the path, the given ``init_cfg``, or
        :data:`DEFAULT_INIT_CFG`.

    Raises:
        ValueError: If both are given.
        TypeError: If ``pretrained`` is not a path.
    """
    if pretrained is None:
        return init_cfg if init_cfg is not None else list(DEFAULT_INIT_CFG)
    if init_cfg is not None:
        raise ValueError(f'{owner}: give `pretrained` or `init_cfg`, not both '
                         f'(pretrained={pretrained!r}, init_cfg={init_cfg!r}).')
    if not isinstance(pretrained, str):
        raise TypeError(f'{owner}: `pretrained` must be a checkpoint path or '
                        f'None, got {pretrained!r}.')
    return dict(type='Pretrained', checkpoint=pretrained)
