# Sourced by the peer harnesses (bench/peer, bench/peer-fusion): creates the shared venv and
# installs bench/peer/requirements.txt into it, only when the pinned requirements changed since
# the last install. Expects VENV, REQ and TAG (the log prefix) to be set.
if [ ! -x "$VENV/bin/python" ]; then
  echo "[$TAG] creating $VENV" >&2
  "${PYTHON:-python3}" -m venv "$VENV"
fi
stamp="$VENV/.peer-requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "[$TAG] installing pinned requirements into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$stamp"
fi
