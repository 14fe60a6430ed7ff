"""Building blocks of E, G, F and D (pix2pixHD/CycleGAN notation).

All layers take and return float32 [B, H, W, channels] feature maps and work
for any H, W (padding "same").
"""

import tensorflow as tf
import tensorflow_compression as tfc


def normalization(kind: str) -> tf.keras.layers.Layer:
  """The normalisation layer of kind `kind`.

  "instance": per-image, per-channel statistics over H, W (the paper's);
  "channel": per-pixel statistics across channels (independent of image
  size, so training crops and full photos are normalised alike);
  "gdn": generalized divisive normalisation (Ballé et al. 2016), per
  pixel across channels with learned weights and no statistics, so it
  keeps each pixel's magnitude.
  """
  if kind == "instance":
    return tf.keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
  if kind == "channel":
    return tf.keras.layers.LayerNormalization(axis=-1, epsilon=1e-5)
  if kind == "gdn":
    return GDN()
  raise ValueError(f"unknown normalization {kind!r}")


class GDN(tf.keras.layers.Layer):
  """Generalized divisive normalisation (Ballé et al., ICLR 2016):

      y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²),

  per pixel across channels; β > 0 and γ ≥ 0 are kept in range by TFC's
  `GDNParameter` reparametrisation and start at 1 and 0.1·I. It is also
  the nonlinearity: no activation follows it. Written here rather than
  taken from `tfc.GDN`, whose Python branches on tensors fail inside
  Keras's traced train step. G uses it too: the inverse (x · sqrt(...)),
  Ballé's synthesis nonlinearity, chained through G's stages and residual
  blocks, grew like x^(2^n) and diverged within 600 steps.
  float [B, H, W, C] -> the same.
  """

  def build(self, input_shape):
    channels = int(input_shape[-1])
    self.beta = tfc.GDNParameter(tf.ones([channels]), name="beta",
                                 minimum=1e-6)
    self.gamma = tfc.GDNParameter(0.1 * tf.eye(channels), name="gamma",
                                  minimum=0.0)
    super().build(input_shape)

  def call(self, x):
    gamma = tf.cast(self.gamma(), x.dtype)
    pool = tf.nn.bias_add(tf.einsum("bhwj,ji->bhwi", tf.square(x), gamma),
                          tf.cast(self.beta(), x.dtype))
    return x * tf.math.rsqrt(pool)


def _activation(name, norm):
  """The activation after a normalisation of kind `norm`: the identity
  after GDN, else `name`."""
  if norm == "gdn":
    return tf.keras.layers.Activation("linear")
  if name == "leaky_relu":
    return tf.keras.layers.LeakyReLU(0.2)
  return tf.keras.layers.Activation(name)


class ConvNormAct(tf.keras.layers.Layer):
  """Conv, optional normalisation, activation: c7s1-k, dk and Ck layers.

  The conv has a bias without a normalisation, or with `bias`. After GDN
  the activation is the identity.
  """

  def __init__(self, filters, kernel_size, strides=1, norm="instance",
               activation="relu", bias=False, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.strides = strides
    self.norm = norm
    self.activation = activation
    self.bias = bias
    self.conv = tf.keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same",
        use_bias=norm is None or bias)
    self.normalize = normalization(norm) if norm else None
    self.act = _activation(activation, norm)

  def call(self, x):
    x = self.conv(x)
    if self.normalize is not None:
      x = self.normalize(x)
    return self.act(x)

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                kernel_size=self.kernel_size, strides=self.strides,
                norm=self.norm, activation=self.activation, bias=self.bias)


class ResidualBlock(tf.keras.layers.Layer):
  """Rk: x + norm(conv3x3(relu(norm(conv3x3(x)))))."""

  def __init__(self, filters, norm="instance", bias=False, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.norm = norm
    self.bias = bias
    self.first = ConvNormAct(filters, 3, norm=norm, bias=bias)
    self.second = ConvNormAct(filters, 3, norm=norm, activation="linear",
                              bias=bias)

  def call(self, x):
    return x + self.second(self.first(x))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters, norm=self.norm,
                bias=self.bias)


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
  """uk: 2x upsampling to k filters (with a bias if `bias`), then
  normalisation and ReLU (none after GDN).

  kind "transpose": 3x3 transposed conv, stride 2 (the paper's).
  kind "resize": nearest-neighbour 2x, then 3x3 conv (no checkerboard).
  """

  def __init__(self, filters, kind="transpose", norm="instance", bias=False,
               **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kind = kind
    self.norm = norm
    self.bias = bias
    if kind == "transpose":
      self.upsample = tf.keras.layers.Conv2DTranspose(
          filters, 3, strides=2, padding="same", use_bias=bias)
    elif kind == "resize":
      self.upsample = tf.keras.Sequential([
          NearestUpsample2x(),
          tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=bias),
      ])
    else:
      raise ValueError(f"unknown upsampling {kind!r}")
    self.normalize = normalization(norm)
    self.act = _activation("relu", norm)

  def call(self, x):
    return self.act(self.normalize(self.upsample(x)))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters, kind=self.kind,
                norm=self.norm, bias=self.bias)
