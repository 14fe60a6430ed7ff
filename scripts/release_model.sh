#!/bin/sh
# Bundles a checkpoint of a training run as tfgc/zoo/NAME, in two steps
# so that the figures are seen before the package changes:
#
#   scripts/release_model.sh gc-small-c8
#       exports the best checkpoint of the run ~/tfgc-runs/NAME (lowest
#       validation DISTS within 0.5 dB of its best PSNR; else the newest;
#       a run of another name: link it there) and evaluates it on the dev
#       set against the classical codecs
#       (SC models: beside the bundled GC model gc-small-c8, also with
#       class 0 synthesised, and their rates as the synthesised area
#       grows) into
#       ~/tfgc-runs/release/NAME/: export/ (with serving/1), eval/ (with
#       report.html and summary.json), sc_rates.json. tfgc/ is untouched.
#   scripts/release_model.sh gc-small-c8 ship ["what no file records"]
#       copies that evaluated export into the package and writes its
#       MODEL_CARD.md from the measured files.
#
# The whole script is read before it runs (functions, then one call).
main() {
  set -e
  cd "$(dirname "$0")/.."
  name=$1
  RUNS=${TFGC_RUNS:-$HOME/tfgc-runs}
  DATA=${TFGC_DATA:-$HOME/tfgc-data}
  out=$RUNS/release/$name
  py=.venv/bin/python
  case "${2:-evaluate}" in
    evaluate) evaluate ;;
    ship) ship "$3" ;;
    *) echo "usage: $0 NAME [ship [HISTORY]]" >&2; exit 2 ;;
  esac
}

evaluate() {
  rm -rf "$out"
  mkdir -p "$out"
  # The run RUNS/NAME (its adversarial stage if it has one): the best
  # checkpoint, else the newest.
  ckpt=$RUNS/$name/adversarial/ckpt
  [ -d "$ckpt" ] || ckpt=$RUNS/$name/ckpt
  [ -f "$ckpt/best/checkpoint" ] && ckpt=$ckpt/best
  $py -m tfgc.export_run "$ckpt" "$out/export"
  $py -m tfgc.devset --out="$RUNS/devset"
  models=$out/export selective=
  case "$name" in
    sc-*) models=$models,gc-small-c8 selective=--synthesize=0 ;;
  esac
  $py -m tfgc.evaluate --images="$RUNS/devset" --models="$models" \
    --out="$out/eval" --score_cache="$RUNS/devset-scores.json" $selective
  case "$name" in
    sc-*) $py benchmarks/sc_rates.py --model="$out/export" \
            --images="$RUNS/devset" --out="$out/sc_rates.json" ;;
  esac
  echo "evaluated: $out/eval/report.html; bundle it with:" \
    "$0 $name ship [HISTORY]"
}

ship() {
  if [ ! -f "$out/eval/summary.json" ]; then
    echo "no evaluated export in $out: run $0 $name first" >&2
    exit 1
  fi
  sc_rates=
  [ -f "$out/sc_rates.json" ] && sc_rates="--sc_rates=$out/sc_rates.json"
  rm -rf "tfgc/zoo/$name"
  mkdir -p "tfgc/zoo/$name"
  (cd "$out/export" && tar cf - --exclude=./serving .) |
    (cd "tfgc/zoo/$name" && tar xf -)
  # The stages whose TensorBoard logs this machine has.
  logs=
  for stage in "$RUNS/$name/ckpt/logs" "$RUNS/$name/adversarial/ckpt/logs"; do
    [ -d "$stage" ] && logs=${logs:+$logs,}$stage
  done
  $py scripts/modelcard.py --model="tfgc/zoo/$name" \
    --summary="$out/eval/summary.json" --data_manifest="$DATA/manifest.json" \
    --logs="$logs" --history="$1" $sc_rates
}

main "$@"
exit
