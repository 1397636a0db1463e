"""The files of a dataset config, without running its pipeline."""
import copy
from typing import List, Union

from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS


def build_file_list(dataset: Union[dict, BaseDataset]) -> BaseDataset:
    """Build ``dataset`` with an empty pipeline (only its file list is used).

    Args:
        dataset (dict | BaseDataset): A dataset config (copied, not changed)
            or a built dataset (returned as it is).

    Returns:
        BaseDataset: The dataset; ``get_data_info(i)`` gives ``img_path``
        (and ``seg_map_path`` where it has labels).
    """
    if isinstance(dataset, BaseDataset):
        return dataset
    if not isinstance(dataset, dict) or 'type' not in dataset:
        raise ValueError('build_file_list: expected a dataset config with a '
                         f'"type" key or a dataset, got {dataset!r}.')
    cfg = copy.deepcopy(dict(dataset))
    cfg['pipeline'] = []
    # Serializing the list is for sharing it with dataloader workers; here
    # it only costs a full gc.collect() per build (about 0.5 s in a process
    # that has imported torch and MMSeg), which every pseudo-label process
    # pays on its own.
    cfg.setdefault('serialize_data', False)
    return DATASETS.build(cfg)


def image_paths(dataset: Union[dict, BaseDataset]) -> List[str]:
    """``img_path`` of every sample of ``dataset``, in order."""
    ds = build_file_list(dataset)
    return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
