#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, combined broker+controller)
# on this machine, without Docker. The Kafka jars come from Maven Central via
# `mvn dependency:copy-dependencies` on deploy/kafka/pom.xml.
#
#   kafka.sh fetch    download the jars (skipped when already there)
#   kafka.sh start    fetch if needed, format storage, start, wait until ready;
#                     prints KAFKA_BROKERS=127.0.0.1:<port> on stdout (only that)
#   kafka.sh stop     TERM (then KILL after $KAFKA_STOP_TIMEOUT s), remove the
#                     data dir if start created a temporary one; safe to repeat
#   kafka.sh status   exit 0 if running, 3 if not
#   kafka.sh logs     print the last lines of the broker log
#
# See deploy/kafka/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n1)"
[ -n "$KAFKA_VERSION" ] || { echo "kafka.sh: cannot read <kafka.version> from $POM" >&2; exit 1; }

KAFKA_HOME_DIR="${RAMPART_KAFKA_HOME:-${HOME:-/tmp}/.cache/rampart/kafka-$KAFKA_VERSION}"
LIBS="$KAFKA_HOME_DIR/libs"
HOST=127.0.0.1
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
PID_FILE="${KAFKA_PID_FILE:-${TMPDIR:-/tmp}/rampart-kafka-$PORT.pid}"
STATE_FILE="$PID_FILE.state"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-15}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
LOG4J_CONFIG="${KAFKA_LOG4J_CONFIG:-$SCRIPT_DIR/log4j2.properties}"
READY_MARKER="Kafka Server started"

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="java"; fi

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# --- helpers -----------------------------------------------------------------

pom_stamp() { cksum <"$POM" | awk '{print $1 "-" $2}'; }

libs_ready() {
  [ -f "$LIBS/.complete" ] && [ "$(cat "$LIBS/.complete")" = "$(pom_stamp)" ] \
    && [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Alive and not a zombie (a killed broker whose parent has not reaped it yet).
pid_alive() {
  local pid="$1" state
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    state="$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [ "$state" != "Z" ] || return 1
  fi
  return 0
}

# Is $1 the broker we started (guards against pid reuse)?
pid_is_ours() {
  local pid="$1" props="$2"
  pid_alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    case "$cmdline" in *kafka.Kafka*) ;; *) return 1 ;; esac
    if [ -n "$props" ]; then
      case "$cmdline" in *"$props"*) ;; *) return 1 ;; esac
    fi
  fi
  return 0
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  local v
  v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n1)"
  if [ -n "$v" ] && [ "$v" -lt 17 ]; then die "Java $v found; Kafka $KAFKA_VERSION needs Java 17+"; fi
}

read_state() {
  # Sets STATE_DATA_DIR / STATE_TEMP / STATE_PROPS from the state file (if any).
  STATE_DATA_DIR=""; STATE_TEMP=0; STATE_PROPS=""
  [ -f "$STATE_FILE" ] || return 0
  local k v
  while IFS='=' read -r k v; do
    case "$k" in
      DATA_DIR) STATE_DATA_DIR="$v" ;;
      TEMP) STATE_TEMP="$v" ;;
      PROPS) STATE_PROPS="$v" ;;
    esac
  done <"$STATE_FILE"
}

cleanup_state() {
  read_state
  if [ "$STATE_TEMP" = "1" ] && [ -n "$STATE_DATA_DIR" ] && [ -d "$STATE_DATA_DIR" ]; then
    rm -rf -- "$STATE_DATA_DIR"
  fi
  rm -f -- "$PID_FILE" "$STATE_FILE"
}

print_log_tail() {
  local dir="$1" n="${2:-50}" f
  for f in "$dir/logs/server.log" "$dir/logs/kafka.out"; do
    if [ -s "$f" ]; then
      echo "----- last $n lines of $f -----" >&2
      tail -n "$n" "$f" >&2
    fi
  done
}

random_cluster_id() {
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (22 chars).
  # Like Kafka's Uuid.randomUuid(), never start with '-' (argument parsers
  # would take it for an option).
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    case "$id" in -*) ;; *) echo "$id"; return 0 ;; esac
  done
}

# --- commands ----------------------------------------------------------------

cmd_fetch() {
  if libs_ready; then
    log "Kafka $KAFKA_VERSION jars already in $LIBS"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to download the Kafka jars)"
  mkdir -p "$KAFKA_HOME_DIR"
  (
    # Serialize concurrent fetches (several test jobs starting at once).
    if command -v flock >/dev/null 2>&1; then
      exec 9>"$KAFKA_HOME_DIR/.fetch.lock"
      flock 9
    fi
    if libs_ready; then exit 0; fi
    local tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
    rm -rf -- "$tmp"
    log "downloading Kafka $KAFKA_VERSION jars into $LIBS (mvn)"
    # (sed: Maven 3.8 prints stray ANSI resets even with -B -q; pipefail keeps mvn's status.)
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 \
        | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
      rm -rf -- "$tmp"
      die "mvn dependency:copy-dependencies failed"
    fi
    [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf -- "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
    pom_stamp >"$tmp/.complete"
    rm -rf -- "$LIBS"
    mv -- "$tmp" "$LIBS"
  )
  libs_ready || die "fetch failed"
}

write_properties() {
  local data_dir="$1" props="$2"
  cat >"$props" <<EOF
# Generated by deploy/kafka/kafka.sh ($(date -u +%Y-%m-%dT%H:%M:%SZ)); rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data_dir/kraft-combined-logs

num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true

offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-10}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=${KAFKA_TXN_PARTITIONS:-10}
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  if [ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]; then
    printf '\n# KAFKA_EXTRA_PROPERTIES\n%s\n' "$KAFKA_EXTRA_PROPERTIES" >>"$props"
  fi
}

cmd_start() {
  if [ -f "$PID_FILE" ]; then
    local old_pid
    old_pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    read_state
    if [ -n "$old_pid" ] && pid_is_ours "$old_pid" "$STATE_PROPS"; then
      if port_open "$PORT"; then
        log "already running (pid $old_pid, data dir $STATE_DATA_DIR)"
        echo "KAFKA_BROKERS=$HOST:$PORT"
        return 0
      fi
      die "a broker (pid $old_pid) is running but $HOST:$PORT is not accepting connections; run '$0 stop' first"
    fi
    log "removing stale pid file $PID_FILE"
    cleanup_state
  fi

  check_java
  port_open "$PORT" && die "$HOST:$PORT is already in use by another process"
  port_open "$CONTROLLER_PORT" && die "$HOST:$CONTROLLER_PORT (controller) is already in use by another process"
  [ -f "$LOG4J_CONFIG" ] || die "log4j2 config not found: $LOG4J_CONFIG"

  cmd_fetch

  local data_dir temp=0
  if [ -n "${KAFKA_DATA_DIR:-}" ]; then
    mkdir -p "$KAFKA_DATA_DIR"
    data_dir="$(cd "$KAFKA_DATA_DIR" && pwd)"
    # A given dir is kept on stop unless KAFKA_REMOVE_DATA_ON_STOP=1.
    if [ "${KAFKA_REMOVE_DATA_ON_STOP:-0}" = 1 ]; then temp=1; fi
  else
    data_dir="$(mktemp -d "${TMPDIR:-/tmp}/rampart-kafka-$PORT.XXXXXX")"
    temp=1
  fi
  mkdir -p "$data_dir/logs" "$(dirname "$PID_FILE")"
  local props="$data_dir/server.properties"
  write_properties "$data_dir" "$props"
  printf 'DATA_DIR=%s\nTEMP=%s\nPROPS=%s\nPORT=%s\n' "$data_dir" "$temp" "$props" "$PORT" >"$STATE_FILE"
  # Interrupted (Ctrl-C, or a harness killing us on its own timeout) before the
  # broker is ready: take it down again rather than leave an orphan behind.
  trap 'log "interrupted; cleaning up"; if [ -f "$PID_FILE" ]; then cmd_stop >/dev/null 2>&1; else cleanup_state; fi; exit 130' INT TERM HUP

  local t0=$SECONDS
  local -a jvm=($HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONFIG" "-Dkafka.logs.dir=$data_dir/logs")
  # shellcheck disable=SC2206
  local -a extra=(${KAFKA_JVM_OPTS:-})

  # Format the metadata/log dir, unless a given KAFKA_DATA_DIR already is formatted
  # (StorageTool --ignore-formatted still fails when the cluster id differs).
  local cluster_id="${KAFKA_CLUSTER_ID:-$(random_cluster_id)}"
  if [ -f "$data_dir/kraft-combined-logs/meta.properties" ]; then
    log "reusing formatted data dir $data_dir"
  elif ! "$JAVA" -Xmx256m "-Dlog4j2.configurationFile=$LOG4J_CONFIG" "-Dkafka.logs.dir=$data_dir/logs" \
      -cp "$LIBS/*" kafka.tools.StorageTool format --config "$props" "--cluster-id=$cluster_id" \
      --standalone --ignore-formatted >"$data_dir/logs/storage-format.out" 2>&1; then
    cat "$data_dir/logs/storage-format.out" >&2
    if [ "$temp" = 1 ]; then rm -rf -- "$data_dir"; fi
    rm -f -- "$STATE_FILE"
    die "kafka-storage format failed"
  fi

  nohup "$JAVA" "${jvm[@]}" ${extra[@]+"${extra[@]}"} -cp "$LIBS/*" kafka.Kafka "$props" \
    >"$data_dir/logs/kafka.out" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"

  # Ready = port accepts connections AND the server logged "Kafka Server started".
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! pid_alive "$pid"; then
      print_log_tail "$data_dir" 50
      cmd_stop >/dev/null 2>&1 || true
      die "broker process $pid exited during start-up"
    fi
    if port_open "$PORT" && grep -qsF "$READY_MARKER" "$data_dir/logs/server.log" "$data_dir/logs/kafka.out"; then
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      print_log_tail "$data_dir" 50
      cmd_stop >/dev/null 2>&1 || true
      die "broker not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  trap - INT TERM HUP
  log "Kafka $KAFKA_VERSION ready on $HOST:$PORT in $((SECONDS - t0))s (pid $pid, data dir $data_dir)"
  echo "KAFKA_BROKERS=$HOST:$PORT"
}

cmd_stop() {
  if [ ! -f "$PID_FILE" ]; then
    cleanup_state
    log "not running (no pid file $PID_FILE)"
    return 0
  fi
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  read_state
  if [ -n "$pid" ] && pid_is_ours "$pid" "$STATE_PROPS"; then
    log "stopping broker pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if pid_alive "$pid"; then
      log "broker pid $pid still alive after ${STOP_TIMEOUT}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      local i
      for i in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
      pid_alive "$pid" && die "could not kill broker pid $pid"
    fi
  else
    log "broker not running (stale pid file)"
  fi
  cleanup_state
  log "stopped"
}

cmd_status() {
  local pid=""
  [ -f "$PID_FILE" ] && pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  read_state
  if [ -n "$pid" ] && pid_is_ours "$pid" "$STATE_PROPS"; then
    local ready="no"
    port_open "$PORT" && ready="yes"
    echo "running pid=$pid port=$PORT accepting=$ready version=$KAFKA_VERSION data_dir=$STATE_DATA_DIR"
    return 0
  fi
  echo "not running (port $PORT, version $KAFKA_VERSION)"
  return 3
}

cmd_logs() {
  read_state
  [ -n "$STATE_DATA_DIR" ] || die "no broker state for port $PORT"
  print_log_tail "$STATE_DATA_DIR" "${1:-100}"
}

usage() {
  cat >&2 <<EOF
usage: $0 {fetch|start|stop|status|logs [N]}
  Kafka $KAFKA_VERSION, jars in $LIBS, broker on $HOST:$PORT (controller $CONTROLLER_PORT)
EOF
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
esac
