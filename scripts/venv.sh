#!/usr/bin/env bash
# Create or refresh the project virtualenv (.venv, git-ignored) from requirements.txt.
# Idempotent: a stamp keyed on the requirements hash skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
pick_python() {
  for py in "${PYTHON:-}" python3.11 python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "meshstack needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

hash=$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
stamp="$VENV/.requirements-$hash"
if [ -f "$stamp" ]; then
  exit 0
fi
py=$(pick_python)
if [ ! -x "$VENV/bin/python" ]; then
  echo "venv: creating $VENV with $($py --version)"
  "$py" -m venv "$VENV"
fi
echo "venv: installing requirements.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==25.3"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The package itself, editable (no second copy): the `meshstack` command and `import meshstack` anywhere.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
rm -f "$VENV"/.requirements-*
touch "$stamp"
echo "venv: ready ($VENV)"
