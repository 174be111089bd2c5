# Shared set-up steps for tools/test and tools/quickstart (sourced, not run).

# Debian 12 packages the build and the tests need.
T38_PACKAGES=(
  meson ninja-build pkg-config g++ python3
  libdpdk-dev dpdk libwolfssl-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libpcap-dev libssl-dev
  openssl gnutls-bin
  # integration tests: peers in network namespaces, ping, a real ICE agent
  iproute2 iputils-ping python3-aioice
  # the fax endpoint t38relay-fax (spandsp, libtiff) and its tests (tiffcp, tiffcrop)
  libspandsp-dev libtiff-dev libtiff-tools
  # fax tests through the relay: tshark as the outside oracle, nftables for random loss where
  # the kernel has no sch_netem
  tshark nftables
)

t38_install_packages() {
  local missing=()
  for p in "${T38_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Reserves 2 MB hugepages for EAL when this machine allows it; tests fall back to --no-huge.
t38_setup_hugepages() {
  local want=${T38_HUGEPAGES:-512}
  local nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  if [ -w "$nr" ] && [ "$(cat "$nr")" -lt "$want" ]; then
    echo "$want" > "$nr" 2>/dev/null || true
  fi
  if ! grep -q hugetlbfs /proc/mounts; then
    mkdir -p /dev/hugepages 2>/dev/null && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
  fi
  local free
  free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  if [ "${free:-0}" -gt 0 ] && grep -q hugetlbfs /proc/mounts; then
    echo "== hugepages: ${free} free"
  else
    echo "== hugepages: none available; EAL tests run with --no-huge"
  fi
}

# The build tools/test and tools/quickstart share: optimised lightly, line tables only (-g1: file
# and line in stack traces and sanitizer reports). Measured on this 2-CPU VM: the whole build in
# 6.5 min instead of 9.5 with meson's debugoptimized (-O2 -g); bench/run has its own release build.
T38_BUILD_OPTIONS=(-Dbenchmarks=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1)
# The sanitizer build of the unit suite: -O0 (a file took 16 s to compile with ASan+UBSan at -O0
# -g1, 35 s at -O1 -g1, 93 s at -O2 -g), which also keeps every stack frame in reports.
T38_ASAN_OPTIONS=(-Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false
  -Doptimization=0 -Ddebug=false -Dcpp_args=-g1)

# Configures a meson build directory once; later runs reuse it.
t38_configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
}
