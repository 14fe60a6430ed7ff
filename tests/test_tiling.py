"""Tiled coding: the whole image's bytes and pixels in bounded memory."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_python
from tfgc import bitstream, codec, export, tiling
from tfgc.config import latent_shape, preset
from tfgc.errors import TfgcError
from tfgc.labellers.standin import cluster_labels
from tfgc.model import GenerativeCompressionModel

# Noise drawn for the whole latent is not tileable: these models have none.
GC_TINY = preset("tiny").replace(noise_channels=0)
SC_TINY = GC_TINY.replace(mode="sc", num_classes=4)
HYPERPRIOR_TINY = GC_TINY.replace(entropy_model="hyperprior")


def budget_mib(config, cells):
  """The memory budget whose tiles, halo included, are `cells` wide."""
  pixels = (cells * 16) ** 2
  return pixels * tiling.activation_bytes_per_pixel(config) / 2 ** 20


# Tiles of 8 (GC) and 4 (SC) core cells: 12 and 40 tiles for the 320x480
# px test image (20x30 latent cells), which they do not divide.
GC_BUDGET_MIB = budget_mib(GC_TINY, 8 + 2 * tiling.synthesis_halo(GC_TINY))
SC_BUDGET_MIB = budget_mib(SC_TINY, 4 + 2 * tiling.synthesis_halo(SC_TINY))


def exported(tmp_path_factory, config, seed):
  tf.keras.utils.set_random_seed(seed)
  path = str(tmp_path_factory.mktemp(f"{config.mode}_tileable"))
  export.export(GenerativeCompressionModel(config), path)
  return path


@pytest.fixture(scope="module")
def gc_export(tmp_path_factory):
  return exported(tmp_path_factory, GC_TINY, 5)


@pytest.fixture(scope="module")
def hyperprior_export(tmp_path_factory):
  return exported(tmp_path_factory, HYPERPRIOR_TINY, 7)


@pytest.fixture(scope="module")
def sc_export(tmp_path_factory):
  return exported(tmp_path_factory, SC_TINY, 6)


@pytest.fixture(scope="module")
def image(photo):
  return np.ascontiguousarray(photo[100:420, 20:500])


def selective_inputs(image):
  labels = cluster_labels(image, SC_TINY.num_classes)
  return dict(labels=labels, synthesize=[1])


@pytest.mark.parametrize("shape,max_cells", [((13, 19), 7), ((40, 3), 9),
                                             ((1, 1), 1), ((13, 19), 30)])
def test_tile_cores_partition_the_grid_and_halos_fit_the_budget(
    shape, max_cells):
  halo = 2
  covered = np.zeros(shape, int)
  tiles = tiling.tiles(shape, halo, max_cells)
  for tile in tiles:
    covered[tile.cells(tile.core)] += 1
    (r0, r1), (c0, c1) = tile.halo
    assert (r1 - r0) * (c1 - c0) <= max(max_cells, 1 + 2 * halo) ** 2
    for (core0, core1), (halo0, halo1), size in zip(tile.core, tile.halo,
                                                    shape):
      assert halo0 == max(0, core0 - halo) and halo1 == min(size,
                                                           core1 + halo)
  assert (covered == 1).all()
  assert (len(tiles) == 1) == (shape[0] * shape[1] <= max_cells ** 2)


def whole_and_tiled(path, config, budget, image):
  """Codecs of the export at `path`: one coding `image` whole, one in
  more than four tiles."""
  assert len(tiling.tiles(
      latent_shape(image.shape[:2]), tiling.synthesis_halo(config),
      tiling.max_tile_cells(config, budget * 2 ** 20))) > 4
  return codec.load(path), codec.load(path, memory_budget_mib=budget)


def assert_same_pixels(whole, tiled, data):
  difference = np.abs(whole.decompress(data).astype(int)
                      - tiled.decompress(data))
  assert difference.max() <= 1


@pytest.mark.parametrize("name,config", [("gc_export", GC_TINY),
                                         ("hyperprior_export",
                                          HYPERPRIOR_TINY)])
def test_tiled_gc_coding_gives_the_whole_images_bytes_and_pixels(
    name, config, image, request):
  path = request.getfixturevalue(name)
  whole, tiled = whole_and_tiled(path, config, GC_BUDGET_MIB, image)
  data = whole.compress(image)
  assert tiled.compress(image) == data
  signature = tf.saved_model.load(path).signatures["compress"]
  strings = signature(image=tf.constant(image))
  latent, side = bitstream.parse(data).sections
  assert latent == strings["latent_string"].numpy()
  assert side == strings["side_string"].numpy()
  assert (len(side) > 0) == (config.entropy_model == "hyperprior")
  assert_same_pixels(whole, tiled, data)


def test_tiled_sc_coding_gives_the_whole_images_bytes_and_pixels(
    sc_export, image):
  whole, tiled = whole_and_tiled(sc_export, SC_TINY, SC_BUDGET_MIB, image)
  inputs = selective_inputs(image)
  data = whole.compress(image, **inputs)
  assert tiled.compress(image, **inputs) == data
  assert codec.info(data)["latent_bytes"] < codec.info(
      whole.compress(image, inputs["labels"]))["latent_bytes"]
  assert_same_pixels(whole, tiled, data)


def test_a_halo_narrower_than_the_computed_one_shows_seams(
    gc_export, image, monkeypatch):
  """The tests above could not fail if any halo were enough."""
  whole = codec.load(gc_export)
  data = whole.compress(image)
  halo = tiling.synthesis_halo(GC_TINY) // 2
  monkeypatch.setattr(tiling, "synthesis_halo", lambda config: halo)
  monkeypatch.setattr(tiling, "analysis_halo", lambda config: 0)
  tiled = codec.load(gc_export, memory_budget_mib=GC_BUDGET_MIB)
  assert tiled.compress(image) != data
  difference = np.abs(whole.decompress(data).astype(int)
                      - tiled.decompress(data))
  assert difference.max() > 16


def test_the_tiler_reports_progress_after_each_tile():
  events = []

  def analyze(inputs):
    events.append("tile")
    return dict(symbols=np.zeros(
        latent_shape(inputs["image"].shape[:2]) + (1,), np.int32))
  tiler = tiling.Tiler(GC_TINY, GC_BUDGET_MIB, analyze, synthesize=None)
  tiler.analyse(dict(image=np.zeros((320, 480, 3), np.uint8)),
                progress=lambda done, total: events.append((done, total)))
  total = len(events) // 2
  assert total > 4
  assert events == [event for done in range(1, total + 1)
                    for event in ("tile", (done, total))]


def test_coding_reports_each_tile_and_a_whole_image_as_one(gc_export,
                                                           image):
  tiled = codec.load(gc_export, memory_budget_mib=GC_BUDGET_MIB)
  encoded, decoded, whole = [], [], []
  data = tiled.compress(image, progress=lambda *done: encoded.append(done))
  tiled.decompress(data, progress=lambda *done: decoded.append(done))
  max_cells = tiling.max_tile_cells(GC_TINY, GC_BUDGET_MIB * 2 ** 20)
  for calls, halo in ((encoded, tiling.analysis_halo(GC_TINY)),
                      (decoded, tiling.synthesis_halo(GC_TINY))):
    total = len(tiling.tiles(latent_shape(image.shape[:2]), halo,
                             max_cells))
    assert total > 4
    assert calls == [(done, total) for done in range(1, total + 1)]
  codec.load(gc_export).decompress(data, progress=lambda *done:
                                   whole.append(done))
  assert whole == [(1, 1)]


@pytest.mark.parametrize("change,reason", [
    (dict(), "noise"),
    (dict(noise_channels=0, normalization="instance"), "instance norm")])
def test_untileable_reasons_name_what_breaks_tiling(change, reason):
  config = preset("tiny").replace(**change)
  assert reason in tiling.untileable_reason(config)
  assert tiling.untileable_reason(GC_TINY) is None
  assert tiling.untileable_reason(HYPERPRIOR_TINY) is None


def test_an_untileable_model_names_the_budget_that_would_fit(tiny_export,
                                                             image):
  model = codec.load(tiny_export, memory_budget_mib=1)
  with pytest.raises(TfgcError, match=r"noise.*--memory_budget_mib"):
    model.compress(image)
  data = codec.load(tiny_export).compress(image)
  with pytest.raises(TfgcError, match="cannot be coded in tiles"):
    model.decompress(data)


MEMORY_RUN = """
import ctypes
import sys
import numpy as np
from tfgc import codec

def kib(key):
  with open("/proc/self/status") as f:
    return next(int(l.split()[1]) for l in f if l.startswith(key + ":"))

def peak_increase_mib(run):
  ctypes.CDLL("libc.so.6").malloc_trim(0)  # Freed heap back to the system.
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # VmHWM := VmRSS
  before = kib("VmRSS")
  run()
  return (kib("VmHWM") - before) / 1024

path, side, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
image = np.zeros((side, side, 3), np.uint8)
image[::7] = 255
tiled = codec.load(path, memory_budget_mib=budget)
whole = codec.load(path, memory_budget_mib=10_000)
data = tiled.compress(image)
# Tiled first: memory that a whole-image run leaves in the allocator's
# pools would hide what later runs take.
print(peak_increase_mib(lambda: tiled.compress(image)),
      peak_increase_mib(lambda: tiled.decompress(data)),
      peak_increase_mib(lambda: whole.decompress(data)))
"""


def test_coding_a_large_image_stays_within_the_memory_budget(gc_export):
  side, budget = 1600, 8
  encode, decode, decode_whole = map(float, run_python(
      MEMORY_RUN, gc_export, str(side), str(budget)).stdout.split())
  # The image and the tile in flight, beside the budget; decoding whole
  # shows that the bound has teeth.
  bound = budget + 3 * side * side * 3 / 2 ** 20 + 16
  assert encode < bound, (encode, bound)
  assert decode < bound < decode_whole, (decode, bound, decode_whole)


CRAFTED_RUN = """
import sys
from tfgc import bitstream, codec
from tfgc.errors import TfgcError
model = codec.load(sys.argv[1], max_pixels_per_byte=None)
for payload in (b"", bytes(1), bytes([255]) * 64, bytes(range(256)) * 4):
  data = bitstream.serialize(bitstream.Bitstream(
      model.model_id, "gc", 4000, 4000, (payload, b"")))
  try:
    model.decompress(data)
    print("decoded")
  except TfgcError as e:
    print(type(e).__name__, str(e).split(":")[0])
"""


def test_a_huge_declared_size_with_a_tiny_payload_is_refused_quickly(
    gc_export):
  """16 Mpx declared in a few bytes, with no limit of pixels per byte:
  refused by the strict decoder before G runs (the subprocess would time
  out on a hang)."""
  lines = run_python(CRAFTED_RUN, gc_export, timeout=120).stdout.split("\n")
  assert lines[:4] == ["TfgcError corrupt bitstream"] * 4
