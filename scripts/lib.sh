# Shared by scripts/demo and scripts/test: a project virtualenv with the
# suite installed in editable mode.  Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

die() {
    echo "$(basename "$0"): $*" >&2
    exit 2
}

# ensure_venv EXTRAS: (re)install when setup.cfg changed since the last
# install with these extras, so a second run starts at once.
ensure_venv() {
    local extras=$1 stamp want
    command -v python3 >/dev/null || die "python3 is missing: install Python 3.9 or newer"
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV" || die "could not create $VENV"
    fi
    stamp="$VENV/.backoffice-install$extras"
    want=$(sha1sum "$ROOT/setup.cfg" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "Installing the suite into $VENV ..."
        local log="$VENV/install.log"
        if ! { "$PY" -m pip install --upgrade pip \
                && "$PY" -m pip install --editable "$ROOT$extras"; } \
                >"$log" 2>&1; then
            tail -n 25 "$log" >&2
            die "pip install failed (above; whole log: $log)"
        fi
        echo "$want" > "$stamp"
    fi
}
