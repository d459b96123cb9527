#!/usr/bin/env bash
# The GPU check, in one go, on a Linux x86-64 machine with an NVIDIA driver and no .NET SDK (python3 with
# PyTorch for the cuDNN peer). Made by tools/gpu/pack.sh; runs from the packed folder:
#
#   bash .gpu/check.sh [--out DIR] [--accelerator cuda|opencl|cpu] [--budget SECONDS] [--shapes LIST] [--tests device|all]
#
# Steps, each under its own time limit and all under --budget (default 540 s, within the 600 s a device call
# may take), each writing DIR/STEP.log:
#   info     the accelerators ILGPU finds (ilgpudeconv info), and that only the .NET runtime is on PATH (no SDK)
#   tests    the published test suite with ILGPUDECONV_TEST_ACCELERATORS=<accelerator> (tests.trx): the tests with
#            the accelerator in their name (--tests device, the default; the host-only tests ran in CI already) or
#            every test (--tests all, which needs a larger --budget)
#   verify   every golden case file on the accelerator with ilgpudeconv verify, forward and gradients (verify-FILE.log)
#   soak     forward + backward repeated: flat memory, bitwise-identical results
#   quick    G1-G5, A-D and the depthwise DW against cuDNN fp32 and TF32 (quick.json, quick.md); A-D against the plain
#            loop when the accelerator is not CUDA
# A step is passed, failed, timeout, or missing: missing when the accelerator is not on the machine (the
# tool or the Bench exits 3; no test of that accelerator executed). Missing is never counted as passed. DIR also gets
# summary.txt and summary.json; the last line is "gpu check: N passed, N failed, N missing" and the exit
# status is 0 only when every step passed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$PWD/gpu-check accelerator=cuda budget=540 shapes='' min_time=0.2 tests_scope=device
value() { # OPTION VALUE...: the value, or a usage error
  (($# >= 2)) || { echo "check: $1 needs a value" >&2; exit 2; }
  printf '%s' "$2"
}
while (($#)); do
  case $1 in
    --out) out=$(value "$@") || exit 2; shift 2 ;;
    --accelerator) accelerator=$(value "$@") || exit 2; shift 2 ;;
    --budget) budget=$(value "$@") || exit 2; shift 2 ;;
    --shapes) shapes=$(value "$@") || exit 2; shift 2 ;;
    --min-time) min_time=$(value "$@") || exit 2; shift 2 ;;
    --tests) tests_scope=$(value "$@") || exit 2; shift 2 ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "check: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $tests_scope in
  device | all) ;;
  *) echo "check: --tests must be device or all" >&2; exit 2 ;;
esac
case $accelerator in
  cuda) kind=Cuda; shapes=${shapes:-G1,G2,G3,G4,G5,A,B,C,D,DW}; peers=cudnn ;;
  opencl) kind=OpenCL; shapes=${shapes:-A,B,C,D}; peers=naive ;;
  cpu) kind=Cpu; shapes=${shapes:-A,B,C,D}; peers=naive ;;
  *) echo "check: --accelerator must be cuda, opencl or cpu" >&2; exit 2 ;;
esac
start=$SECONDS
# Only a folder this script made (it leaves a marker) or an empty one is cleared: --out . must not wipe a tree.
if [[ -d $out && -n $(ls -A "$out") && ! -f $out/.ilgpudeconv-gpu-check ]]; then
  echo "check: $out is not empty and was not written by check.sh; choose another --out" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out"
touch "$out/.ilgpudeconv-gpu-check"
out=$(cd "$out" && pwd)

# The runtime, unpacked once per machine; the applications, fresh each run. Python's tarfile stands in
# for tar when the machine has no xz.
unpack() { # ARCHIVE DIR
  if command -v xz >/dev/null; then
    tar -xJf "$1" -C "$2"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
  fi
}
version=$(cat "$here/runtime-version")
dn=${TMPDIR:-/tmp}/ilgpudeconv-dotnet-$version
if [[ ! -x $dn/dotnet ]]; then
  rm -rf "$dn.part" && mkdir -p "$dn.part" && unpack "$here/dotnet-runtime-$version.tar.xz" "$dn.part" && mv "$dn.part" "$dn" \
    || { echo "check: cannot unpack the .NET runtime into $dn" >&2; exit 2; }
fi
apps=$(mktemp -d)
trap 'rm -rf "$apps"' EXIT
unpack "$here/apps.tar.xz" "$apps" || { echo "check: cannot unpack the applications" >&2; exit 2; }
export DOTNET_ROOT=$dn PATH=$dn:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
bench=$apps/bench/ILGpuDeconv.Bench.dll
tool=$apps/tool/ILGpuDeconv.Tool.dll
tests=$apps/tests/ILGpuDeconv.Tests.dll

passed=0 failed=0 missing=0
json_steps=()
record() { # STEP STATUS SECONDS DETAIL
  printf '%-8s %-8s %4d s  %s\n' "$1" "$2" "$3" "$4" | tee -a "$out/summary.txt"
  case $2 in passed) passed=$((passed + 1)) ;; missing) missing=$((missing + 1)) ;; *) failed=$((failed + 1)) ;; esac
  # JSON string: control characters (tabs, colour codes) dropped, backslashes and quotes escaped.
  local detail
  detail=$(printf '%s' "$4" | tr -d '\000-\037')
  detail=${detail//\\/\\\\}
  json_steps+=("{\"step\":\"$1\",\"status\":\"$2\",\"seconds\":$3,\"detail\":\"${detail//\"/\\\"}\"}")
}

# Runs COMMAND under min(LIMIT, what is left of the budget), output to LOG; sets rc (124: timed out).
run_limited() { # LIMIT LOG COMMAND...
  local limit=$1 log=$2
  shift 2
  local left=$((budget - (SECONDS - start)))
  ((left < limit)) && limit=$left
  if ((limit <= 0)); then
    echo "not started: the budget of $budget s is spent" >"$log"
    rc=124
    return
  fi
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
  rc=$?
}

status_of() { # EXIT-STATUS -> passed/failed/timeout/missing
  case $1 in 0) echo passed ;; 3) echo missing ;; 124 | 137) echo timeout ;; *) echo failed ;; esac
}

echo "gpu check: accelerator $accelerator, budget $budget s, results in $out" | tee "$out/summary.txt"

# info
t=$SECONDS
{
  echo "commit: $(cat "$apps/commit")"
  echo "dotnet: $(command -v dotnet); runtimes:"
  dotnet --list-runtimes
  echo "SDKs on PATH: $(dotnet --list-sdks 2>/dev/null | wc -l)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
} >"$out/environment.log" 2>&1
run_limited 60 "$out/info.log" dotnet "$tool" info
present=$(grep -c "^  $kind:" "$out/info.log")
if ((rc != 0)); then
  record info "$(status_of $rc)" $((SECONDS - t)) "exit $rc"
elif ((present == 0)); then
  record info missing $((SECONDS - t)) "ILGPU lists no $kind device; $(grep -c '^  [A-Za-z]*:' "$out/info.log") accelerator(s): $(grep '^  [A-Za-z]*:' "$out/info.log" | cut -d: -f1 | tr -d ' ' | paste -sd, -)"
else
  record info passed $((SECONDS - t)) "$(grep -m1 "^  $kind:" "$out/info.log" | sed 's/^ *//'); SDKs on PATH: $(dotnet --list-sdks 2>/dev/null | wc -l)"
fi

# tests
t=$SECONDS
filter=()
[[ $tests_scope == device ]] && filter=(--filter "Name~$kind")
# --output detailed writes each test's outcome to the log as it ends, so a run cut off by the time limit (no TRX
# report then) still counts what ran; the TRX counts when the run finished.
ILGPUDECONV_TEST_ACCELERATORS=$accelerator run_limited 330 "$out/tests.log" \
  dotnet "$tests" "${filter[@]}" --report-trx --report-trx-filename tests.trx --results-directory "$out" --progress off --output detailed
if [[ -f $out/tests.trx ]]; then
  results=$(grep -o '<UnitTestResult [^>]*>' "$out/tests.trx" 2>/dev/null)
  count() { grep "testName=\"[^\"]*[(,] \?$1[,)]" <<<"$results" | grep -c "outcome=\"$2\""; }
  device_passed=$(count "$kind" Passed) device_failed=$(count "$kind" Failed) device_skipped=$(count "$kind" NotExecuted)
  all_passed=$(grep -c 'outcome="Passed"' <<<"$results") all_failed=$(grep -c 'outcome="Failed"' <<<"$results")
  counted="the TRX report"
else
  results=$(grep -E '^(passed|failed|skipped) ' "$out/tests.log" 2>/dev/null)
  count() { grep -E "^$2 .*[(,] ?$1[,)]" <<<"$results" | grep -c .; }
  device_passed=$(count "$kind" passed) device_failed=$(count "$kind" failed) device_skipped=$(count "$kind" skipped)
  all_passed=$(grep -c '^passed ' <<<"$results") all_failed=$(grep -c '^failed ' <<<"$results")
  counted="the log, the run being cut off before its report"
fi
detail="tests ($tests_scope) with $kind among their arguments: $device_passed passed, $device_failed failed, $device_skipped not run; whole suite: $all_passed passed, $all_failed failed (exit $rc; counted from $counted)"
if ((rc == 124 || rc == 137)); then
  record tests timeout $((SECONDS - t)) "$detail"
elif ((all_failed > 0 || (rc != 0 && rc != 8))); then
  record tests failed $((SECONDS - t)) "$detail"
elif ((present == 0)); then
  record tests missing $((SECONDS - t)) "$detail"
elif ((device_passed == 0)); then
  record tests failed $((SECONDS - t)) "$detail; none ran on the $kind device that info found"
else
  record tests passed $((SECONDS - t)) "$detail"
fi

# verify
t=$SECONDS
verify_status=passed files=()
for cases in "$apps"/tests/Golden/cases/*.json; do
  name=$(basename "$cases" .json)
  run_limited 60 "$out/verify-$name.log" dotnet "$tool" verify --cases "$cases" --accelerator "$accelerator"
  s=$(status_of $rc)
  if [[ $s == missing ]]; then files+=("$name: missing"); else files+=("$name: $s ($(tail -n 1 "$out/verify-$name.log"))"); fi
  case $s in
    failed | timeout) verify_status=$s ;;
    missing) [[ $verify_status == passed ]] && verify_status=missing ;;
  esac
done
record verify "$verify_status" $((SECONDS - t)) "$(IFS=';'; echo "${files[*]}" | sed 's/;/; /g')"

# soak
t=$SECONDS
run_limited 60 "$out/soak.log" dotnet "$bench" soak --iterations 300 --accelerator "$accelerator"
record soak "$(status_of $rc)" $((SECONDS - t)) "$(tail -n 1 "$out/soak.log" | cut -c1-160)"

# quick
t=$SECONDS
run_limited 120 "$out/quick.log" dotnet "$bench" quick --accelerator "$accelerator" --shapes "$shapes" --peers "$peers" \
  --min-time "$min_time" --json "$out/quick.json" --markdown "$out/quick.md"
record quick "$(status_of $rc)" $((SECONDS - t)) "shapes $shapes, peers $peers: $(tail -n 1 "$out/quick.log" | cut -c1-120)"

{
  printf '{"accelerator":"%s","seconds":%d,"passed":%d,"failed":%d,"missing":%d,"steps":[' "$accelerator" $((SECONDS - start)) $passed $failed $missing
  (IFS=','; printf '%s' "${json_steps[*]}")
  printf ']}\n'
} >"$out/summary.json"
echo "took $((SECONDS - start)) s" | tee -a "$out/summary.txt"
echo "gpu check: $passed passed, $failed failed, $missing missing" | tee -a "$out/summary.txt"
((failed == 0 && missing == 0))
