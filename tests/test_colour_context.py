"""SC's colour context (tfgc.colour_context): the painted blocks' mean
colours, the same in numpy and TensorFlow, in the file, in G's input, in
tiles, and in a warm start from an SC model without it."""

import numpy as np
import pytest
import tensorflow as tf

from tfgc import bitstream, codec, colour_context, export, training
from tfgc.config import ConfigError, latent_shape, preset
from tfgc.model import GenerativeCompressionModel
from tfgc.networks import (colour_context_levels, colour_context_per_cell,
                           painted_colours)

CLASSES = 3
SC_TINY = preset("tiny").replace(mode="sc", num_classes=CLASSES)
CELLS = 2  # 32-pixel blocks


@pytest.fixture(scope="module")
def context_codec(tmp_path_factory):
  tf.keras.utils.set_random_seed(8)
  path = str(tmp_path_factory.mktemp("context_export"))
  # Without noise: a model that tiles exactly.
  export.export(GenerativeCompressionModel(
      SC_TINY.replace(colour_context=CELLS, noise_channels=0)), path)
  return codec.load(path)


@pytest.fixture(scope="module")
def scene(photo):
  """A 100x150 crop (sides not multiples of 16 or 32), labels of three
  vertical bands: uint8 [H, W, 3], [H, W]."""
  image = np.ascontiguousarray(photo[60:160, 200:350])
  labels = np.zeros(image.shape[:2], np.uint8)
  labels[:, 50:], labels[:, 100:] = 1, 2
  return image, labels


@pytest.mark.parametrize("size,cells", [((37, 70), 2), ((100, 33), 1),
                                        ((128, 128), 4)])
def test_numpy_and_tensorflow_levels_agree_exactly(size, cells):
  rng = np.random.default_rng(sum(size))
  # Noise on a gradient: neighbouring blocks have different levels, so a
  # block summed over the wrong pixels shows.
  ramp = np.add.outer(np.arange(size[0]), np.arange(size[1])) * (
      230 / sum(size))
  image = (ramp[..., None] + rng.integers(0, 20, size + (3,))).astype(
      np.uint8)
  keep = rng.random(latent_shape(size)) < 0.5
  levels = colour_context.block_levels(image, keep, cells)
  keep_tf = tf.constant(keep[None, ..., None], tf.float32)
  for pixels in (image, (image / 255.0).astype(np.float32)):  # as training
    np.testing.assert_array_equal(colour_context_levels(
        tf.constant(pixels[None]), keep_tf, cells)[0].numpy(), levels)
  np.testing.assert_array_equal(
      colour_context_per_cell(tf.constant(levels[None]), cells,
                              keep.shape)[0].numpy(),
      colour_context.per_cell(levels, cells, keep.shape))


def test_a_block_carries_its_painted_pixels_mean_only_where_it_is_painted():
  image = np.zeros((64, 96, 3), np.uint8)
  image[:, :32] = (200, 100, 7)  # block (0, 0): flat
  image[:, 32:64, 0] = np.arange(32) * 8  # block (1, 1): a ramp in red
  keep = np.ones((4, 6), bool)
  keep[0, 0] = keep[3, 3] = False  # one painted cell in each
  levels = colour_context.block_levels(image, keep, 2)
  np.testing.assert_array_equal(levels[0, 0], (25, 12, 0))
  # Only the painted cell's columns 48..63 count: red 128..248, mean 188;
  # the block's kept pixels (mean 124) do not.
  np.testing.assert_array_equal(levels[1, 1], (188 // 8, 0, 0))
  assert levels.sum() == levels[0, 0].sum() + levels[1, 1].sum()


def test_the_section_round_trips_and_a_wrong_length_is_refused():
  rng = np.random.default_rng(1)
  keep = rng.random((7, 9)) < 0.6
  levels = colour_context.block_levels(
      rng.integers(0, 256, (112, 144, 3), dtype=np.uint8), keep, 2)
  data = colour_context.encode(levels, keep, 2)
  sent = colour_context.sent_blocks(keep, 2).sum()
  assert len(data) == -(-sent * 15 // 8)
  np.testing.assert_array_equal(colour_context.decode(data, keep, 2), levels)
  with pytest.raises(bitstream.BitstreamError, match="colour context"):
    colour_context.decode(data + b"\0", keep, 2)


def test_the_config_takes_it_in_sc_only():
  with pytest.raises(ConfigError, match="colour_context is for mode 'sc'"):
    preset("tiny").replace(colour_context=2)
  for value in (9, 2.0, True):
    with pytest.raises(ConfigError, match="colour_context must be in 0..8"):
      SC_TINY.replace(colour_context=value)
  # Models without it keep their ids: the field is not in their identity.
  assert "colour_context" not in SC_TINY.identity_json()


def test_painted_colours_reach_the_decode_and_nothing_else_changes(
    context_codec, scene):
  image, labels = scene
  data = context_codec.compress(image, labels, synthesize=[0])
  parsed = bitstream.parse(data)
  header = codec.info(data)
  assert len(parsed.sections) == 5 and header["colour_context_bytes"] > 0
  # The painted band's colour changes the fifth section and the decode;
  # the kept bands' latents stay (beyond E's reach of the band: none here,
  # so the latent string may change too, but never the mask or labels).
  recoloured = image.copy()
  recoloured[:, :16] = (255, 0, 255)
  other = bitstream.parse(context_codec.compress(recoloured, labels,
                                                 synthesize=[0]))
  assert other.sections[2:4] == parsed.sections[2:4]
  assert other.sections[4] != parsed.sections[4]
  swapped = bitstream.serialize(bitstream.Bitstream(
      parsed.model_id, "sc", parsed.width, parsed.height,
      parsed.sections[:4] + other.sections[4:]))
  painted = np.s_[:, :48]  # the painted band's cells, bar its edge
  assert np.abs(context_codec.decompress(swapped)[painted].astype(int)
                - context_codec.decompress(data)[painted]).max() > 0
  # Everything kept: no painted block, an empty fifth section.
  kept = bitstream.parse(context_codec.compress(image, labels))
  assert len(kept.sections) == 5 and kept.sections[4] == b""


def test_api_signatures_and_tiles_decode_the_same_pixels(context_codec,
                                                         scene, tmp_path):
  image, labels = scene
  data = context_codec.compress(image, labels, synthesize=[0, 2])
  decoded = context_codec.decompress(data)
  strings = context_codec._model.signatures["compress"](
      image=tf.constant(image), labels=tf.constant(labels),
      synthesis_mask=tf.constant(np.isin(labels, [0, 2]), tf.uint8))
  np.testing.assert_array_equal(
      strings["colour_context"].numpy(),
      colour_context.decode(bitstream.parse(data).sections[4],
                            strings["latent_mask"].numpy(), CELLS))
  direct = context_codec._model.signatures["decompress"](
      **dict(strings, seed=tf.constant(0)))["image"].numpy()
  np.testing.assert_array_equal(decoded, direct)
  tiled = codec.load(context_codec.path, memory_budget_mib=0.05)
  assert len(tiled._tiler._tiles(image.shape[:2], 0)) > 1
  np.testing.assert_array_equal(tiled.decompress(data), decoded)


def test_a_file_without_the_section_is_refused(context_codec, scene):
  image, labels = scene
  parsed = bitstream.parse(context_codec.compress(image, labels,
                                                  synthesize=[0]))
  four = bitstream.serialize(bitstream.Bitstream(
      parsed.model_id, "sc", parsed.width, parsed.height,
      parsed.sections[:4]))
  with pytest.raises(bitstream.BitstreamError, match="4 sections, but"):
    context_codec.decompress(four)


def test_a_warm_start_from_sc_without_it_decodes_as_that_model(tmp_path):
  """G's context inputs start at zero weight, F is the source's."""
  tf.keras.utils.set_random_seed(9)
  source = GenerativeCompressionModel(SC_TINY)
  tf.train.Checkpoint(model=source).save(f"{tmp_path}/ckpt")
  (tmp_path / "config.json").write_text(SC_TINY.to_json())
  started = GenerativeCompressionModel(SC_TINY.replace(colour_context=CELLS))
  training.warm_start(started, str(tmp_path))
  rng = np.random.default_rng(2)
  inputs = dict(image=tf.constant(rng.random((1, 48, 64, 3)), tf.float32),
                labels=tf.constant(rng.integers(0, CLASSES, (1, 48, 64)),
                                   tf.uint8),
                synthesis_mask=tf.constant(rng.random((1, 48, 64)) < 0.5))
  tf.keras.utils.set_random_seed(10)  # the same noise for both
  expected = source(inputs).images.numpy()
  tf.keras.utils.set_random_seed(10)
  np.testing.assert_allclose(started(inputs).images.numpy(), expected,
                             atol=1e-6)


def test_g_without_a_context_is_g_with_every_cell_kept():
  """What validation's r = 0 decode of a dial model runs: no painted cell,
  no context given."""
  tf.keras.utils.set_random_seed(11)
  model = GenerativeCompressionModel(SC_TINY.replace(
      colour_context=CELLS, realism_dial=True, noise_channels=0))
  image = tf.constant(np.random.default_rng(3).random((1, 32, 48, 3)),
                      tf.float32)
  labels = tf.zeros((1, 32, 48), tf.uint8)
  w_hat, keep = model.analysis(image, tf.zeros((1, 32, 48), tf.bool))
  given = model.synthesis(w_hat, [32, 48], labels, realism=tf.zeros([1]),
                          colour_context=painted_colours(
                              tf.zeros((1, 2, 3, 3), tf.int32), keep))
  np.testing.assert_array_equal(
      model.synthesis(w_hat, [32, 48], labels, realism=tf.zeros([1])).numpy(),
      given.numpy())
