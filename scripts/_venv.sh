# Sourced by scripts/serve and scripts/test: create or reuse .venv and keep it in step
# with pyproject.toml and the pinned versions in constraints.txt (reinstalls only when either
# changed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "Parvis needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
VENV="${PARVIS_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.parvis-installed"
WANT="$(cat pyproject.toml constraints.txt setup.py parvis/live/_sendmany.c | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "installing Parvis and its dependencies into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet -e ".[dev]" -c constraints.txt >&2
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
