"""A stand-in labeller: colour and position clustering into k regions.

THIS IS NOT SEMANTIC SEGMENTATION. It groups pixels whose colour and place
in the image are alike (k-means on colour plus position), so that selective
compression (SC) can be trained and tried on photos that come without a
label map. Its "classes" are region numbers of one image, 0..k-1 ordered by
mean brightness, with no meaning across images: class 3 is not "sky". A
user with real label maps (Cityscapes `*_labelIds.png`, or any uint8 PNG of
class ids) passes those instead.
"""

import warnings

import numpy as np
from PIL import Image
from scipy import ndimage

from tfgc import extras
from tfgc.config import latent_shape
from tfgc.labellers.cells import cells_to_pixels

# Weight of position against colour (both scaled to [0, 1]): larger gives
# rounder, more compact regions.
POSITION_WEIGHT = 0.5
# Passes of a 3x3 majority filter over the cells: fewer stray cells, fewer
# bits for the label map.
SMOOTHING_PASSES = 2


def _kmeans(features, k, seed):
  """k-means (k-means++ seeding, one run) of features [N, D]: labels [N].

  Identical points can leave fewer than k clusters; that is expected here
  (a flat image has one region), so scikit-learn's warning is silenced.
  scikit-learn is imported here, not with the module: tfgc.data imports
  this module and half a second per process is paid by every run that
  never labels.
  """
  extras.require("train", "the stand-in labeller", ["sklearn"])
  from sklearn.cluster import KMeans
  from sklearn.exceptions import ConvergenceWarning
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    return KMeans(k, n_init=1, random_state=seed).fit_predict(features)


def _majority(labels, classes):
  """One 3x3 majority-filter pass over int [h, w] labels."""
  counts = [ndimage.uniform_filter((labels == c).astype(np.float64), 3,
                                   mode="nearest") for c in range(classes)]
  return np.argmax(counts, axis=0)


def cluster_labels(image, classes=8, seed=0):
  """uint8 [H, W, 3] -> uint8 [H, W] region ids in [0, classes).

  Deterministic for a given image, `classes` and `seed`. Ids are constant
  on the 16 x 16 cells of the latent grid, numbered 0, 1, ... by increasing
  mean brightness of the regions found (fewer than `classes` when some
  vanish). Not semantic (see module doc).
  """
  if not 1 <= classes <= 256:
    raise ValueError(f"classes must be in 1..256, got {classes}")
  height, width = image.shape[:2]
  grid = latent_shape((height, width))[::-1]  # PIL sizes are (W, H).
  small = np.asarray(Image.fromarray(image).resize(grid, Image.BOX),
                     dtype=np.float64) / 255.0
  rows, columns = np.mgrid[0:small.shape[0], 0:small.shape[1]]
  side = max(small.shape[:2])
  features = np.concatenate(
      [small.reshape(-1, 3),
       POSITION_WEIGHT * np.stack([rows.ravel(), columns.ravel()], 1) / side],
      axis=1)
  labels = _kmeans(features, min(classes, len(features)),
                   seed).reshape(small.shape[:2])
  for _ in range(SMOOTHING_PASSES):
    labels = _majority(labels, labels.max() + 1)
  present = np.unique(labels)
  brightness = [small[labels == j].mean() for j in present]
  order = np.zeros(labels.max() + 1, np.uint8)
  order[present] = np.argsort(np.argsort(brightness))
  return cells_to_pixels(order[labels], (height, width))
