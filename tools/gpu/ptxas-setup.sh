#!/usr/bin/env bash
# Fetches NVIDIA's offline PTX tools (ptxas, nvdisasm, cuobjdump of CUDA 11.8, from Debian 12's non-free
# package nvidia-cuda-toolkit) into a cache folder, without installing the package or its dependencies,
# and prints the folder that holds them. No GPU is needed to use them (tools/gpu/ptx-report.sh does):
#   ptxas -arch=sm_90 -v program.ptx -o program.cubin   registers, spills, shared memory
#   cuobjdump -sass program.cubin                        the SASS, for the issue-slot model
# ptxas 11.8 reads PTX ISA 7.8 at most, which is why `ilgpudeconv ptx` writes that ISA by default.
#
#   tools/gpu/ptxas-setup.sh [DIR]      (default /var/tmp/cuda-tools)
set -euo pipefail
dir=${1:-/var/tmp/cuda-tools}
if [[ -x $dir/usr/bin/ptxas && -x $dir/usr/bin/cuobjdump ]]; then
  echo "$dir/usr/bin"
  exit 0
fi
sources=/etc/apt/sources.list.d/ilgpudeconv-non-free.sources
# The policy is read whole before grep looks at it: `apt-cache policy | grep -q` under pipefail returned 141 (grep
# quit at the first match and apt-cache got SIGPIPE), read as "no candidate", and a second copy of the source was added.
policy=$(apt-cache policy nvidia-cuda-toolkit 2>/dev/null || true)
if [[ ! -f $sources ]] && ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
  # Debian's non-free component from the mirror this machine already uses (not the security archive).
  mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v security | grep -oE 'https?://[^ ]*/debian/?' | head -n 1 || true)
  [[ -n $mirror ]] || { echo "ptxas-setup: no Debian mirror in the apt sources" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" >"$sources"
  apt-get update -qq >/dev/null 2>&1 || true
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq nvidia-cuda-toolkit >/dev/null)
dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$work/root"
mkdir -p "$dir/usr/bin"
cp "$work"/root/usr/bin/{ptxas,nvdisasm,cuobjdump} "$dir/usr/bin/"
"$dir/usr/bin/ptxas" --version | tail -n 1 >&2
echo "$dir/usr/bin"
