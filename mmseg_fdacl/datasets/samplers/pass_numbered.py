"""The contract between :class:`ResumableInfiniteSampler` and a dataset."""


class PassNumberedDataset:
    """Mixin: the dataset accepts indices ``pass * len(self) + index``.

    :class:`ResumableInfiniteSampler` gives such a dataset the number of the
    pass over the data in each index (an iteration-based loop has no epoch
    to tell it), so the dataset can vary, e.g., what it pairs with a sample
    from one pass to the next (:class:`UDADataset`). The dataset must map
    every index ``i`` to sample ``i % len(self)``; other datasets get plain
    indices.
    """
