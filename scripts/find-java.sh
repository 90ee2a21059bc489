# Sourced by the scripts: sets JAVA_HOME to a JDK >= 21 (Helidon 4 and the engine need it).
# Order: $JAVA_HOME, then the usual JDK folders, then `java` on the PATH.

java_major() { # prints the major version of the java binary $1
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

find_java() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/temurin-2[1-9]* \
      /usr/lib/jvm/java-2[1-9]* /usr/lib/jvm/jdk-2[1-9]* /opt/java/openjdk /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] \
        && [ "$(java_major "$candidate/bin/java")" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  if command -v javac >/dev/null && [ "$(java_major java)" -ge 21 ] 2>/dev/null; then
    JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
    export JAVA_HOME
    return 0
  fi
  echo "gatehouse: no JDK 21 or newer found. Install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
