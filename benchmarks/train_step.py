"""Training steps per second of the default models' recipe, both phases.

    python benchmarks/train_step.py [--steps=20] [--rounds=3] \
        [--out=benchmarks/results/train_step.json]

The config and recipe are those `scripts/train_default_models.sh` trains
with: the flags of `scripts/default_models.flags` and
`scripts/adversarial.flags` parsed by tfgc train, C = 8; warm-up is the
same recipe with the adversarial terms off. Batches come from the real
input pipeline (scikit-image's photos, upscaled). Each round times `--steps` steps of each phase after
two untimed ones; rounds alternate the phases, so a load that comes and
goes during the run falls on both. Reported per phase: the median over
rounds of wall-clock steps/s and of process CPU seconds per step (all
threads; the steadier figure when other work shares the machine).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from tfgc.cli import train as train_cli  # noqa: E402
from tfgc import data  # noqa: E402
from tfgc.model import GenerativeCompressionModel  # noqa: E402

FLAG_FILES = ("scripts/default_models.flags", "scripts/adversarial.flags")


def default_run():
  """(config, recipe, `tfgc train` FLAGS) of the default models'
  adversarial stage."""
  train_cli.parse(["--latent_channels=8", "--data_dir=unused",
                   "--checkpoint_dir=unused"]
                  + [f"--flagfile={os.path.join(ROOT, f)}" for f in FLAG_FILES])
  return train_cli.build_config(), train_cli.build_recipe(), train_cli.FLAGS


def photo_folder(folder):
  """Writes scikit-image's colour photos, upscaled to ~1.5 MP, as PNGs."""
  import skimage.data  # Imported here: only the benchmarks need it.
  for name in ("astronaut", "coffee", "chelsea", "rocket"):
    image = Image.fromarray(getattr(skimage.data, name)())
    scale = (1.5e6 / (image.width * image.height)) ** 0.5
    image.resize((round(image.width * scale), round(image.height * scale)),
                 Image.BICUBIC).save(os.path.join(folder, f"{name}.png"))
  return folder


def time_steps(model, iterator, steps):
  """(wall seconds, CPU seconds) per step of `steps` train steps."""
  function = model.make_train_function()
  wall, cpu = time.perf_counter(), time.process_time()
  for _ in range(steps):
    logs = function(iterator)
  float(logs["g_loss"])  # Waits for the last step.
  return ((time.perf_counter() - wall) / steps,
          (time.process_time() - cpu) / steps)


def measure(config, recipe, flags, folder, steps, rounds,
            precision="float32"):
  """{phase: {steps_per_second, cpu_seconds_per_step, rounds}}."""
  paths = data.scan_folder(folder, min_size=flags.crop_size).paths
  dataset = data.training_dataset(
      paths, flags.crop_size, flags.batch_size,
      max_short_side=flags.max_short_side, max_zoom_out=flags.max_zoom_out)
  models = {}
  warmup = recipe.replace(gan_weight=0.0, lambda_feature_matching=0.0)
  for phase, phase_recipe in (("warmup", warmup), ("adversarial", recipe)):
    model = GenerativeCompressionModel(config, phase_recipe,
                                       precision=precision)
    model.compile()
    iterator = iter(dataset)
    time_steps(model, iterator, 2)
    models[phase] = (model, iterator)
  timings = {phase: [] for phase in models}
  for _ in range(rounds):
    for phase, (model, iterator) in models.items():
      timings[phase].append(time_steps(model, iterator, steps))
  return {phase: dict(
      steps_per_second=statistics.median(1 / wall for wall, _ in runs),
      cpu_seconds_per_step=statistics.median(cpu for _, cpu in runs),
      rounds=[dict(seconds_per_step=wall, cpu_seconds_per_step=cpu)
              for wall, cpu in runs])
          for phase, runs in timings.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--precisions", default="float32,mixed_bfloat16",
                      help="comma-separated compute precisions to time")
  parser.add_argument("--out", default=None, help="JSON file for the figures")
  args = parser.parse_args()
  config, recipe, flags = default_run()
  results = {}
  with tempfile.TemporaryDirectory() as folder:
    photo_folder(folder)
    for precision in args.precisions.split(","):
      results[precision] = measure(config, recipe, flags, folder,
                                   args.steps, args.rounds, precision)
  for precision, phases in results.items():
    for phase, r in phases.items():
      print(f"recipe {phase} in {precision}: "
            f"{r['steps_per_second']:.2f} steps/s, "
            f"{r['cpu_seconds_per_step']:.2f} CPU s/step (median of "
            f"{args.rounds} rounds of {args.steps} steps, batch "
            f"{flags.batch_size} of {flags.crop_size} px)")
  if args.out:
    with open(args.out, "w") as f:
      json.dump(dict(config=json.loads(config.to_json()),
                     recipe=json.loads(recipe.to_json()), **results), f,
                indent=2)


if __name__ == "__main__":
  main()
