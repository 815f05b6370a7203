#!/usr/bin/env bash
# A real Apache Kafka broker without Docker: one combined broker+controller in KRaft mode,
# run straight from Apache Kafka's jars, which Maven resolves from Maven Central (kafka/pom.xml)
# into a git-ignored cache.
#
#   scripts/kafka.sh start      start (or notice an already running) broker; returns once it serves
#   scripts/kafka.sh stop       stop it cleanly (keeps its data)
#   scripts/kafka.sh status     say whether it runs
#   scripts/kafka.sh purge      stop it and delete its data directory
#   scripts/kafka.sh fetch      only resolve the jars
#
# Environment:
#   PULLREP_KAFKA_PORT   client port on 127.0.0.1 (default 9092); the controller uses port+1
#   PULLREP_KAFKA_HOME   state directory (default: .kafka in the repository)
#   PULLREP_KAFKA_HEAP   JVM heap (default 768m)
#   PULLREP_KAFKA_START_TIMEOUT  seconds to wait for the broker (default 90)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${PULLREP_KAFKA_PORT:-9092}
controller_port=$((port + 1))
home=${PULLREP_KAFKA_HOME:-$here/.kafka}
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
libs=$home/lib/$kafka_version
state=$home/broker-$port
pidfile=$state/broker.pid
logfile=$state/broker.log
heap=${PULLREP_KAFKA_HEAP:-768m}
timeout=${PULLREP_KAFKA_START_TIMEOUT:-90}

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: %s\n' "$*" >&2; exit 1; }

case "$port" in
  '' | *[!0-9]*) die "PULLREP_KAFKA_PORT must be a port number, got '$port'" ;;
esac

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # make sure the pid is still our broker and not a recycled number
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $state/server.properties" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch_jars() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to resolve Apache Kafka's jars; install it, or use docker-compose.kafka.yml"
  command -v java >/dev/null || die "Java 17 or newer is needed to run the broker; install it, or use docker-compose.kafka.yml"
  say "resolving Apache Kafka $kafka_version jars from Maven Central (once)"
  rm -rf "$libs.tmp"
  mkdir -p "$libs.tmp"
  # Maven's output goes to a file (it writes terminal escape codes even when quiet); shown on failure.
  if ! mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs.tmp" >"$libs.tmp.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$libs.tmp.log" >&2
    die "Maven could not resolve org.apache.kafka:kafka_2.13:$kafka_version"
  fi
  rm -f "$libs.tmp.log"
  touch "$libs.tmp/.complete"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
}

write_config() {
  mkdir -p "$state/data"
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$state/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  cat >"$state/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
EOF
}

start() {
  local pid
  if pid=$(running_pid); then
    say "already running (pid $pid) on 127.0.0.1:$port"
    echo "KAFKA_BROKERS=127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    die "port $port on 127.0.0.1 is taken by another process; set PULLREP_KAFKA_PORT to use another"
  fi
  fetch_jars
  write_config
  if [ ! -f "$state/data/meta.properties" ]; then
    local cluster_id
    # 16 random bytes, base64url: Kafka's cluster id. One starting with "-" would be read as an
    # option by the storage tool (1 start in 64 failed so), so draw again until it does not.
    cluster_id=-
    while [ "${cluster_id#-}" != "$cluster_id" ]; do
      cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    java -cp "$libs/*" -Dlog4j2.configurationFile="$state/log4j2.properties" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" >"$state/format.log" 2>&1 ||
      die "formatting KRaft storage failed; see $state/format.log"
  fi
  : >"$logfile"
  local started=$SECONDS
  nohup java -Xms128m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >>"$logfile" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      die "broker exited during start-up; log: $logfile"
    fi
    if ((SECONDS - started > timeout)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      die "broker did not start within ${timeout}s; log: $logfile"
    fi
    sleep 0.2
  done
  say "started (pid $pid) in $((SECONDS - started))s on 127.0.0.1:$port; log: $logfile"
  echo "KAFKA_BROKERS=127.0.0.1:$port"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pidfile"
    say "not running on 127.0.0.1:$port"
    return 0
  fi
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 300)); then
      say "broker did not stop within 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if pid=$(running_pid); then say "running (pid $pid) on 127.0.0.1:$port"; else say "not running on 127.0.0.1:$port"; exit 3; fi
    ;;
  purge)
    stop
    rm -rf "$state"
    say "removed $state"
    ;;
  fetch) fetch_jars ;;
  *) die "usage: scripts/kafka.sh start|stop|status|purge|fetch" ;;
esac
