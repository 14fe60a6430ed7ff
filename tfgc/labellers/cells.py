"""Label maps on the latent grid's cells.

SC keeps or synthesises whole latent positions, and the container codes a
label map at 1/16 resolution (labelmaps.encode_label_map), so every
labeller's classes are constant on the 16 x 16 cells of the latent grid
(from the top-left corner; the last row and column of cells are cut by the
image's edge).
"""

import numpy as np
from PIL import Image

from tfgc.config import STRIDE, latent_shape


def cell_means(values, shape):
  """float [H', W'] (any resolution covering the image) -> float32 [h, w],
  the mean over each cell of an image of `shape` (H, W), (h, w) its latent
  grid."""
  grid = latent_shape(shape)[::-1]  # PIL sizes are (W, H).
  return np.asarray(Image.fromarray(np.asarray(values, np.float32)).resize(
      grid, Image.BOX), np.float32)


def cells_to_pixels(cell_labels, shape):
  """uint8 [h, w] labels of the cells -> uint8 [H, W] for `shape` (H, W)."""
  height, width = shape
  return np.ascontiguousarray(cell_labels.repeat(STRIDE, 0).repeat(
      STRIDE, 1)[:height, :width], np.uint8)
