import numpy as np
import pytest

from tfgc.labellers import standin


def test_flat_patches_come_back_as_one_region_each_ordered_by_brightness():
  image = np.zeros((64, 96, 3), np.uint8)
  image[:, :32] = (200, 40, 40)
  image[:, 32:64] = (20, 20, 20)
  image[:, 64:] = (250, 250, 250)
  labels = standin.cluster_labels(image, classes=3)
  assert labels.shape == (64, 96) and labels.dtype == np.uint8
  assert np.all(labels[:, :32] == 1)
  assert np.all(labels[:, 32:64] == 0)
  assert np.all(labels[:, 64:] == 2)


def test_labels_are_deterministic_and_within_the_class_count(photo):
  first = standin.cluster_labels(photo, classes=6, seed=3)
  second = standin.cluster_labels(photo, classes=6, seed=3)
  np.testing.assert_array_equal(first, second)
  assert first.shape == photo.shape[:2]
  present = np.unique(first)
  assert 3 <= len(present) <= 6 and list(present) == list(range(len(present)))


def test_regions_are_whole_latent_cells(photo):
  labels = standin.cluster_labels(photo[:100, :70], classes=5)
  cells = labels[::16, ::16]
  np.testing.assert_array_equal(
      cells.repeat(16, 0).repeat(16, 1)[:100, :70], labels)


def test_tiny_images_get_at_most_one_class_per_pixel():
  labels = standin.cluster_labels(np.full((1, 2, 3), 7, np.uint8), classes=8)
  assert labels.shape == (1, 2) and labels.max() < 2


def test_class_count_outside_a_byte_is_refused(photo):
  with pytest.raises(ValueError, match="1..256"):
    standin.cluster_labels(photo, classes=300)
