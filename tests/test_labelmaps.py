import numpy as np
import pytest
from PIL import Image

from tfgc import labelmaps
from tfgc.images import ImageError


@pytest.mark.parametrize("shape", [(1, 1), (37, 53), (64, 48)])
def test_label_maps_round_trip_bit_exactly(shape):
  labels = np.random.default_rng(0).integers(0, 256, shape, np.uint8)
  data = labelmaps.encode_label_map(labels)
  np.testing.assert_array_equal(
      labelmaps.decode_label_map(data, shape, 256), labels)


@pytest.mark.parametrize("cell", [2, 7, 16])
def test_maps_constant_on_cells_are_coded_at_cell_resolution(cell):
  cells = np.random.default_rng(2).integers(0, 9, (11, 13), np.uint8)
  labels = cells.repeat(cell, 0).repeat(cell, 1)[:-1, :-3]
  data = labelmaps.encode_label_map(labels)
  assert data[0] == labelmaps.constant_cell(labels) == cell
  assert len(data) < len(labelmaps.encode_label_map(
      np.pad(labels, ((0, 0), (1, 0)))))  # Not cell-aligned: full size.
  np.testing.assert_array_equal(
      labelmaps.decode_label_map(data, labels.shape, 9), labels)


def test_piecewise_constant_maps_cost_little():
  labels = np.zeros((512, 768), np.uint8)
  labels[200:] = 3
  labels[300:400, 100:500] = 7
  assert len(labelmaps.encode_label_map(labels)) < 200


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (32, 48), (33, 17)])
def test_masks_round_trip_and_refuse_other_sizes(shape):
  mask = np.random.default_rng(1).random(shape) < 0.3
  data = labelmaps.encode_mask(mask)
  np.testing.assert_array_equal(labelmaps.decode_mask(data, shape), mask)
  with pytest.raises(labelmaps.LabelMapError, match="corrupt"):
    labelmaps.decode_mask(data, (shape[0] + 8, shape[1]))
  with pytest.raises(labelmaps.LabelMapError, match="corrupt"):
    labelmaps.decode_mask(data + b"\x00", shape)
  with pytest.raises(labelmaps.LabelMapError, match="corrupt"):
    labelmaps.decode_mask(data[:-1], shape)


def test_corrupt_label_map_sections_are_refused():
  labels = np.full((8, 8), 2, np.uint8)
  data = labelmaps.encode_label_map(labels)
  with pytest.raises(labelmaps.LabelMapError, match="size"):
    labelmaps.decode_label_map(data, (8, 9), 4)
  with pytest.raises(labelmaps.LabelMapError, match="does not know"):
    labelmaps.decode_label_map(data, (8, 8), 2)
  with pytest.raises(labelmaps.LabelMapError, match="does not decode"):
    labelmaps.decode_label_map(b"\x01RIFF garbage", (8, 8), 4)
  with pytest.raises(labelmaps.LabelMapError, match="cell size"):
    labelmaps.decode_label_map(b"\x00" + data[1:], (8, 8), 4)


def test_label_map_files_are_single_channel_ids(tmp_path):
  ids = np.arange(12, dtype=np.uint8).reshape(3, 4) % 5
  Image.fromarray(ids).save(tmp_path / "gray.png")
  Image.fromarray(ids).convert("P").save(tmp_path / "palette.png")
  Image.fromarray(ids.astype(np.uint16) * 1).save(tmp_path / "16bit.png")
  for name in ("gray.png", "palette.png", "16bit.png"):
    np.testing.assert_array_equal(
        labelmaps.read_label_map(tmp_path / name, 5, (3, 4)), ids)


@pytest.mark.parametrize("make,message", [
    (lambda: Image.new("RGB", (4, 3)), "single-channel"),
    (lambda: Image.fromarray(np.full((3, 4), 9, np.uint8)), "out of range"),
    (lambda: Image.fromarray(np.zeros((4, 4), np.uint8)), "is 4x4 but"),
])
def test_unusable_label_maps_name_the_problem(tmp_path, make, message):
  make().save(tmp_path / "labels.png")
  with pytest.raises(labelmaps.LabelMapError, match=message):
    labelmaps.read_label_map(tmp_path / "labels.png", 5, (3, 4))


def test_unreadable_label_map_is_an_image_error(tmp_path):
  (tmp_path / "labels.png").write_bytes(b"not a png")
  with pytest.raises(ImageError):
    labelmaps.read_label_map(tmp_path / "labels.png", 5)


def test_classes_by_id_or_name(tmp_path):
  (tmp_path / "classes.txt").write_text("# Cityscapes-like\nroad\nsky\n\ncar\n")
  names = labelmaps.read_class_names(tmp_path / "classes.txt")
  assert names == ["road", "sky", "car"]
  assert labelmaps.class_ids(["car", 0, " sky"], 3, names) == [0, 1, 2]
  with pytest.raises(labelmaps.LabelMapError, match="unknown class 'tree'"):
    labelmaps.class_ids(["tree"], 3, names)
  with pytest.raises(labelmaps.LabelMapError, match="--classes"):
    labelmaps.class_ids(["sky"], 3)
  with pytest.raises(labelmaps.LabelMapError, match="out of range"):
    labelmaps.class_ids(["3"], 3)
