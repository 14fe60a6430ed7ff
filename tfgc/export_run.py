"""Exports a training run's checkpoint, without training:

    python -m tfgc.export_run RUN/ckpt/best OUT_DIR  # the one validation chose
    python -m tfgc.export_run RUN/ckpt OUT_DIR        # the newest

OUT_DIR is an export like the one tfgc train writes with --export_dir (the
weight average where the run keeps one), for `tfgc compress --model=OUT_DIR`,
`tfgc evaluate` or `--init_from`. The running job, if any, is
left alone: the checkpoint is only read.
"""

import argparse
import sys

from tfgc.cli.types import unit_interval
from tfgc.errors import TfgcError


def main(argv):
  parser = argparse.ArgumentParser(
      prog="python -m tfgc.export_run", description=__doc__.split("\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog="\n".join(__doc__.split("\n")[2:]))
  parser.add_argument("checkpoint_dir", help="a run's --checkpoint_dir, or "
                                             "its best/ folder")
  parser.add_argument("export_dir", help="where to write the export")
  parser.add_argument("--default_realism", type=unit_interval, default=1.0,
                      help="models with the realism dial: the r in [0, 1] "
                           "they decode with unless told (model.json; "
                           "default 1, the fully generative end)")
  args = parser.parse_args(argv)
  from tfgc import training  # TensorFlow: only once the arguments parse.
  try:
    step, model_id = training.export_checkpoint(
        args.checkpoint_dir, args.export_dir, args.default_realism)
  except TfgcError as e:
    print(f"tfgc.export_run: {e}", file=sys.stderr)
    return 1
  print(f"exported step {step} of {args.checkpoint_dir} as model {model_id} "
        f"to {args.export_dir}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
