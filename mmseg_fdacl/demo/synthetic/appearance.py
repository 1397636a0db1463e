"""Appearance: per-class colors of the game-like source, the target's texture
and the camera model that makes the camera-like target look."""
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .classes import (BICYCLE, BUILDING, BUS, CAR, FENCE, LIGHT, MOTORCYCLE,
                      NUM_CLASSES, PERSON, POLE, RIDER, ROAD, SIDEWALK, SIGN,
                      SKY, TERRAIN, TRAIN, TRUCK, VEGETATION, WALL)
from .geometry import Canvas

# Base RGB colors per class: a palette (one entry drawn per instance) and the
# per-channel standard deviation of the instance variation. Several classes
# share hues (grey building / wall / pole / road, white car / sidewalk), so a
# model has to use shape and context as well as color.
PALETTES: Dict[int, Tuple[List[Tuple[int, int, int]], float]] = {
    ROAD: ([(72, 70, 76)], 4.0),
    SIDEWALK: ([(160, 150, 146), (150, 140, 120)], 5.0),
    BUILDING: ([(150, 112, 88), (178, 166, 150), (112, 112, 124),
                (180, 118, 86), (200, 190, 160)], 10.0),
    WALL: ([(166, 156, 128), (130, 126, 120)], 6.0),
    FENCE: ([(128, 96, 62), (150, 150, 158)], 6.0),
    POLE: ([(96, 96, 100), (60, 70, 64)], 4.0),
    LIGHT: ([(36, 36, 32)], 3.0),
    SIGN: ([(24, 64, 210), (214, 30, 30), (236, 206, 24)], 5.0),
    VEGETATION: ([(52, 142, 40), (70, 120, 30), (40, 110, 56)], 8.0),
    TERRAIN: ([(146, 166, 70), (160, 140, 90)], 6.0),
    SKY: ([(92, 162, 242)], 6.0),
    PERSON: ([(210, 40, 40), (30, 60, 170), (40, 40, 44), (220, 220, 210),
              (60, 130, 60), (200, 160, 30)], 10.0),
    RIDER: ([(220, 110, 20), (30, 30, 34), (160, 30, 120)], 10.0),
    CAR: ([(204, 22, 22), (22, 44, 166), (232, 232, 232), (32, 32, 34),
           (150, 152, 162), (24, 120, 64)], 8.0),
    TRUCK: ([(222, 222, 222), (204, 120, 22), (42, 84, 160)], 8.0),
    BUS: ([(232, 182, 22), (200, 32, 32), (32, 102, 204)], 6.0),
    TRAIN: ([(204, 206, 214), (222, 44, 44)], 5.0),
    MOTORCYCLE: ([(30, 30, 30), (182, 22, 22)], 6.0),
    BICYCLE: ([(42, 42, 42), (22, 82, 182)], 6.0),
}
SKIN = [(224, 172, 140), (170, 120, 90), (110, 76, 56)]

# Target-domain texture strength per class (relative modulation).
TEXTURE = np.array([
    0.10, 0.08, 0.10, 0.08, 0.12, 0.05, 0.05, 0.04, 0.35, 0.25, 0.02, 0.10,
    0.10, 0.05, 0.06, 0.05, 0.05, 0.08, 0.08
], np.float32)


def class_color(rng: np.random.Generator, cls: int) -> np.ndarray:
    palette, std = PALETTES[cls]
    base = np.array(palette[rng.integers(len(palette))], np.float32)
    return np.clip(base + rng.normal(0, std, 3), 0, 255).astype(np.float32)


def shade(color: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(color * factor, 0, 255).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                 sigma: float) -> np.ndarray:
    n = rng.standard_normal(shape).astype(np.float32)
    if sigma > 0.3:
        n = cv2.GaussianBlur(n, (0, 0), sigma)
        n /= n.std() + 1e-6
    return n


def camera_look(rng: np.random.Generator, canvas: Canvas) -> np.ndarray:
    """Render the target ("camera-like") appearance of a scene.

    Steps, in order: per-class texture, depth haze, illumination gradient,
    color response (desaturation, white balance gains, exposure, gamma),
    vignetting, lens blur, sensor noise.
    """
    h, w = canvas.label.shape
    scale = w / 512.0
    img = canvas.color.copy()
    lab = canvas.label
    tex_amp = np.where(lab < NUM_CLASSES,
                       TEXTURE[np.minimum(lab, NUM_CLASSES - 1)], 0.05)
    fine = smooth_noise(rng, (h, w), 0.7 * scale)
    coarse = smooth_noise(rng, (h, w), 3.0 * scale)
    img *= (1 + tex_amp * (0.6 * fine + 0.6 * coarse))[..., None]
    # Haze towards a bright grey airlight; sky fully replaced at infinity.
    airlight = np.array([205, 210, 215], np.float32) + rng.normal(0, 5, 3)
    t = np.exp(-np.minimum(canvas.depth, 1e4) / rng.uniform(70, 160))
    t = np.where(lab == SKY, rng.uniform(0.15, 0.35), t)[..., None]
    img = img * t + airlight * (1 - t)
    # Illumination: a smooth gradient in a random direction.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    g = (np.cos(ang) * (xx / w - 0.5) + np.sin(ang) * (yy / h - 0.5))
    img *= (1 + rng.uniform(0.3, 0.6) * g)[..., None]
    # Color response: desaturate, warm/green cast, exposure, gamma.
    luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
    sat = rng.uniform(0.45, 0.65)
    img = luma[..., None] + sat * (img - luma[..., None])
    gains = np.array([1.12, 1.04, 0.78], np.float32) * rng.uniform(
        0.95, 1.05, 3)
    img *= gains * rng.uniform(0.75, 1.0)
    img = 255.0 * np.power(np.clip(img / 255.0, 0, 1), rng.uniform(1.25, 1.5))
    # Vignetting.
    r2 = ((xx / w - 0.5)**2 + (yy / h - 0.5)**2) / 0.5
    img *= (1 - rng.uniform(0.3, 0.5) * r2)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.0) * scale)
    img += rng.normal(0, rng.uniform(3, 6), img.shape).astype(np.float32)
    return np.clip(img, 0, 255)
