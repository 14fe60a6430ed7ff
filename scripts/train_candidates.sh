#!/bin/sh
# The candidate recipes of issue 28 ("structure first"): rate-distortion
# backbones trained on MSE and rate only (no D, no LPIPS), with β > 0 so
# the entropy model spends bits where they pay, then an adversarial stage
# on top of the best one that keeps the backbone's MSE weight. Each run
# resumes from its directory when started again.
#
#   scripts/train_candidates.sh NAME [FLAG...]  (in the background, nice 19,
#                                            one core: TF_NUM_INTRAOP_THREADS=1)
#
# FLAGs go to `tfgc train` after the recipe's own (e.g.
# --learning_rate_drop_step=8000 when resuming for a run's last part).
# They hold for that start only (a run trains with its latest start's
# recipe): give them again at every later start.
#
# NAME, rate-distortion backbones (tfgc train --recipe=rd):
#   rd-c16-b6      C = 16 (bound 0.145 bpp), β = 6, from scratch
#   rd-c8-warm-b1  C = 8 (bound 0.073 bpp), β = 1, warm-started from the
#                  bundled gc-small-c8 (its E and G after 100k+ steps)
#   rd-medium-b2   the medium preset (scale hyperprior, C = 32 of 15
#                  levels, wider E and G), β = 2: aimed at ~0.07 bpp
#   rd-medium-b6   the same, β = 6: aimed at ~0.035 bpp
#   rd-medium-bias-b6  rd-medium-b6 with conv_bias: channel norm without
#                  a conv bias loses a flat region's level in E's first
#                  layer (the bundled models code grey 30 and grey 120 alike)
#   rd-medium-bias-b20  the same at β = 20: the lower rate point (~0.035)
#   rd-medium-gdn-b6  medium-gdn (medium with GDN in E, F and G
#                  instead of channel norm and ReLU), β = 6
# and the adversarial stage with the realism dial (scripts/adversarial.flags,
# λ_MSE kept at 150; issues 28 and 31):
#   dial-medium-bias-b6  from rd-medium-bias-b6's best checkpoint (E, G,
#                  entropy model; its warm start if the run directory is
#                  gone), --set=realism_dial=true: r ~ U[0, 1] per example
#                  weighs LPIPS-Alex 1, GAN 0.15 and feature matching 1,
#                  so r = 0 trains towards the MSE decode (E and G shared
#                  with the other r) and r = 1 is the adversarial one;
#                  Adam β1 0.5, learning rate 1e-4 (half the backbone's:
#                  a fresh D's first gradients shake a trained G)
#   dial-medium-bias-b10  dial-medium-bias-b6 continued (its run's best
#                  checkpoint; its own warm start when that is gone, the
#                  later --init_from winning) at β = 10: the realism
#                  terms bought 18 % more bits at β = 6; this pulls the
#                  rate back to the backbone's (~0.108 bpp) so r = 0 and
#                  the MSE-only model compare at equal bytes
#   dial-medium-bias-b25  dial-medium-bias-b10 continued (its run's best
#                  checkpoint) at β = 25: the rate of the bundled default
#                  (~0.074 bpp with real files on the validation photos,
#                  against ~0.104 at β = 10), so the dial model and
#                  gc-small-c8 compare at equal bytes
#   dial-medium-bias-b60  dial-medium-bias-b25 continued (its run's best
#                  checkpoint) at β = 60: at β = 25 the validation rate
#                  estimate climbed from 0.089 to 0.102 bpp over 12,000
#                  steps (~0.093 with real files), still above the target
#   dial-medium-bias-m50  dial-medium-bias-b60 continued (its run's best
#                  checkpoint) at λ_MSE = 50 and β = 20: the same MSE to
#                  rate trade (β/λ_MSE = 0.4) and r = 0 still MSE alone,
#                  but at r = 1 the realism terms weigh 3× more against
#                  the MSE; at β = 60 the dial's r = 1 had DISTS 0.260 on
#                  the validation photos at the bundled model's rate,
#                  against that model's 0.225
#   dial-medium-bias-m20  dial-medium-bias-m50 continued (its run's best
#                  checkpoint) at λ_MSE = 20 and β = 8 (β/λ_MSE still
#                  0.4): at λ_MSE = 50 DISTS fell 0.010 at once and then
#                  held at 0.25; how far the weight has to fall for the
#                  bundled model's DISTS, and what it costs in PSNR
#   dial-medium-bias-m10  dial-medium-bias-m20 continued (its run's best
#                  checkpoint; its warm start if the run directory is
#                  gone, retired to the history: warm_starts/README.md) at λ_MSE = 10 and β = 10: at λ_MSE = 20 DISTS
#                  reached 0.244 but the rate crept 15 % above the
#                  bundled model's; the MSE weight the bundled model was
#                  trained at, with β/λ_MSE = 1 to pull the rate back
# and selective compression with the colour context (issue 32):
#   sc-objects-context-k4  sc-objects-c8, then bundled (its warm start, G's
#                  context inputs at zero weight; D afresh) with
#                  --set=colour_context=4 (each 64-pixel block's mean
#                  colour sent where it is painted), trained on the
#                  objects labeller's maps (DATA/labels-objects, train and
#                  val photos: tfgc label --labeller=objects) with D+,
#                  λ_MSE 10 as it was, lr 1e-4, and synthesis masks as in
#                  use: 40 % "everything but one class other than
#                  background" (--keep=person), 20 % a class, 20 % a box
#                  (retired: sc-objects-c8 and this run's warm start,
#                  step 4,000, are in commit 397da34's tfgc/zoo/ and
#                  warm_starts/; warm_starts/README.md)
#   sc-objects-context-k4-painted  as sc-objects-context-k4, from its
#                  step 4,000 (D afresh), after the context became the
#                  mean of a block's painted pixels only (it was all the
#                  block's pixels: a kept person's colours bled into the
#                  painting around them); its step 4,000 is the bundled
#                  sc-objects-context-c8, from which it continues when its
#                  run directory is gone
#
# All: λ_MSE = 150 on [0, 1] images unless the run sets another (HiFiC's
# k_M on [0, 255] is ≈ 152 there), weight average 0.999, bfloat16,
# validation (PSNR, DISTS, LPIPS-Alex, bpp) every 2,000 steps; the backbones with Adam β1 0.9 (no
# GAN). The log goes to RUNS/NAME/train.log; the ledger is
# docs/training-ledger.md.
main() {
  set -e
  cd "$(dirname "$0")/.."
  DATA=${TFGC_DATA:-$HOME/tfgc-data}
  RUNS=${TFGC_RUNS:-$HOME/tfgc-runs}
  backbone="--recipe=rd"
  dial="--flagfile=scripts/adversarial.flags --preset=medium
    --set=conv_bias=true --set=realism_dial=true --lr=1e-4"
  lambda_mse=150
  case "$1" in
    rd-c16-b6) flags="$backbone --latent_channels=16 --beta=6" ;;
    rd-c8-warm-b1) flags="$backbone --latent_channels=8 --beta=1
      --init_from=tfgc/zoo/gc-small-c8" ;;
    rd-medium-b2) flags="$backbone --preset=medium --beta=2" ;;
    rd-medium-b6) flags="$backbone --preset=medium --beta=6" ;;
    rd-medium-bias-b6) flags="$backbone --preset=medium --set=conv_bias=true
      --beta=6" ;;
    rd-medium-bias-b20) flags="$backbone --preset=medium --set=conv_bias=true
      --beta=20" ;;
    rd-medium-gdn-b6) flags="$backbone --preset=medium-gdn --beta=6" ;;
    dial-medium-bias-b6) source=$RUNS/rd-medium-bias-b6/ckpt/best
      [ -d "$source" ] || source=warm_starts/rd-medium-bias-b6
      flags="$dial --beta=6 --init_from=$source" ;;
    dial-medium-bias-b10) flags="$dial --beta=10
      --init_from=$RUNS/dial-medium-bias-b6/ckpt/best" ;;
    dial-medium-bias-b25) flags="$dial --beta=25
      --init_from=$RUNS/dial-medium-bias-b10/ckpt/best" ;;
    dial-medium-bias-b60) flags="$dial --beta=60
      --init_from=$RUNS/dial-medium-bias-b25/ckpt/best" ;;
    dial-medium-bias-m50) lambda_mse=50 flags="$dial --beta=20
      --init_from=$RUNS/dial-medium-bias-b60/ckpt/best" ;;
    dial-medium-bias-m20) lambda_mse=20 flags="$dial --beta=8
      --init_from=$RUNS/dial-medium-bias-m50/ckpt/best" ;;
    dial-medium-bias-m10) source=$RUNS/dial-medium-bias-m20/ckpt/best
      [ -d "$source" ] || source=warm_starts/dial-medium-bias-m20
      lambda_mse=10 flags="$dial --beta=10 --init_from=$source" ;;
    sc-objects-context-k4) lambda_mse=10 flags="--flagfile=scripts/adversarial.flags
      --mode=sc --labeller=objects --labels_dir=$DATA/labels-objects
      --discriminator_labels --set=colour_context=4 --lr=1e-4
      --synthesis_background_fraction=0.4 --synthesis_instance_fraction=0.2
      --synthesis_box_fraction=0.2 --init_from=tfgc/zoo/sc-objects-c8" ;;
    sc-objects-context-k4-painted) lambda_mse=10 flags="--flagfile=scripts/adversarial.flags
      --mode=sc --labeller=objects --labels_dir=$DATA/labels-objects
      --discriminator_labels --set=colour_context=4 --lr=1e-4
      --synthesis_background_fraction=0.4 --synthesis_instance_fraction=0.2
      --synthesis_box_fraction=0.2
      --init_from=tfgc/zoo/sc-objects-context-c8" ;;
    *) echo "usage: $0 rd-c16-b6|rd-c8-warm-b1|rd-medium-b2|rd-medium-b6|rd-medium-bias-b6|rd-medium-bias-b20|rd-medium-gdn-b6|dial-medium-bias-b6|dial-medium-bias-b10|dial-medium-bias-b25|dial-medium-bias-b60|dial-medium-bias-m50|dial-medium-bias-m20|dial-medium-bias-m10|sc-objects-context-k4|sc-objects-context-k4-painted" >&2; exit 2 ;;
  esac
  run=$RUNS/$1
  shift
  mkdir -p "$run"
  # A run directory lost with its machine continues from the run's warm
  # start, if one is committed (warm_starts/README.md); a run directory
  # that exists resumes and ignores it.
  [ -d "warm_starts/$(basename "$run")" ] &&
    flags="$flags --init_from=warm_starts/$(basename "$run")"
  TF_NUM_INTRAOP_THREADS=${TF_NUM_INTRAOP_THREADS:-1} \
  TF_NUM_INTEROP_THREADS=${TF_NUM_INTEROP_THREADS:-1} \
  nohup nice -n "${TFGC_NICE:-19}" .venv/bin/tfgc train \
    --flagfile=scripts/default_models.flags \
    --data_dir="$DATA/train" --val_dir="$DATA/val" $flags --lambda_mse=$lambda_mse \
    --weight_average=0.999 --precision=mixed_bfloat16 \
    --steps="${TFGC_STEPS:-100000}" \
    --checkpoint_every=500 --log_every=100 --validate_every=2000 \
    --checkpoint_dir="$run/ckpt" --export_dir="$run/export" "$@" \
    >> "$run/train.log" 2>&1 &
  echo "started $(basename "$run") in the background: $run/train.log"
}

main "$@"
