"""tfgc.data.random_crop: plain and zoomed-out training crops."""

import numpy as np
import pytest
import tensorflow as tf

from tfgc import data


def ramp(height, width):
  """uint8 [H, W, 3]: every channel equals the column index (mod 256)."""
  columns = np.arange(width, dtype=np.uint8)
  return np.broadcast_to(columns[None, :, None], (height, width, 3)).copy()


def column_span(crop):
  """How many source columns a crop of `ramp` covers (flip-invariant)."""
  values = crop[..., 0].astype(int)
  return values.max() - values.min() + 1


def crops(example, max_zoom_out, count=40):
  tf.random.set_seed(0)
  return [data.random_crop(tf.constant(example), 32, max_zoom_out).numpy()
          for _ in range(count)]


@pytest.mark.parametrize("max_zoom_out", [1.0, 3.0])
def test_crops_have_the_crop_size_and_dtype(max_zoom_out):
  for crop in crops(ramp(100, 120), max_zoom_out, count=5):
    assert crop.shape == (32, 32, 3) and crop.dtype == np.uint8


def test_plain_crops_are_source_pixels_one_to_one():
  assert {column_span(c) for c in crops(ramp(64, 200), 1.0)} == {32}


def test_zoomed_out_crops_cover_up_to_max_zoom_out_times_the_crop():
  spans = [column_span(c) for c in crops(ramp(200, 200), 3.0)]
  assert min(spans) >= 31 and max(spans) <= 3 * 32
  assert np.mean(spans) > 45


def test_zooming_out_is_capped_by_the_shorter_side():
  spans = [column_span(c) for c in crops(ramp(40, 200), 4.0)]
  assert max(spans) <= 40 and np.mean(spans) > 32


def test_a_zoomed_out_label_map_keeps_its_classes_and_stays_aligned():
  """On a ramp, the class of each pixel is its column mod 5; a crop's label
  map must still name the column its (area-averaged) RGB shows."""
  example = ramp(150, 200)
  columns = example[..., :1].astype(int)
  example = np.concatenate([example, columns % 5], -1).astype(np.uint8)
  zoomed = crops(example, 2.5, count=10)
  for crop in zoomed:
    assert crop.shape == (32, 32, 4)
    assert set(np.unique(crop[..., 3])) <= set(range(5))
  agreement = np.mean([c[..., 0] % 5 == c[..., 3] for c in zoomed])
  assert agreement > 0.9
