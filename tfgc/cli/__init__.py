"""The `tfgc` command (also `python -m tfgc`): one front door to the
command lines of the package.

    tfgc compress photo.jpg            # -> photo.tfgc
    tfgc decompress photo.tfgc         # -> photo.tfgc.png
    tfgc info photo.tfgc
    tfgc evaluate --images=PHOTOS --out=RESULTS
    tfgc train --data_dir=PHOTOS --checkpoint_dir=RUN/ckpt
    tfgc label --labeller=person --images=PHOTOS --out=LABELS
    tfgc devset --out=devset
    tfgc demo

`tfgc COMMAND --help` lists a command's flags. Each command imports its
module only when run, after TensorFlow's logging is set (quiet unless
--verbose), so `tfgc --help` answers at once.
"""

import importlib
import sys
from typing import NamedTuple

import tfgc
from tfgc import quiet


class Command(NamedTuple):
  module: str  # Its `main(argv)` returns the exit status.
  summary: str
  # Whether `main` takes the command's name as its first argument (the
  # compress module's sub-commands).
  named: bool = False


COMMANDS = {
    "compress": Command("tfgc.cli.compress", "images -> .tfgc files", True),
    "decompress": Command("tfgc.cli.compress", ".tfgc files -> images",
                          True),
    "info": Command("tfgc.cli.compress", "a .tfgc file's header as JSON",
                    True),
    "evaluate": Command("tfgc.evaluate", "models against classical codecs: "
                        "bpp, PSNR, MS-SSIM, DISTS, LPIPS, BD-rates"),
    "train": Command("tfgc.cli.train", "train (or fine-tune) a model and "
                     "export it"),
    "label": Command("tfgc.labellers.__main__",
                     "label maps of photos for SC training"),
    "devset": Command("tfgc.devset", "the evaluation photos that ship in "
                      "the dependencies, into a folder"),
    "demo": Command("tfgc.demo", "one photo through the default model and "
                    "the classical codecs, side by side"),
}


def usage():
  width = max(map(len, COMMANDS))
  lines = [f"  {name:<{width}}  {command.summary}"
           for name, command in COMMANDS.items()]
  return ("usage: tfgc COMMAND [ARGS]  (tfgc COMMAND --help: its flags)\n\n"
          "commands:\n" + "\n".join(lines) + "\n\n"
          "  --version  print the version\n"
          "  --verbose  also show TensorFlow's log lines")


def main(argv=None):
  """`tfgc` on `argv` (default sys.argv[1:]); returns the exit status."""
  argv = sys.argv[1:] if argv is None else list(argv)
  if argv[:1] == ["--verbose"]:  # `tfgc --verbose COMMAND ...` too.
    argv = argv[1:2] + argv[:1] + argv[2:]
  if not argv:
    print(usage(), file=sys.stderr)
    return 2
  name, rest = argv[0], argv[1:]
  if name in ("-h", "--help"):
    print(usage())
    return 0
  if name == "--version":
    print(f"tfgc {tfgc.__version__}")
    return 0
  if name not in COMMANDS:
    print(f"tfgc: no command {name!r}; choose from {', '.join(COMMANDS)} "
          "(tfgc --help)", file=sys.stderr)
    return 2
  command = COMMANDS[name]
  quiet.configure(quiet.wants_verbose(rest))
  module = importlib.import_module(command.module)
  return module.main([name, *rest] if command.named else rest)
