#!/bin/sh
# The exact training commands of the default models. Each stage resumes
# from its run directory when started again (after a kill, a reboot, a new
# session); a finished stage is skipped.
#
#   nohup scripts/train_default_models.sh gc-small-c8 > ~/tfgc-runs/gc-small-c8.log 2>&1 &
#
# Stage 1 (warm-up): distortion (MSE) and rate only, 5,000 steps (its flags:
#   warmup.flags).
# Stage 2: warm-started from stage 1; adds the adversarial terms and the
#   perceptual term (its flags: adversarial.flags).
#
# Photos: python scripts/gather_training_photos.py --out ~/tfgc-data
# Flags shared by both stages (preset, crops, scales): default_models.flags.
#
# A candidate recipe trains (and exports) with extra `tfgc train` flags, e.g.
#
#   TFGC_RUNS=~/tfgc-runs/mse50 TFGC_FLAGS=--lambda_mse=50 \
#     scripts/train_default_models.sh gc-small-c8
#
# or continue from another run's checkpoint (networks, D and entropy model;
# fresh optimizers) instead of stage 1, e.g. at a lower learning rate:
#
#   TFGC_RUNS=~/tfgc-runs/lr5e-5 TFGC_FLAGS=--lr=5e-5 \
#     TFGC_INIT=~/tfgc-runs/v4/gc-small-c8/adversarial/ckpt/best \
#     scripts/train_default_models.sh gc-small-c8
#
# Stage 2 ends at 100,000 steps; TFGC_STEPS=N continues a run to N.
#
# Export a checkpoint of a run (its current stage) while it trains: the one
# of the lowest validation DISTS within 0.5 dB of the best validation PSNR
# so far, or the newest:
#
#   scripts/train_default_models.sh gc-small-c8 export OUT_DIR [latest]
#
# Runs at the lowest CPU priority (TFGC_NICE, default 19): training gets
# every cycle that nothing else wants, and tests, benchmarks and
# evaluations beside it run as fast as on idle cores.
#
# The whole script is one function, read before it runs: editing this file
# does not derail a run in progress.
main() {
  set -e
  cd "$(dirname "$0")/.."
  renice -n "${TFGC_NICE:-19}" -p $$ > /dev/null
  DATA=${TFGC_DATA:-$HOME/tfgc-data}
  RUNS=${TFGC_RUNS:-$HOME/tfgc-runs}
  name=$1
  action=${2:-train}
  mode="--mode=gc"
  case "$name" in
    gc-small-c8) channels=8 ;;
    gc-small-c4) channels=4 ;;
    # SC on the stand-in labeller's 8 colour/position regions (no semantic
    # label maps can be had here; see docs/selective.md).
    sc-small-c8) channels=8; mode="--mode=sc --labeller=standin --num_classes=8" ;;
    # SC on the person labeller's maps (background / person) of the
    # training and validation photos, with D+ (the paper's SC recipe):
    #   tfgc label --labeller=person --images=DATA/train \
    #     --out=DATA/labels-person   (and the same for DATA/val)
    sc-person-c8) channels=8; mode="--mode=sc --labeller=person
      --labels_dir=$DATA/labels-person --discriminator_labels" ;;
    # SC on the objects labeller's maps (background, person, COCO's other
    # supercategories), made as for sc-person-c8 with --labeller=objects
    # into DATA/labels-objects, with D+.
    sc-objects-c8) channels=8; mode="--mode=sc --labeller=objects
      --labels_dir=$DATA/labels-objects --discriminator_labels" ;;
    *) echo "usage: $0 gc-small-c8|gc-small-c4|sc-small-c8|sc-person-c8|sc-objects-c8" \
         "[export OUT_DIR [latest]]" >&2; exit 2 ;;
  esac
  run=$RUNS/$name
  mkdir -p "$run"
  common="--flagfile=scripts/default_models.flags
    --data_dir=$DATA/train --val_dir=$DATA/val $mode --latent_channels=$channels
    --checkpoint_every=500 --log_every=100 --validate_every=1000"

  stage2="--flagfile=scripts/adversarial.flags ${TFGC_FLAGS:-}"

  if [ "$action" = export ]; then
    # The best so far (best/: the lowest validation DISTS within 0.5 dB of
    # the best validation PSNR), or with `latest` the newest; the running
    # job is left alone.
    ckpt=$run/adversarial/ckpt
    [ -d "$ckpt" ] || ckpt=$run/ckpt
    source=$ckpt
    [ "$4" != latest ] && [ -f "$ckpt/best/checkpoint" ] && source=$ckpt/best
    .venv/bin/python -m tfgc.export_run "$source" "$3"
    exit
  fi

  # On a machine without the run directory, the bundled model of this name
  # replaces stage 1: stage 2 continues from it (with fresh optimizers).
  init_from=$run/ckpt
  if [ -n "${TFGC_INIT:-}" ]; then
    init_from=$TFGC_INIT
  elif [ ! -d "$run/ckpt" ] && [ -d "tfgc/zoo/$name" ]; then
    init_from=tfgc/zoo/$name
  elif [ ! -f "$run/warmup/export/saved_model.pb" ]; then
    .venv/bin/tfgc train $common --flagfile=scripts/warmup.flags --steps=5000 \
      --checkpoint_dir="$run/ckpt" --export_dir="$run/warmup/export"
  fi
  exec .venv/bin/tfgc train $common $stage2 --steps="${TFGC_STEPS:-100000}" \
    --init_from="$init_from" --checkpoint_dir="$run/adversarial/ckpt" \
    --export_dir="$run/export"
}

main "$@"
exit
