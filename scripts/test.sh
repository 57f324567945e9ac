#!/usr/bin/env bash
# The README's test command runs this through `make test` (after `make setup`).
# doccano tests start a real server; its own venv (.venv-doccano) is installed by their fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/readout validate annotations/gold annotations/ood
.venv/bin/readout lint annotations/gold annotations/ood
.venv/bin/python -m pytest tests -ra -p no:cacheprovider "$@"
