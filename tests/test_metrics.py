import numpy as np
import pytest
import skimage.data

from tfgc import metrics

COFFEE = skimage.data.coffee()


def test_identical_images_score_perfectly():
  assert metrics.psnr(COFFEE, COFFEE) == float("inf")
  assert metrics.ms_ssim(COFFEE, COFFEE) == pytest.approx(1.0)
  assert metrics.lpips(COFFEE, COFFEE) == pytest.approx(0.0, abs=1e-6)


def test_psnr_matches_the_formula():
  noisy = COFFEE.astype(np.int16) + 4
  assert metrics.psnr(COFFEE, np.clip(noisy, 0, 255).astype(np.uint8)) == \
      pytest.approx(10 * np.log10(255 ** 2 / 16), abs=0.1)


def test_worse_images_score_worse():
  rng = np.random.default_rng(0)
  mild, strong = (np.clip(COFFEE + rng.normal(0, s, COFFEE.shape), 0, 255)
                  .astype(np.uint8) for s in (5, 40))
  assert metrics.psnr(COFFEE, mild) > metrics.psnr(COFFEE, strong)
  assert metrics.ms_ssim(COFFEE, mild) > metrics.ms_ssim(COFFEE, strong)
  assert metrics.lpips(COFFEE, mild) < metrics.lpips(COFFEE, strong)


def test_small_images_use_fewer_ms_ssim_scales():
  small = COFFEE[:40, :40]
  assert metrics.ms_ssim(small, small) == pytest.approx(1.0)


def test_mismatched_sizes_are_refused():
  with pytest.raises(ValueError):
    metrics.psnr(COFFEE, COFFEE[:10])


@pytest.mark.parametrize("net", ["alexnet", "vgg16"])
def test_a_reference_scores_like_pairwise_lpips(net):
  blurred = COFFEE[::2, ::2].repeat(2, 0).repeat(2, 1)
  reference = metrics.Reference(COFFEE)
  assert reference.lpips(blurred, net) == pytest.approx(
      metrics.lpips(COFFEE, blurred, net), abs=1e-5)
  assert reference.lpips(COFFEE, net) == pytest.approx(0.0, abs=1e-6)


def test_a_reference_scores_like_pairwise_dists():
  blurred = COFFEE[::2, ::2].repeat(2, 0).repeat(2, 1)
  reference = metrics.Reference(COFFEE)
  assert reference.perceptual(blurred, "dists") == pytest.approx(
      metrics.dists(COFFEE, blurred), abs=1e-5)
  assert metrics.dists(COFFEE, blurred) > 0.01
