#!/usr/bin/env bash
# Makes sure the system packages Switchboard needs are installed:
#
#   dot          graphviz        renders topology diagrams
#   chromium     chromium        headless browser for the browser tests
#   pdftoppm     poppler-utils   turns PDF pages into images
#   python venv  python3-venv    `python3 -m venv` with ensurepip
#
# Prints nothing and exits 0 when everything is already there. On
# Debian/Ubuntu it installs only what is missing with apt-get (using sudo
# when not root). On other systems it lists what is missing and exits 1.
#
# Environment:
#   PYTHON   interpreter used to create the venv (default: python3)
set -euo pipefail

PYTHON="${PYTHON:-python3}"

log() { printf 'install-system-deps: %s\n' "$*" >&2; }

missing_cmds=()   # what is missing, for messages
apt_pkgs=()       # what apt-get should install
need_chromium=0
python_problem=""

have() { command -v "$1" >/dev/null 2>&1; }

have dot || { missing_cmds+=("dot"); apt_pkgs+=("graphviz"); }
have pdftoppm || { missing_cmds+=("pdftoppm"); apt_pkgs+=("poppler-utils"); }
# Ubuntu's packages call the command chromium-browser; either will do.
if ! have chromium && ! have chromium-browser; then
    missing_cmds+=("chromium")
    need_chromium=1
fi

# `python3 -m venv` needs ensurepip, which Debian ships in python3-venv.
python_venv_ok() {
    "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1
}
if ! have "$PYTHON"; then
    missing_cmds+=("$PYTHON")
    python_problem="missing"
    apt_pkgs+=("python3" "python3-venv")
elif ! python_venv_ok; then
    missing_cmds+=("$PYTHON -m venv (ensurepip)")
    base_prefix="$("$PYTHON" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)"
    if [ "$base_prefix" = "/usr" ]; then
        python_problem="system"
        pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        apt_pkgs+=("python3-venv")
        # The versioned package is the one holding ensurepip; install it
        # too when it exists (it does on Debian and Ubuntu).
        if have apt-cache && apt-cache show "python${pyver}-venv" >/dev/null 2>&1; then
            apt_pkgs+=("python${pyver}-venv")
        fi
    else
        # A Python not from the system packages (pyenv, a hand build, ...):
        # apt cannot fix it.
        python_problem="foreign:${base_prefix:-unknown}"
    fi
fi

if [ "${#missing_cmds[@]}" -eq 0 ]; then
    exit 0
fi

foreign_python_help() {
    log "$PYTHON (installed under ${python_problem#foreign:}) cannot create a venv: its 'ensurepip' module is missing."
    log "Rebuild or reinstall that Python with ensurepip, or use the system one: make PYTHON=/usr/bin/python3 ..."
}

if ! have apt-get; then
    log "missing: ${missing_cmds[*]}"
    log "This system has no apt-get; install these yourself with your package manager:"
    have dot || log "  dot        -> the 'graphviz' package"
    have chromium || have chromium-browser || log "  chromium   -> the 'chromium' package (headless Chromium, or Chrome)"
    have pdftoppm || log "  pdftoppm   -> the 'poppler-utils' package (called 'poppler' on some systems)"
    case "$python_problem" in
        missing|system) log "  $PYTHON -m venv -> Python 3.11+ with the venv and ensurepip modules" ;;
        foreign:*) foreign_python_help ;;
    esac
    exit 1
fi

# Nothing apt can install (only a non-system Python lacking ensurepip).
if [ "${#apt_pkgs[@]}" -eq 0 ] && [ "$need_chromium" -eq 0 ]; then
    foreign_python_help
    exit 1
fi

# Root runs apt-get directly; anyone else needs sudo.
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif have sudo; then
    SUDO=(sudo)
else
    log "missing: ${missing_cmds[*]}"
    all_pkgs=("${apt_pkgs[@]}")
    [ "$need_chromium" -eq 1 ] && all_pkgs+=("chromium")
    log "Installing them needs root, and sudo is not available. As root, run:"
    log "  apt-get update && apt-get install -y ${all_pkgs[*]}"
    exit 1
fi

apt_get() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

log "missing: ${missing_cmds[*]} - installing with apt-get"
apt_get update >/dev/null

status=0
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    if ! apt_get install "${apt_pkgs[@]}"; then
        log "apt-get could not install: ${apt_pkgs[*]}"
        status=1
    fi
fi

if [ "$need_chromium" -eq 1 ]; then
    # Debian packages it as 'chromium'. Ubuntu has no 'chromium' package;
    # there it comes as a snap, which this script does not install.
    if ! apt_get install chromium; then
        log "Could not install the 'chromium' package with apt-get."
        log "On Ubuntu, Chromium is a snap: run 'sudo snap install chromium'"
        log "(it provides the 'chromium' command), then run this again."
        status=1
    fi
fi

# Check the outcome, not just apt-get's exit code.
still_missing=()
have dot || still_missing+=("dot")
have pdftoppm || still_missing+=("pdftoppm")
have chromium || have chromium-browser || still_missing+=("chromium")
if ! have "$PYTHON" || ! python_venv_ok; then
    still_missing+=("$PYTHON -m venv (ensurepip)")
    case "$python_problem" in
        foreign:*) foreign_python_help ;;
    esac
fi

if [ "${#still_missing[@]}" -gt 0 ]; then
    log "still missing: ${still_missing[*]}"
    exit 1
fi
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
log "all system dependencies are installed"
