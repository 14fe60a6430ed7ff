"""Classical codecs driven to a target bit rate, for honest comparisons.

Each codec is encoded at a quality setting found by bisection so that the
real file (container included) is as close to the target bpp as it can be
without exceeding it; the achieved bpp of that file is what is reported.
When even the lowest setting produces more bits than the target, the
result says so (`reached=False`) and holds the smallest file the codec
can make: rates are never extrapolated.

Codecs here: JPEG, WebP, AVIF and JPEG 2000 through Pillow.
"""

import dataclasses
import io

import numpy as np
from PIL import Image


@dataclasses.dataclass(frozen=True)
class Codec:
  """A Pillow format with a quality knob: `options(q)` for q in [lo, hi].

  Larger q means more bits for every codec here.
  """
  name: str
  format: str
  low: float
  high: float
  integer: bool
  options: callable


CODECS = {
    "jpeg": Codec("jpeg", "JPEG", 1, 95, True,
                  lambda q: dict(quality=int(q), optimize=True)),
    "webp": Codec("webp", "WEBP", 0, 100, True,
                  lambda q: dict(quality=int(q), method=6)),
    "avif": Codec("avif", "AVIF", 0, 100, True,
                  lambda q: dict(quality=int(q), speed=4)),
    # Pillow's JPEG 2000 quality is a compression ratio; q = -log2(ratio),
    # so that larger q means more bits like the others.
    "jpeg2000": Codec("jpeg2000", "JPEG2000", -12.0, -1.0, False,
                      lambda q: dict(quality_mode="rates",
                                     quality_layers=[2.0 ** -q])),
}


@dataclasses.dataclass(frozen=True)
class Result:
  """A codec's file at (or as near as it gets below) a target rate.

  data: the encoded file. bpp: 8 * len(data) / pixels. quality: the
  setting used. reached: False if the codec cannot go as low as the
  target (then `data` is its smallest file). decoded: uint8 [H, W, 3].
  """
  codec: str
  data: bytes
  bpp: float
  quality: float
  reached: bool
  decoded: np.ndarray


def encode(codec, image, quality):
  """uint8 [H, W, 3] -> the codec's file bytes at `quality`."""
  spec = CODECS[codec]
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, format=spec.format,
                              **spec.options(quality))
  return buffer.getvalue()


def decode(data):
  with Image.open(io.BytesIO(data)) as image:
    return np.asarray(image.convert("RGB"))


def at_bpp(codec, image, target_bpp, iterations=12):
  """The codec's largest file with bpp <= `target_bpp` (see `Result`)."""
  spec = CODECS[codec]
  pixels = image.shape[0] * image.shape[1]

  def result(quality, reached=True):
    data = encode(codec, image, quality)
    return Result(codec, data, 8 * len(data) / pixels, quality, reached,
                  decode(data))

  smallest = result(spec.low)
  if smallest.bpp > target_bpp:
    return dataclasses.replace(smallest, reached=False)
  largest = result(spec.high)
  if largest.bpp <= target_bpp:
    return largest
  # Bisection between a setting under the target and one over it.
  best, high = smallest, spec.high
  step = 1 if spec.integer else 1e-3
  for _ in range(iterations):
    middle = (best.quality + high) / 2
    if spec.integer:
      middle = int(round(middle))
    if high - best.quality <= step or middle in (best.quality, high):
      break
    candidate = result(middle)
    if candidate.bpp <= target_bpp:
      best = candidate
    else:
      high = middle
  return best
