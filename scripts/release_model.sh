#!/bin/sh
# Bundles the newest checkpoint of a training run as tfgc/models/NAME:
# exports it, evaluates it on the dev set against all six codecs, measures
# SC rates (SC models), copies the main SavedModel into the package and
# writes MODEL_CARD.md from those measured files.
#
#   scripts/release_model.sh gc-small-c8 ["what no file records"]
#
# Outputs besides the bundled model: ~/tfgc-runs/release/NAME/ (the full
# export with serving/1, eval/ with report.html, sc_rates.json).
#
# The whole script is one function, read before it runs.
main() {
  set -e
  cd "$(dirname "$0")/.."
  name=$1
  history=$2
  RUNS=${TFGC_RUNS:-$HOME/tfgc-runs}
  DATA=${TFGC_DATA:-$HOME/tfgc-data}
  out=$RUNS/release/$name
  py=.venv/bin/python
  rm -rf "$out"
  mkdir -p "$out"
  scripts/train_default_models.sh "$name" export "$out/export"
  $py -m tfgc.devset --out="$RUNS/devset"
  $py -m tfgc.evaluate --images="$RUNS/devset" --models="$out/export" \
    --out="$out/eval" --score_cache="$RUNS/devset-scores.json"
  sc_rates=
  case "$name" in
    sc-*) $py benchmarks/sc_rates.py --model="$out/export" \
            --images="$RUNS/devset" --out="$out/sc_rates.json"
          sc_rates="--sc_rates=$out/sc_rates.json" ;;
  esac
  rm -rf "tfgc/models/$name"
  mkdir -p "tfgc/models/$name"
  (cd "$out/export" && tar cf - --exclude=./serving .) |
    (cd "tfgc/models/$name" && tar xf -)
  # The stages whose TensorBoard logs this machine has.
  logs=
  for stage in "$RUNS/$name/ckpt/logs" "$RUNS/$name/adversarial/ckpt/logs"; do
    [ -d "$stage" ] && logs=${logs:+$logs,}$stage
  done
  $py -m tfgc.modelcard --model="tfgc/models/$name" \
    --summary="$out/eval/summary.json" --data_manifest="$DATA/manifest.json" \
    --logs="$logs" --history="$history" $sc_rates
}

main "$@"
exit
