#!/usr/bin/env bash
# A real Apache Kafka broker, or a cluster of them, without Docker: KRaft nodes that are each a
# broker and a controller, run straight from Apache Kafka's jars, which Maven resolves from Maven
# Central (kafka/pom.xml) into a git-ignored cache.
#
#   scripts/kafka.sh start [--node I]   start the broker or cluster (or notice it runs); returns
#                                       once every node started serves clients
#   scripts/kafka.sh stop [--node I]    stop it cleanly (keeps its data); --node stops one node
#   scripts/kafka.sh status             say which nodes run
#   scripts/kafka.sh purge              stop it and delete its data
#   scripts/kafka.sh fetch              only resolve the jars
#
# Environment:
#   PULLREP_KAFKA_PORT   client port of node 1 on 127.0.0.1 (default 9092). Node i (1-based)
#                        serves clients on PORT + 2(i-1) and its controller on the port after.
#   PULLREP_KAFKA_NODES  number of nodes (default 1). A cluster, once made, keeps its size:
#                        stop, status and start --node read it from its state directory.
#   PULLREP_KAFKA_SECURITY  plaintext (default) or sasl_ssl: clients then connect over TLS and
#                        log in with SCRAM-SHA-512 (the brokers too, as user admin; controllers
#                        stay PLAINTEXT on loopback). Chosen when the storage is formatted, which
#                        sets the SCRAM credentials, and kept: stop, status and a later start read
#                        it from the state directory; purge to change it. A sasl_ssl broker keeps
#                        in its state directory (.kafka/broker-PORT, or .kafka/cluster-PORT for a
#                        cluster), made once with openssl:
#                          tls/ca.pem             the CA certificate clients trust (kafka.ssl.ca)
#                          sasl/pullrep.password  the password of the client user pullrep (0600)
#                          sasl/admin.password    the password of the brokers' own user admin
#                        and start prints KAFKA_SSL_CA=, KAFKA_SASL_MECHANISM=,
#                        KAFKA_SASL_USERNAME= and KAFKA_SASL_PASSWORD_FILE= after KAFKA_BROKERS=.
#   PULLREP_KAFKA_HOME   state directory (default: .kafka in the repository)
#   PULLREP_KAFKA_HEAP   JVM heap of each node (default 768m)
#   PULLREP_KAFKA_START_TIMEOUT  seconds to wait for the nodes (default 90)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${PULLREP_KAFKA_PORT:-9092}
home=${PULLREP_KAFKA_HOME:-$here/.kafka}
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
libs=$home/lib/$kafka_version
heap=${PULLREP_KAFKA_HEAP:-768m}
timeout=${PULLREP_KAFKA_START_TIMEOUT:-90}

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: %s\n' "$*" >&2; exit 1; }

is_number() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; }
is_number "$port" || die "PULLREP_KAFKA_PORT must be a port number, got '$port'"

# One broker keeps the state directory it always had; a cluster has one directory per node.
single=$home/broker-$port
cluster=$home/cluster-$port

# The number of nodes: the cluster's own record once it exists, else PULLREP_KAFKA_NODES.
nodes=${PULLREP_KAFKA_NODES:-}
if [ -f "$cluster/nodes" ] && { [ -z "$nodes" ] || [ "$nodes" != 1 ]; }; then
  recorded=$(cat "$cluster/nodes")
  if [ -n "$nodes" ] && [ "$nodes" != "$recorded" ]; then
    die "the cluster on port $port has $recorded nodes, PULLREP_KAFKA_NODES says $nodes; purge it first to change its size"
  fi
  nodes=$recorded
fi
nodes=${nodes:-1}
is_number "$nodes" && [ "$nodes" -ge 1 ] && [ "$nodes" -le 9 ] || die "PULLREP_KAFKA_NODES must be a number from 1 to 9, got '$nodes'"

node_port() { echo $((port + 2 * ($1 - 1))); }
node_state() { if [ "$nodes" = 1 ]; then echo "$single"; else echo "$cluster/node-$1"; fi; }
# What the nodes share (cluster id, security mode, certificates, credentials).
shared_state() { if [ "$nodes" = 1 ]; then echo "$single"; else echo "$cluster"; fi; }

security=$(printf '%s' "${PULLREP_KAFKA_SECURITY:-}" | tr '[:upper:]' '[:lower:]')
case "$security" in
  '' | plaintext | sasl_ssl) ;;
  *) die "PULLREP_KAFKA_SECURITY must be plaintext or sasl_ssl, got '${PULLREP_KAFKA_SECURITY}'" ;;
esac
# The mode of the nodes being started: set by resolve_security.
mode=plaintext

brokers_list() {
  local i list=
  for ((i = 1; i <= nodes; i++)); do list+="${list:+,}127.0.0.1:$(node_port "$i")"; done
  echo "$list"
}

running_pid() {
  local state pid
  state=$(node_state "$1")
  [ -f "$state/broker.pid" ] || return 1
  pid=$(cat "$state/broker.pid" 2>/dev/null) || return 1
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
  local i=$1 state client controller voters= j
  state=$(node_state "$i")
  client=$(node_port "$i")
  controller=$((client + 1))
  for ((j = 1; j <= nodes; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(($(node_port "$j") + 1))"; done
  # Kafka's internal topics: replicated over the whole cluster, writable with one node down.
  local rf=$((nodes < 3 ? nodes : 3))
  local isr=$((rf > 1 ? rf - 1 : 1))
  # sasl_ssl: clients and the other brokers come in over SASL_SSL; the controllers keep PLAINTEXT.
  local listener=PLAINTEXT
  [ "$mode" = plaintext ] || listener=SASL_SSL
  mkdir -p "$state/data"
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=$listener://127.0.0.1:$client,CONTROLLER://127.0.0.1:$controller
advertised.listeners=$listener://127.0.0.1:$client
controller.listener.names=CONTROLLER
inter.broker.listener.name=$listener
listener.security.protocol.map=$listener:$listener,CONTROLLER:PLAINTEXT
log.dirs=$state/data
num.partitions=1
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  if [ "$mode" != plaintext ]; then
    chmod 600 "$state/server.properties"
    security_config >>"$state/server.properties"
  fi
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

# The SASL_SSL settings of the nodes (passwords: their file is readable by its owner only).
security_config() {
  local shared tls
  shared=$(shared_state)
  tls=$shared/tls
  cat <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$shared/sasl/admin.password")";
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls/broker.p12
ssl.keystore.password=$(cat "$tls/keystore.password")
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
ssl.client.auth=none
EOF
}

# A password: 16 random bytes in hex (nothing the SCRAM or JAAS syntax would read specially).
new_secret() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

formatted() {
  local i
  for ((i = 1; i <= nodes; i++)); do [ -f "$(node_state "$i")/data/meta.properties" ] && return 0; done
  return 1
}

# Sets mode: the one the storage was formatted with (recorded beside it by launch; storage
# formatted before the record existed is plaintext), else PULLREP_KAFKA_SECURITY, else plaintext.
# The SCRAM credentials are written when the storage is formatted, so a formatted broker keeps
# its mode.
resolve_security() {
  local file recorded
  file=$(shared_state)/security
  if formatted; then
    recorded=plaintext
    [ ! -s "$file" ] || recorded=$(cat "$file")
    if [ -n "$security" ] && [ "$security" != "$recorded" ]; then
      die "the broker on port $port was formatted with PULLREP_KAFKA_SECURITY=$recorded, which cannot change to $security (SCRAM credentials are set when the storage is formatted); purge it first: PULLREP_KAFKA_PORT=$port bash scripts/kafka.sh purge"
    fi
    mode=$recorded
  else
    mode=${security:-plaintext}
  fi
}

# The certificates of a sasl_ssl broker, made once: a self-signed CA, and a broker certificate
# for 127.0.0.1 and localhost that it signed, in a PKCS12 keystore. Every node serves the same one.
make_tls() {
  local dir
  dir=$(shared_state)/tls
  [ ! -f "$dir/.complete" ] || return 0
  command -v openssl >/dev/null || die "openssl is needed to make the certificates of PULLREP_KAFKA_SECURITY=sasl_ssl; install it"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  if ! (
    umask 077
    cd "$dir.tmp"
    new_secret >keystore.password
    printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth,clientAuth' >broker.ext
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 -subj '/CN=pullrep local Kafka CA' \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -keyout ca.key -out ca.pem
    openssl req -new -nodes -newkey rsa:2048 -sha256 -subj '/CN=localhost' -keyout broker.key -out broker.csr
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 3650 -extfile broker.ext -out broker.pem
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -passout file:keystore.password -out broker.p12
    chmod 644 ca.pem
  ) >"$dir.tmp.log" 2>&1; then
    cat "$dir.tmp.log" >&2
    die "making the TLS certificates in $dir failed"
  fi
  rm -f "$dir.tmp.log"
  touch "$dir.tmp/.complete"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

# The SCRAM users of a sasl_ssl broker: admin (the brokers' own) and pullrep (for clients), each
# with a password made once, in a file only its owner reads.
make_credentials() {
  local dir user
  dir=$(shared_state)/sasl
  mkdir -p "$dir"
  chmod 700 "$dir"
  for user in admin pullrep; do
    [ -s "$dir/$user.password" ] || (umask 077 && new_secret >"$dir/$user.password")
  done
}

# Where a client finds what it needs, printed after KAFKA_BROKERS= (the password stays in its file).
print_security() {
  [ "$mode" = sasl_ssl ] || return 0
  local shared
  shared=$(shared_state)
  echo "KAFKA_SSL_CA=$shared/tls/ca.pem"
  echo "KAFKA_SASL_MECHANISM=scram-sha-512"
  echo "KAFKA_SASL_USERNAME=pullrep"
  echo "KAFKA_SASL_PASSWORD_FILE=$shared/sasl/pullrep.password"
}

# 16 random bytes, base64url: Kafka's cluster id. One starting with "-" would be read as an
# option by the storage tool (1 start in 64 failed so), so draw again until it does not.
new_cluster_id() {
  local id=-
  while [ "${id#-}" != "$id" ]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  echo "$id"
}

# The cluster id every node is formatted with: kept beside the nodes, made once.
cluster_id() {
  local file
  if [ "$nodes" = 1 ]; then file=$single/cluster.id; else file=$cluster/cluster.id; fi
  mkdir -p "$(dirname "$file")"
  [ -s "$file" ] || new_cluster_id >"$file"
  cat "$file"
}

# Starts node i's JVM (formatting its storage the first time) without waiting for it.
launch() {
  local i=$1 state pid scram=() user
  state=$(node_state "$i")
  if [ "$mode" = sasl_ssl ]; then
    make_tls
    make_credentials
  fi
  write_config "$i"
  if [ ! -f "$state/data/meta.properties" ]; then
    echo "$mode" >"$(shared_state)/security"
    if [ "$mode" = sasl_ssl ]; then
      for user in admin pullrep; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(cat "$(shared_state)/sasl/$user.password")]")
      done
    fi
    java -cp "$libs/*" -Dlog4j2.configurationFile="$state/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(cluster_id)" -c "$state/server.properties" "${scram[@]}" >"$state/format.log" 2>&1 ||
      die "formatting KRaft storage of node $i failed; see $state/format.log"
  fi
  : >"$state/broker.log"
  nohup java -Xms128m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >>"$state/broker.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$state/broker.pid"
}

# Waits until node i serves clients; stops it and fails when it exits or takes too long.
await_node() {
  local i=$1 started=$2 state pid
  state=$(node_state "$i")
  pid=$(cat "$state/broker.pid")
  until grep -q "Kafka Server started" "$state/broker.log" 2>/dev/null && port_open "$(node_port "$i")"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$state/broker.log" >&2
      rm -f "$state/broker.pid"
      failure="node $i exited during start-up; log: $state/broker.log"
      return 1
    fi
    if ((SECONDS - started > timeout)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$state/broker.pid"
      failure="node $i did not start within ${timeout}s; log: $state/broker.log"
      return 1
    fi
    sleep 0.2
  done
}

# Starts the nodes listed (all together: a cluster's nodes wait for each other's votes).
start_nodes() {
  local i pid started=$SECONDS launched=()
  fetch_jars
  [ "$nodes" = 1 ] || { mkdir -p "$cluster" && echo "$nodes" >"$cluster/nodes"; }
  resolve_security
  local wanted=() p
  for i in "$@"; do
    if pid=$(running_pid "$i"); then
      say "node $i already running (pid $pid) on 127.0.0.1:$(node_port "$i")"
      continue
    fi
    p=$(node_port "$i")
    if port_open "$p" || port_open $((p + 1)); then
      die "port $p or $((p + 1)) on 127.0.0.1 is taken by another process; set PULLREP_KAFKA_PORT to use another"
    fi
    wanted+=("$i")
  done
  # Every port checked before any node starts; a node that fails takes the ones started with it down.
  for i in "${wanted[@]}"; do
    launch "$i"
    launched+=("$i")
  done
  failure=
  for i in "${launched[@]}"; do
    if ! await_node "$i" "$started"; then
      for j in "${launched[@]}"; do [ "$j" = "$i" ] || stop_node "$j" >/dev/null; done
      die "$failure"
    fi
  done
  for i in "${launched[@]}"; do
    say "node $i started (pid $(running_pid "$i")) in $((SECONDS - started))s on 127.0.0.1:$(node_port "$i"); log: $(node_state "$i")/broker.log"
  done
  if [ "${#launched[@]}" = 0 ] && [ "$nodes" = 1 ]; then
    # the one-broker wording scripts and tests have always seen
    say "already running (pid $(running_pid 1)) on 127.0.0.1:$port"
  fi
  echo "KAFKA_BROKERS=$(brokers_list)"
  print_security
}

stop_node() {
  local i=$1 pid state waited=0
  state=$(node_state "$i")
  if ! pid=$(running_pid "$i"); then
    rm -f "$state/broker.pid"
    say "node $i not running on 127.0.0.1:$(node_port "$i")"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 300)); then
      say "node $i did not stop within 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$state/broker.pid"
  say "node $i stopped (pid $pid)"
}

# Stops the nodes listed, all at once (a node's controlled shutdown waits on the others).
stop_nodes() {
  local i
  for i in "$@"; do stop_node "$i" & done
  wait
}

all_nodes() { seq 1 "$nodes"; }

command=${1:-}
shift || true
only=
while [ $# -gt 0 ]; do
  case "$1" in
    --node)
      only=${2:-}
      is_number "$only" && [ "$only" -ge 1 ] && [ "$only" -le "$nodes" ] || die "--node takes a node number from 1 to $nodes, got '${only}'"
      shift 2
      ;;
    *) die "unknown argument '$1'; usage: scripts/kafka.sh start|stop [--node I] | status|purge|fetch" ;;
  esac
done
if [ -n "$only" ]; then targets=("$only"); else mapfile -t targets < <(all_nodes); fi

case "$command" in
  start) start_nodes "${targets[@]}" ;;
  stop) stop_nodes "${targets[@]}" ;;
  status)
    down=0
    for i in "${targets[@]}"; do
      if pid=$(running_pid "$i"); then say "node $i running (pid $pid) on 127.0.0.1:$(node_port "$i")"; else say "node $i not running on 127.0.0.1:$(node_port "$i")"; down=1; fi
    done
    [ "$down" = 0 ] || exit 3
    ;;
  purge)
    [ -z "$only" ] || die "purge removes the whole cluster; it takes no --node"
    stop_nodes "${targets[@]}"
    if [ "$nodes" = 1 ]; then rm -rf "$single"; say "removed $single"; else rm -rf "$cluster"; say "removed $cluster"; fi
    ;;
  fetch) fetch_jars ;;
  *) die "usage: scripts/kafka.sh start|stop [--node I] | status|purge|fetch" ;;
esac
