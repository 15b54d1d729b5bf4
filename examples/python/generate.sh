#!/bin/sh
# Generates the Python classes of the mesh.v1 messages from the repository's protos (the same files the
# .NET services compile), into the folder given as the first argument (default: ./generated).
# Needs protoc (Debian: protobuf-compiler) and the well-known google/protobuf/*.proto files, which Debian's
# protoc does not ship: they come with libprotobuf-dev (/usr/include), or with the Grpc.Tools NuGet package
# the .NET build restores (its build/native/include).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
protos="$here/../../protos"
out=${1:-"$here/generated"}
wellknown=""
for dir in /usr/include "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/grpc.tools/*/build/native/include; do
  if [ -f "$dir/google/protobuf/timestamp.proto" ]; then wellknown=$dir; break; fi
done
if [ -z "$wellknown" ]; then
  echo "generate.sh: google/protobuf/timestamp.proto not found: install libprotobuf-dev (apt-get install libprotobuf-dev) or build the .NET solution once (it restores Grpc.Tools)" >&2
  exit 1
fi
mkdir -p "$out"
protoc -I "$protos" -I "$wellknown" --python_out="$out" "$protos"/mesh/v1/*.proto
echo "generated the mesh.v1 classes in $out"
