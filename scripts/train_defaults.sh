#!/usr/bin/env bash
# Reproduce the shipped default models (src/biaslens/resources/models/) on a CPU.
# Each step trains one model with a fixed recipe (biaslens.defaults.recipes.RECIPES),
# evaluates it on held-out synthetic data and copies it into the package with its
# command, data hash and quality in the checkpoint's `extra`. A failing step does not
# stop the later ones; the script exits non-zero if any failed.
# Usage: scripts/train_defaults.sh [ROOT (default runs/defaults)] [STEP ...]
set -u
ROOT="${1:-runs/defaults}"
shift || true
STEPS=("$@")
if [ ${#STEPS[@]} -eq 0 ]; then STEPS=(data classifier generator vae cvae dbvae); fi
status=0
for step in "${STEPS[@]}"; do
    biaslens models defaults train "$step" --root "$ROOT" || status=1
done
exit $status
