"""MODEL_CARD.md is written from the files it cites, and names the id."""

import json
import os
import sys

import pytest
import tensorflow as tf

from tfgc import zoo
from tfgc.errors import TfgcError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import modelcard  # noqa: E402

MODEL_ID = "0123456789abcdef"


def write_events(log_dir, times):
  """An event file with one scalar at each (step, wall_time)."""
  log_dir.mkdir(parents=True)
  writer = tf.summary.create_file_writer(str(log_dir))
  writer.close()
  path = next(log_dir.iterdir())
  with tf.io.TFRecordWriter(str(path)) as records:
    for step, wall_time in times:
      event = tf.compat.v1.Event(step=step, wall_time=wall_time)
      event.summary.value.add(tag="loss", simple_value=1.0)
      records.write(event.SerializeToString())


def point(bpp, lpips, images=7, reached=7):
  return dict(bpp=bpp, psnr=20.0, ms_ssim=0.8, lpips_alexnet=lpips,
              lpips_vgg16=lpips, images=images, reached=reached)


@pytest.fixture
def inputs(tmp_path):
  model_dir = tmp_path / "gc-test"
  model_dir.mkdir()
  config = dict(name="small", mode="gc", latent_channels=8,
                centers=[-2, -1, 0, 1, 2])
  (model_dir / "model.json").write_text(json.dumps(dict(
      model_id=MODEL_ID, config=config,
      parameters=dict(encoder=10, generator=20, entropy_model=3,
                      discriminator=40))))
  (model_dir / "training.json").write_text(json.dumps(dict(
      step=300, command=["train.py", "--steps=300"], config=config)))
  bd = dict(percent=-10.0, images=5, below_codec_range=2,
            above_codec_range=0)
  summary = dict(
      images=7, models={"gc-test": dict(path="x", model_id=MODEL_ID)},
      operating_points={"gc-test": point(0.07, 0.30)},
      matched={"gc-test": dict(jpeg=point(0.09, 0.55, reached=1),
                               hevc=point(0.07, 0.25))},
      double={"gc-test": dict(jpeg=point(0.14, 0.45),
                              webp=point(0.14, 0.29))},
      bd_rate={"gc-test": dict(jpeg=dict(lpips_alexnet=bd),
                               hevc=dict(lpips_alexnet=dict(
                                   bd, percent=None)))})
  manifest = [dict(file=f"{split}/{i}.png", package="pkg",
                   source=f"usr/share/wallpapers/photo{i}.jpg",
                   licence="licenses/pkg")
              for split, i in [("train", 0), ("train", 1), ("val", 2)]]
  warmup, adversarial = tmp_path / "warmup", tmp_path / "adversarial"
  write_events(warmup, [(100, 1000.0), (200, 1000.0 + 1800)])
  # The second stage ran past the export (step 300): later events are not
  # this model's.
  write_events(adversarial, [(100, 5000.0), (300, 5000.0 + 3600),
                             (400, 5000.0 + 7200)])
  return model_dir, summary, manifest, [str(warmup), str(adversarial)]


def test_card_names_the_model_id_and_the_measured_figures(inputs):
  model_dir, summary, manifest, logs = inputs
  text = modelcard.write(model_dir, summary, manifest, logs, "Lost stage.")
  assert (model_dir / zoo.CARD).read_text() == text
  assert f"**Model id:** `{MODEL_ID}`" in text.splitlines()
  assert "2 training and 1 validation images" in text
  assert ("- pkg (`licenses/pkg`): photo0.jpg, photo1.jpg, photo2.jpg"
          in text.splitlines())
  assert "200 steps, 0.5 h" in text and "300 steps, 1.0 h" in text
  assert "Lost stage." in text
  assert "| jpeg at the same bpp (1 of 7 reached the rate) |" in text
  assert "tfgc 0.300 against jpeg at the same bpp 0.550: met" in text
  assert "tfgc 0.300 against hevc at the same bpp 0.250: **not met**" in text
  assert "tfgc 0.300 against webp at twice the bpp 0.290: **not met**" in text
  assert "| jpeg | -10.0 % | 5 | 2 |" in text and "| hevc | – |" in text


def test_card_id_is_what_the_registry_reads(inputs, monkeypatch):
  model_dir, summary, manifest, logs = inputs
  modelcard.write(model_dir, summary, manifest, logs)
  monkeypatch.setattr(zoo, "DIR", str(model_dir.parent))
  assert zoo.card_model_id("gc-test") == MODEL_ID


def test_a_summary_of_another_model_is_refused(inputs):
  model_dir, summary, manifest, logs = inputs
  summary["models"]["gc-test"]["model_id"] = "ffffffffffffffff"
  with pytest.raises(TfgcError, match="evaluate this export first"):
    modelcard.write(model_dir, summary, manifest, logs)
  assert not (model_dir / zoo.CARD).exists()


def test_sc_card_has_the_rate_table_of_its_own_model_only(inputs):
  model_dir, summary, manifest, logs = inputs
  rows = [dict(fraction=f, bpp=0.08 - 0.07 * f, label_map_share=0.05,
               latent_share=0.9, context_share=0.02 * f,
               preserved_psnr=None if f == 1 else 19.0)
          for f in (0.0, 0.5, 1.0)]
  sc_rates = dict(model=MODEL_ID, images=7, summary=rows)
  text = modelcard.write(model_dir, summary, manifest, logs,
                         sc_rates=sc_rates)
  assert "| 50% | 0.0450 | 5.0% | 90.0% | 1.0% | 19.00 |" in text
  assert "| 100% | 0.0100 | 5.0% | 90.0% | 2.0% | – |" in text
  with pytest.raises(TfgcError, match="SC rates are of model"):
    modelcard.write(model_dir, summary, manifest, logs,
                    sc_rates=dict(sc_rates, model="ffffffffffffffff"))


def test_sc_card_names_its_labeller_and_the_synthesised_figures(inputs):
  """An SC model evaluated first, beside the GC model it started from and
  with its background synthesised (`tfgc.evaluate --synthesize=0`)."""
  model_dir, summary, manifest, logs = inputs
  description = json.loads((model_dir / "model.json").read_text())
  description["config"].update(mode="sc", num_classes=2, labeller="person")
  (model_dir / "model.json").write_text(json.dumps(description))
  summary["models"]["gc-small-c8"] = dict(path="y", model_id="f" * 16)
  summary["operating_points"]["gc-small-c8"] = point(0.075, 0.31)
  summary["selective"] = {"gc-test": dict(
      method="gc-test synthesised", classes="0", images=["astronaut.png"],
      all_preserved=point(0.08, 0.28, images=1),
      synthesised=dict(point(0.03, 0.45, images=1), synthesised_fraction=0.6,
                       psnr_preserved=21.5, psnr_preserved_all=21.0,
                       psnr_synthesised=12.25),
      bpp_saved_percent=62.5,
      bpp_of_models={"gc-test": 0.08, "gc-small-c8": 0.079})}
  text = modelcard.write(model_dir, summary, manifest, logs)
  assert "the `person` labeller's" in text
  assert "classes 0 background, 1 person." in text
  assert "| tfgc gc-small-c8 (for comparison) | 0.0750 |" in text
  assert "## With background synthesised" in text
  assert "60% of their pixels synthesised, 62 % of the bits saved" in text
  assert "gc-test 0.0800, gc-small-c8 0.0790" in text
  assert "| all preserved | 0.0800 | 21.00 | – | 0.280 |" in text
  assert "| background synthesised | 0.0300 | 21.50 | 12.25 | 0.450 |" in text
