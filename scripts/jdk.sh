# Sourced by scripts/gearbox and scripts/test: sets JAVA_HOME to a JDK 25 or newer, or exits.
gearbox_java_major() {
    # "25.0.3" -> 25; empty when the binary does not run
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

gearbox_find_jdk() {
    local candidate major
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        major=$(gearbox_java_major "$candidate")
        if [ -n "$major" ] && [ "$major" -ge 25 ]; then
            export JAVA_HOME="$candidate"
            # Maven's own bundled Guava calls sun.misc.Unsafe, which JDK 24+ warns about on every build.
            case " ${MAVEN_OPTS:-} " in
                *sun-misc-unsafe-memory-access*) ;;
                *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
            esac
            return 0
        fi
    done
    echo "gearbox: needs JDK 25 or newer: set JAVA_HOME to one (found none at \$JAVA_HOME='${JAVA_HOME:-}' or /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
    exit 1
}
