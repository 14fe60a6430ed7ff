"""Short measured comparisons of `small` preset settings on whole photos.

    python benchmarks/settings_comparison.py --data=~/tfgc-data \
        --runs=~/tfgc-runs/compare --steps=800 \
        --out=benchmarks/results/settings_comparison.json

Each variant trains the warm-up stage (MSE + rate, no D) from scratch for
--steps on the training photos, with the flags of the default models'
warm-up (scripts/default_models.flags and warmup.flags) and C = 8, and is
exported. The export then compresses every validation photo whole
(downscaled to the training's --max_short_side, as `tfgc train`'s
validation does) into a real .tfgc file; the figures are its bpp and the
decoding's PSNR, MS-SSIM and LPIPS-AlexNet.
A variant already trained is not trained again, so an interrupted
comparison resumes; the JSON holds the variants measured so far.

Warm-up steps measure what a setting does to distortion and rate, the
ground the adversarial stage starts from; they do not measure the GAN.
"""

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
import model_scores  # noqa: E402  (beside this script)
from tfgc import data  # noqa: E402

# Variant name -> `tfgc train` flags on top of the `small` preset.
VARIANTS = {
    "small": [],
    "wide-generator": ["--set=generator_filters=[320,160,80,40,20]"],
    "instance-norm": ['--set=normalization="instance"'],
    "transpose-upsampling": ['--set=upsampling="transpose"'],
    "lr-1e-4": ["--lr=1e-4"],
}
RECIPE = os.path.join(REPO, "scripts", "default_models.flags")
WARMUP = os.path.join(REPO, "scripts", "warmup.flags")


def recipe_flag(name):
  """The value of --`name` in the default models' flag file (a string)."""
  with open(RECIPE) as f:
    for line in f:
      if line.startswith(f"--{name}="):
        return line.strip().split("=", 1)[1]
  raise KeyError(f"--{name} is not in {RECIPE}")


def train(name, flags, data_dir, run_dir, steps):
  """Trains and exports one variant (skipped if exported already)."""
  export_dir = os.path.join(run_dir, "export")
  if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
    return export_dir
  command = [sys.executable, os.path.join(REPO, "train.py"),
             f"--flagfile={RECIPE}", f"--data_dir={data_dir}/train",
             "--mode=gc", "--latent_channels=8", f"--steps={steps}",
             f"--flagfile={WARMUP}", "--checkpoint_every=200",
             "--log_every=100", f"--validate_every={steps + 1}",
             f"--checkpoint_dir={run_dir}/ckpt", f"--export_dir={export_dir}",
             *flags]
  print(f"{name}: training {steps} warm-up steps", flush=True)
  subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  return export_dir


def measure(export_dir, photos):
  """`model_scores.measure` and the variant's G parameter count."""
  figures = model_scores.measure(export_dir, photos)
  with open(os.path.join(export_dir, "model.json")) as f:
    figures["generator_parameters"] = json.load(f)["parameters"]["generator"]
  return figures


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data", required=True,
                      help="folder of gather_training_photos.py (train/, "
                           "val/)")
  parser.add_argument("--runs", required=True, help="run folders go here")
  parser.add_argument("--steps", type=int, default=800)
  parser.add_argument("--variants", default=",".join(VARIANTS))
  parser.add_argument(
      "--out", default="benchmarks/results/settings_comparison.json")
  args = parser.parse_args(argv)
  data_dir = os.path.expanduser(args.data)
  val = os.path.join(data_dir, "val")
  max_short_side = int(recipe_flag("max_short_side"))
  photos = [data.load_example(path, max_short_side)[0]
            for path in data.scan_folder(val).paths]
  results = {}
  for name in args.variants.split(","):
    run_dir = os.path.join(os.path.expanduser(args.runs),
                           f"{name}-{args.steps}")
    export_dir = train(name, VARIANTS[name], data_dir, run_dir, args.steps)
    results[name] = dict(flags=VARIANTS[name],
                         **measure(export_dir, photos))
    r = results[name]
    print(f"{name:<22} G {r['generator_parameters']:>9,}  "
          f"{r['bpp']:.4f} bpp  PSNR {r['psnr']:.2f}  "
          f"MS-SSIM {r['ms_ssim']:.3f}  LPIPS {r['lpips_alexnet']:.3f}",
          flush=True)
    with open(args.out, "w") as f:
      json.dump(dict(steps=args.steps, validation_photos=len(photos),
                     max_short_side=max_short_side, results=results), f,
                indent=2)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
