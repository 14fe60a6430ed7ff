"""tfgc.training from Python: a run without absl or train.py; options it
cannot train with are refused before any work. Resuming, validation and
warm starts go through the same code from train.py (test_train.py)."""

import json

import pytest
from PIL import Image

from tfgc import training
from tfgc.config import preset

TINY = preset("tiny")


def options(tmp_path, **changes):
  values = dict(data_dir=str(tmp_path / "photos"),
                checkpoint_dir=str(tmp_path / "ckpt"), batch_size=2,
                crop_size=32, max_short_side=0, log_every=1)
  return training.RunOptions(**dict(values, **changes))


@pytest.fixture
def photos(tmp_path, small_photo):
  (tmp_path / "photos").mkdir()
  Image.fromarray(small_photo).save(tmp_path / "photos" / "face.png")
  return tmp_path / "photos"


def test_a_run_from_python_exports_and_keeps_its_config(photos, tmp_path):
  trained = training.train(TINY, options(
      tmp_path, steps=2, export_dir=str(tmp_path / "export")))
  assert trained.step == 2 and len(trained.model_id) == 16
  assert int(trained.model.generator_optimizer.iterations) == 2
  with open(tmp_path / "export" / "training.json") as f:
    record = json.load(f)
  assert record["step"] == 2 and record["command"] == []
  assert record["options"]["data_dir"] == ".../photos"
  assert str(tmp_path) not in json.dumps(record)

  with pytest.raises(training.TrainingError, match="another config"):
    training.train(TINY.replace(latent_channels=2), options(tmp_path,
                                                            steps=4))


@pytest.mark.parametrize("config, changes, message", [
    (TINY, dict(crop_size=40), "multiple of 16"),
    (TINY, dict(steps=0), "steps must be >= 1"),
    (TINY, dict(precision="float16"), "precision must be one of"),
    (TINY.replace(mode="sc", num_classes=3), {}, "takes label maps"),
    (TINY, dict(labels_dir="."), "needs a config with num_classes"),
    (TINY.replace(mode="sc", num_classes=3, standin_labels=True),
     dict(synthesis_box_fraction=0.8), "sum to <= 1"),
])
def test_options_that_cannot_train_are_refused_before_any_work(
    tmp_path, config, changes, message):
  (tmp_path / "photos").mkdir()
  with pytest.raises(training.TrainingError, match=message):
    training.train(config, options(tmp_path, **changes))
  assert not (tmp_path / "ckpt").exists()
