"""The labeller interface and the person labeller (Selfie Segmentation
gated by MoveNet and BlazeFace, from tfgc's vendored weights): a real
person is found (her hand-drawn outline) at every scale, from a face
filling the frame to a small figure in a wide shot, and a cat, a cup and a
rocket are not; any size is labelled on the latent grid, damaged weights
give one clear error."""

import os
import shutil

import numpy as np
import pytest

from conftest import run_python
from tfgc import labeller_registry, labellers
from tfgc.errors import TfgcError
from tfgc.labellers import person, tfjs_graph


@pytest.fixture(scope="module")
def person_labeller():
  return labellers.get("person")


def test_the_astronaut_is_a_person_and_the_flag_and_wall_are_not(
    person_labeller, photo):
  labels = person_labeller.label(photo)
  assert labels.shape == photo.shape[:2] and labels.dtype == np.uint8
  assert set(np.unique(labels)) == {0, 1}
  assert labels[60:120, 190:250].mean() == 1  # Her face.
  assert labels[300:400, 60:250].mean() == 1  # Her suit.
  assert labels[0:200, 0:40].mean() == 0  # The flag.
  assert labels[0:60, 400:512].mean() == 0  # The wall by the shuttle.
  assert 0.3 < labels.mean() < 0.8


@pytest.fixture(scope="module")
def outline():
  """tests/fixtures/astronaut_person_mask.png: the astronaut's outline drawn
  by hand (a polygon of her hair, face, collar ring and suit, the helmet on
  her arm left out), bool [512, 512]."""
  from PIL import Image
  from conftest import REPO
  return np.asarray(Image.open(os.path.join(
      REPO, "tests", "fixtures", "astronaut_person_mask.png"))).astype(bool)


def iou(labels, outline):
  person = labels == 1
  return (outline & person).sum() / (outline | person).sum()


def test_the_astronaut_matches_a_hand_drawn_outline(person_labeller, photo,
                                                    outline):
  """The labeller's cells also take most of the helmet (IoU 0.92)."""
  assert iou(person_labeller.label(photo), outline) > 0.8


@pytest.mark.parametrize("rows, columns", [
    ((0, 320), (40, 360)),  # Head and shoulders.
    ((20, 240), (100, 320)),  # Her face filling the frame.
])
def test_the_astronaut_close_up_matches_her_outline(person_labeller, photo,
                                                    outline, rows, columns):
  """Measured IoU 0.91 and 0.88."""
  crop = (slice(*rows), slice(*columns))
  image = np.ascontiguousarray(photo[crop])
  assert iou(person_labeller.label(image), outline[crop]) > 0.8


@pytest.fixture(scope="module")
def grace_hopper():
  """matplotlib's Grace Hopper (a dev-set photo), uint8 [600, 512, 3]."""
  from tfgc.devset import PHOTOS, source_path
  from tfgc.images import read_image
  return read_image(source_path(*PHOTOS["grace_hopper"][:2]))


def test_grace_hopper_head_and_shoulders_is_a_person(person_labeller,
                                                     grace_hopper):
  image = np.ascontiguousarray(grace_hopper[0:384, 64:448])
  labels = person_labeller.label(image)
  assert labels[112:288, 128:272].mean() == 1  # Her face.
  assert labels[0:256, 0:48].mean() == 0  # The flag.
  assert 0.3 < labels.mean() < 0.7  # 0.45.


@pytest.mark.parametrize("side, top, left, least_iou", [
    (256, 384, 576, 0.8),  # IoU 0.82 (16 px cells allow 0.91).
    (128, 400, 600, 0.7),  # IoU 0.74 (cells allow 0.87).
])
def test_a_small_figure_in_a_wide_shot_matches_her_outline(
    person_labeller, photo, outline, side, top, left, least_iou):
  """The astronaut shrunk to `side` px on a grey 1024 x 768 frame. MoveNet
  scores her 0.28 and 0.24 there: her face (BlazeFace, in her box) makes
  her a person."""
  from PIL import Image
  frame = np.full((768, 1024, 3), 128, np.uint8)
  where = (slice(top, top + side), slice(left, left + side))
  frame[where] = np.asarray(Image.fromarray(photo).resize((side, side),
                                                           Image.LANCZOS))
  shrunk = np.zeros(frame.shape[:2], bool)
  shrunk[where] = np.asarray(Image.fromarray(outline).resize(
      (side, side), Image.NEAREST))
  assert iou(person_labeller.label(frame), shrunk) > least_iou


@pytest.mark.parametrize("box, score, below", [
    ((0.1, 0.2, 0.6, 0.8), 0.2, True),  # A close-up MoveNet is unsure of.
    ((0.1, 0.2, 0.3, 0.4), 0.2, False),  # A small figure it is unsure of.
    ((0.1, 0.2, 0.6, 0.8), 0.5, False),  # A close-up it is sure of.
])
def test_a_face_gated_close_up_runs_on_to_the_bottom_edge(
    person_labeller, monkeypatch, box, score, below):
  """MoveNet sees the head of a close-up, not the body below it (a
  kphotoalbum close-up: score 0.12, box ending at 73 % of the height, the
  neck and shirt painted as background): a person the face gate admits
  whose box spans CLOSE_UP of the height is segmented down to the bottom
  edge. The networks are stubbed: one person, a face, everything person
  to Selfie Segmentation, which must also see the photo's bottom rows
  (white here, black above) in the crop it is given."""
  import tensorflow as tf
  crops = []

  def segmenter(crop):
    crops.append(crop.numpy())
    return tf.ones(crop.shape[:3] + (1,))
  monkeypatch.setattr(person_labeller, "_people",
                      lambda pixels: np.array([box + (score,)], np.float32))
  monkeypatch.setattr(person_labeller, "_faces",
                      lambda pixels: np.ones((1, 5), np.float32))
  monkeypatch.setattr(person_labeller, "_segmenter", segmenter)
  image = np.zeros((320, 320, 3), np.uint8)
  image[256:] = 255
  labels = person_labeller.label(image)
  bottom = box[2] + person.BOX_MARGIN * (box[2] - box[0])
  assert labels[:int(bottom * 320) - 16].max() == 1
  assert (labels[int(bottom * 320) + 16:].max() == 1) == below
  assert (crops[-1].max() > 0) == below


def test_a_cat_is_not_a_person(person_labeller):
  """Selfie Segmentation alone marks 93 % of this cat: MoveNet's gate."""
  import skimage.data
  assert person_labeller.label(skimage.data.chelsea()).max() == 0


def test_a_cup_and_a_rocket_are_not_people(person_labeller):
  """MoveNet gives them 0.14 and 0.06, under PERSON_SCORE and over
  FACED_PERSON_SCORE: BlazeFace finds no face in those boxes."""
  import skimage.data
  for image in (skimage.data.coffee(), skimage.data.rocket()):
    assert person_labeller.label(image).max() == 0


@pytest.mark.parametrize("shape", [(1, 1), (17, 300), (333, 129)])
def test_any_size_is_labelled_constant_on_latent_cells(person_labeller, photo,
                                                       shape):
  image = np.ascontiguousarray(photo[:shape[0], :shape[1]])
  labels = person_labeller.label(image)
  assert labels.shape == shape
  cells = labels[::16, ::16].repeat(16, 0).repeat(16, 1)[:shape[0], :shape[1]]
  np.testing.assert_array_equal(labels, cells)


def test_labellers_share_one_interface(photo):
  standin = labellers.get("standin", classes=3)
  assert standin.class_names == ("region 0", "region 1", "region 2")
  assert standin.label(photo).max() < 3
  assert person.PersonLabeller.class_names == ("background", "person")
  assert labellers.class_names("person", 2) == ("background", "person")
  assert labellers.class_names("standin", 2) == ("region 0", "region 1")
  for name_only in (labellers.get, lambda name: labellers.class_names(name, 2)):
    with pytest.raises(TfgcError, match="use one of standin, person, objects"):
      name_only("sky")


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_weights_are_refused_naming_the_fix(tmp_path, damage):
  folder = tmp_path / "weights"
  shutil.copytree(person.WEIGHTS, folder)
  if damage == "missing":
    (folder / "selfie.bin").unlink()
  else:
    (folder / "selfie.bin").write_bytes(
        (folder / "selfie.bin").read_bytes()[:-1])
  with pytest.raises(tfjs_graph.WeightsError, match="make install"):
    tfjs_graph.check_files(folder, person.SHA256, person.FIX)


def test_a_folder_is_labelled_as_train_py_pairs_it(person_labeller, photo,
                                                   tmp_path):
  import skimage.data
  from PIL import Image
  from tfgc import data
  from tfgc.labellers.__main__ import label_folder
  images = tmp_path / "photos"
  (images / "pets").mkdir(parents=True)
  Image.fromarray(photo[::2, ::2]).save(images / "astronaut.jpg")
  Image.fromarray(skimage.data.chelsea()).save(images / "pets" / "cat.png")
  out = tmp_path / "labels"
  written, kept, pixels = label_folder(person_labeller, images, out)
  assert (written, kept) == (2, 0) and pixels[1] > 0
  assert (out / "classes.txt").read_text() == "background\nperson\n"
  astronaut = data.find_label_map(str(images / "astronaut.jpg"), images, out)
  cat = data.find_label_map(str(images / "pets" / "cat.png"), images, out)
  assert np.asarray(Image.open(astronaut)).shape == (256, 256)
  assert np.asarray(Image.open(astronaut)).max() == 1
  assert np.asarray(Image.open(cat)).max() == 0
  # A second run keeps what the first wrote.
  assert label_folder(person_labeller, images, out)[:2] == (0, 2)


def test_the_command_labels_a_folder_and_fails_in_one_line(photo, tmp_path,
                                                          capsys):
  from PIL import Image
  from tfgc.labellers.__main__ import main
  (tmp_path / "photos").mkdir()
  Image.fromarray(photo[::4, ::4]).save(tmp_path / "photos" / "a.png")
  assert main(["--labeller=standin", "--classes=3",
               f"--images={tmp_path / 'photos'}",
               f"--out={tmp_path / 'labels'}"]) == 0
  assert "1 label maps written" in capsys.readouterr().out
  assert (tmp_path / "labels" / "classes.txt").read_text() == (
      "region 0\nregion 1\nregion 2\n")
  (tmp_path / "photos" / "b.png").write_bytes(b"not a png")
  assert main(["--labeller=standin", f"--images={tmp_path / 'photos'}",
               f"--out={tmp_path / 'labels'}"]) == 1
  err = capsys.readouterr().err
  assert err.startswith("tfgc label: ") and err.count("\n") == 1


def test_the_registry_and_the_config_know_the_labellers_without_tensorflow():
  """Names, classes and thresholds in one module the CLI's help and the
  config read without loading TensorFlow; the labellers agree with it."""
  result = run_python("""
import sys
from tfgc import config, labeller_registry
print(labeller_registry.NAMES, "tensorflow" in sys.modules)
config.preset("small").replace(mode="sc", labeller="objects", num_classes=13)
""")
  assert result.stdout.split()[-1] == "False"
  assert labellers.NAMES == labeller_registry.NAMES
  for name, classes in labeller_registry.FIXED_CLASSES.items():
    assert labellers.class_names(name, 0) == classes
  with pytest.raises(TfgcError, match="unknown labeller 'people'"):
    labellers.get("people")
