#!/bin/sh
# The exact training commands of the default models. Each resumes from its
# run directory when started again (after a reboot, a kill, a new session).
#
#   scripts/train_default_models.sh gc-small-c8     # one run, in the foreground
#   nohup scripts/train_default_models.sh gc-small-c8 > ~/tfgc-runs/gc-small-c8.log 2>&1 &
#
# Photos: python scripts/gather_training_photos.py --out ~/tfgc-data
set -e
cd "$(dirname "$0")/.."
DATA=${TFGC_DATA:-$HOME/tfgc-data}
RUNS=${TFGC_RUNS:-$HOME/tfgc-runs}
name=$1
case "$name" in
  gc-small-c8) channels=8 ;;
  gc-small-c4) channels=4 ;;
  *) echo "usage: $0 gc-small-c8|gc-small-c4" >&2; exit 2 ;;
esac
run=$RUNS/$name
mkdir -p "$run"
exec .venv/bin/python train.py --data_dir="$DATA/train" --val_dir="$DATA/val" \
  --preset=small --latent_channels=$channels --steps=100000 \
  --warmup_steps=5000 --batch_size=8 --crop_size=128 \
  --checkpoint_dir="$run/ckpt" --checkpoint_every=500 --log_every=100 \
  --validate_every=2500 --export_dir="$run/export"
