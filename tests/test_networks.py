import numpy as np
import pytest
import tensorflow as tf

import tensorflow_compression as tfc

from tfgc.config import preset
from tfgc.layers import GDN
from tfgc.model import GenerativeCompressionModel
from tfgc.networks import (Encoder, Generator, MultiScaleDiscriminator,
                           pad_to_stride)


def count(layer):
  return int(sum(np.prod(v.shape) for v in layer.weights))


def test_paper_preset_builds_with_about_160m_parameters_in_e_and_g():
  config = preset("paper")
  encoder, generator = Encoder(config), Generator(config)
  w = encoder(tf.zeros([1, 64, 64, 3]))
  x_hat = generator(w)
  assert w.shape == (1, 4, 4, config.latent_channels)
  assert x_hat.shape == (1, 64, 64, 3)
  parameters = count(encoder) + count(generator)
  print(f"paper preset: E {count(encoder):,} + G {count(generator):,} = "
        f"{parameters:,} parameters")
  assert 150e6 < parameters < 170e6


@pytest.mark.parametrize("norm", ["instance", "channel", "gdn"])
@pytest.mark.parametrize("upsampling", ["transpose", "resize"])
def test_generator_variants_map_latents_to_images_in_unit_range(
    norm, upsampling):
  config = preset("tiny").replace(normalization=norm, upsampling=upsampling)
  w_hat = tf.random.stateless_normal([2, 3, 5, config.latent_channels],
                                     [1, 2])
  x_hat = Generator(config)(w_hat).numpy()
  assert x_hat.shape == (2, 48, 80, 3)
  assert x_hat.min() >= 0.0 and x_hat.max() <= 1.0


def _randomize_biases(layer, seed):
  """Gives every bias of `layer` random values (they start at zero)."""
  generator = np.random.default_rng(seed)
  for variable in layer.weights:
    if "bias" in variable.name:
      variable.assign(generator.normal(size=variable.shape))


def _flat_level_codes(config):
  """E's latents in the middle of flat images at two grey levels of the
  same side of mid-grey, with random biases wherever E has them."""
  tf.keras.utils.set_random_seed(5)
  encoder = Encoder(config)
  encoder(tf.zeros([1, 64, 64, 3]))
  _randomize_biases(encoder, 6)
  return [encoder(tf.fill([1, 64, 64, 3], level))[0, 2, 2].numpy()
          for level in (0.6, 0.9)]


def test_channel_norm_without_conv_bias_codes_every_flat_level_alike():
  """The defect `conv_bias` fixes: without a bias, conv(b·1) = b·s and
  channel norm maps it to s/|s| for every b > 0 (here b = 2·level - 1)."""
  dark, light = _flat_level_codes(preset("tiny"))
  np.testing.assert_allclose(dark, light, atol=1e-3)


@pytest.mark.parametrize("changes", [dict(conv_bias=True),
                                     dict(normalization="gdn")])
def test_conv_bias_or_gdn_keeps_a_flat_regions_level(changes):
  dark, light = _flat_level_codes(preset("tiny").replace(**changes))
  assert np.abs(dark - light).max() > 0.01


def test_gdn_is_balles_full_gdn_and_trains_inside_a_traced_step():
  x = tf.random.stateless_normal([2, 5, 7, 6], [3, 4])
  layer = GDN()
  reference = tfc.GDN(alpha_parameter=2, epsilon_parameter=0.5)
  np.testing.assert_allclose(layer(x).numpy(), reference(x).numpy(),
                             atol=1e-5)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.square(layer(x)))
    return tape.gradient(loss, layer.trainable_variables)

  gradients = step()
  assert len(gradients) == 2
  assert all(np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0
             for g in gradients)


def test_discriminator_returns_features_of_every_layer_at_every_scale():
  config = preset("tiny")
  outputs = MultiScaleDiscriminator(config)(tf.zeros([2, 64, 64, 3]))
  assert len(outputs) == config.discriminator_scales
  for scale, features in enumerate(outputs):
    assert len(features) == len(config.discriminator_filters) + 1
    assert features[-1].shape[-1] == 1
    assert features[0].shape[1] == 64 // 2 ** (scale + 1)


@pytest.mark.parametrize("height, width", [(1, 1), (17, 30), (37, 53)])
def test_model_reconstructs_any_size_at_its_own_size(height, width):
  model = GenerativeCompressionModel(preset("tiny"))
  images = tf.zeros([1, height, width, 3], tf.uint8)
  reconstruction = model(images)
  assert reconstruction.images.shape == (1, height, width, 3)
  assert reconstruction.latents.shape == (
      1, -(-height // 16), -(-width // 16), 4)


def test_padding_repeats_edges_for_any_size():
  x = tf.reshape(tf.range(6, dtype=tf.float32), [1, 2, 3, 1])
  padded = pad_to_stride(x, 4).numpy()[0, :, :, 0]
  np.testing.assert_array_equal(
      padded, [[0, 1, 2, 2], [3, 4, 5, 5], [3, 4, 5, 5], [3, 4, 5, 5]])
