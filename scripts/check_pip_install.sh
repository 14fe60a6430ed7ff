#!/bin/sh
# Installs this checkout the way a user would, into a fresh venv outside
# it, and runs the commands there: `pip install .` must give a working
# `tfgc compress|decompress|info` and refuse `tfgc evaluate` and `tfgc
# train` in one line naming the extra; `pip install '.[eval,train]'` must
# give a working `tfgc evaluate` and a `tfgc train` that starts. Slow
# (two installs, from pip's cache after the first time; about 2 minutes
# here) and outside `make test`; run before a release (BUILD.md).
#
#   scripts/check_pip_install.sh [PYTHON]     (default python3.11)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${1:-python3.11}
fail() { echo "FAILED: $*" >&2; exit 1; }

git -C "$here" clone -q "$here" "$work/src"   # What is committed.
"$python" -m venv "$work/venv"
pip="$work/venv/bin/pip"
tfgc="$work/venv/bin/tfgc"
"$pip" install -q --upgrade pip
echo "pip install . (core)"
"$pip" install -q "$work/src"
cd "$work"
"$work/venv/bin/python" - <<'PY'
import numpy as np
from PIL import Image
x = np.linspace(0, 255, 192)
image = np.stack(np.meshgrid(x, x[::-1]) + [np.full((192, 192), 90.0)], -1)
Image.fromarray(image.astype(np.uint8)).save("photo.png")
PY
mkdir photos && cp photo.png photos/
unset TF_CPP_MIN_LOG_LEVEL
"$tfgc" compress photo.png 2> err.txt || fail "tfgc compress"
[ ! -s err.txt ] || fail "tfgc compress printed on stderr: $(cat err.txt)"
"$tfgc" decompress photo.tfgc || fail "tfgc decompress"
[ -s photo.tfgc.png ] || fail "no photo.tfgc.png"
"$tfgc" info photo.tfgc > /dev/null || fail "tfgc info"
for command in "evaluate --images=photos --out=results" \
               "train --data_dir=photos --checkpoint_dir=run"; do
  if "$tfgc" $command 2> err.txt; then fail "tfgc $command ran without its extra"; fi
  grep -q "pip install 'tfgc\[" err.txt || fail "tfgc $command: $(cat err.txt)"
  echo "  without extras: $(cat err.txt)"
done
echo "pip install '.[eval,train]'"
"$pip" install -q "$work/src[eval,train]"
"$tfgc" evaluate --images=photos --out=results --codecs=jpeg,x265 \
  --lpips=alexnet --quiet > table.txt || fail "tfgc evaluate"
grep -q "DISTS" table.txt || fail "no table from tfgc evaluate"
"$tfgc" train --data_dir=photos --checkpoint_dir=run --preset=tiny \
  --recipe=base --batch_size=1 --crop_size=64 --steps=2 --log_every=1 \
  --validate_every=100 > train.txt || fail "tfgc train"
[ -f run/export/saved_model.pb ] || fail "tfgc train exported nothing"
echo "all good: $(du -sm "$work/venv" | cut -f1) MB venv"
