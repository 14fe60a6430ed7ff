import numpy as np
import pytest
import skimage.data

from tfgc import baselines

COFFEE = skimage.data.coffee()  # 400x600 photo


@pytest.mark.parametrize("codec", sorted(baselines.CODECS))
def test_codec_reaches_a_reachable_target_from_below(codec):
  target = 0.5
  result = baselines.at_bpp(codec, COFFEE, target)
  assert result.reached
  assert result.bpp == 8 * len(result.data) / COFFEE[..., 0].size
  assert target * 0.7 <= result.bpp <= target
  assert result.decoded.shape == COFFEE.shape


@pytest.mark.parametrize("codec", sorted(baselines.CODECS))
def test_an_unreachable_target_is_reported_not_extrapolated(codec):
  result = baselines.at_bpp(codec, COFFEE, 0.001)
  assert not result.reached
  assert result.bpp > 0.001
  assert result.bpp == 8 * len(result.data) / COFFEE[..., 0].size
