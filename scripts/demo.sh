#!/usr/bin/env bash
# The main job on the embedded default: boot a virtual site (nodes + engine), then do what the
# tutorial does with real commands: list environments, deploy one with a key, log into a node,
# read the statistics, and stop the site. Every command printed with `+` is one a user types.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${KAPLOY_DEMO_NODES:-8}
DIR=${KAPLOY_DEMO_DIR:-$PWD/.kaploy/demo}
run() { printf '\n+ %s\n' "$*"; "$@"; }

node dist/cli/kaploy.js testbed down --dir "$DIR" >/dev/null 2>&1 || true
run node dist/cli/kaploy.js testbed up --nodes "$NODES" --dir "$DIR" --site demo
trap 'node dist/cli/kaploy.js testbed down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$DIR/env"
run kaenv3 -l
run kaenv3 -p tiny-x64-base -u deploy
run kadeploy3 -e tiny-x64-base -u deploy -f "$KAPLOY_NODEFILE" -k "$DIR/keys/user.pub" -o "$DIR/ok" -n "$DIR/ko"
# The scripted way (docs/run.md): nodes already running the environment are skipped, the KO ones
# would be redeployed, and the experiment runs only when enough nodes are up.
run kaploy run -e tiny-x64-base -u deploy -f "$KAPLOY_NODEFILE" -k "$DIR/keys/user.pub" --min-ratio 0.75 \
  --nodes-file "$DIR/deployed" -- sh -c 'echo "experiment on $KAPLOY_NODES_COUNT nodes, listed in $KAPLOY_NODES_FILE"'
first=$(head -n1 "$DIR/ok")
run ssh -F "$DIR/ssh_config" "$first" 'cat /etc/os-release; ls /root/.ssh'
run kastat3 -x "$(date --date=@$(( $(date +%s) - 60*60*12 )) +%Y:%m:%d:%H:%M:%S)" -d
run kaploy testbed status --dir "$DIR"
