import numpy as np
import tensorflow as tf

from tfgc.quantizer import FixedCenterQuantizer

CENTERS = (-2, -1, 0, 1, 2)


def test_forward_values_are_exactly_the_centres():
  w = tf.random.stateless_normal([4, 8, 8, 6], seed=[1, 2]) * 3.0
  w_hat = FixedCenterQuantizer(CENTERS)(w).numpy()
  assert set(np.unique(w_hat)) <= set(float(c) for c in CENTERS)
  expected = np.clip(np.round(w.numpy()), -2, 2)
  np.testing.assert_array_equal(w_hat, expected)


def test_gradients_are_nonzero_through_the_quantizer():
  w = tf.Variable(tf.random.stateless_uniform([2, 4, 4, 3], [3, 4], -2.5, 2.5))
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(FixedCenterQuantizer(CENTERS)(w) * 1.5)
  gradient = tape.gradient(loss, w).numpy()
  assert np.all(np.isfinite(gradient))
  assert np.mean(gradient != 0) > 0.99


def test_gradient_vanishes_far_outside_the_centres():
  w = tf.Variable([[-40.0, 40.0]])
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(FixedCenterQuantizer(CENTERS)(w))
  np.testing.assert_allclose(tape.gradient(loss, w).numpy(), 0.0, atol=1e-6)


def test_a_quantizer_rebuilt_from_its_config_quantizes_alike():
  layer = FixedCenterQuantizer(CENTERS, sigma=2.0)
  clone = FixedCenterQuantizer.from_config(layer.get_config())
  w = tf.Variable(tf.linspace(-3.0, 3.0, 61))
  with tf.GradientTape(persistent=True) as tape:
    outputs = layer(w), clone(w)
  np.testing.assert_array_equal(outputs[0].numpy(), outputs[1].numpy())
  np.testing.assert_allclose(tape.gradient(outputs[0], w).numpy(),
                             tape.gradient(outputs[1], w).numpy())
