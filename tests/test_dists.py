"""The Keras DISTS port against the reference DISTS_pytorch."""

import importlib.util
import io
import json
import os

import numpy as np
import pytest
import skimage.data
from PIL import Image

from lpips_pairs import pairs
from tfgc import dists

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures",
                        "dists_reference.json")
with open(FIXTURES) as f:
  REFERENCE = json.load(f)


@pytest.fixture(scope="module")
def metric():
  return dists.DISTS()


def test_identical_images_are_at_distance_zero(metric):
  image = pairs()["coffee+blur"][0]
  assert abs(float(metric(image, image)[0])) < 1e-3


def test_port_matches_pinned_reference_values(metric):
  for name, (images, reconstructions) in pairs().items():
    value = float(metric(images, reconstructions)[0])
    assert value == pytest.approx(REFERENCE[name], abs=1e-4), name


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None
    or importlib.util.find_spec("DISTS_pytorch") is None,
    reason="needs torch and dists-pytorch (reference implementation)")
def test_pinned_values_are_what_dists_pytorch_computes():
  from dists_pairs import reference
  assert reference() == pytest.approx(REFERENCE, abs=1e-6)


def test_lower_jpeg_quality_scores_worse(metric):
  image = skimage.data.astronaut()[::2, ::2]
  scores = []
  for quality in (5, 20, 50, 90):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    decoded = np.asarray(Image.open(buffer))
    scores.append(float(metric(image[None] / 255.0, decoded[None] / 255.0)[0]))
  assert scores == sorted(scores, reverse=True), scores


def test_bfloat16_ranks_like_float32(metric):
  fast = dists.DISTS(dtype="mixed_bfloat16")
  for name, (images, reconstructions) in pairs().items():
    assert float(fast(images, reconstructions)[0]) == pytest.approx(
        REFERENCE[name], abs=3e-3), name


def test_any_image_size_measures(metric):
  rng = np.random.default_rng(0)
  image = rng.random([2, 17, 23, 3]).astype(np.float32)
  values = metric(image, image[::-1]).numpy()
  assert values.shape == (2,) and np.all(values > 0.05)


def test_weights_are_refused_when_damaged(tmp_path, monkeypatch):
  with open(dists.weights_path(), "rb") as f:
    data = bytearray(f.read())
  data[-1] ^= 1
  damaged = tmp_path / "weights.pt"
  damaged.write_bytes(bytes(data))
  monkeypatch.setattr(dists, "weights_path", lambda: str(damaged))
  with pytest.raises(dists.WeightsError, match="checksum mismatch"):
    dists.load_weights()
  monkeypatch.setattr(dists, "weights_path",
                      lambda: str(tmp_path / "missing.pt"))
  with pytest.raises(dists.WeightsError, match="pip install --no-deps"):
    dists.load_weights()
