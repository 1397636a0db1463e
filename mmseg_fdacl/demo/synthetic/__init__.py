"""The embedded two-domain street-scene benchmark (GTA5-like -> Cityscapes-like).

No dataset can be downloaded here, so the default data are rendered: street
scenes seen by a pinhole camera over a flat ground plane, with Cityscapes' 19
classes in a plausible layout (sky, a skyline and facades along the street,
road with sidewalks and terrain strips, poles carrying signs and lights, trees,
parked and moving vehicles, pedestrians, rare riders and trains). Both domains
draw scenes from the same sampler, so their label distributions are equal; only
the appearance differs:

* ``'source'`` (game-like): flat saturated per-class colors with a small
  per-instance variation, simple face shading, sharp (aliased) edges.
* ``'target'`` (camera-like): the same scene sampler rendered through a camera
  model: per-class texture, depth-dependent haze, an illumination gradient, a
  different color response (desaturation, channel gains, gamma, exposure),
  vignetting, lens blur and sensor noise.

Most of the shift is global and low-frequency (color response, illumination),
the part Fourier domain adaptation swaps; texture, blur and noise are the part
it cannot, so the gap is real but partly closable. Classes also differ by shape
and context (windows on buildings, wheels and cabins on cars, poles carrying
signs), so color is not the only cue.

Files are written in the real layouts and label encodings: GTA5
``gta5/images/NNNNN.png`` + ``gta5/labels/NNNNN.png`` (Cityscapes label ids
in a palette PNG, as GTA5 ships them;
``tools/dataset_converters/gta5.py`` makes ``*_labelTrainIds.png``), Cityscapes
``cityscapes/leftImg8bit/{split}/{city}/{city}_NNNNNN_000019_leftImg8bit.png``
+ ``cityscapes/gtFine/...`` with ``_gtFine_labelIds.png`` and
``_gtFine_labelTrainIds.png``.

Modules, by responsibility: :mod:`.geometry` (canvas and pinhole camera),
:mod:`.layout` (sky, ground, skyline, facades), :mod:`.objects` (street
furniture, people) and :mod:`.vehicles`, :mod:`.appearance` (per-class colors,
texture and the camera look), :mod:`.scene` (the renderer and
:func:`render_scene`), :mod:`.writer` (the data tree and its statistics).
"""
from .classes import CLASSES, NUM_CLASSES
from .scene import DOMAINS, image_rng, render_scene
from .writer import format_class_table, generate_uda_data, trainid_to_labelid

__all__ = [
    'CLASSES', 'NUM_CLASSES', 'DOMAINS', 'format_class_table',
    'generate_uda_data', 'image_rng', 'render_scene', 'trainid_to_labelid'
]
