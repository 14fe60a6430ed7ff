"""The labellers by name: their classes and score thresholds, readable
without TensorFlow (config, CLI help and checks import this; the networks
are in tfgc/labellers/).

    standin  k colour/position regions per image, `region 0` ... (k-means;
             NOT semantic: region ids mean nothing across images)
    person   0 background, 1 person (MediaPipe Selfie Segmentation inside
             MoveNet's person boxes; BlazeFace's faces confirm close-ups)
    objects  0 background, 1 person (as `person`), 2-12 COCO's other
             supercategories (NanoDet's boxes of COCO's 80 thing classes)
"""

from tfgc.errors import TfgcError

PERSON_CLASSES = ("background", "person")
# COCO's supercategories, in COCO's order (tfgc/labellers/objects.py has
# the classes in each).
OBJECT_CLASSES = PERSON_CLASSES + (
    "vehicle", "outdoor", "animal", "accessory", "sports", "kitchen", "food",
    "furniture", "electronic", "appliance", "indoor")
# The labellers whose classes are fixed, by name.
FIXED_CLASSES = {"person": PERSON_CLASSES, "objects": OBJECT_CLASSES}
NAMES = ("standin",) + tuple(FIXED_CLASSES)

# MoveNet's person score above which a person box is segmented. Dev set:
# astronaut 0.47, Grace Hopper 0.60, at most 0.14 (the coffee cup) on the
# five photos without a person. In the training corpus people score
# 0.24-0.66 and animals up to 0.30 (a monkey, a kingfisher): no threshold
# separates them; 0.3 misses close-ups and dark snapshots (0.24-0.28)
# rather than mark animals (a dozen more photos at 0.2).
PERSON_SCORE = 0.3
# A person MoveNet is less sure of is one when BlazeFace finds a face
# (score >= FACE_SCORE) inside their box: close-ups and portraits, where
# MoveNet sees too little body. Dev set: faces score 0.88-0.94 on the
# astronaut and Grace Hopper, whole or cropped to head and shoulders or
# face, 0.73 on the astronaut at 192 px in a 1024 x 768 frame; 0.36
# (coffee) and 0.28 (rocket) on photos without a person, but 0.87 on the
# cat, whom MoveNet gives 0.00: the face alone is not a person. MoveNet
# scores Grace Hopper's face cropped to 260 x 260 px 0.10.
FACE_SCORE = 0.6
FACED_PERSON_SCORE = 0.05
# NanoDet's class score above which a box counts. Checked by eye on 22
# validation photos: at 0.4 a cup, a bottle, a penguin, a cow and a giraffe
# are found, a duckling is missed, and a hammer and a village are taken
# for animals (0.41, 0.42).
OBJECT_SCORE = 0.4


def check_name(name):
  """TfgcError unless `name` is one of NAMES."""
  if name not in NAMES:
    raise TfgcError(f"unknown labeller {name!r}: use one of "
                    f"{', '.join(NAMES)}")


def class_names(name, classes):
  """The class names of labeller `name` with `classes` classes (only the
  stand-in's number varies)."""
  check_name(name)
  if name == "standin":
    return tuple(f"region {i}" for i in range(classes))
  return FIXED_CLASSES[name]


def describe_fixed():
  """"person (2 classes), objects (13 classes)": for help texts."""
  return ", ".join(f"{name} ({len(names)} classes)"
                   for name, names in FIXED_CLASSES.items())
