import random
import struct
import zlib

import pytest

from tfgc import bitstream
from tfgc.bitstream import Bitstream, BitstreamError

EXAMPLE = Bitstream(model_id="0123456789abcdef", mode="gc", width=768,
                    height=512, sections=(bytes(range(200)), b""))


def test_round_trip_preserves_every_field():
  assert bitstream.parse(bitstream.serialize(EXAMPLE)) == EXAMPLE


def test_header_overhead_of_a_768x512_gc_file():
  assert bitstream.overhead_bytes(EXAMPLE) == 26


def test_every_truncation_is_a_clean_error():
  data = bitstream.serialize(EXAMPLE)
  for size in range(len(data)):
    with pytest.raises(BitstreamError):
      bitstream.parse(data[:size])


def test_random_mutations_are_detected():
  data = bitstream.serialize(EXAMPLE)
  rng = random.Random(0)
  for _ in range(1000):
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 4)):
      mutated[rng.randrange(len(mutated))] ^= rng.randint(1, 255)
    with pytest.raises(BitstreamError):
      bitstream.parse(bytes(mutated))


@pytest.mark.parametrize("data, message", [
    (b"", "magic"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "magic"),
    (b"TFGC", "truncated"),
])
def test_foreign_and_empty_inputs_name_the_problem(data, message):
  with pytest.raises(BitstreamError, match=message):
    bitstream.parse(data)


def test_unknown_version_is_refused():
  data = bytearray(bitstream.serialize(EXAMPLE))
  data[4] = 9
  with pytest.raises(BitstreamError, match="version 9"):
    bitstream.parse(bytes(data))


def test_declared_size_above_the_limit_is_refused_before_decoding():
  huge = Bitstream("0123456789abcdef", "gc", 65535, 65535, (b"x", b""))
  with pytest.raises(BitstreamError, match="exceeds the limit"):
    bitstream.parse(bitstream.serialize(huge), max_pixels=50_000_000)


def test_a_file_declaring_more_pixels_per_byte_than_allowed_is_refused():
  data = bitstream.serialize(EXAMPLE)  # 768x512 in 226 bytes: 1,740 each.
  with pytest.raises(BitstreamError, match="--max_pixels_per_byte=1740"):
    bitstream.parse(data, max_pixels_per_byte=1000)
  assert bitstream.parse(data, max_pixels_per_byte=1740) == EXAMPLE


def test_trailing_bytes_are_refused():
  data = bitstream.serialize(EXAMPLE)
  body = data[:-4] + b"\x00"
  with pytest.raises(BitstreamError, match="unexpected bytes"):
    bitstream.parse(body + struct.pack(">I", zlib.crc32(body)))


def test_serialize_refuses_impossible_fields():
  with pytest.raises(ValueError):
    bitstream.serialize(Bitstream("0123456789abcdef", "gc", 0, 5,
                                  (b"", b"")))
  with pytest.raises(ValueError):
    bitstream.serialize(Bitstream("0123456789abcdef", "gc", 5, 5, (b"",)))


def with_checksum(body):
  return bytes(body) + struct.pack(">I", zlib.crc32(bytes(body)))


@pytest.mark.parametrize("field, offset", [("width", 14), ("height", 16)])
def test_a_varint_not_in_its_shortest_form_is_refused(field, offset):
  # 768 = 0x80 0x06, 512 = 0x80 0x04: a third, empty byte encodes the same.
  body = bytearray(bitstream.serialize(EXAMPLE)[:-4])
  body[offset + 1] |= 0x80
  body.insert(offset + 2, 0x00)
  with pytest.raises(BitstreamError, match=f"{field}.*shortest form"):
    bitstream.parse(with_checksum(body))


def test_a_section_length_not_in_its_shortest_form_is_refused():
  body = bytearray(bitstream.serialize(EXAMPLE)[:-4])
  empty_section_length = len(body) - 1
  body[empty_section_length:] = b"\x80\x00"
  with pytest.raises(BitstreamError, match="section 1.*shortest form"):
    bitstream.parse(with_checksum(body))
