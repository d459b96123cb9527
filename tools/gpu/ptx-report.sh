#!/usr/bin/env bash
# Per-program register, spill, shared-memory and SASS report of every GPU program the layer uses, made
# offline: no GPU, no CUDA driver. The PTX comes from `ilgpudeconv ptx` (ILGPU's CUDA backend);
# NVIDIA's offline ptxas and cuobjdump (CUDA 11.8, fetched by tools/gpu/ptxas-setup.sh into
# /var/tmp/cuda-tools/usr/bin) assemble it for sm_90 and disassemble the result.
#
#   tools/gpu/ptx-report.sh [--ptx DIR] [--arch sm_90] [--out DIR]
#
# --ptx DIR  use PTX files already written (default: build the tool and write them into --out)
# --out DIR  where the .ptx, .cubin, .sass and report.md go (default: TestResults/ptx-report)
# Counts are static (instructions in the program's code, not executed instructions). LD is a generic
# (non-global) load, which ILGPU emits at OptimizationLevel O1; LDG/LDS are global/shared loads. HMMA are
# tensor-core instructions: the @TC programs, compiled at O2 (TensorCoreCompiler), the rest at O1. The last
# table is each tiled program's main loop under the issue-slot model: its ceiling, not a speed.
# Not part of CI: CI must not depend on NVIDIA's tools.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
ptx_dir='' arch=sm_90 out=TestResults/ptx-report
while (($#)); do
  case $1 in
    --ptx) ptx_dir=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "ptx-report: unknown argument $1" >&2; exit 2 ;;
  esac
done

tools=${CUDA_TOOLS:-/var/tmp/cuda-tools/usr/bin}
if ! command -v ptxas >/dev/null; then
  [[ -x $tools/ptxas ]] || tools=$(tools/gpu/ptxas-setup.sh) || { echo "ptx-report: no ptxas; tools/gpu/ptxas-setup.sh failed (or set CUDA_TOOLS)" >&2; exit 2; }
  PATH=$tools:$PATH
fi

mkdir -p "$out"
if [[ -z $ptx_dir ]]; then
  # A fresh set: files of programs that no longer exist must not stay in the report.
  rm -f "$out"/*.ptx "$out"/*.cubin "$out"/*.sass "$out"/*.ptxas.log
  dotnet build ILGpuDeconv.Tool -c Release -nologo -v quiet >&2
  dotnet ILGpuDeconv.Tool/bin/Release/net10.0/ILGpuDeconv.Tool.dll ptx --out "$out" --isa 7.8 >"$out/ptx.log"
  ptx_dir=$out
fi

report=$out/report.md
{
  echo "# PTX report ($(ptxas --version | tail -n 1 | sed 's/^Build //'), $arch)"
  echo
  echo "| program | registers | spill stores B | spill loads B | stack B | shared B | FFMA | HMMA | LDG | LDG.128 | LD (generic) | LDS | LDS.128 | STG | FFMA per load |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$report"

failures=0
for ptx in "$ptx_dir"/*.ptx; do
  name=$(basename "$ptx" .ptx)
  cubin=$out/$name.cubin
  if ! ptxas -arch="$arch" -v "$ptx" -o "$cubin" 2>"$out/$name.ptxas.log"; then
    echo "| $name | ptxas failed: $(grep -m1 -i error "$out/$name.ptxas.log" | tr '|' '/') |" >>"$report"
    failures=$((failures + 1))
    continue
  fi
  cuobjdump -sass "$cubin" >"$out/$name.sass"
  log=$out/$name.ptxas.log
  registers=$(sed -n 's/.*Used \([0-9]*\) registers.*/\1/p' "$log" | head -n 1)
  smem=$(sed -n 's/.* \([0-9]*\) bytes smem.*/\1/p' "$log" | head -n 1)
  read -r stack stores loads < <(sed -n 's/^ *\([0-9]*\) bytes stack frame, \([0-9]*\) bytes spill stores, \([0-9]*\) bytes spill loads.*/\1 \2 \3/p' "$log" | head -n 1)
  # Opcodes are the first word after the address comment: /*0080*/  FFMA R4, ...
  counts=$(awk '
    match($0, /\/\*[0-9a-f]+\*\/[ \t]+(@!?U?P[0-9T] +)?[A-Z0-9_.]+/) {
      s = substr($0, RSTART, RLENGTH); sub(/.*\*\/[ \t]+/, "", s); sub(/^@!?U?P[0-9T] +/, "", s); op = s
      base = op; sub(/\..*/, "", base)
      if (base == "FFMA") ffma++
      if (base == "HMMA") hmma++
      if (base == "LDG") { ldg++; if (op ~ /\.128/) ldg128++ }
      if (base == "LD") ld++
      if (base == "LDS") { lds++; if (op ~ /\.128/) lds128++ }
      if (base == "STG") stg++
    }
    END { printf "%d %d %d %d %d %d %d %d", ffma, hmma, ldg, ldg128, ld, lds, lds128, stg }' "$out/$name.sass")
  read -r ffma hmma ldg ldg128 ld lds lds128 stg <<<"$counts"
  per_load=$(awk -v f="$ffma" -v l="$((ldg + ld + lds))" 'BEGIN { if (l > 0) printf "%.1f", f / l; else print "-" }')
  echo "| $name | ${registers:-?} | ${stores:-?} | ${loads:-?} | ${stack:-?} | ${smem:-0} | $ffma | $hmma | $ldg | $ldg128 | $ld | $lds | $lds128 | $stg | $per_load |" >>"$report"
done

{
  echo
  echo "## Main loops: the issue-slot model (tools/gpu/issue_slots.py)"
  echo
  python3 tools/gpu/issue_slots.py "$out"
} >>"$report"

cat "$report"
echo
echo "report: $report ($(ls "$ptx_dir"/*.ptx | wc -l) programs, $failures failed to assemble)"
((failures == 0))
