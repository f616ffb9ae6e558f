#!/usr/bin/env bash
# The Python package of the fake server, as a user gets it: builds the nanobanana-mock wheel with
# maturin (release, as published), installs it into a FRESH venv with only google-genai and
# pytest, and runs the plugin's own tests and the sample project's tests against it.
# Everything goes under target/ (ignored by git). Versions are pinned here.
set -euo pipefail
cd "$(dirname "$0")/.."

MATURIN=1.16.0
GENAI=3.6.1
PYTEST=9.2.0
PIP_INSTALL=(python -m pip install --quiet --disable-pip-version-check)

# maturin comes from PyPI into a venv of its own, kept between runs.
if [ ! -x target/maturin-venv/bin/maturin ] \
  || [ "$(target/maturin-venv/bin/maturin --version)" != "maturin $MATURIN" ]; then
  rm -rf target/maturin-venv
  python3 -m venv target/maturin-venv
  target/maturin-venv/bin/"${PIP_INSTALL[@]}" "maturin==$MATURIN"
fi

phase() { echo "$1: $((SECONDS - phase_started)) s"; phase_started=$SECONDS; }
phase_started=$SECONDS
rm -rf target/wheels
(cd python/nanobanana-mock && ../../target/maturin-venv/bin/maturin build --release --locked \
  --offline --quiet --out ../../target/wheels)
wheel=$(ls target/wheels/nanobanana_mock-*.whl)
echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
phase "maturin build --release"

rm -rf target/sample-venv
python3 -m venv target/sample-venv
target/sample-venv/bin/"${PIP_INSTALL[@]}" "$wheel" "google-genai==$GENAI" "pytest==$PYTEST"
phase "fresh venv with the wheel, google-genai, pytest"

# Run from inside the projects, with the fresh venv's python: nothing of the workspace on the
# path but the sample app itself.
(cd python/nanobanana-mock && ../../target/sample-venv/bin/python -m pytest -q -p no:cacheprovider tests)
(cd python/sample-app && ../../target/sample-venv/bin/python -m pytest -q -p no:cacheprovider)
phase "the plugin's and the sample app's tests"
