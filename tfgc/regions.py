"""Region selection for selective compression (SC): which pixels to paint.

What a user asks for, checked once against an SC model's classes (their
number and the labeller the model was trained on) before any image is
coded:

  * where each image's label map comes from: the user's map (`labels`) or
    a labeller run on the image (`labeller`, else the model's own);
  * which pixels are synthesised: classes (`synthesize`), every class but
    some (`keep`), or a mask of the pixels to preserve (`preserve`); at
    most one of them, and none preserves everything.

Each image's regions are then checked (`RegionSelection.check_kept`): a
selection that keeps no pixel of it, or keeps a class it lacks, would
quietly paint the whole picture (or the wrong part) from the label map,
so the codec refuses it, naming the classes found and their shares,
unless the caller consents (`allow_empty`).

A `RegionSelection` holds the answer (with its labeller loaded) and turns
an image into its `Regions`: the label map and the synthesis mask that the
export's `analyze` takes.

    from tfgc import codec
    model = codec.load("sc-objects-context-c8")
    selection = model.select_regions(keep=["person"])   # checked once
    data = [model.compress(image, selection=selection) for image in images]

Label maps and preserve masks given as files or arrays are checked against
each image's size when it is selected.
"""

import dataclasses
import os
from typing import NamedTuple

import numpy as np

from tfgc import labellers, labelmaps
from tfgc.errors import TfgcError


class Regions(NamedTuple):
  """An image's SC regions: `labels` uint8 [H, W] class ids in
  [0, num_classes), `synthesis_mask` bool [H, W] (True = synthesise)."""

  labels: np.ndarray
  synthesis_mask: np.ndarray


def _is_path(value):
  return isinstance(value, (str, os.PathLike))


def model_class_names(num_classes, model_labeller):
  """The class names of a model trained on `model_labeller`'s maps (None
  for the user's maps, `model_labeller` "")."""
  return (labellers.class_names(model_labeller, num_classes)
          if model_labeller else None)


def load_labeller(name, num_classes):
  """The labeller `name` for a model of `num_classes` classes (the
  stand-in makes that many regions); refused if its classes exceed them."""
  classes = len(labellers.class_names(name, num_classes))
  if classes > num_classes:
    raise TfgcError(f"the {name} labeller's {classes} classes do not fit "
                    f"this model's {num_classes}: pass --labels=LABELS.png")
  options = dict(classes=num_classes) if name == "standin" else {}
  return labellers.get(name, **options)


# Arrays inside: instances compare by identity.
@dataclasses.dataclass(frozen=True, eq=False)
class SynthesisChoice:
  """Which pixels of a labelled image are synthesised, checked (`build`).

  synthesised_classes: sorted class ids whose pixels are synthesised, or
  kept_classes: sorted class ids kept faithful (every other pixel is
    synthesised), or
  preserve: bool [H, W] (True = keep faithful) or a mask image file
    (nonzero = preserve). None of them: everything is preserved.
  class_names: the names of the class ids (class 0 first), or None.
  """

  synthesised_classes: tuple = None
  kept_classes: tuple = None
  preserve: object = None
  class_names: tuple = None

  @classmethod
  def build(cls, num_classes, class_names=None, synthesize=None, keep=None,
            preserve=None):
    """From the user's `synthesize` or `keep` (class ids, or names listed
    in `class_names`, the name of class 0 first) or `preserve`."""
    if sum(a is not None for a in (synthesize, keep, preserve)) > 1:
      raise TfgcError("give one of --synthesize, --keep and --preserve")
    synthesised, kept = (
        None if classes is None
        else tuple(labelmaps.class_ids(classes, num_classes, class_names))
        for classes in (synthesize, keep))
    if preserve is not None and not _is_path(preserve):
      preserve = np.asarray(preserve)
    return cls(synthesised, kept, preserve,
               None if class_names is None else tuple(class_names))

  def class_name(self, class_id):
    """"person", or "class 3" when the classes have no names."""
    names = self.class_names or ()
    return names[class_id] if class_id < len(names) else f"class {class_id}"

  def request(self):
    """The choice as the flag that makes it, e.g. "--keep=person" (or
    "--keep=1" when the classes have no names)."""
    spell = self.class_name if self.class_names else str
    for flag, ids in (("--synthesize", self.synthesised_classes),
                      ("--keep", self.kept_classes)):
      if ids is not None:
        return f"{flag}={','.join(map(spell, ids))}"
    if _is_path(self.preserve):
      return f"--preserve={os.fspath(self.preserve)}"
    return "--preserve"

  def mask(self, labels):
    """labels uint8 [H, W] -> bool [H, W], True = synthesise."""
    if self.synthesised_classes is not None:
      return labelmaps.synthesis_mask(labels, self.synthesised_classes)
    if self.kept_classes is not None:
      return ~labelmaps.synthesis_mask(labels, self.kept_classes)
    if self.preserve is None:
      return np.zeros(labels.shape, bool)
    if _is_path(self.preserve):
      return labelmaps.read_mask(self.preserve, labels.shape)
    if self.preserve.shape != labels.shape:
      raise labelmaps.LabelMapError(
          f"the preserve mask is {list(self.preserve.shape)}, the image "
          f"{list(labels.shape)}; they must match")
    return ~self.preserve.astype(bool)


@dataclasses.dataclass(frozen=True, eq=False)
class RegionSelection:
  """An SC model's regions for the images it codes, checked (`build`).

  num_classes, model_labeller: the classes it was checked against: the
    model's number of classes and the labeller of the maps it was trained
    on ("" = the user's maps).
  labeller: labels each image (`tfgc.labellers`); None when `labels` is
    given.
  labels: the user's class ids, uint8 [H, W] or a label-map file, or None.
  choice: the `SynthesisChoice`.
  """

  num_classes: int
  model_labeller: str
  labeller: object
  labels: object
  choice: SynthesisChoice

  @classmethod
  def build(cls, num_classes, model_labeller="", labels=None,
            synthesize=None, preserve=None, class_names=None, labeller=None,
            keep=None, loader=None):
    """The selection for a model of `num_classes` classes trained on
    `model_labeller`'s maps, from the options of `tfgc.codec.Codec.compress`.
    `loader(name)` -> the labeller `name` (default `load_labeller`; a
    codec's keeps each labeller it loads)."""
    if labels is not None and labeller is not None:
      raise TfgcError("give --labels or --labeller, not both")
    if labeller and model_labeller and labeller != model_labeller:
      raise TfgcError(f"this SC model was trained on the {model_labeller} "
                      f"labeller's maps, whose classes another labeller's "
                      f"do not share: drop --labeller={labeller} (the "
                      f"model runs {model_labeller} itself)")
    name = None
    if labels is None:
      name = labeller or model_labeller
      if not name:
        raise TfgcError("this SC model needs the image's label map: pass "
                        "--labels=LABELS.png, or --labeller=NAME")
    elif model_labeller == "standin":
      raise TfgcError("this SC model was trained on the stand-in "
                      "labeller's regions and computes them itself: drop "
                      "--labels, or use an SC model trained on your label "
                      "maps (tfgc train --mode=sc --labels_dir=DIR)")
    if class_names is None and labeller:
      class_names = labellers.class_names(labeller, num_classes)
    # Before the labeller loads (seconds): a misspelt class fails at once.
    choice = SynthesisChoice.build(
        num_classes,
        class_names or model_class_names(num_classes, model_labeller),
        synthesize, keep, preserve)
    loaded = None
    if name:
      loaded = loader(name) if loader else load_labeller(name, num_classes)
    return cls(num_classes, model_labeller, loaded, labels, choice)

  def label_map(self, image):
    """The label map of `image` (uint8 [H, W, 3]): uint8 [H, W]."""
    if self.labels is None:
      return self.labeller.label(image)
    size = image.shape[:2]
    if _is_path(self.labels):
      return labelmaps.read_label_map(self.labels, self.num_classes, size)
    return labelmaps.check_label_map(self.labels, self.num_classes, size)

  def select(self, image):
    """The `Regions` of `image` (uint8 [H, W, 3])."""
    labels = self.label_map(image)
    return Regions(labels, self.choice.mask(labels))

  def check_kept(self, regions):
    """TfgcError unless `regions` (of `select`) keep some pixel and every
    class of --keep, naming the classes the label map holds and their
    shares: e.g. "--keep=person keeps nothing: the objects labeller found
    background 71%, vehicle 29% (no person); pass --allow_empty ..."."""
    choice = self.choice
    missing = [choice.class_name(i) for i in choice.kept_classes or ()
               if not np.any(regions.labels == i)]
    if not regions.synthesis_mask.all() and not missing:
      return
    found = (f"{self._source()} {_shares(regions.labels, choice)}"
             if choice.preserve is None else "it marks no pixel to preserve")
    if regions.synthesis_mask.all():
      problem = "keeps nothing"
      if missing:
        found += f" (no {', '.join(missing)})"
    else:
      problem = f"keeps no {', '.join(missing)}"
    raise TfgcError(f"{choice.request()} {problem}: {found}; pass "
                    "--allow_empty to write it anyway")

  def _source(self):
    """Who made the label map, with its verb: "the objects labeller
    found"."""
    if self.labeller is not None:
      return f"the {self.labeller.name} labeller found"
    if _is_path(self.labels):
      return f"the label map {os.fspath(self.labels)} holds"
    return "the label map holds"


def _shares(labels, choice):
  """"background 71%, vehicle 29%": the classes in `labels` (uint8
  [H, W]) by their share of the pixels, largest first."""
  ids, counts = np.unique(labels, return_counts=True)
  shares = []
  for index in np.argsort(-counts, kind="stable"):
    percent = 100 * counts[index] / labels.size
    shares.append(f"{choice.class_name(int(ids[index]))} "
                  + (f"{percent:.0f}%" if percent >= 0.5 else "<1%"))
  return ", ".join(shares)
