#!/usr/bin/env bash
# Creates .venv with the project installed. torch is pinned to the one CPU build these
# machines carry: a looser requirement pulls the CUDA build and gigabytes with it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
STAMP=.venv/.photo_ai-installed

if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt "$0" ]; then
  echo "==> virtual environment: present"
  exit 0
fi
echo "==> virtual environment: installing into .venv"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip setuptools wheel
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -e '.[clip,dev]'
# cn_clip only for its BERT vocabulary: its metadata asks for torchvision (no CPU build for
# this torch), timm and an old lmdb, none of which the sidecar uses, hence --no-deps.
.venv/bin/pip install -q --no-deps "cn_clip==1.6.0"
touch "$STAMP"
