import numpy as np
import tensorflow as tf

from tfgc import losses


def outputs(*maps):
  """One scale per map: a hidden feature [1, 1, 1, 2] and the map [1,1,1,1]."""
  return [[tf.constant(hidden, tf.float32, [1, 1, 1, 2]),
           tf.constant(value, tf.float32, [1, 1, 1, 1])]
          for hidden, value in maps]


def test_lsgan_discriminator_loss_sums_scales():
  real = outputs(([0, 0], 0.5), ([0, 0], 1.0))
  fake = outputs(([0, 0], 0.25), ([0, 0], -1.0))
  # (0.5-1)² + 0.25² + (1-1)² + (-1)² = 0.25 + 0.0625 + 0 + 1
  np.testing.assert_allclose(
      losses.lsgan_discriminator_loss(real, fake).numpy(), [1.3125])


def test_lsgan_generator_loss_sums_scales():
  fake = outputs(([0, 0], 0.5), ([0, 0], 3.0))
  np.testing.assert_allclose(
      losses.lsgan_generator_loss(fake).numpy(), [0.25 + 4.0])


def test_feature_matching_averages_hidden_layers_and_sums_scales():
  real = outputs(([1, 2], 9.0), ([0, 0], 9.0))
  fake = outputs(([0, 4], -9.0), ([1, 1], -9.0))
  # Scale 1: mean(|1|, |2|) = 1.5; scale 2: 1.0; one hidden layer each.
  np.testing.assert_allclose(
      losses.feature_matching_loss(real, fake).numpy(), [2.5])


def test_feature_matching_trains_the_fake_branch_only():
  real_hidden = tf.Variable(tf.ones([1, 1, 1, 2]))
  fake_hidden = tf.Variable(tf.zeros([1, 1, 1, 2]))
  with tf.GradientTape(persistent=True) as tape:
    loss = losses.feature_matching_loss(
        [[real_hidden, tf.zeros([1, 1, 1, 1])]],
        [[fake_hidden, tf.zeros([1, 1, 1, 1])]])
  assert tape.gradient(loss, real_hidden) is None
  # Towards the real features: the gradient of |fake - real| is negative.
  assert np.all(tape.gradient(loss, fake_hidden).numpy() < 0)


def test_mse_is_per_example():
  images = tf.zeros([2, 2, 2, 3])
  reconstructions = tf.concat([tf.zeros([1, 2, 2, 3]),
                               tf.fill([1, 2, 2, 3], 0.5)], 0)
  np.testing.assert_allclose(
      losses.mean_squared_error(images, reconstructions).numpy(), [0, 0.25])
