"""Tiled analysis and synthesis: the whole-image result in bounded memory.

With channel norm (per pixel) and no global operation, E, F and G are
purely convolutional, so an output cell depends only on inputs within a
receptive field. A tile cut with a halo at least that wide, on the 16-pixel
latent grid, therefore gives exactly the whole image's values in its core:
zero padding at the tile's edges only disturbs the halo, which is thrown
away, and at the image's edges the tile's padding is the whole image's.
Instance norm (per-image statistics) and noise drawn for the whole latent
shape break this: such models are coded whole.

Tiles are counted in latent cells (16 x 16 pixels). Memory is estimated
per pixel from the config (`activation_bytes_per_pixel`); a tile with its
halo holds at most `budget / bytes per pixel` pixels.
"""

import dataclasses
import math

from tfgc.config import STRIDE


def _halo_after_upsampling(radius, stages):
  """A radius in output pixels of G's upsampling stages -> in latent cells.

  Each stage's 3x3 conv adds a pixel at its resolution; halving the
  resolution (nearest or transposed 2x) maps r pixels to ceil((r + 1) / 2)
  parents, a bound for both kinds.
  """
  for _ in range(stages):
    radius = math.ceil((radius + 2) / 2)
  return radius


def _downsampling_pixels(filters):
  """Input pixels on each side that a c7s1 conv and then len(filters) - 1
  stride-2 3x3 convs depend on (at most 2 input pixels each way per conv,
  at scales 1, 2, 4, ...)."""
  return 3 + sum(2 * 2 ** k for k in range(len(filters) - 1))


def analysis_halo(config):
  """Latent cells on each side that E's output depends on: its c7 and
  strided convs, then a 3x3 conv at latent resolution (1 cell)."""
  return math.ceil(_downsampling_pixels(config.encoder_filters) / STRIDE) + 1


def semantic_halo(config):
  """Latent cells on each side that F's features depend on (SC), else 0."""
  if config.mode != "sc":
    return 0
  return math.ceil(_downsampling_pixels(config.semantic_filters) / STRIDE)


def synthesis_halo(config):
  """Latent cells on each side that one output pixel of G (and F) depends
  on: c7 (3 px), four upsampling stages, then c3 and two 3x3 convs per
  residual block at latent resolution."""
  cells = _halo_after_upsampling(3, len(config.generator_filters) - 1)
  return cells + 1 + 2 * config.residual_blocks + semantic_halo(config)


def activation_bytes_per_pixel(config):
  """Estimated peak bytes of float32 activations per image pixel while E
  or G (or F) runs: their widest full-resolution layers, each tensor
  alive beside its normalised or activated copy. Calibrated against the
  peak RSS of `make bench` for `small` (E: 204 estimated, 200 measured
  whole; G: 252 estimated, about 230 measured in tiles)."""
  encoder = 3 + 3 * config.encoder_filters[0]
  *_, last_input, last_output = config.generator_filters
  generator = 3 + 2 * last_input + 2 * last_output
  semantic = (config.num_classes + 3 * config.semantic_filters[0]
              if config.mode == "sc" else 0)
  return 4 * max(encoder, generator, semantic)


def untileable_reason(config):
  """Why tiles of `config`'s model would not give the whole image's
  pixels, or None if they do."""
  if config.normalization != "channel":
    return f"its {config.normalization} norm has per-image statistics"
  if config.noise_channels:
    return "its noise is drawn for the whole latent"
  return None


@dataclasses.dataclass(frozen=True)
class Tile:
  """One tile on the latent grid, in cells: `core` is what it delivers,
  `halo` (containing it) what it reads. Each is ((row0, row1), (col0,
  col1)), half-open."""

  core: tuple
  halo: tuple

  @staticmethod
  def cells(region):
    """A region's slices (rows, cols) of a latent array."""
    return tuple(slice(start, end) for start, end in region)

  @staticmethod
  def pixels(region, image_shape):
    """A region's slices (rows, cols) of an image (H, W): the last cells'
    pixels clipped to the image."""
    return tuple(slice(start * STRIDE, min(end * STRIDE, size))
                 for (start, end), size in zip(region, image_shape))

  def core_in_halo(self, scale=1):
    """The core's slices (rows, cols) of an array covering the halo, in
    cells (`scale` 1) or pixels (`scale` STRIDE; slicing clips the last
    tile's core to the image)."""
    return tuple(slice((c0 - h0) * scale, (c1 - h0) * scale)
                 for (c0, c1), (h0, _) in zip(self.core, self.halo))


def _spans(length, parts):
  """`length` cells cut into `parts` near-equal half-open spans."""
  cuts = [round(i * length / parts) for i in range(parts + 1)]
  return list(zip(cuts[:-1], cuts[1:]))


def tiles(latent_shape, halo, max_cells):
  """Tiles covering a latent grid (h, w) whose halo-extended area stays
  within `max_cells` squared (at least one core cell each).

  One tile (the whole grid, no halo) when the grid's area fits.
  """
  if latent_shape[0] * latent_shape[1] <= max_cells ** 2:
    whole = tuple((0, size) for size in latent_shape)
    return [Tile(whole, whole)]
  core = max(1, max_cells - 2 * halo)
  axes = [_spans(size, math.ceil(size / core)) for size in latent_shape]
  return [Tile((rows, cols),
               tuple((max(0, s - halo), min(size, e + halo))
                     for (s, e), size in zip((rows, cols), latent_shape)))
          for rows in axes[0] for cols in axes[1]]


def max_tile_cells(config, budget_bytes):
  """The largest tile side, in latent cells, whose activations fit
  `budget_bytes`."""
  pixels = budget_bytes / activation_bytes_per_pixel(config)
  return max(1, int(math.sqrt(pixels)) // STRIDE)
