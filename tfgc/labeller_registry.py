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
# (score >= FACE_SCORE) inside their box: portraits and small figures,
# where MoveNet sees too little body. Faces in the person's box: the
# astronaut shrunk to 256, 192 and 128 px in a 1024 x 768 frame 0.95,
# 0.91, 0.91 (MoveNet 0.31, 0.28, 0.25); Grace Hopper's head and
# shoulders 0.87. On the 380 training photos the animals and things
# MoveNet gives 0.07-0.22 (monkeys, a gibbon, a fish, swans, a dog, a
# kangaroo, a butterfly, a tape measure) have "faces" of 0.60-0.79, and so
# has Grace Hopper's face cropped to fill 260 x 260 px (0.71, MoveNet
# 0.10): 0.8 keeps the animals out and misses that crop. The face alone is
# not a person: the cat's scores 0.87 on the whole photo, MoveNet 0.00.
FACE_SCORE = 0.8
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
