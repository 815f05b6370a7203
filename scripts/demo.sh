#!/usr/bin/env bash
# The whole job on one machine: a local Kafka broker, a primary with the spooling hook and
# the primary agent, a replica process, and pushes replicated from one to the other.
#   npm run demo                      (builds first)
#   PULLREP_DEMO_DIR=dir npm run demo keep the demo's repositories in dir
#   PULLREP_KAFKA_PORT=9192 …         use another broker port
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
pullrep() { node "$here/bin/pullrep.js" --config "$demo/pullrep.json" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

port=${PULLREP_KAFKA_PORT:-9092}
demo=${PULLREP_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pullrep-demo.XXXXXX")}
mkdir -p "$demo/primary" "$demo/replica"
replica_pid=""
agent_pid=""
cleanup() {
  for pid in "$replica_pid" "$agent_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

step "Kafka broker"
# The demo speaks plaintext: a broker made with PULLREP_KAFKA_SECURITY=sasl_ssl is refused here.
PULLREP_KAFKA_SECURITY=plaintext bash scripts/kafka.sh start

step "Configuration ($demo/pullrep.json)"
run_id=$(date +%s)
cat >"$demo/pullrep.json" <<EOF
{
  "kafka": { "brokers": ["127.0.0.1:$port"], "clientId": "pullrep-demo" },
  "topics": { "events": "demo.ref-updates.$run_id", "catalog": "demo.repositories.$run_id", "partitions": 3 },
  "primary": { "name": "demo-primary", "root": "$demo/primary", "url": "file://$demo/primary/{repo}" },
  "replica": { "name": "demo-replica-$run_id", "root": "$demo/replica" },
  "retry": { "stages": 3, "initialDelayMs": 2000, "multiplier": 2, "maxDelayMs": 8000, "maxRetryPeriodMs": 60000 },
  "http": { "port": 0 },
  "log": { "level": "info", "pretty": "false" }
}
EOF
pullrep config check

step "Primary: a bare repository with the spooling hook, and the primary agent (log: $demo/primary.log)"
git init --quiet --bare --initial-branch=main "$demo/primary/team/app.git"
pullrep hook install "$demo/primary"
node "$here/bin/pullrep.js" --config "$demo/pullrep.json" primary >"$demo/primary.log" 2>&1 &
agent_pid=$!

step "Topics"
pullrep topics ensure

step "Replica: pullrep replica (log: $demo/replica.log)"
# node itself in the background (not the shell function), so that $! is the process to stop
node "$here/bin/pullrep.js" --config "$demo/pullrep.json" replica >"$demo/replica.log" 2>&1 &
replica_pid=$!

step "Push to the primary: main, a feature branch and a tag"
work="$demo/work"
rm -rf "$work"
git init --quiet --initial-branch=main "$work"
(
  cd "$work"
  export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
  echo "hello" >README
  git add README && git commit --quiet -m "first commit"
  git tag v1.0
  git checkout --quiet -b feature
  echo "more" >>README && git commit --quiet -am "feature work"
  git remote add origin "$demo/primary/team/app.git"
  git push --quiet origin main feature v1.0
)

step "Waiting for the replica to hold the same refs"
refs() { git --git-dir="$1" for-each-ref --format='%(objectname) %(refname)' 2>/dev/null || true; }
deadline=$((SECONDS + 60))
until [ -d "$demo/replica/team/app.git" ] && [ "$(refs "$demo/primary/team/app.git")" = "$(refs "$demo/replica/team/app.git")" ]; do
  if ((SECONDS > deadline)); then
    echo "the replica did not converge within 60 s; its log:" >&2
    tail -n 30 "$demo/replica.log" >&2
    exit 1
  fi
  if ! kill -0 "$replica_pid" 2>/dev/null; then
    echo "pullrep replica exited; its log:" >&2
    tail -n 30 "$demo/replica.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "primary:"; refs "$demo/primary/team/app.git" | sed 's/^/  /'
echo "replica:"; refs "$demo/replica/team/app.git" | sed 's/^/  /'

step "Delete the feature branch on the primary"
git -C "$work" push --quiet origin --delete feature
deadline=$((SECONDS + 60))
until [ "$(refs "$demo/primary/team/app.git")" = "$(refs "$demo/replica/team/app.git")" ]; do
  if ((SECONDS > deadline)); then echo "the replica did not follow the deletion" >&2; exit 1; fi
  sleep 0.2
done
echo "replica:"; refs "$demo/replica/team/app.git" | sed 's/^/  /'

step "Verify: order-independent checksums of the primary's and the replica's refs"
pullrep verify --all

step "Replica status"
pullrep status --replica || true

step "Primary status: the agent, its spool, its last scan of the repositories"
pullrep status --primary || true

cat <<MSG

Replicated. The demo's files are in $demo; the broker keeps running on 127.0.0.1:$port.
Try:  node bin/pullrep.js --config $demo/pullrep.json failed list
Stop the broker with:  $( [ "$port" = 9092 ] || printf 'PULLREP_KAFKA_PORT=%s ' "$port")npm run kafka:stop
MSG
