"""The `.tfgc` container: bytes in, validated fields out. No TensorFlow.

Layout (version 1), all multi-byte integers big-endian or LEB128 varints:

    offset  size  field
    0       4     magic b"TFGC"
    4       1     format version (1)
    5       1     mode: 0 = GC (global), 1 = SC (selective)
    6       8     model id: the model's 16 hex digits as 8 bytes
    14      1-3   width  (varint, 1..65535)
    ..      1-3   height (varint, 1..65535)
    ..      1     number of payload sections (GC: 2, SC: 4 or 5)
    ..            each section: length (varint, < 2^28), then its bytes
                  GC: latent string, side string
                  SC: latent string, side string, label map, latent mask
                      (+ colour context, for models that send one)
    end-4   4     CRC-32 of every byte before it

A 768x512 GC file carries 26 bytes of header, section lengths and checksum
on top of its entropy-coded strings. `parse` checks every field, every
length and the checksum before returning; it never builds a tensor.
"""

import dataclasses
import math
import struct
import zlib
from typing import Tuple

from tfgc.errors import TfgcError

MAGIC = b"TFGC"
VERSION = 1
MODES = {"gc": 0, "sc": 1}
# Section counts of each mode (SC: 5 with `Config.colour_context`).
SECTIONS = {"gc": (2,), "sc": (4, 5)}
MAX_SIDE = 65535
MAX_SECTION_BYTES = 1 << 28
MODEL_ID_BYTES = 8
_CHECKSUM = struct.Struct(">I")


class BitstreamError(TfgcError):
  """The bytes are not a valid .tfgc bitstream (message says why)."""


@dataclasses.dataclass(frozen=True)
class Bitstream:
  """The fields of one .tfgc file.

  model_id: 16 lowercase hex digits.
  mode: "gc" or "sc".
  width, height: the image size in pixels, 1..65535 each.
  sections: the payloads, GC: (latent string, side string).
  """
  model_id: str
  mode: str
  width: int
  height: int
  sections: Tuple[bytes, ...]

  @property
  def selective(self):
    """Whether the file is SC (it carries a label map and a latent mask)."""
    return self.mode == "sc"

  @property
  def payload_bytes(self):
    return sum(len(s) for s in self.sections)


def _counts(mode):
  """The section counts of `mode` in words: "2", "4 or 5"."""
  return " or ".join(str(n) for n in SECTIONS[mode])


def _varint(value):
  out = bytearray()
  while True:
    byte = value & 0x7F
    value >>= 7
    if value:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


class _Reader:
  """Reads fields from the body, raising BitstreamError past its end."""

  def __init__(self, data):
    self.data = data
    self.position = 0

  def take(self, size, what):
    if size > len(self.data) - self.position:
      raise BitstreamError(f"truncated bitstream ({what} cut off)")
    chunk = self.data[self.position:self.position + size]
    self.position += size
    return chunk

  def varint(self, what, limit):
    value = 0
    for shift in range(0, 35, 7):
      byte = self.take(1, what)[0]
      value |= (byte & 0x7F) << shift
      if not byte & 0x80:
        if shift and not byte:
          raise BitstreamError(f"malformed {what} (not in its shortest "
                               "form)")
        if value > limit:
          raise BitstreamError(f"{what} {value} exceeds the limit {limit}")
        return value
    raise BitstreamError(f"malformed {what}")


def serialize(bitstream):
  """Bitstream -> bytes."""
  if bitstream.mode not in MODES:
    raise ValueError(f"unknown mode {bitstream.mode!r}")
  if len(bitstream.sections) not in SECTIONS[bitstream.mode]:
    raise ValueError(f"{bitstream.mode} needs {_counts(bitstream.mode)} "
                     f"sections, got {len(bitstream.sections)}")
  if not (1 <= bitstream.width <= MAX_SIDE and
          1 <= bitstream.height <= MAX_SIDE):
    raise ValueError(f"image size {bitstream.width}x{bitstream.height} is "
                     f"outside 1..{MAX_SIDE}")
  body = bytearray(MAGIC)
  body += bytes([VERSION, MODES[bitstream.mode]])
  body += bytes.fromhex(bitstream.model_id)
  body += _varint(bitstream.width) + _varint(bitstream.height)
  body.append(len(bitstream.sections))
  for section in bitstream.sections:
    if len(section) >= MAX_SECTION_BYTES:
      raise ValueError("section too large")
    body += _varint(len(section)) + section
  return bytes(body) + _CHECKSUM.pack(zlib.crc32(body))


def _check_decoding_work(width, height, file_bytes, max_pixels,
                         max_pixels_per_byte):
  """BitstreamError if a file of `file_bytes` declaring `width` x `height`
  pixels is over the decoding limits (None: no limit): `max_pixels` of
  image, or `max_pixels_per_byte` of the file (decoding synthesises every
  declared pixel, however few bytes describe them)."""
  pixels = width * height
  if max_pixels is not None and pixels > max_pixels:
    raise BitstreamError(f"declared image size {width}x{height} exceeds the "
                         f"limit of {max_pixels} pixels; raise it with "
                         "--max_pixels")
  if max_pixels_per_byte is not None and (
      pixels > max_pixels_per_byte * file_bytes):
    raise BitstreamError(
        f"declared image size {width}x{height} from {file_bytes} bytes is "
        f"{pixels / file_bytes:,.0f} pixels per byte, over the limit of "
        f"{max_pixels_per_byte:,}: decoding would synthesise far more than "
        "the file carries; if you trust the file, pass "
        f"--max_pixels_per_byte={math.ceil(pixels / file_bytes)}")


def parse(data, max_pixels=None, max_pixels_per_byte=None):
  """bytes -> Bitstream, after validating everything.

  Raises BitstreamError for a wrong magic, an unknown version or mode, a
  size outside the limits (or above `max_pixels`, or above
  `max_pixels_per_byte` times the file's bytes), a varint not in its
  shortest form, lengths that do not add up to the file, or a checksum
  mismatch.
  """
  data = bytes(data)
  if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
    raise BitstreamError("not a .tfgc bitstream (wrong magic bytes)")
  if len(data) < len(MAGIC) + 2 + MODEL_ID_BYTES + _CHECKSUM.size:
    raise BitstreamError("truncated bitstream (header cut off)")
  body, checksum = data[:-_CHECKSUM.size], data[-_CHECKSUM.size:]
  reader = _Reader(body)
  reader.take(len(MAGIC), "magic")
  version, mode_code = reader.take(2, "header")
  if version != VERSION:
    raise BitstreamError(f"unsupported format version {version} (this tfgc "
                         f"reads version {VERSION}); upgrade tfgc")
  modes = {code: name for name, code in MODES.items()}
  if mode_code not in modes:
    raise BitstreamError(f"unknown mode {mode_code}")
  mode = modes[mode_code]
  model_id = reader.take(MODEL_ID_BYTES, "model id").hex()
  width = reader.varint("width", MAX_SIDE)
  height = reader.varint("height", MAX_SIDE)
  if not width or not height:
    raise BitstreamError("image size is zero")
  _check_decoding_work(width, height, len(data), max_pixels,
                       max_pixels_per_byte)
  count = reader.take(1, "section count")[0]
  if count not in SECTIONS[mode]:
    raise BitstreamError(f"{mode} bitstream with {count} sections "
                         f"(expected {_counts(mode)})")
  sections = []
  for i in range(count):
    length = reader.varint(f"length of section {i}", MAX_SECTION_BYTES)
    sections.append(reader.take(length, f"section {i}"))
  if reader.position != len(body):
    raise BitstreamError(
        f"{len(body) - reader.position} unexpected bytes after the payload")
  if _CHECKSUM.unpack(checksum)[0] != zlib.crc32(body):
    raise BitstreamError("checksum mismatch: the bitstream is corrupt")
  return Bitstream(model_id, mode, width, height, tuple(sections))


def overhead_bytes(bitstream):
  """Bytes of the container beyond the payload sections."""
  return len(serialize(bitstream)) - bitstream.payload_bytes
