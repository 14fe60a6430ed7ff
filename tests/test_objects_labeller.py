"""The objects labeller (NanoDet's COCO boxes by supercategory, people from
the person labeller), from tfgc's vendored weights: the dev set's cup is
kitchenware, the astronaut and a close-up face people and the cat no
person; its class table is the config's; damaged weights give the clear
error."""

import shutil

import numpy as np
import pytest

from tfgc import labeller_registry, labellers
from tfgc.labellers import objects, tfjs_graph


@pytest.fixture(scope="module")
def objects_labeller():
  return labellers.get("objects")


def test_the_class_table_is_cocos_supercategories():
  names = labellers.class_names("objects", 0)
  assert names == objects.ObjectsLabeller.class_names
  assert len(names) == len(labeller_registry.FIXED_CLASSES["objects"]) == 13
  assert names[:2] == labellers.PERSON_CLASSES
  assert len(objects.COCO_TO_CLASS) == 80
  assert objects.COCO_TO_CLASS[0] == names.index("person")
  # COCO ids 15 (cat), 41 (cup), 61 (toilet) and 79 (toothbrush).
  assert [names[objects.COCO_TO_CLASS[i]] for i in (15, 41, 61, 79)] == [
      "animal", "kitchen", "furniture", "indoor"]


def test_the_cup_is_kitchenware_and_nothing_else_is_found(objects_labeller):
  import skimage.data
  coffee = skimage.data.coffee()  # 400 x 600, the cup left of centre.
  boxes, scores, classes = objects_labeller.boxes(coffee)
  assert list(classes) == [labellers.OBJECT_CLASSES.index("kitchen")]
  top, left, bottom, right = boxes[0]
  assert top < 0.1 and bottom > 0.8 and 0.1 < left < 0.3 and 0.5 < right < 0.8
  labels = objects_labeller.label(coffee)
  assert labels.shape == coffee.shape[:2] and labels.dtype == np.uint8
  assert set(np.unique(labels)) == {0, classes[0]}
  assert labels[150:250, 200:300].min() == classes[0]  # The cup.
  assert labels[:, 520:].max() == 0  # The table right of the saucer.


def test_people_keep_their_outline_and_the_cat_is_not_one(objects_labeller,
                                                          photo):
  import skimage.data
  from tfgc.labellers.person import PersonLabeller
  np.testing.assert_array_equal(objects_labeller.label(photo),
                                PersonLabeller().label(photo))
  # NanoDet calls the cat's face a person; only the person labeller's
  # people are people.
  person = labellers.OBJECT_CLASSES.index("person")
  boxes, scores, classes = objects_labeller.boxes(skimage.data.chelsea())
  assert person in classes
  assert person not in objects_labeller.label(skimage.data.chelsea())


@pytest.mark.parametrize("shape", [(1, 1), (17, 300), (333, 129)])
def test_any_size_is_labelled_constant_on_latent_cells(objects_labeller,
                                                       shape):
  import skimage.data
  image = np.ascontiguousarray(skimage.data.coffee()[:shape[0], :shape[1]])
  labels = objects_labeller.label(image)
  assert labels.shape == shape
  cells = labels[::16, ::16].repeat(16, 0).repeat(16, 1)[:shape[0], :shape[1]]
  np.testing.assert_array_equal(labels, cells)


def test_damaged_detector_weights_are_refused_naming_the_fix(tmp_path):
  folder = tmp_path / "weights"
  shutil.copytree(objects.WEIGHTS, folder)
  (folder / "nanodet.json").write_text("{}")
  with pytest.raises(tfjs_graph.WeightsError, match="make install"):
    tfjs_graph.check_files(folder, objects.SHA256, objects.FIX)
