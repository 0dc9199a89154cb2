# Sourced by the scripts in this directory; defines ROOT, VENV and ensure_venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

# ensure_venv EXTRAS GROUP: create .venv and install the project into it (editable)
# with the given extras ("bench", or "") and dependency group ("dev", or ""), once
# per change of pyproject.toml or of the version (the editable install's metadata
# holds the version, so a new one needs a new install).
ensure_venv() {
    local extras="$1" group="$2" key stamp
    if [ ! -x "$VENV/bin/python" ]; then
        echo "creating $VENV" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    key="$(cat "$ROOT/pyproject.toml" <(grep '^__version__' "$ROOT/hadrosaur/__init__.py") \
        | sha256sum | cut -c1-16)"
    stamp="$VENV/.installed-$key${extras:+-$extras}${group:+-group-$group}"
    if [ ! -e "$stamp" ]; then
        echo "installing hadrosaur${extras:+[$extras]}${group:+ and the $group group} into $VENV" >&2
        # pip >= 25.1 reads dependency groups (--group); the upgrade brings that.
        "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT${extras:+[$extras]}" \
            ${group:+--group "$ROOT/pyproject.toml:$group"} >&2
        touch "$stamp"
    fi
}
