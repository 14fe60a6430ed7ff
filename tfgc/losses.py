"""Loss terms of L = L_GAN + λ·d(x, x̂) + β·H(ŵ), as pure functions.

Discriminator outputs are the multi-scale lists of `MultiScaleDiscriminator`:
one list of layer features per scale, the real/fake map last. Every loss
returns one value per example, float32 [B], so that distributed training can
average over the global batch (`tf.nn.compute_average_loss`).
"""

import tensorflow as tf


def _per_example_mean(x):
  return tf.reduce_mean(x, axis=tf.range(1, tf.rank(x)))


def lsgan_discriminator_loss(real_outputs, fake_outputs):
  """Σ_scales mean (D(x) - 1)² + mean D(x̂)²."""
  return tf.add_n([
      _per_example_mean(tf.square(real[-1] - 1.0))
      + _per_example_mean(tf.square(fake[-1]))
      for real, fake in zip(real_outputs, fake_outputs)])


def lsgan_generator_loss(fake_outputs):
  """Σ_scales mean (D(x̂) - 1)²."""
  return tf.add_n([_per_example_mean(tf.square(fake[-1] - 1.0))
                   for fake in fake_outputs])


def feature_matching_loss(real_outputs, fake_outputs):
  """Σ_scales mean over D's hidden layers of mean |D_l(x) - D_l(x̂)|.

  pix2pixHD's term: the real features are targets (no gradient).
  """
  terms = [
      _per_example_mean(tf.abs(tf.stop_gradient(real) - fake))
      for real_features, fake_features in zip(real_outputs, fake_outputs)
      for real, fake in zip(real_features[:-1], fake_features[:-1])]
  return tf.add_n(terms) / len(real_outputs[0][:-1])


def mean_squared_error(images, reconstructions):
  """MSE over pixels and channels; images float32 [B, H, W, 3] in [0, 1]."""
  return _per_example_mean(tf.square(images - reconstructions))
