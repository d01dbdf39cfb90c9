#!/usr/bin/env bash
# Prepares .gpu/ for a run on the lent GPU machine (see ../shared/gpu/README.md): the runtime bundle, the project's
# jars and the class jars of its dependencies (native jars dropped: that machine brings its own libtorch).
# Usage (project root): bash scripts/gpu-bundle.sh ; then on the GPU machine:
#   bash .gpu/run-java.sh "$(ls .gpu/lib/*.jar | paste -sd:)" MAIN_CLASS ARGS...
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .gpu/runtime.tar.xz ] || bash ../shared/gpu/make-runtime.sh
mvn -B -q -o install -DskipTests
rm -rf .gpu/lib && mkdir -p .gpu/lib
mvn -B -q -o -pl examples dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/.gpu/lib"
cp examples/target/examples-*.jar .gpu/lib/ 2>/dev/null || true
# Natives are useless there (and too big to upload).
rm -f .gpu/lib/*-linux-x86_64*.jar .gpu/lib/*-macosx-*.jar .gpu/lib/*-windows-*.jar .gpu/lib/*-android-*.jar \
      .gpu/lib/*-ios-*.jar .gpu/lib/*-linux-arm*.jar .gpu/lib/*-linux-ppc*.jar .gpu/lib/ffmpeg-*.jar
du -sh .gpu
