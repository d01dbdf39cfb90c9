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
mvn -B -q -o -pl hunyuan-bench dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/.gpu/lib"
cp hunyuan-*/target/hunyuan-*-SNAPSHOT.jar .gpu/lib/
# test jars are not shipped, except the sampler's (PipelineGpuCheck runs its golden case, PipelineCase) and the nn
# module's (NcclGpuCheck runs its collective checks)
find .gpu/lib -name '*-tests.jar' ! -name 'hunyuan-sampler-*-tests.jar' ! -name 'hunyuan-nn-*-tests.jar' -delete
# Log output on the GPU machine.
mvn -B -q -o dependency:copy -Dartifact=org.slf4j:slf4j-simple:2.0.17 -DoutputDirectory="$PWD/.gpu/lib"
# Natives are useless there (and too big to upload).
rm -f .gpu/lib/*-linux-x86_64*.jar .gpu/lib/*-macosx-*.jar .gpu/lib/*-windows-*.jar .gpu/lib/*-android-*.jar \
      .gpu/lib/*-ios-*.jar .gpu/lib/*-linux-arm*.jar .gpu/lib/*-linux-ppc*.jar .gpu/lib/ffmpeg-*.jar \
      .gpu/lib/tokenizers-*.jar
# The golden files a GPU check needs go to .gpu/ref (e.g. dit_tiny.{json,safetensors}); the whole upload, working
# tree included, must stay under 64 MiB.
du -sh .gpu
