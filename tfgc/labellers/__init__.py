"""Labellers: an image's SC label map from the image alone.

Every labeller has a `name`, `class_names` (class id i is
`class_names[i]`) and `label(image)`: uint8 [H, W, 3] of any size ->
uint8 [H, W] class ids, constant on the 16 x 16 cells of the latent grid
(tfgc/labellers/cells.py). Their names, classes and thresholds are in
`tfgc.labeller_registry`.
"""

# NAMES, the classes and class_names are re-exported: callers that run
# labellers find them here too.
from tfgc.labeller_registry import (  # noqa: F401
    NAMES, OBJECT_CLASSES, PERSON_CLASSES, check_name, class_names)
from tfgc.labellers.standin import cluster_labels


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


def get(name, **options):
  """The labeller called `name` (one of NAMES); `options` go to its
  constructor (standin: classes, seed)."""
  check_name(name)
  if name == "standin":
    return StandinLabeller(**options)
  return (_objects if name == "objects" else _person)(**options)
