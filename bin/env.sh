# shellcheck shell=bash
# Sourced by bin/dev and .ci/run: makes this shell ready to build and run optflow on a fresh machine.
#  - Node >= 22: the one on PATH if it is new enough, else Node 24 (current LTS) from the npm registry
#    (the `node` package) into .optflow/node, put first on PATH.
#  - The Kafka client (@confluentinc/kafka-javascript, librdkafka inside) is compiled against Debian's
#    libraries when its prebuilt binary (from GitHub) cannot be fetched: CKJS_LINKING=dynamic, the
#    -dev packages (installed with apt-get when running as root), and the headers of the Node in use.
#  - node_modules installed (npm ci) when missing, stale, or built for another Node, and the Kafka
#    binding's patch applied (bin/patch-kafka-binding.js).
OPTFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPTFLOW_NODE_MAJOR=24
OPTFLOW_DEBS="libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev"

optflow_node_ok() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; }

if ! optflow_node_ok; then
  local_node="$OPTFLOW_ROOT/.optflow/node"
  if [ ! -x "$local_node/node_modules/.bin/node" ]; then
    echo "optflow: $(node -v 2>/dev/null || echo 'no node') on PATH; installing Node ${OPTFLOW_NODE_MAJOR} into .optflow/node" >&2
    npm install --prefix "$local_node" --no-save --no-audit --no-fund --loglevel=error "node@${OPTFLOW_NODE_MAJOR}" >&2
  fi
  export PATH="$local_node/node_modules/.bin:$PATH"
  headers="$(dirname "$(dirname "$(dirname "$(find "$local_node/node_modules" -path '*/include/node/node_version.h' | head -1)")")")"
  export npm_config_nodedir="$headers"
else
  # The headers of the Node that runs, not a stale npm `nodedir` setting.
  export npm_config_nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')"
fi
export CKJS_LINKING=dynamic

if command -v dpkg >/dev/null && ! dpkg -s $OPTFLOW_DEBS >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "optflow: installing the libraries the Kafka client builds against: $OPTFLOW_DEBS" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $OPTFLOW_DEBS >&2
  else
    echo "optflow: please install: sudo apt-get install $OPTFLOW_DEBS" >&2
  fi
fi

optflow_deps_ok() {
  [ -f "$OPTFLOW_ROOT/node_modules/.package-lock.json" ] &&
    [ "$OPTFLOW_ROOT/node_modules/.package-lock.json" -nt "$OPTFLOW_ROOT/package-lock.json" ] &&
    (cd "$OPTFLOW_ROOT" && node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1)
}
if ! optflow_deps_ok; then
  (cd "$OPTFLOW_ROOT" && npm ci --no-audit --no-fund) >&2
fi
# The Kafka binding's patch (patches/): npm ci's postinstall applies it; this covers a node_modules
# installed before it existed. Silent when there is nothing to do.
node "$OPTFLOW_ROOT/bin/patch-kafka-binding.js" --quiet >&2
