#!/usr/bin/env bash
# Builds the serving container image as a tarball, target/gearbox-image.tar, with Jib (Maven
# profile "image"): no Docker daemon, no registry, no network beyond Maven's own repository.
#
#   scripts/build-image.sh            # then: docker load < target/gearbox-image.tar
#                                     #   or: kind load image-archive target/gearbox-image.tar
#                                     #   or: crane push target/gearbox-image.tar REGISTRY/gearbox:TAG
#
# Why the image is assembled this way: a base image (distroless/java, temurin) would have to be
# pulled from a registry, which this build machine cannot reach (no Docker Hub), so Jib starts
# from `scratch`. scratch has no Java and no C library, so this script puts both into
# target/image-root, which Jib adds as a layer:
#   /opt/java                 a Java 25 runtime jlink'd from $JAVA_HOME (every module, stripped)
#   /lib/x86_64-linux-gnu, /lib64   the shared libraries java, the JDK's own libraries and the
#                             native kernels link against, copied from this machine (ldd): the
#                             image's glibc is the build machine's
#   /app/native/libgearbox_cpu.so   the native CPU kernels (scripts/build-native-cpu.sh), if gcc built them
#   /app/native/libgearbox_cuda.so  the CUDA kernels (scripts/build-native.sh), if nvcc built them
#   /app/native/cuda/         the CUDA runtime libraries (cudart, cuBLAS) from $CUDA_HOME, if
#                             present: JavaCPP's CUDA jars (in /app/libs, from the build's
#                             dependencies) hold only the JNI bindings, not these, and the NVIDIA
#                             container toolkit mounts only the driver (libcuda.so) into a pod.
#                             Without them a GPU tier fails at load time, CPU tiers are unaffected.
#   /tmp                      writable scratch (the Deployment also mounts an emptyDir there)
# The application itself is Jib's layers: /app/libs (dependencies), /app/resources, /app/classes.
# A shell-less image: for a look inside, unpack the layers (manifest.json lists them) into a folder,
# mount /proc there (glibc finds $ORIGIN, the JDK's RPATH, through /proc/self/exe) and chroot.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/jdk.sh
. "$root/scripts/jdk.sh"
gearbox_find_jdk
cd "$root"

img="$root/target/image-root"
rm -rf "$img"
mkdir -p "$img/app/native" "$img/tmp"

# 1. the jar (also what scripts/gearbox runs) and the classes Jib layers
mvn -q -B -pl java -DskipTests package
# 2. native kernels: the CPU ones where gcc exists, the CUDA ones where nvcc exists (both skip with a notice)
scripts/build-native-cpu.sh
scripts/build-native.sh
for lib in libgearbox_cpu.so libgearbox_cuda.so; do
    if [ -f "target/native/$lib" ]; then cp "target/native/$lib" "$img/app/native/"; fi
done
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
if [ -f "$img/app/native/libgearbox_cuda.so" ] && [ -d "$cuda_home/lib64" ]; then
    mkdir -p "$img/app/native/cuda"
    cp -a "$cuda_home"/lib64/libcudart.so* "$cuda_home"/lib64/libcublas.so* "$cuda_home"/lib64/libcublasLt.so* "$img/app/native/cuda/" 2>/dev/null || true
fi

# 3. a Java runtime: every module of the JDK (serve needs jdk.incubator.vector, profile jdk.jfr, ...), without debug data
# (the module list from the JDK itself: JDK 25 links from its own runtime image, it may ship no jmods,
# and such a runtime cannot re-link jdk.jlink, nor jdk.jpackage, which needs it; serving needs neither)
modules="$("$JAVA_HOME/bin/java" --list-modules | sed 's/@.*//' | grep -vx -e jdk.jlink -e jdk.jpackage | paste -sd, -)"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --output "$img/opt/java"

# 4. the C libraries everything above links against, from this machine, with the dynamic loader
mapfile -t elves < <(find "$img/opt/java" "$img/app/native" -type f \( -name '*.so*' -o -path '*/bin/*' \) )
for f in "${elves[@]}"; do
    ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}'
done | sort -u | while read -r lib; do
    case "$lib" in "$img"/*) continue ;; esac     # the runtime's own libraries are there already
    dest="$img$(dirname "$lib")"
    mkdir -p "$dest"
    cp -L "$lib" "$dest/"
done
# the loader java's ELF header names (/lib64/ld-linux-x86-64.so.2)
loader="$(readelf -l "$img/opt/java/bin/java" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')"
mkdir -p "$img$(dirname "$loader")"
cp -L "$loader" "$img$loader"

# 5. the image
mvn -q -B -pl java -Pimage -DskipTests jib:buildTar
echo "build-image: $root/target/gearbox-image.tar ($(du -h target/gearbox-image.tar | cut -f1))"
