# Sourced by the bench-* scripts: builds the project and runs a benchmark main class from a module's
# test classes (where the random model writer and the load generators live) with BENCH_OPTS.
# MODULE picks the module: serving (default; the engine benches) or gateway (the HTTP bench).
run_bench() {
  local class="$1"; shift
  local module="${MODULE:-serving}"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  source "$root/scripts/find-java.sh"
  find_java
  cd "$root"
  mvn -q -B -DskipTests install >&2
  mvn -q -B -pl "$module" dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
  cd "$module"
  # serving's jar, not its classes folder: its Java 22+ classes (multi-release) load only from a jar
  local main=target/classes
  [ "$module" = serving ] && main="$(find target -maxdepth 1 -name 'gatehouse-serving-*.jar' ! -name '*-tests.jar')"
  export THP_MEM_ALLOC_ENABLE="${THP_MEM_ALLOC_ENABLE:-1}" # as scripts/gatehouse: weights on huge pages
  exec "$JAVA_HOME/bin/java" -Xmx10g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED ${BENCH_OPTS:-} \
    -cp "target/test-classes:$main:$(cat target/bench.classpath)" "$class" "$@"
}
