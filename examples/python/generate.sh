#!/bin/sh
# Generates the Python classes of the mesh.v1 messages from the repository's protos (the same files the
# .NET services compile), into the folder given as the first argument (default: ./generated).
# Needs protoc (Debian: protobuf-compiler); google/protobuf/*.proto come with it in /usr/include.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
protos="$here/../../protos"
out=${1:-"$here/generated"}
mkdir -p "$out"
protoc -I "$protos" -I /usr/include --python_out="$out" "$protos"/mesh/v1/*.proto
echo "generated the mesh.v1 classes in $out"
