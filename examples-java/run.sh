#!/usr/bin/env bash
# Runs Maven on the Java binding with a JDK that has the final FFM API (22 or newer):
# $JAVA_HOME if it is new enough, otherwise the newest such JDK under /usr/lib/jvm.
#
#   ./run.sh                         # = ./run.sh test
#   ./run.sh compile exec:exec       # the example program
#   ./run.sh -Pbench package         # target/benchmarks.jar (JMH)
#   ./run.sh --java-home             # print the JDK it would use, and stop
#
# Maven runs with -q: nothing is printed on success, failures are.
set -euo pipefail

MIN_JAVA=22
JVM_DIR=${EVE_JVM_DIR:-/usr/lib/jvm} # where to look for JDKs when JAVA_HOME is too old
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The major version of the java launcher $1 (8 for "1.8.0_x", 25 for "25.0.3"), or
# nothing if it does not run.
java_major() {
  local version
  version=$("$1" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1) || true
  [ -n "$version" ] || return 0
  case "$version" in
    1.*) version=${version#1.} ;;
  esac
  version=${version%%[!0-9]*}
  if [ -n "$version" ]; then
    printf '%s\n' "$version"
  fi
}

pick_jdk() {
  local major
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(java_major "$JAVA_HOME/bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$MIN_JAVA" ]; then
      printf '%s\n' "$JAVA_HOME"
      return
    fi
  fi
  local best="" best_major=0 candidate
  for candidate in "$JVM_DIR"/*/; do
    candidate=${candidate%/}
    [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$MIN_JAVA" ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  printf '%s\n' "$best"
}

jdk=$(pick_jdk)
if [ -z "$jdk" ]; then
  echo "run.sh: no JDK ${MIN_JAVA} or newer found (JAVA_HOME=${JAVA_HOME:-unset}, none under $JVM_DIR)." >&2
  echo "run.sh: install one (the FFM API is final since Java 22) or point JAVA_HOME at it." >&2
  exit 1
fi
if [ "${1:-}" = "--java-home" ]; then # print the JDK it picked, for running java by hand
  printf '%s\n' "$jdk"
  exit 0
fi
export JAVA_HOME=$jdk
export PATH="$JAVA_HOME/bin:$PATH"

# Maven 3.8's own jansi and guice trip the JDK 24+ warnings about native access and
# sun.misc.Unsafe; allow both for the Maven JVM only, so that -q output stays clean. Maven
# 3.8's jansi also prints stray ANSI resets even in batch mode: jansi.noreset stops them.
maven_opts="-Djansi.noreset=true --enable-native-access=ALL-UNNAMED"
if [ "$(java_major "$JAVA_HOME/bin/java")" -ge 24 ]; then
  maven_opts="$maven_opts --sun-misc-unsafe-memory-access=allow"
fi
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }$maven_opts"

cd "$here"
if [ "$#" -eq 0 ]; then
  set -- test
fi
exec mvn -B -q "$@"
