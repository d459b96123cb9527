#!/usr/bin/env bash
# Packs the GPU check for a Linux x86-64 machine that has an NVIDIA driver (and python3 with PyTorch, for
# the cuDNN peer) but no .NET: the .NET runtime, a Release publish of the Bench (without the CPU-only
# peers), of the ilgpudeconv tool and of the test suite, each xz-compressed, and check.sh. Then, on that machine:
#
#   tools/gpu/pack.sh [OUT]          here (default OUT: .gpu at the repository root, git-ignored)
#   bash .gpu/check.sh [--out DIR]   there: see check.sh
#
# What travels must stay well under 64 MiB: the script fails above 48 MiB.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=$(realpath -m "${1:-$root/.gpu}")
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
# The newest 10.x runtime: the applications target net10.0, and the default roll-forward stays within a major version.
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.*/ | sort -V | tail -n 1)
version=$(basename "$runtime")
if [[ ! -f $out/dotnet-runtime-$version.tar.xz ]]; then
  rm -f "$out"/dotnet-runtime-*.tar.xz
  echo "pack: the .NET runtime $version (once; about 30 s)" >&2
  # The muxer, the host resolver and the shared framework: no SDK, so `dotnet test` cannot run there.
  tar -cf - -C "$dotnet_root" dotnet host "shared/Microsoft.NETCore.App/$version" | xz -T2 -6 >"$out/dotnet-runtime-$version.tar.xz.tmp"
  mv "$out/dotnet-runtime-$version.tar.xz.tmp" "$out/dotnet-runtime-$version.tar.xz"
fi

stage=$(mktemp -d)
# The next ordinary build of the Bench must not reuse the peer-less objects, whatever happens here.
trap 'rm -rf "$stage"; touch ILGpuDeconv.Bench/ILGpuDeconv.Bench.csproj' EXIT
echo "pack: publishing the Bench (BenchCpuPeers=false), the tool and the tests" >&2
dotnet publish ILGpuDeconv.Bench -c Release -r linux-x64 --self-contained false -p:BenchCpuPeers=false -o "$stage/bench" -nologo -v quiet >&2
dotnet publish ILGpuDeconv.Tool -c Release -r linux-x64 --self-contained false -o "$stage/tool" -nologo -v quiet >&2
dotnet publish ILGpuDeconv.Tests -c Release -r linux-x64 --self-contained false -o "$stage/tests" -nologo -v quiet >&2
# ONNX Runtime's package copies its Windows libraries even into a linux-x64 publish: 4.5 MiB of xz nobody there loads.
rm -f "$stage"/tests/onnxruntime*.dll
git rev-parse --short HEAD >"$stage/commit" 2>/dev/null || echo unknown >"$stage/commit"
tar -cf - -C "$stage" bench tool tests commit | xz -T2 -6 >"$out/apps.tar.xz"
cp tools/gpu/check.sh "$out/check.sh"
echo "$version" >"$out/runtime-version"

size=$(du -sm "$out" | cut -f1)
echo "pack: $out holds $size MiB:" >&2
ls -la "$out" >&2
if ((size > 48)); then
  echo "pack: over 48 MiB; what travels must stay well under 64 MiB" >&2
  exit 1
fi
echo "on the GPU machine: bash ${out#"$root"/}/check.sh"
