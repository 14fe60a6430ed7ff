import numpy as np
import pytest
import skimage.data

from tfgc import baselines
from tfgc.errors import TfgcError

# A 192x256 crop of a photo (the cup): codec runs cost what its pixels do.
COFFEE = np.ascontiguousarray(skimage.data.coffee()[100:292, 150:406])


@pytest.mark.parametrize("codec", sorted(baselines.CODECS))
def test_codec_reaches_a_reachable_target_from_below(codec):
  target = 0.5
  result = baselines.at_bpp(codec, COFFEE, target)
  assert result.reached
  assert result.bpp == 8 * len(result.data) / COFFEE[..., 0].size
  assert target * 0.7 <= result.bpp <= target
  decoded = baselines.decode(codec, result.data)
  assert decoded.shape == COFFEE.shape and decoded.dtype == np.uint8
  error = np.abs(decoded.astype(int) - COFFEE).mean()
  assert error < 20  # A real decoding of this photo, not noise.


@pytest.mark.parametrize("codec", sorted(baselines.CODECS))
def test_an_unreachable_target_is_reported_not_extrapolated(codec):
  result = baselines.at_bpp(codec, COFFEE, 0.001)
  assert not result.reached
  assert result.bpp > 0.001
  assert result.bpp == 8 * len(result.data) / COFFEE[..., 0].size


def test_searches_for_several_targets_share_their_encodes():
  search = baselines.RateSearch("jpeg", COFFEE)
  first = search.at_bpp(0.5)
  encodes = len(search._results)
  assert search.at_bpp(0.5) == first
  assert len(search._results) == encodes


@pytest.mark.parametrize("codec", sorted(baselines.CODECS))
def test_container_bytes_are_a_fixed_part_of_the_file(codec):
  search = baselines.RateSearch(codec, COFFEE)
  small, large = search.at_bpp(0.2), search.at_bpp(1.0)
  small_overhead = baselines.container_bytes(codec, small.data)
  large_overhead = baselines.container_bytes(codec, large.data)
  assert 0 <= small_overhead < len(small.data)
  # The coded image data, not the headers, is what grows with the rate.
  assert (len(large.data) - large_overhead
          > 2 * (len(small.data) - small_overhead))
  assert abs(large_overhead - small_overhead) < 200


def test_known_container_sizes():
  webp = baselines.at_bpp("webp", COFFEE, 0.5).data
  assert baselines.container_bytes("webp", webp) == 20  # RIFF + VP8 chunk.
  hevc = baselines.at_bpp("hevc", COFFEE, 0.5).data
  assert baselines.container_bytes("hevc", hevc) > 100  # HEIF boxes.
  assert baselines.container_bytes("jxl", b"\xff\x0a") == 0
  # Size, VPS, SPS, PPS: no x265 settings SEI, which alone is ~2 KB.
  x265 = baselines.at_bpp("x265", COFFEE, 0.5).data
  assert 50 < baselines.container_bytes("x265", x265) < 200


def test_raw_hevc_keeps_odd_sizes_and_gives_the_same_bytes_each_time():
  odd = COFFEE[:99, :151]
  first = baselines.CODECS["x265"].encode(odd, -30)
  assert baselines.CODECS["x265"].encode(odd, -30) == first
  decoded = baselines.decode("x265", first)
  assert decoded.shape == odd.shape
  assert np.abs(decoded.astype(int) - odd).mean() < 10


def test_unknown_codec_names_the_choices():
  with pytest.raises(TfgcError, match="choose from jpeg"):
    baselines.codec("bpg")


def test_a_missing_library_says_how_to_install_it(monkeypatch):
  monkeypatch.setattr(baselines, "_module", baselines._module.__wrapped__)
  monkeypatch.setitem(__import__("sys").modules, "pillow_heif", None)
  with pytest.raises(baselines.CodecUnavailable, match="make install"):
    baselines.codec("hevc")
