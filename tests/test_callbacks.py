"""tfgc.callbacks.BestCheckpoint: the lowest validation LPIPS, across runs."""

import json

import tensorflow as tf

from tfgc import callbacks


def best_of(directory, weight):
  checkpoint = tf.train.Checkpoint(weight=tf.Variable(weight))
  return checkpoint, callbacks.BestCheckpoint(checkpoint, str(directory))


def test_only_a_lower_lpips_replaces_the_best_also_after_a_restart(tmp_path):
  _, best = best_of(tmp_path, 1.0)
  best.offer(10, dict(psnr=20.0, lpips_alexnet=0.30))
  best.offer(20, dict(psnr=21.0, lpips_alexnet=0.35))

  # A resumed run (new objects) compares with what the first one kept.
  _, resumed = best_of(tmp_path, 2.0)
  resumed.offer(30, dict(psnr=22.0, lpips_alexnet=0.31))
  with open(tmp_path / "best.json") as f:
    assert json.load(f) == dict(step=10, psnr=20.0, lpips_alexnet=0.30)

  checkpoint, resumed = best_of(tmp_path, 3.0)
  resumed.offer(40, dict(psnr=19.0, lpips_alexnet=0.25))
  with open(tmp_path / "best.json") as f:
    assert json.load(f)["step"] == 40
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-40")
  checkpoint.weight.assign(0.0)
  checkpoint.restore(tf.train.latest_checkpoint(str(tmp_path)))
  assert float(checkpoint.weight) == 3.0
  assert len(tf.io.gfile.glob(str(tmp_path / "ckpt-*.index"))) == 1
