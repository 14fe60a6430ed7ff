"""Building blocks of E, G, F and D (pix2pixHD/CycleGAN notation).

All layers take and return float32 [B, H, W, channels] feature maps and work
for any H, W (padding "same").
"""

import tensorflow as tf


def normalization(kind: str) -> tf.keras.layers.Layer:
  """The normalisation layer named by `Config.normalization`.

  "instance": per-image, per-channel statistics over H, W (the paper's);
  "channel": per-pixel statistics across channels (independent of image
  size, so training crops and full photos are normalised alike).
  """
  if kind == "instance":
    return tf.keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
  if kind == "channel":
    return tf.keras.layers.LayerNormalization(axis=-1, epsilon=1e-5)
  raise ValueError(f"unknown normalization {kind!r}")


class ConvNormAct(tf.keras.layers.Layer):
  """Conv, optional normalisation, activation: c7s1-k, dk and Ck layers."""

  def __init__(self, filters, kernel_size, strides=1, norm="instance",
               activation="relu", **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.strides = strides
    self.norm = norm
    self.activation = activation
    self.conv = tf.keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same",
        use_bias=norm is None)
    self.normalize = normalization(norm) if norm else None
    if activation == "leaky_relu":
      self.act = tf.keras.layers.LeakyReLU(0.2)
    else:
      self.act = tf.keras.layers.Activation(activation)

  def call(self, x):
    x = self.conv(x)
    if self.normalize is not None:
      x = self.normalize(x)
    return self.act(x)

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                kernel_size=self.kernel_size, strides=self.strides,
                norm=self.norm, activation=self.activation)


class ResidualBlock(tf.keras.layers.Layer):
  """Rk: x + norm(conv3x3(relu(norm(conv3x3(x)))))."""

  def __init__(self, filters, norm="instance", **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.norm = norm
    self.first = ConvNormAct(filters, 3, norm=norm)
    self.second = ConvNormAct(filters, 3, norm=norm, activation="linear")

  def call(self, x):
    return x + self.second(self.first(x))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters, norm=self.norm)


class NearestUpsample2x(tf.keras.layers.Layer):
  """Nearest-neighbour 2x upsampling, [B, H, W, C] -> [B, 2H, 2W, C].

  The same values as `UpSampling2D(2, interpolation="nearest")`, written as
  a broadcast: its gradient is a plain sum over each 2x2 block, which made
  a training step of the `small` preset ~1.2x faster on the CPU
  (`benchmarks/train_step.py`).
  """

  def call(self, x):
    shape = tf.shape(x)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    x = tf.broadcast_to(x[:, :, None, :, None, :], [b, h, 2, w, 2, c])
    return tf.reshape(x, [b, 2 * h, 2 * w, c])


class Upsample(tf.keras.layers.Layer):
  """uk: 2x upsampling to k filters, then normalisation and ReLU.

  kind "transpose": 3x3 transposed conv, stride 2 (the paper's).
  kind "resize": nearest-neighbour 2x, then 3x3 conv (no checkerboard).
  """

  def __init__(self, filters, kind="transpose", norm="instance", **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kind = kind
    self.norm = norm
    if kind == "transpose":
      self.upsample = tf.keras.layers.Conv2DTranspose(
          filters, 3, strides=2, padding="same", use_bias=False)
    elif kind == "resize":
      self.upsample = tf.keras.Sequential([
          NearestUpsample2x(),
          tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
      ])
    else:
      raise ValueError(f"unknown upsampling {kind!r}")
    self.normalize = normalization(norm)
    self.act = tf.keras.layers.ReLU()

  def call(self, x):
    return self.act(self.normalize(self.upsample(x)))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters, kind=self.kind,
                norm=self.norm)
