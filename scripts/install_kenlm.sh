#!/usr/bin/env bash
# Build KenLM with KENLM_MAX_ORDER=21 into a virtual environment: the Python module and the
# lmplz / build_binary programs, all from the one PyPI source distribution (it holds the
# full C++ tree). lmplz needs Boost; on Debian/Ubuntu the packages are installed with apt.
# Usage: scripts/install_kenlm.sh VENV_DIR
set -euo pipefail

venv=${1:?usage: $0 VENV_DIR}
version=0.3.0
max_order=21
py="$venv/bin/python"
jobs=$(nproc 2>/dev/null || echo 2)

# Boost from the system, or from the target environment itself (a conda env: envs/kenlm.yaml).
have_boost() {
    local dir
    for dir in /usr/include "$venv/include"; do
        [ -f "$dir/boost/program_options.hpp" ] && [ -f "$dir/boost/thread.hpp" ] && return 0
    done
    return 1
}

if ! have_boost; then
    pkgs="libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "install_kenlm: installing Boost and compression headers with apt" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs >/dev/null
    else
        echo "install_kenlm: Boost headers not found and apt-get is not available." >&2
        echo "Install Boost (program_options, system, thread), zlib, bzip2 and xz development files, then rerun." >&2
        exit 1
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" -m pip download --quiet --no-deps --no-binary kenlm "kenlm==$version" -d "$work"
tar -xzf "$work/kenlm-$version.tar.gz" -C "$work"
src="$work/kenlm-$version"

# The programs: lmplz (estimation) and build_binary (ARPA -> binary trie).
cmake -S "$src" -B "$work/build" -DKENLM_MAX_ORDER=$max_order -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$(cd "$venv" && pwd)" \
    -DCOMPILE_TESTS=OFF >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target lmplz build_binary -j "$jobs" >"$work/build.log" 2>&1 \
    || { tail -50 "$work/build.log" >&2; exit 1; }
install -m 755 "$work/build/bin/lmplz" "$work/build/bin/build_binary" "$venv/bin/"

# The Python module, from the same source, with the same maximum order.
MAX_ORDER=$max_order "$py" -m pip install --quiet --no-deps --no-binary kenlm "$src"

"$venv/bin/lmplz" --help >"$work/help.txt" 2>&1 || true
grep -q -- "--order" "$work/help.txt" || { echo "install_kenlm: lmplz does not run" >&2; exit 1; }
echo "install_kenlm: KenLM $version with KENLM_MAX_ORDER=$max_order installed in $venv" >&2
