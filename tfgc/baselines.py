"""Classical codecs driven to a target bit rate, for honest comparisons.

Each codec is encoded at a quality setting found by bisection so that the
real file (container included) is as close to the target bpp as it can be
without exceeding it; the achieved bpp of that file is what is reported.
When even the lowest setting produces more bits than the target, the
result says so (`reached=False`) and holds the smallest file the codec
can make: rates are never extrapolated.

| codec    | library                        | file written                    |
|----------|--------------------------------|---------------------------------|
| jpeg     | Pillow (libjpeg-turbo)         | JFIF, optimised Huffman tables  |
| webp     | Pillow (libwebp), method 6     | RIFF/WebP, lossy VP8            |
| avif     | Pillow (libavif/aom), speed 4  | ISOBMFF (HEIF) with AV1 intra   |
| jpeg2000 | Pillow (OpenJPEG)              | raw J2K codestream (no JP2 box) |
| hevc     | pillow-heif (libheif + x265)   | ISOBMFF (HEIF) with HEVC intra  |
| x265     | PyAV (libx265), preset slow,   | raw HEVC Annex-B, one intra     |
|          | QP 51-0                        | frame: BPG without its header   |
| jxl      | imagecodecs (libjxl), effort 7 | bare JPEG XL codestream         |

`container_bytes` measures how many bytes of a file are container and
headers rather than coded image data (see docs/evaluation.md, the codec table).
"""

import dataclasses
import fractions
import functools
import io
import struct
import time
from typing import Callable

import numpy as np
from PIL import Image

from tfgc.errors import TfgcError


class CodecUnavailable(TfgcError):
  """A codec's library is not installed."""


def _pillow(format_name, options):
  """An encoder writing `format_name` with Pillow options `options(q)`."""
  def encode(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format_name,
                                **options(quality))
    return buffer.getvalue()
  return encode


def _pillow_decode(data):
  with Image.open(io.BytesIO(data)) as image:
    return np.asarray(image.convert("RGB"))


@functools.lru_cache(maxsize=None)
def _module(name):
  try:
    return __import__(name)
  except ImportError:
    raise CodecUnavailable(f"{name} is not installed: pip install "
                           "'tfgc[eval]' (in a checkout: make install)"
                           ) from None


def _hevc_encode(image, quality):
  heif = _module("pillow_heif")
  height, width = image.shape[:2]
  buffer = io.BytesIO()
  heif.from_bytes("RGB", (width, height),
                  np.ascontiguousarray(image).tobytes()).save(
                      buffer, quality=int(quality))
  return buffer.getvalue()


def _hevc_decode(data):
  return np.asarray(_module("pillow_heif").open_heif(io.BytesIO(data)))


# One intra frame, no settings SEI (`info=0`: x265 writes ~2 KB of it
# otherwise, more than a whole image at 0.05 bpp), single-threaded so that
# the same image always gives the same bytes.
X265_PARAMS = "keyint=1:info=0:log-level=none:pools=none:frame-threads=1"


def _x265_encode(image, quality):
  """Raw HEVC-intra at QP = -quality, yuv420p. Odd sides are padded by
  repeating the last row/column (4:2:0 needs even sides); the decoder
  crops them off again."""
  av = _module("av")
  height, width = image.shape[:2]
  padded = np.pad(image, [(0, height % 2), (0, width % 2), (0, 0)],
                  mode="edge")
  context = av.CodecContext.create("libx265", "w")
  context.width, context.height = padded.shape[1], padded.shape[0]
  context.pix_fmt = "yuv420p"
  context.time_base = fractions.Fraction(1, 25)
  context.options = {"preset": "slow",
                     "x265-params": f"{X265_PARAMS}:qp={-int(quality)}"}
  frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded),
                                     format="rgb24").reformat(
                                         format="yuv420p")
  packets = context.encode(frame) + context.encode(None)
  # The frame size is not in the stream's header with the padding removed:
  # it travels as 4 bytes, as BPG's header carries it.
  return (struct.pack(">HH", height, width)
          + b"".join(bytes(packet) for packet in packets))


def _x265_decode(data):
  av = _module("av")
  height, width = struct.unpack(">HH", data[:4])
  context = av.CodecContext.create("hevc", "r")
  frames = context.decode(av.Packet(data[4:])) + context.decode(None)
  return frames[0].to_ndarray(format="rgb24")[:height, :width]


def _jxl_encode(image, quality):
  # Butteraugli distance = -quality: 25 is libjxl's coarsest setting.
  return _module("imagecodecs").jpegxl_encode(image, distance=-quality,
                                              effort=7)


def _jxl_decode(data):
  return _module("imagecodecs").jpegxl_decode(data)


@dataclasses.dataclass(frozen=True)
class ClassicalCodec:
  """A codec with a quality knob q in [low, high]; larger q, more bits.

  encode: (uint8 [H, W, 3], q) -> file bytes. decode: bytes -> uint8
  [H, W, 3]. integer: whether q only takes integer values.
  """
  name: str
  low: float
  high: float
  integer: bool
  encode: Callable
  decode: Callable


CODECS = {
    "jpeg": ClassicalCodec("jpeg", 1, 95, True, _pillow(
        "JPEG", lambda q: dict(quality=int(q), optimize=True)),
        _pillow_decode),
    "webp": ClassicalCodec("webp", 0, 100, True, _pillow(
        "WEBP", lambda q: dict(quality=int(q), method=6)), _pillow_decode),
    "avif": ClassicalCodec("avif", 0, 100, True, _pillow(
        "AVIF", lambda q: dict(quality=int(q), speed=4)), _pillow_decode),
    # Pillow's JPEG 2000 quality is a compression ratio; q = -log2(ratio).
    "jpeg2000": ClassicalCodec("jpeg2000", -12.0, -1.0, False, _pillow(
        "JPEG2000", lambda q: dict(quality_mode="rates", no_jp2=True,
                                   quality_layers=[2.0 ** -q])),
        _pillow_decode),
    "hevc": ClassicalCodec("hevc", 0, 100, True, _hevc_encode, _hevc_decode),
    "x265": ClassicalCodec("x265", -51, 0, True, _x265_encode, _x265_decode),
    "jxl": ClassicalCodec("jxl", -25.0, -0.5, False, _jxl_encode, _jxl_decode),
}


def codec(name):
  """The named codec, checked to be usable here."""
  if name not in CODECS:
    raise TfgcError(f"unknown codec {name!r}; choose from "
                    f"{', '.join(CODECS)}")
  if name == "hevc":
    _module("pillow_heif")
  if name == "jxl":
    _module("imagecodecs")
  if name == "x265":
    _module("av")
  return CODECS[name]


@dataclasses.dataclass(frozen=True)
class Result:
  """A codec's file at (or as near as it gets below) a target rate.

  data: the encoded file. bpp: 8 * len(data) / pixels. quality: the
  setting used. reached: False if the codec cannot go as low as the
  target (then `data` is its smallest file). encode_seconds: wall time of
  the encoder call that made `data`.
  """
  codec: str
  data: bytes
  bpp: float
  quality: float
  reached: bool
  encode_seconds: float


class RateSearch:
  """One codec on one image: files at target rates, each quality encoded
  once (bisections for several targets share their encodes).

  image: uint8 [H, W, 3].
  """

  def __init__(self, name, image, iterations=12):
    self.codec = codec(name)
    self.image = np.ascontiguousarray(image)
    self.pixels = image.shape[0] * image.shape[1]
    self.iterations = iterations
    self._results = {}

  def result(self, quality):
    """The file at `quality` (encoded on first use)."""
    if quality not in self._results:
      start = time.perf_counter()
      data = self.codec.encode(self.image, quality)
      seconds = time.perf_counter() - start
      self._results[quality] = Result(self.codec.name, data,
                                      8 * len(data) / self.pixels, quality,
                                      True, seconds)
    return self._results[quality]

  def at_bpp(self, target_bpp):
    """The largest file with bpp <= `target_bpp` (see `Result`)."""
    spec = self.codec
    smallest = self.result(spec.low)
    if smallest.bpp > target_bpp:
      return dataclasses.replace(smallest, reached=False)
    largest = self.result(spec.high)
    if largest.bpp <= target_bpp:
      return largest
    # Bisection between a setting under the target and one over it.
    best, high = smallest, spec.high
    step = 1 if spec.integer else 1e-3
    for _ in range(self.iterations):
      middle = (best.quality + high) / 2
      if spec.integer:
        middle = int(round(middle))
      if high - best.quality <= step or middle in (best.quality, high):
        break
      candidate = self.result(middle)
      if candidate.bpp <= target_bpp:
        best = candidate
      else:
        high = middle
    return best


def at_bpp(name, image, target_bpp):
  """The codec's largest file with bpp <= `target_bpp` on `image`."""
  return RateSearch(name, image).at_bpp(target_bpp)


def decode(name, data):
  """The codec's file bytes -> uint8 [H, W, 3]."""
  return codec(name).decode(data)


def _isobmff_payload(data):
  """Bytes inside top-level `mdat` boxes of an ISOBMFF (HEIF/AVIF) file."""
  offset, payload = 0, 0
  while offset + 8 <= len(data):
    size = int.from_bytes(data[offset:offset + 4], "big")
    header = 8
    if size == 1:
      size, header = int.from_bytes(data[offset + 8:offset + 16], "big"), 16
    elif size == 0:
      size = len(data) - offset
    if data[offset + 4:offset + 8] == b"mdat":
      payload += size - header
    offset += max(size, header)
  return payload


def _jpeg_payload(data):
  """Entropy-coded bytes of a baseline JPEG: after the SOS header, before
  the EOI marker."""
  sos = data.find(b"\xff\xda")
  start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
  return len(data) - 2 - start


def _riff_payload(data):
  """Bytes of the VP8/VP8L image chunks of a RIFF WebP file."""
  offset, payload = 12, 0
  while offset + 8 <= len(data):
    size = int.from_bytes(data[offset + 4:offset + 8], "little")
    if data[offset:offset + 4] in (b"VP8 ", b"VP8L"):
      payload += size
    offset += 8 + size + (size & 1)
  return payload


def _j2k_payload(data):
  """Tile data of a J2K codestream: after each SOD marker, up to the end
  of its tile-part (Psot) or to the final EOC."""
  payload, offset = 0, data.find(b"\xff\x90")
  while 0 <= offset < len(data) - 2 and data[offset:offset + 2] == b"\xff\x90":
    psot = int.from_bytes(data[offset + 6:offset + 10], "big")
    end = offset + psot if psot else len(data) - 2
    sod = data.find(b"\xff\x93", offset, end)
    payload += end - (sod + 2)
    offset = end
  return payload


def _annex_b_parameter_bytes(data):
  """Bytes of an HEVC Annex-B stream that are not slice data: start codes
  and the VPS, SPS, PPS and SEI NAL units."""
  starts = [i for i in range(len(data) - 2)
            if data[i:i + 3] == b"\x00\x00\x01"]
  overhead = 0
  for start, end in zip(starts, starts[1:] + [len(data)]):
    nal_type = (data[start + 3] >> 1) & 0x3F if start + 3 < len(data) else 0
    length = end - start
    overhead += length if 32 <= nal_type <= 40 else 3
  return overhead + (starts[0] if starts else len(data))


def container_bytes(name, data):
  """Bytes of a codec's file that are container and headers, not coded
  image data: JPEG markers and tables, RIFF chunk headers (WebP), ISOBMFF
  boxes outside `mdat` (AVIF, HEIF: item info, colour and parameter sets),
  J2K main and tile-part headers; raw HEVC: the 4-byte size, start codes
  and parameter-set/SEI NAL units. JPEG XL is a bare codestream: 0."""
  if name in ("avif", "hevc"):
    return len(data) - _isobmff_payload(data)
  if name == "jpeg":
    return len(data) - _jpeg_payload(data)
  if name == "webp":
    return len(data) - _riff_payload(data)
  if name == "jpeg2000":
    return len(data) - _j2k_payload(data)
  if name == "x265":
    return 4 + _annex_b_parameter_bytes(data[4:])
  if name == "jxl":
    return 0
  raise TfgcError(f"unknown codec {name!r}")
