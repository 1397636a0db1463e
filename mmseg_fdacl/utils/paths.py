"""Path conventions shared by the pseudo-label writer and its readers."""
import os
import os.path as osp


def pseudo_label_path(img_path: str, img_root: str, label_dir: str) -> str:
    """Return where the pseudo label of one target image lives.

    The pseudo-label folder mirrors the target image tree: the image's path
    relative to ``img_root`` is kept, with the extension replaced by ``.png``.

    Args:
        img_path (str): Path of the target image.
        img_root (str): Root of the target image tree (the dataset's
            ``data_prefix['img_path']`` joined with its ``data_root``).
        label_dir (str): Root of the pseudo-label folder.

    Returns:
        str: Path of the pseudo-label PNG.

    Raises:
        ValueError: If ``img_path`` is not inside ``img_root``.
    """
    rel = osp.relpath(osp.abspath(img_path), osp.abspath(img_root))
    if rel.startswith(os.pardir):
        raise ValueError(f'image {img_path!r} is not inside the target image '
                         f'root {img_root!r}; check data_root/data_prefix.')
    return osp.join(label_dir, osp.splitext(rel)[0] + '.png')
