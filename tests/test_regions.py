"""Region selection (SC): the user's options checked once, each image's
label map and synthesis mask, and the codec taking a selection made once."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgc import codec, export
from tfgc.config import preset
from tfgc.errors import TfgcError
from tfgc.labellers.standin import cluster_labels
from tfgc.regions import (RegionSelection, Regions, SynthesisChoice,
                          load_labeller)

CLASSES = 4
# 3 rows x 4 columns, ids 0..3.
LABELS = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 2, 2]], np.uint8)
NAMES = ["sky", "road", "tree", "car"]


def image_of(labels):
  """An RGB image of labels' size: uint8 [H, W, 3]."""
  return np.repeat(labels[..., None] * 60, 3, axis=2).astype(np.uint8)


def test_synthesize_marks_the_pixels_of_the_classes_given():
  mask = SynthesisChoice.build(CLASSES, synthesize=[1, 3]).mask(LABELS)
  np.testing.assert_array_equal(mask, np.isin(LABELS, [1, 3]))


def test_keep_synthesises_every_other_class():
  mask = SynthesisChoice.build(CLASSES, keep=["road"],
                               class_names=NAMES).mask(LABELS)
  np.testing.assert_array_equal(mask, LABELS != 1)


def test_preserve_marks_the_complement_and_no_option_preserves_all():
  preserve = LABELS == 2
  np.testing.assert_array_equal(
      SynthesisChoice.build(CLASSES, preserve=preserve).mask(LABELS),
      ~preserve)
  assert not SynthesisChoice.build(CLASSES).mask(LABELS).any()


def test_a_preserve_mask_file_keeps_its_nonzero_pixels(tmp_path):
  Image.fromarray((LABELS == 3).astype(np.uint8) * 255).save(
      tmp_path / "keep.png")
  mask = SynthesisChoice.build(CLASSES,
                               preserve=tmp_path / "keep.png").mask(LABELS)
  np.testing.assert_array_equal(mask, LABELS != 3)


@pytest.mark.parametrize("options,message", [
    (dict(synthesize=[1], keep=[2]), "one of --synthesize, --keep"),
    (dict(keep=[1], preserve=LABELS == 1), "one of --synthesize, --keep"),
    (dict(synthesize=[4]), "class id 4 is out of range"),
    (dict(keep=["sky"]), "names with --classes=FILE"),
    (dict(synthesize=["lake"], class_names=NAMES),
     "unknown class 'lake': use one of sky, road, tree, car "
     r"\(or ids 0..3\)"),
])
def test_bad_class_choices_are_refused_when_built(options, message):
  with pytest.raises(TfgcError, match=message):
    SynthesisChoice.build(CLASSES, **options)


def test_a_preserve_mask_of_another_size_is_refused_at_the_image():
  choice = SynthesisChoice.build(CLASSES, preserve=np.ones((2, 2), bool))
  with pytest.raises(TfgcError, match="they must match"):
    choice.mask(LABELS)


def test_a_users_label_map_is_checked_against_each_image():
  selection = RegionSelection.build(CLASSES, labels=LABELS, synthesize=[2])
  regions = selection.select(image_of(LABELS))
  assert isinstance(regions, Regions)
  np.testing.assert_array_equal(regions.labels, LABELS)
  np.testing.assert_array_equal(regions.synthesis_mask, LABELS == 2)
  with pytest.raises(TfgcError, match="give the label map of this image"):
    selection.select(image_of(LABELS)[:2])


def test_the_labeller_is_loaded_once_and_labels_every_image():
  loaded = []

  def loader(name):
    loaded.append(name)
    return load_labeller(name, CLASSES)

  selection = RegionSelection.build(CLASSES, labeller="standin",
                                    synthesize=["region 0"], loader=loader)
  image = np.random.default_rng(0).integers(0, 256, (32, 48, 3), np.uint8)
  for _ in range(2):
    regions = selection.select(image)
    np.testing.assert_array_equal(regions.labels,
                                  cluster_labels(image, CLASSES))
    np.testing.assert_array_equal(regions.synthesis_mask, regions.labels == 0)
  assert loaded == ["standin"]


def test_a_models_labeller_names_its_classes():
  selection = RegionSelection.build(CLASSES, "standin",
                                    keep=["region 1", "region 2"])
  assert selection.labeller.name == "standin"
  mask = selection.choice.mask(LABELS)
  np.testing.assert_array_equal(mask, np.isin(LABELS, [0, 3]))


@pytest.mark.parametrize("model_labeller,options,message", [
    ("", dict(labels=LABELS, labeller="standin"), "not both"),
    ("person", dict(labeller="standin"), "drop --labeller=standin"),
    ("", dict(synthesize=[1]), "needs the image's label map"),
    ("standin", dict(labels=LABELS), "drop --labels"),
    ("", dict(labeller="objects"), "13 classes do not fit this model's 4"),
    ("", dict(labeller="segment"), "unknown labeller 'segment'"),
])
def test_bad_label_sources_are_refused_when_built(model_labeller, options,
                                                  message):
  with pytest.raises(TfgcError, match=message):
    RegionSelection.build(CLASSES, model_labeller, **options)


def test_an_unknown_class_of_a_models_labeller_lists_its_classes():
  with pytest.raises(TfgcError, match="'people': use one of background, "
                     "person, vehicle, .*, indoor \\(or ids 0..12\\)$"):
    RegionSelection.build(13, "objects", keep=["people"],
                          loader=pytest.fail)  # Refused before it loads.


# Two classes of four: sky 1/3, road 2/3.
SKY_AND_ROAD = np.array([[0, 1, 1], [1, 0, 1]], np.uint8)


@pytest.mark.parametrize("options,message", [
    (dict(keep=["car"]), "--keep=car keeps nothing: the label map holds "
     "road 67%, sky 33% (no car)"),
    (dict(keep=["sky", "car"]), "--keep=sky,car keeps no car: the label "
     "map holds road 67%, sky 33%"),
    (dict(synthesize=["sky", "road"]), "--synthesize=sky,road keeps "
     "nothing: the label map holds road 67%, sky 33%"),
    (dict(preserve=SKY_AND_ROAD == 9), "--preserve keeps nothing: it marks "
     "no pixel to preserve"),
])
def test_regions_that_keep_nothing_or_lack_a_kept_class_are_refused(
    options, message):
  selection = RegionSelection.build(CLASSES, labels=SKY_AND_ROAD,
                                    class_names=NAMES, **options)
  regions = selection.select(image_of(SKY_AND_ROAD))
  with pytest.raises(TfgcError) as refusal:
    selection.check_kept(regions)
  assert str(refusal.value) == (f"{message}; pass --allow_empty to write "
                                "it anyway")


def test_regions_that_keep_something_of_every_kept_class_pass():
  for options in (dict(keep=["sky"]), dict(synthesize=["sky"]), dict()):
    selection = RegionSelection.build(CLASSES, labels=SKY_AND_ROAD,
                                      class_names=NAMES, **options)
    selection.check_kept(selection.select(image_of(SKY_AND_ROAD)))


def test_the_refusal_names_unnamed_classes_by_id():
  selection = RegionSelection.build(CLASSES, labels=SKY_AND_ROAD, keep=[3])
  with pytest.raises(TfgcError, match="^--keep=3 keeps nothing: the label "
                     "map holds class 1 67%, class 0 33% \\(no class 3\\)"):
    selection.check_kept(selection.select(image_of(SKY_AND_ROAD)))


@pytest.fixture(scope="module")
def sc_codec(tmp_path_factory):
  from tfgc.model import GenerativeCompressionModel
  tf.keras.utils.set_random_seed(3)
  path = str(tmp_path_factory.mktemp("sc_export"))
  export.export(GenerativeCompressionModel(
      preset("tiny").replace(mode="sc", num_classes=CLASSES)), path)
  return codec.load(path)


def test_compressing_with_a_selection_gives_the_options_bytes(sc_codec):
  image = np.random.default_rng(1).integers(0, 256, (32, 48, 3), np.uint8)
  selection = sc_codec.select_regions(labeller="standin", keep=[0])
  assert sc_codec.compress(image, selection=selection) == sc_codec.compress(
      image, labeller="standin", keep=[0])


def test_a_selection_is_refused_beside_options_or_by_another_model(
    sc_codec, tiny_export):
  image = np.zeros((16, 16, 3), np.uint8)
  selection = sc_codec.select_regions(labeller="standin")
  with pytest.raises(TfgcError, match="not both"):
    sc_codec.compress(image, keep=[1], selection=selection)
  with pytest.raises(TfgcError, match="other classes"):
    sc_codec.compress(image, selection=RegionSelection.build(
        CLASSES + 1, labeller="standin"))
  gc_codec = codec.load(tiny_export)
  assert gc_codec.select_regions() is None
  with pytest.raises(TfgcError, match="GC model"):
    gc_codec.compress(image, selection=selection)


def test_the_codec_writes_a_file_that_keeps_nothing_only_with_consent(
    sc_codec):
  image = image_of(SKY_AND_ROAD)
  selection = sc_codec.select_regions(labels=SKY_AND_ROAD, keep=[3])
  with pytest.raises(TfgcError, match="keeps nothing"):
    sc_codec.compress(image, selection=selection)
  data = sc_codec.compress(image, selection=selection, allow_empty=True)
  assert codec.info(data)["latent_bytes"] == 0
