#!/usr/bin/env bash
# Installs the e2e test dependencies for StackSeg: code-server 4.100.3 (a real VS Code server; the newest that runs
# on Node 20) into a cache dir outside the repo, and Debian's Chromium. Idempotent: skips what is already there.
# Works offline except for the npm registry and Debian apt (see docs/testing.md for why each fix).
#
#   scripts/install-code-server.sh            # install (or verify) into $STACKSEG_E2E_HOME (default ~/.cache/stackseg-e2e)
#   STACKSEG_E2E_NO_APT=1 scripts/...         # do not touch apt (e.g. not root)
#
# Prints the code-server binary path on the last line of stdout.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
RIPGREP_PIN=1.15.11                       # @vscode/ripgrep version pinned inside code-server 4.100.3
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
E2E_HOME=${STACKSEG_E2E_HOME:-$HOME/.cache/stackseg-e2e}
PREFIX=$E2E_HOME/code-server-$CODE_SERVER_VERSION
BIN=$PREFIX/node_modules/.bin/code-server
VSCODE_DIR=$PREFIX/node_modules/code-server/lib/vscode
MARKER=$PREFIX/.stackseg-installed
start=$(date +%s)
log() { echo "[install-e2e $(($(date +%s) - start))s] $*" >&2; }

mkdir -p "$E2E_HOME"
exec 9>"$E2E_HOME/.install.lock"
flock 9   # two runs at once (parallel CI jobs, engineers) must not interleave npm installs

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# --- apt: Chromium (the browser that drives the workbench) and the headers code-server's native modules need.
apt_pkgs=()
for p in chromium libkrb5-dev pkg-config build-essential python3; do
  dpkg -s "$p" >/dev/null 2>&1 || apt_pkgs+=("$p")
done
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ -n "${STACKSEG_E2E_NO_APT:-}" ]; then
    log "missing apt packages (not installing, STACKSEG_E2E_NO_APT set): ${apt_pkgs[*]}"
  else
    log "apt-get install ${apt_pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >&2
  fi
fi

# Native modules that must exist after a good install (npm may skip dependency install scripts silently).
verify_install() {
  [ -x "$BIN" ] || return 1
  [ -x "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin/rg" ] || { log "missing ripgrep binary"; return 1; }
  local mod
  for mod in node-pty kerberos @vscode/spdlog; do
    if ! find "$VSCODE_DIR/node_modules/$mod" -name '*.node' -path '*Release*' 2>/dev/null | grep -q .; then
      log "native module $mod was not built"; return 1
    fi
  done
  "$BIN" --version >/dev/null 2>&1 || { log "code-server --version fails"; return 1; }
}

if [ -f "$MARKER" ] && verify_install; then
  log "code-server $CODE_SERVER_VERSION already installed"
  echo "$BIN"; exit 0
fi

# --- ripgrep: @vscode/ripgrep downloads rg from GitHub at install time (unreachable); it first looks in its cache dir
# under $TMPDIR for the release tarball, so build that tarball from the rg inside the npm package @vscode/ripgrep-linux-x64.
tmp_root=${TMPDIR:-/tmp}
rg_cache=$tmp_root/vscode-ripgrep-cache-$RIPGREP_PIN
if [ ! -s "$rg_cache/$RIPGREP_ASSET" ]; then
  log "building ripgrep cache tarball from @vscode/ripgrep-linux-x64"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent @vscode/ripgrep-linux-x64 >/dev/null && tar xzf ./*.tgz)
  rg=$(find "$work/package" -type f -name rg | head -n1)
  [ -n "$rg" ] || { echo "no rg binary in @vscode/ripgrep-linux-x64" >&2; exit 1; }
  mkdir -p "$work/rg" "$rg_cache"
  install -m 0755 "$rg" "$work/rg/rg"
  tar czf "$rg_cache/$RIPGREP_ASSET.tmp" -C "$work/rg" rg
  mv "$rg_cache/$RIPGREP_ASSET.tmp" "$rg_cache/$RIPGREP_ASSET"
  rm -rf "$work"
fi

# --- code-server itself.
export npm_config_yes=true                # node-pty's install step runs npx
if [ -f /usr/include/node/node.h ]; then  # node-gyp would otherwise download headers from nodejs.org (unreachable)
  export npm_config_nodedir=/usr
fi
# A plain local install inside $PREFIX: with -g or --prefix, npm exports npm_config_global/npm_config_prefix to
# code-server's postinstall, whose nested `npm install` in lib/vscode then installs to the wrong place and fails.
log "npm install code-server@$CODE_SERVER_VERSION in $PREFIX (takes a few minutes)"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
echo '{"name":"stackseg-e2e-code-server","private":true}' >"$PREFIX/package.json"
(cd "$PREFIX" && npm install --unsafe-perm --foreground-scripts --no-audit --no-fund --no-save --loglevel=warn \
  "code-server@$CODE_SERVER_VERSION") >"$E2E_HOME/install.log" 2>&1 || {
  tail -n 60 "$E2E_HOME/install.log" >&2; echo "code-server install failed; full log: $E2E_HOME/install.log" >&2; exit 1; }

if ! verify_install; then
  # npm >= 11 may refuse dependency install scripts; run them explicitly.
  log "native modules missing after install; running npm rebuild in lib/vscode"
  (cd "$VSCODE_DIR" && npm rebuild --unsafe-perm --foreground-scripts) >>"$E2E_HOME/install.log" 2>&1 || true
  verify_install || { tail -n 60 "$E2E_HOME/install.log" >&2; echo "code-server install incomplete; log: $E2E_HOME/install.log" >&2; exit 1; }
fi
date -u +%FT%TZ >"$MARKER"
log "installed code-server $("$BIN" --version | head -n1) in $(($(date +%s) - start)) s"
echo "$BIN"
