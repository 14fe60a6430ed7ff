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
halo holds at most `budget / bytes per pixel` pixels. A `Tiler` runs the
export's `analyze` (E) on tiles of an image and its `synthesize` (G) on
tiles of a latent grid, keeping each tile's core.
"""

import dataclasses
import math

import numpy as np

from tfgc.config import STRIDE, latent_shape
from tfgc.errors import TfgcError

# The outputs of the export's `analyze` on the latent grid (the others,
# image_shape, seed and SC's labels, are the image's).
LATENT_OUTPUTS = frozenset(("symbols", "latent_mask"))


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
  if not config.selective:
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
              if config.selective else 0)
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


def _reporting(found, progress):
  """The tiles `found`, one at a time; `progress` (if any) is called with
  (tiles done, tiles in all) when the loop has finished with each."""
  for done, tile in enumerate(found, 1):
    yield tile
    if progress is not None:
      progress(done, len(found))


class Tiler:
  """The export's `analyze` and `synthesize` run tile by tile within a
  memory budget, with the whole image's values (module doc).

  analyze, synthesize: the signatures as functions of numpy values by
    name to numpy values by name.
  """

  def __init__(self, config, memory_budget_mib, analyze, synthesize):
    self._analyze = analyze
    self._synthesize = synthesize
    self.memory_budget_mib = memory_budget_mib
    self._bytes_per_pixel = activation_bytes_per_pixel(config)
    self._max_cells = max_tile_cells(config, memory_budget_mib * 2 ** 20)
    self._untileable = untileable_reason(config)
    self._analysis_halo = analysis_halo(config)
    self._synthesis_halo = synthesis_halo(config)

  def _tiles(self, image_shape, halo):
    """The tiles to code an image (H, W) in: one unless its activations
    exceed the budget; TfgcError if it needs several and the model cannot
    be tiled."""
    found = tiles(latent_shape(image_shape), halo, self._max_cells)
    if len(found) > 1 and self._untileable:
      height, width = image_shape
      needed = height * width * self._bytes_per_pixel / 2 ** 20
      raise TfgcError(
          f"{width}x{height} needs about {needed:,.0f} MiB for this model's "
          f"activations, over the budget of {self.memory_budget_mib:,} MiB, "
          f"and the model cannot be coded in tiles ({self._untileable}): "
          f"raise --memory_budget_mib to at least {math.ceil(needed):,}")
    return found

  def check_size(self, image_shape):
    """TfgcError unless an image (H, W) can be coded: whole within the
    budget, or in tiles by a model that tiles exactly (whether it needs
    tiles does not depend on the halo)."""
    self._tiles(image_shape, halo=0)

  def analyse(self, pixels, progress=None):
    """E and q in tiles. pixels: `analyze`'s inputs by name (image uint8
    [H, W, 3]; in SC labels and synthesis_mask, uint8 [H, W]) -> its
    outputs on the latent grid (symbols int32 [h, w, C]; in SC latent_mask
    uint8 [h, w]) by name, for the whole image. progress: None, or called
    with (tiles done, tiles in all) after each tile."""
    image_shape = pixels["image"].shape[:2]
    grid_shape = latent_shape(image_shape)
    grid = {}
    for tile in _reporting(self._tiles(image_shape, self._analysis_halo),
                           progress):
      halo = tile.pixels(tile.halo, image_shape)
      outputs = self._analyze(
          {name: value[halo] for name, value in pixels.items()})
      for name in LATENT_OUTPUTS.intersection(outputs):
        core = outputs[name][tile.core_in_halo()]
        if name not in grid:
          grid[name] = np.empty(grid_shape + core.shape[2:], core.dtype)
        grid[name][tile.cells(tile.core)] = core
    return grid

  def synthesise(self, image_shape, seed, grid, pixels, progress=None,
                 realism=None):
    """G (and F) in tiles -> uint8 [H, W, 3], `synthesize`'s output for
    the whole image (H, W). grid: its inputs on the latent grid (symbols
    int32 [h, w, C]; in SC latent_mask uint8 [h, w]); pixels: its inputs
    at full resolution (in SC labels uint8 [H, W]); seed: int, the noise's;
    progress: None, or called with (tiles done, tiles in all) after each
    tile; realism: r in [0, 1] for a model with the realism dial (the same
    in every tile: it acts on every pixel alike), else None.
    """
    image = np.empty(tuple(image_shape) + (3,), np.uint8)
    for tile in _reporting(self._tiles(image_shape, self._synthesis_halo),
                           progress):
      halo = tile.pixels(tile.halo, image_shape)
      inputs = {name: value[tile.cells(tile.halo)]
                for name, value in grid.items()}
      inputs.update({name: value[halo] for name, value in pixels.items()})
      inputs.update(image_shape=[s.stop - s.start for s in halo], seed=seed)
      if realism is not None:
        inputs["realism"] = realism
      decoded = self._synthesize(inputs)["image"]
      image[tile.pixels(tile.core, image_shape)] = (
          decoded[tile.core_in_halo(STRIDE)])
    return image
