"""SC's colour context: the mean colour of the painted regions, coded.

A painted region (latents not sent) is otherwise drawn from its label
alone, so G has to guess its colours and light; with `Config.colour_context`
= k the file also carries, for every block of k x k latent cells (16k x
16k pixels) that holds a painted cell, the mean colour of the block's
painted pixels at 5 bits per channel, and G receives it in the painted
cells (`painted_colours`).
Blocks whose cells are all kept carry nothing: their latents say more.

A block's level per channel is floor(mean / 8) of its painted pixels' uint8
values (0..31), the image padded by repeating its last row and column as E's
input is; the numpy (`block_levels`, the codec's, strip by strip) and
TensorFlow (`networks.colour_context_levels`, training's and the
SavedModel's) versions are integer arithmetic and agree exactly. No
TensorFlow here: `tfgc.codec` imports this before any model loads. In
the file (SC's fifth section) the sent blocks' levels follow each other
in raster order, 15 bits a block (R, G, B, most significant bit first),
packed into bytes: 180 bytes (0.0037 bpp) for a wholly painted 768x512
background with k = 4.
"""

import numpy as np

from tfgc.config import STRIDE
from tfgc.bitstream import BitstreamError

BITS = 5
LEVELS = 2 ** BITS
STEP = 256 // LEVELS  # uint8 values per level
# G's context channels: the block's colour (3) and whether the cell is
# painted (1).
CHANNELS = 4


def grid_of_blocks(latent_shape, cells):
  """The latent grid (h, w) -> the block grid (ceil(h/k), ceil(w/k))."""
  return tuple(-(-side // cells) for side in latent_shape)


def painted_cells(keep, cells):
  """keep bool or {0, 1} [h, w] (1 = the cell's latents are sent) -> bool
  [bh * k, bw * k], True on the painted cells, the grid padded with kept
  cells to whole blocks."""
  painted = ~np.asarray(keep, bool)
  bh, bw = grid_of_blocks(painted.shape, cells)
  padded = np.zeros((bh * cells, bw * cells), bool)
  padded[:painted.shape[0], :painted.shape[1]] = painted
  return padded


def sent_blocks(keep, cells):
  """keep [h, w] as `painted_cells` takes it -> bool [bh, bw], the blocks
  that hold a painted cell (their colour is sent)."""
  padded = painted_cells(keep, cells)
  bh, bw = padded.shape[0] // cells, padded.shape[1] // cells
  return padded.reshape(bh, cells, bw, cells).any(axis=(1, 3))


def block_levels(image, keep, cells):
  """uint8 [H, W, 3] and keep [h, w] (the latent mask) -> uint8 [bh, bw, 3]
  levels in 0..31: each block's mean over the pixels of its painted cells
  (a kept object's colours do not bleed into the painting around it), zero
  in the blocks that are not sent. One block row of the image is summed at
  a time (memory of a strip, not of the image)."""
  height, width = image.shape[:2]
  side = cells * STRIDE
  painted = painted_cells(keep, cells)
  bh, bw = painted.shape[0] // cells, painted.shape[1] // cells
  columns = np.minimum(np.arange(bw * side), width - 1)
  levels = np.zeros((bh, bw, 3), np.uint8)
  for row in range(bh):
    cells_of_strip = painted[row * cells:(row + 1) * cells].astype(np.int64)
    if not cells_of_strip.any():
      continue
    rows = np.minimum(np.arange(row * side, (row + 1) * side), height - 1)
    strip = image[rows][:, columns].astype(np.int64)
    mask = np.repeat(np.repeat(cells_of_strip, STRIDE, 0), STRIDE, 1)
    sums = (strip * mask[..., None]).reshape(side, bw, side, 3).sum(
        axis=(0, 2))
    counts = mask.reshape(side, bw, side).sum(axis=(0, 2))
    levels[row] = sums // (STEP * np.maximum(counts, 1))[:, None]
  return levels


def per_cell(levels, cells, latent_shape):
  """Block levels [bh, bw, 3] (numpy) -> each cell's block's levels
  [h, w, 3] for the latent grid (h, w): what `synthesize` takes."""
  expanded = np.repeat(np.repeat(levels, cells, 0), cells, 1)
  return expanded[:latent_shape[0], :latent_shape[1]]


def encode(levels, keep, cells):
  """The fifth SC section: the sent blocks' levels (uint8 [bh, bw, 3] of
  `block_levels`), raster order, 5 bits each, packed."""
  sent = sent_blocks(keep, cells)
  values = np.asarray(levels, np.uint8)[sent].reshape(-1, 1)
  bits = np.unpackbits(values, axis=1)[:, -BITS:]
  return np.packbits(bits.reshape(-1)).tobytes()


def decode(data, keep, cells):
  """Bytes of `encode` and the file's latent mask -> uint8 [bh, bw, 3];
  BitstreamError unless the length is that of the mask's sent blocks."""
  sent = sent_blocks(keep, cells)
  count = int(sent.sum()) * 3
  if len(data) != -(-count * BITS // 8):
    raise BitstreamError("corrupt bitstream: the colour context has the "
                         "wrong size for the latent mask")
  bits = np.unpackbits(np.frombuffer(data, np.uint8))[:count * BITS]
  values = np.packbits(np.concatenate(
      [np.zeros((count, 8 - BITS), np.uint8), bits.reshape(count, BITS)],
      axis=1), axis=1)[:, 0]
  levels = np.zeros(sent.shape + (3,), np.uint8)
  levels[sent] = values.reshape(-1, 3)
  return levels
