"""The demo harness: everything ``make demo`` needs besides the method.

Not imported by :mod:`mmseg_fdacl` (the method imports without matplotlib or
the scene renderer); imports go one way, demo -> method -> MMSeg/mmengine.
Import the parts from their modules:

* :mod:`.synthetic`: the embedded two-domain street-scene data (renderer and
  the GTA5/Cityscapes data tree).
* :mod:`.spec`, :mod:`.pipeline`, :mod:`.runs`: the pipeline spec, the
  resumable driver (``tools/run_pipeline.py``) and its MMSeg runners.
* :mod:`.seeds`: one spec run once per seed, and the table aggregated over
  the seeds (mean and standard deviation).
* :mod:`.evaluation`: ``Runner.test()`` with MMSeg's ``IoUMetric`` per
  model, and the pseudo-label row.
* :mod:`.report`, :mod:`.plots`, :mod:`.figures`: the table (Markdown,
  console), plots, the FDA figure and prediction grids.
* :mod:`.models`, :mod:`.batches`: the demo's model at other sizes and random
  in-memory batches, for the tests and benchmarks.
"""
