"""Fixed-centre quantizer q: w -> ŵ, one of L centres per value."""

import tensorflow as tf


class FixedCenterQuantizer(tf.keras.layers.Layer):
  """Maps every value to its nearest centre; soft-to-hard gradient.

  Forward, the output is exactly the nearest centre (values beyond the
  outer centres go to them). Backward, the gradient is that of the soft
  assignment sum_j softmax(-sigma * (w - c_j)^2)_j * c_j (Agustsson et al.,
  NeurIPS 2017), which is smooth, non-zero inside the centres' range and
  vanishes far outside it, so the encoder keeps learning without drifting.

  Args:
    centers: consecutive integers, e.g. (-2, -1, 0, 1, 2).
    sigma: softness of the backward assignment (larger is harder).
  """

  def __init__(self, centers, sigma=1.0, **kwargs):
    super().__init__(**kwargs)
    self.centers = tuple(int(c) for c in centers)
    self.sigma = float(sigma)

  def call(self, w):
    """`w`: float32 [..., C] -> float32 [..., C] with values in centres."""
    centers = tf.constant(self.centers, dtype=w.dtype)
    hard = tf.clip_by_value(tf.round(w), centers[0], centers[-1])
    distances = tf.square(w[..., None] - centers)
    soft = tf.reduce_sum(
        tf.nn.softmax(-self.sigma * distances, axis=-1) * centers, axis=-1)
    return soft + tf.stop_gradient(hard - soft)

  def get_config(self):
    return dict(super().get_config(), centers=self.centers, sigma=self.sigma)
