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


def seeded(i):
  return tf.constant([i, 7], tf.int64)


def test_a_seed_fixes_the_crop_and_different_seeds_vary_it():
  example = tf.constant(ramp(64, 200))
  first = data.random_crop(example, 32, 2.0, seeded(1)).numpy()
  np.testing.assert_array_equal(
      data.random_crop(example, 32, 2.0, seeded(1)).numpy(), first)
  others = [data.random_crop(example, 32, 2.0, seeded(i)).numpy()
            for i in range(2, 12)]
  assert any(not np.array_equal(first, other) for other in others)


def test_flip_zoom_and_position_are_drawn_independently():
  example = tf.constant(ramp(200, 200))
  draws = []
  for i in range(200):
    crop = data.random_crop(example, 32, 3.0, seeded(i)).numpy()[..., 0]
    flipped = crop[0, 0] > crop[0, -1]
    draws.append((flipped, column_span(crop[..., None]), crop.min()))
  flipped, span, start = (np.array(d, float) for d in zip(*draws))
  assert 0.35 < flipped.mean() < 0.65
  for other in (span, start):
    assert abs(np.corrcoef(flipped, other)[0, 1]) < 0.25
  assert abs(np.corrcoef(span, start)[0, 1]) < 0.5


def test_synthesis_boxes_draw_height_and_width_apart():
  labels = tf.zeros((64, 64), tf.uint8)
  masks = [data.random_synthesis_mask(labels, (0.0, 1.0, 0.0), seeded(i)).numpy()
           for i in range(50)]
  assert all(m.any() for m in masks)
  # With one seed for every draw, each box was a square on the diagonal.
  squares_on_diagonal = [np.array_equal(m, m.T) for m in masks]
  assert np.mean(squares_on_diagonal) < 0.2
  np.testing.assert_array_equal(
      data.random_synthesis_mask(labels, (0.0, 1.0, 0.0), seeded(3)).numpy(),
      masks[3])


def test_background_masks_keep_one_class_and_paint_the_rest():
  labels = tf.constant(np.repeat(np.array([[0, 3, 5, 0]], np.uint8), 4, 0))
  masks = [data.random_synthesis_mask(labels, (0.0, 0.0, 1.0),
                                      seeded(i)).numpy() for i in range(40)]
  kept = {tuple(np.unique(labels.numpy()[~m])) for m in masks}
  assert kept == {(3,), (5,)}  # Never background, each class sometimes.
  only_background = tf.zeros((8, 8), tf.uint8)
  assert data.random_synthesis_mask(only_background, (0.0, 0.0, 1.0),
                                    seeded(0)).numpy().all()


def test_seeded_training_batches_repeat_across_datasets(tmp_path):
  from PIL import Image
  for i in range(3):
    Image.fromarray(np.roll(ramp(80, 90), 7 * i, axis=1)).save(
        tmp_path / f"{i}.png")
  paths = sorted(str(p) for p in tmp_path.iterdir())
  def batches(seed):
    iterator = iter(data.training_dataset(paths, 32, 2, seed=seed,
                                          max_zoom_out=2.0))
    return [next(iterator).numpy() for _ in range(3)]
  first = batches(5)
  for a, b in zip(first, batches(5)):
    np.testing.assert_array_equal(a, b)
  assert any(not np.array_equal(a, b) for a, b in zip(first, batches(6)))
