"""Reads the files inside a Qt binary resource bundle (`.rcc`).

    for path, data in read_rcc(open("bundle.rcc", "rb").read()): ...

The format (Qt's rcc.cpp / qresource.cpp): a header `qres`, a big-endian
version (1-3), then the offsets of the tree, data and names sections
(version 3 adds a flags word). The tree is an array of nodes of 14 bytes
(version 1) or 22 (version 2 and later, which add a modification time):

    name offset u32, flags u16, then
      directory (flags & 2): child count u32, first child index u32
      file:                  country u16, language u16, data offset u32

Names are a u16 length, a u32 hash and UTF-16BE characters; data entries
a u32 size and the bytes, which are a u32 uncompressed size and a zlib
stream when flags & 1 (qCompress) and a zstd frame when flags & 4.
"""

import struct
import zlib

COMPRESSED_ZLIB = 1
DIRECTORY = 2
COMPRESSED_ZSTD = 4


class ResourceError(ValueError):
  """The bytes are not a Qt resource bundle this reader understands."""


def read_rcc(data):
  """Yields (path, bytes) of every file in the bundle `data`, in tree order.

  Raises ResourceError on a bad header or offsets outside the bundle, and
  on zstd-compressed entries (no zstd decoder in the standard library).
  """
  if len(data) < 20 or data[:4] != b"qres":
    raise ResourceError("not a Qt resource bundle (no 'qres' header)")
  version, tree, payload, names = struct.unpack_from(">IIII", data, 4)
  if not 1 <= version <= 3:
    raise ResourceError(f"unknown Qt resource version {version}")
  node_size = 14 if version == 1 else 22

  def unpack(fmt, offset):
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
      raise ResourceError(f"offset {offset} is outside the bundle")
    return struct.unpack_from(fmt, data, offset)

  def name(offset):
    (length,) = unpack(">H", names + offset)
    start = names + offset + 6
    unpack(f">{2 * length}s", start)
    return data[start:start + 2 * length].decode("utf-16-be")

  def file_bytes(flags, offset):
    (size,) = unpack(">I", payload + offset)
    (blob,) = unpack(f">{size}s", payload + offset + 4)
    if flags & COMPRESSED_ZSTD:
      raise ResourceError("zstd-compressed resources are not supported")
    if flags & COMPRESSED_ZLIB:
      return zlib.decompress(blob[4:])
    return blob

  def walk(index, prefix, depth):
    if depth > 64:
      raise ResourceError("resource tree is nested too deeply")
    node = tree + index * node_size
    name_offset, flags = unpack(">IH", node)
    path = prefix + name(name_offset) if index else ""
    if flags & DIRECTORY:
      count, first = unpack(">II", node + 6)
      for child in range(first, first + count):
        yield from walk(child, path + "/" if index else "", depth + 1)
    else:
      (offset,) = unpack(">I", node + 10)
      yield path, file_bytes(flags, offset)

  yield from walk(0, "", 0)
