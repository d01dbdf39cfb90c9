#!/usr/bin/env bash
# Builds the hunyuan-dit and hunyuan-bench jars of each given git ref into .gpu/variants/<ref, '/' as '-'>/ (the
# benchmarks and checks go with the kernel's host code they call), beside the bundle of
# scripts/gpu-bundle.sh (run that first), so that one GPU call can time kernel sources side by side: the card varies by
# several percent from machine to machine, so a comparison is only made within one call.
# Usage (project root): bash scripts/gpu-kernel-variants.sh REF... ; then on the GPU machine:
#   bash .gpu/variants/run.sh main|NAME CLASS ARGS...   (CLASS in io.github.hunyuanvideo.bench, e.g. AttentionBench)
# "main" runs the bundle's own jars; NAME runs them with that variant's jars in place of the bundle's.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d .gpu/lib ]; then
    echo "no .gpu/lib: run scripts/gpu-bundle.sh first" >&2
    exit 2
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 REF..." >&2
    exit 2
fi
mkdir -p .gpu/variants
for ref in "$@"; do
    git rev-parse --verify -q "$ref^{commit}" > /dev/null || { echo "not a commit: $ref" >&2; exit 2; }
done
for ref in "$@"; do
    name=${ref//\//-}
    tree=$(mktemp -d)
    git worktree add -q --detach "$tree" "$ref"
    (cd "$tree" && mvn -B -q -o -pl hunyuan-dit,hunyuan-bench -am package -DskipTests)
    rm -rf ".gpu/variants/$name" && mkdir -p ".gpu/variants/$name"
    cp "$tree"/hunyuan-dit/target/hunyuan-dit-*-SNAPSHOT.jar "$tree"/hunyuan-bench/target/hunyuan-bench-*-SNAPSHOT.jar \
        ".gpu/variants/$name/"
    git worktree remove --force "$tree"
    echo "$name: $(git rev-parse --short "$ref")"
done
cat > .gpu/variants/run.sh <<'EOF'
#!/usr/bin/env bash
# bash .gpu/variants/run.sh main|NAME CLASS ARGS... (written by scripts/gpu-kernel-variants.sh)
set -euo pipefail
name=$1
main=$2
shift 2
if [ "$name" = main ]; then
    classpath=$(ls .gpu/lib/*.jar | paste -sd:)
else
    # the bundle's jars but those the variant brings
    own=$(ls .gpu/variants/"$name"/*.jar)
    classpath=$( (echo "$own"; ls .gpu/lib/*.jar | while read -r jar; do
        grep -q "/$(basename "$jar")\$" <<< "$own" || echo "$jar"; done) | paste -sd:)
fi
exec bash .gpu/run-java.sh "$classpath" "io.github.hunyuanvideo.bench.$main" "$@"
EOF
