# Sourced by every project script: where the toolchain lives and how Pulumi is run.
# Paths only; nothing here installs (that is scripts/setup).
FLEET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLEET_CACHE="${DJANGO_FLEET_CACHE:-$HOME/.cache/django-fleet}"
# Pinned versions: the CLI tag must match @pulumi/pulumi in package.json.
PULUMI_VERSION="3.259.0"
NODE_VERSION="22.23.3"
# Used only where the machine has no Go >= 1.25 (scripts/setup fetches it from the module proxy).
GO_TOOLCHAIN="1.26.8"
NODE_MIN_MAJOR=22
# 22.18 is the first 22.x that strips TypeScript types without a flag.
NODE_MIN_MINOR=18
FLEET_NODE_PREFIX="$FLEET_ROOT/.toolchain/node"
# The Go-built binaries are keyed by everything that goes into them, so a changed pin
# or a changed language host builds into a new folder and an old cache is never reused.
fleet_toolchain_key() {
  cat "$FLEET_ROOT/tools/pulumi/go.mod" "$FLEET_ROOT/tools/pulumi/go.sum" \
      "$FLEET_ROOT/tools/pulumi/langhost/main.go" | sha256sum | cut -c1-12
}
FLEET_PULUMI_BIN="$FLEET_CACHE/toolchain/pulumi-v$PULUMI_VERSION-$(fleet_toolchain_key)/bin"

fleet_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fleet_die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Environment for every Pulumi run: our binaries first, a local file backend, and no
# plugin downloads (these machines cannot reach get.pulumi.com; a download attempt
# would only hang and fail).
fleet_env() {
  if [ -x "$FLEET_NODE_PREFIX/node_modules/.bin/node" ]; then
    PATH="$FLEET_NODE_PREFIX/node_modules/.bin:$PATH"
  fi
  if [ -f "$FLEET_ROOT/.toolchain/pulumi-bin" ]; then
    PATH="$(cat "$FLEET_ROOT/.toolchain/pulumi-bin"):$PATH"
  fi
  PATH="$FLEET_ROOT/node_modules/.bin:$PATH"
  export PATH
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$FLEET_ROOT/.pulumi-state}"
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=false
  export PULUMI_SKIP_CONFIRMATIONS=false
  # Node keeps the compiled code of @pulumi/pulumi and of our modules between runs. Every
  # `pulumi` run starts two Node processes (the program and the dynamic-provider plugin),
  # and compiling their modules was about 0.7 s of a 6 s no-change `up` (bench/peers.ts).
  export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$FLEET_CACHE/node-compile-cache}"
  mkdir -p "$FLEET_ROOT/.pulumi-state"
}
