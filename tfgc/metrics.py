"""Image quality metrics on uint8 images: PSNR, MS-SSIM, LPIPS, DISTS.

All take two uint8 [H, W, 3] arrays of the same size and return a float.
"""

import functools

import numpy as np
import tensorflow as tf

from tfgc.dists import DISTS
from tfgc.lpips import LPIPS
from tfgc.networks import to_float

# MS-SSIM's standard five scales need images of at least 11 * 2^4 pixels.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _check(a, b):
  if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
    raise ValueError(f"expected two [H, W, 3] images of one size, got "
                     f"{a.shape} and {b.shape}")


def psnr(a, b, mask=None):
  """Peak signal-to-noise ratio in dB (inf for identical images); with
  `mask` (bool [H, W]) of the pixels where it is True, None if there are
  none."""
  _check(a, b)
  error = a.astype(np.float64) - b.astype(np.float64)
  if mask is not None:
    if not mask.any():
      return None
    error = error[mask]
  mse = np.mean(error ** 2)
  return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ms_ssim(a, b):
  """Multi-scale SSIM (TensorFlow's), in [0, 1]; images too small for all
  five scales use as many as fit, their weights renormalised."""
  _check(a, b)
  scales = len(MS_SSIM_WEIGHTS)
  while scales > 1 and min(a.shape[:2]) < 11 * 2 ** (scales - 1):
    scales -= 1
  weights = np.array(MS_SSIM_WEIGHTS[:scales])
  return float(tf.image.ssim_multiscale(
      tf.constant(a)[None], tf.constant(b)[None], 255,
      power_factors=tuple(weights / weights.sum()))[0])


@functools.lru_cache(maxsize=None)
def _lpips(net):
  return LPIPS(net)


def lpips(a, b, net="alexnet"):
  """LPIPS distance (lower is better) with the "alexnet" or "vgg16" net."""
  _check(a, b)
  return float(_lpips(net)(to_float(a[None]), to_float(b[None]))[0])


@functools.lru_cache(maxsize=None)
def _dists():
  return DISTS()


def dists(a, b):
  """DISTS (lower is better, 0 for identical images)."""
  _check(a, b)
  return float(_dists()(to_float(a[None]), to_float(b[None]))[0])


def _perceptual_metric(name):
  """"dists" or "lpips_<net>" -> the metric layer."""
  if name == "dists":
    return _dists()
  if name.startswith("lpips_"):
    return _lpips(name[len("lpips_"):])
  raise ValueError(f"unknown perceptual metric {name!r}")


class Reference:
  """One original image compared with many decodings of it: its features
  are computed once per learned metric (half the work of `lpips` or
  `dists`).

  reference: uint8 [H, W, 3].
  """

  def __init__(self, reference):
    self.image = reference
    self._features = {}

  def perceptual(self, decoded, name):
    """Same value as `dists(reference, decoded)` for "dists" and as
    `lpips(reference, decoded, net)` for "lpips_<net>"."""
    _check(self.image, decoded)
    metric = _perceptual_metric(name)
    if name not in self._features:
      self._features[name] = metric.features(to_float(self.image[None]))
    return float(metric.distance(self._features[name],
                                 metric.features(to_float(decoded[None])))[0])

  def lpips(self, decoded, net="alexnet"):
    """Same value as `lpips(reference, decoded, net)`."""
    return self.perceptual(decoded, f"lpips_{net}")
