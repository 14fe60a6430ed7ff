"""Bjøntegaard delta rate: the bit-rate difference at equal quality.

Curves are lists of (bpp, quality) points measured on one image. Rates are
compared in log space along quality (Bjøntegaard, VCEG-M33), interpolating
log(bpp) as a function of quality with a monotone piecewise cubic (PCHIP)
rather than the original single cubic fit, which can oscillate between
unevenly spaced points.

`bd_rate(anchor, test)` is the mean of log(R_test / R_anchor) over the
quality range both curves cover, as a percentage: -30 means the test needs
30 % fewer bits for the same quality. A test curve of a single operating
point (one trained model) is the degenerate case: the rate difference at
that one quality. Outside the anchor's measured quality range the answer is
unknown and `None` is returned, never an extrapolation.

Quality must grow with the metric: pass -LPIPS, not LPIPS.
"""

import math

import numpy as np
from scipy.interpolate import PchipInterpolator


def monotone_curve(points):
  """(bpp, quality) points -> the sorted points where quality rises with rate.

  Drops points that a cheaper point matches or beats (a codec's setting
  that spends bits for nothing), and repeated rates. Returns two float64
  arrays (bpp, quality), increasing in both.
  """
  rates, qualities = [], []
  for bpp, quality in sorted(points):
    if not (math.isfinite(bpp) and math.isfinite(quality)) or bpp <= 0:
      continue
    if qualities and (quality <= qualities[-1] or bpp == rates[-1]):
      continue
    rates.append(bpp)
    qualities.append(quality)
  return np.array(rates), np.array(qualities)


def log_rate_at(curve, quality):
  """log(bpp) the curve needs for `quality`; None outside its range."""
  rates, qualities = curve
  if len(rates) == 0 or not qualities[0] <= quality <= qualities[-1]:
    return None
  if len(rates) == 1:
    return float(np.log(rates[0]))
  return float(PchipInterpolator(qualities, np.log(rates))(quality))


def bd_rate(anchor, test, samples=100):
  """Mean rate difference of `test` against `anchor` in percent, or None.

  anchor, test: iterables of (bpp, quality). None when the test's quality
  range does not overlap the anchor's (no extrapolation).
  """
  anchor, test = monotone_curve(anchor), monotone_curve(test)
  if len(anchor[0]) == 0 or len(test[0]) == 0:
    return None
  low = max(anchor[1][0], test[1][0])
  high = min(anchor[1][-1], test[1][-1])
  if low > high:
    return None
  qualities = np.linspace(low, high, samples) if high > low else [low]
  differences = [log_rate_at(test, q) - log_rate_at(anchor, q)
                 for q in qualities]
  return float(100 * (math.exp(np.mean(differences)) - 1))


def mean_bd_rate(values):
  """Geometric mean of per-image BD-rates (percent); None if none known."""
  known = [v for v in values if v is not None]
  if not known:
    return None
  return float(100 * (math.exp(np.mean([math.log1p(v / 100)
                                         for v in known])) - 1))
