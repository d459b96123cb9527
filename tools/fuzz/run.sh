#!/usr/bin/env bash
# Fuzzes one weight-file reader with AFL++ and SharpFuzz (README, "Reliability").
#
#   tools/fuzz/run.sh READER [SECONDS]     READER: npz npy safetensors pytorch keras-weights keras keras-legacy
#                                                  tfjs onnx onnx-tensor pickle keras-config (fuzz/ILGpuDeconv.Fuzz.Targets/Targets.cs)
#   tools/fuzz/run.sh --replay             every committed corpus and regression input through its reader, no AFL
#   tools/fuzz/run.sh --report             a Markdown table of every run's figures under $FUZZ_OUT (AFL's fuzzer_stats)
#   tools/fuzz/run.sh --minimize           every reader's queue through afl-cmin, into fuzz/corpus/READER/afl-NNNN
#                                          (the inputs that each reach an edge no other reaches; the tests replay them)
#
# FUZZ_REUSE_BIN=1 skips the publish step and fuzzes the binaries of the last run (a campaign over several readers
# publishes once, and a build running beside it cannot race the publish for obj/).
# Needs afl++ (Debian: apt-get install afl++) and the sharpfuzz tool (dotnet tool install -g SharpFuzz.CommandLine).
# Findings go to $FUZZ_OUT/READER (default /var/tmp/ilgpudeconv-fuzz); crashes found there belong in
# fuzz/regressions/READER once fixed, where the test suite replays them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-/var/tmp/ilgpudeconv-fuzz}
bin=$out/bin

# Only the readers' own types are instrumented: the device programs must stay plain IL for ILGPU, and AFL's map is
# better spent on the parsing than on the layer.
prefixes=(ILGpuDeconv.NumPy ILGpuDeconv.SafeTensorsFormat ILGpuDeconv.PyTorchCheckpointFormat
  ILGpuDeconv.KerasWeightsFormat ILGpuDeconv.KerasLayerConfig ILGpuDeconv.Hdf5 ILGpuDeconv.TensorFlowJsModelFormat
  ILGpuDeconv.OnnxFormat ILGpuDeconv.OnnxConvTranspose ILGpuDeconv.IO.Onnx ILGpuDeconv.WeightFile
  ILGpuDeconv.LayerWeightFiles ILGpuDeconv.ReaderGuard)

publish() {
  # A fresh copy each time: SharpFuzz refuses an assembly it has already instrumented.
  dotnet publish "$root/fuzz/ILGpuDeconv.Fuzz" -c Release -o "$out/publish" --nologo -v quiet >/dev/null
  rm -rf "$bin" && cp -r "$out/publish" "$bin"
  sharpfuzz "$bin/ILGpuDeconv.dll" "${prefixes[@]}"
  sharpfuzz "$bin/Google.Protobuf.dll"
}

if [[ ${1:-} == --replay ]]; then
  dotnet build "$root/fuzz/ILGpuDeconv.Fuzz" -c Release --nologo -v quiet >/dev/null
  dll=$root/fuzz/ILGpuDeconv.Fuzz/bin/Release/net10.0/ILGpuDeconv.Fuzz.dll
  status=0
  for dir in "$root"/fuzz/corpus/* "$root"/fuzz/regressions/*; do
    [[ -d $dir ]] || continue
    if result=$(dotnet "$dll" "$(basename "$dir")" --replay "$dir"); then :; else status=1; fi
    echo "$(basename "$(dirname "$dir")")/$(basename "$dir"): ${result##*$'\n'}"
  done
  exit $status
fi

if [[ ${1:-} == --report ]]; then
  echo "| reader | run time s | executions | execs/s | edges found | corpus | last new path, s before the end | crashes | hangs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for stats in "$out"/*/default/fuzzer_stats; do
    [[ -f $stats ]] || continue
    awk -v reader="$(basename "$(dirname "$(dirname "$stats")")")" -F' *: *' '{ v[$1] = $2 }
      END { printf "| %s | %d | %d | %.0f | %d | %d | %d | %d | %d |\n", reader, v["run_time"], v["execs_done"], v["execs_per_sec"],
        v["edges_found"], v["corpus_count"], v["last_update"] - v["last_find"], v["saved_crashes"], v["saved_hangs"] }' "$stats"
  done
  exit 0
fi

if [[ ${1:-} == --minimize ]]; then
  [[ -f $bin/ILGpuDeconv.Fuzz.dll ]] || { echo "no fuzz binaries in $bin: fuzz a reader first" >&2; exit 2; }
  export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 DOTNET_GCHeapHardLimit=0x20000000 DOTNET_TieredPGO=0
  # afl-cmin refuses to work under /tmp or /var/tmp, and wants the real path of its program.
  work=$(mktemp -d "$HOME/ilgpudeconv-cmin.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  for queue in "$out"/*/default/queue; do
    reader=$(basename "$(dirname "$(dirname "$queue")")")
    dest=$root/fuzz/corpus/$reader
    [[ -d $dest ]] || continue
    mkdir -p "$work/$reader"
    find "$queue" -maxdepth 1 -type f -exec cp {} "$work/$reader/" \;
    afl-cmin -i "$work/$reader" -o "$work/$reader.min" -t 10000 -m none -- "$(readlink -f "$(command -v dotnet)")" \
      "$bin/ILGpuDeconv.Fuzz.dll" "$reader" >"$work/$reader.log" 2>&1 || { cat "$work/$reader.log" >&2; exit 1; }
    # Portable names (AFL's hold colons), and no second copy of a seed.
    rm -f "$dest"/afl-*
    declare -A seen=()
    for f in "$dest"/*; do seen[$(sha1sum <"$f" | cut -c1-40)]=1; done
    n=0
    for f in $(ls "$work/$reader.min" | sort); do
      h=$(sha1sum <"$work/$reader.min/$f" | cut -c1-40)
      [[ -n ${seen[$h]:-} ]] && continue
      seen[$h]=1
      n=$((n + 1))
      cp "$work/$reader.min/$f" "$dest/$(printf 'afl-%04d' "$n")"
    done
    unset seen
    echo "$reader: $n inputs ($(grep -o 'Found [0-9]* unique tuples' "$work/$reader.log"))"
  done
  exit 0
fi

reader=${1:?usage: tools/fuzz/run.sh READER [SECONDS] | --replay | --report | --minimize}
seconds=${2:-600}
[[ -d $root/fuzz/corpus/$reader ]] || { echo "no corpus for reader '$reader' in fuzz/corpus" >&2; exit 2; }
[[ ${FUZZ_REUSE_BIN:-0} == 1 && -f $bin/ILGpuDeconv.Fuzz.dll ]] || publish
mkdir -p "$out"
# dotnet itself is not instrumented (SharpFuzz talks to AFL), core dumps and CPU binding are the VM's business.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
# A 512 MiB heap: an input that makes a reader allocate past it is an OutOfMemoryException, which AFL saves.
export DOTNET_GCHeapHardLimit=0x20000000 DOTNET_TieredPGO=0
# A second run goes on from the first one's queue.
input=$root/fuzz/corpus/$reader
[[ -d $out/$reader/default/queue ]] && input=-
exec afl-fuzz -i "$input" -o "$out/$reader" -V "$seconds" -t 10000 -m none -- dotnet "$bin/ILGpuDeconv.Fuzz.dll" "$reader"
