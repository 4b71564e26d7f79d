# Sourced by the scripts (not run): find uv. A working `uv` on PATH is used as it is; else the
# one scripts/bootstrap installs into .venv-tools, a small private venv (the system Python's
# site-packages are never touched: Debian and Ubuntu refuse that, PEP 668).
# After `uv_ready`, `uv` is on PATH (a real command, so `exec uv` and child processes find it
# too); it returns 1 when there is none. Only uv is added to PATH, not the private venv's python.
UV_TOOLS="$PWD/.venv-tools"

uv_ready() {
  if [ -x "$UV_TOOLS/bin/uv" ] && ! { command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; }; then
    mkdir -p "$UV_TOOLS/uv-only"
    ln -sf "$UV_TOOLS/bin/uv" "$UV_TOOLS/uv-only/uv"
    PATH="$UV_TOOLS/uv-only:$PATH"
    export PATH
    hash -r
  fi
  command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1
}
