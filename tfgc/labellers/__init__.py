"""Labellers: an image's SC label map from the image alone.

Every labeller has a `name`, `class_names` (class id i is
`class_names[i]`) and `label(image)`: uint8 [H, W, 3] of any size ->
uint8 [H, W] class ids, constant on the 16 x 16 cells of the latent grid
(tfgc/labellers/cells.py).

    standin  k colour/position regions per image, `region 0` ... (k-means;
             NOT semantic: region ids mean nothing across images)
    person   0 background, 1 person (MediaPipe Selfie Segmentation inside
             MoveNet's person boxes)
    objects  0 background, 1 person (as `person`), 2-12 COCO's other
             supercategories (NanoDet's boxes of COCO's 80 thing classes)
"""

from tfgc.config import LABELLERS as NAMES
from tfgc.errors import TfgcError
from tfgc.labellers.standin import cluster_labels

PERSON_CLASSES = ("background", "person")
# COCO's supercategories, in COCO's order (tfgc/labellers/objects.py has
# the classes in each).
OBJECT_CLASSES = PERSON_CLASSES + (
    "vehicle", "outdoor", "animal", "accessory", "sports", "kitchen", "food",
    "furniture", "electronic", "appliance", "indoor")


class StandinLabeller:
  """`cluster_labels` behind the labeller interface: `classes` regions."""

  name = "standin"

  def __init__(self, classes=8, seed=0):
    self.classes, self.seed = classes, seed
    self.class_names = class_names("standin", classes)

  def label(self, image):
    return cluster_labels(image, self.classes, self.seed)


def _person():
  from tfgc.labellers.person import PersonLabeller  # Loads TensorFlow.
  return PersonLabeller()


def _objects():
  from tfgc.labellers.objects import ObjectsLabeller  # Loads TensorFlow.
  return ObjectsLabeller()


def _check_name(name):
  if name not in NAMES:
    raise TfgcError(f"unknown labeller {name!r}: use one of "
                    f"{', '.join(NAMES)}")


def class_names(name, classes):
  """The class names of labeller `name` with `classes` classes (only the
  stand-in's number varies), without loading its networks."""
  _check_name(name)
  if name == "standin":
    return tuple(f"region {i}" for i in range(classes))
  return OBJECT_CLASSES if name == "objects" else PERSON_CLASSES


def get(name, **options):
  """The labeller called `name` (one of NAMES); `options` go to its
  constructor (standin: classes, seed)."""
  _check_name(name)
  if name == "standin":
    return StandinLabeller(**options)
  return (_objects if name == "objects" else _person)(**options)
