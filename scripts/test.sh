#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, unit/integration/vector/property tests,
# the example, and a compile of the benchmarks. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null; then
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if command -v rustup >/dev/null; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
cargo --version

step "C tools: make, pkg-config and valgrind (for the C ABI's tests and example)"
for tool in make pkg-config valgrind; do
    if ! command -v "$tool" >/dev/null; then
        apt-get update -qq && apt-get install -y -qq "$tool"
    fi
done

step "PostgreSQL: a throw-away cluster on 127.0.0.1 for the PostgresStore tests (scripts/postgres.sh)"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT

step "vectors are in sync with their generator"
python3 tests/vectors/generate.py --check

step "the vectors Go answers (%q, the cookie and query grammar) are in sync with Go"
if command -v go >/dev/null; then
    go -C tests/vectors/gocheck run . -check
else
    echo "skipped: go is not installed (tests/vectors/README.md)"
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "docs build without warnings (every public item is documented)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

step "the pure checks build alone: no SQLite, no PostgreSQL, no clap (default-features = false)"
cargo check --locked --lib --no-default-features

step "cargo test"
cargo test --locked

step "C ABI: the static library (include/tokenward.h is checked by cargo test: tests/header.rs)"
# With the feature `ffi-test`, so tests/c also checks that a panic becomes TW_PANIC.
cargo build --locked --lib --features ffi-test
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
c_tests=(make -C tests/c LIB="$target_dir/debug" DEFS=-DTOKENWARD_FFI_TEST)

step "C ABI tests (tests/c): plain"
"${c_tests[@]}" check

step "C ABI tests: under AddressSanitizer and UndefinedBehaviorSanitizer"
"${c_tests[@]}" check-sanitize

step "C ABI tests: under valgrind"
"${c_tests[@]}" check-valgrind

step "C ABI tests: one authority and one key shared by 8 threads; revocation is final (plain, ASan/UBSan)"
"${c_tests[@]}" check-threads

step "C ABI tests: against the shared library (its SONAME must be libtokenward.so.0)"
"${c_tests[@]}" check-shared

step "C ABI: tokenward.pc (scripts/pkgconfig.sh) and examples/c, linked statically through pkg-config"
# Installs the static library and the header into a scratch prefix, as a package would.
prefix="$target_dir/c-example/prefix"
rm -rf "$prefix"
mkdir -p "$prefix/lib" "$prefix/include"
scripts/pkgconfig.sh --prefix "$prefix" --out "$prefix/lib/pkgconfig"
cp "$target_dir/debug/libtokenward.a" "$prefix/lib/"
cp include/tokenward.h "$prefix/include/"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -C examples/c OUT="$target_dir/c-example" run

step "Go binding (bindings/go) and its example (examples/go): gofmt, go vet, go build, go test -race"
if command -v go >/dev/null; then
    # cgo links the static library built above. Only libtokenward.a in the directory the
    # linker searches: beside libtokenward.so, -l would pick the shared library.
    go_lib="$target_dir/go-binding/lib"
    rm -rf "$go_lib"
    mkdir -p "$go_lib"
    cp "$target_dir/debug/libtokenward.a" "$go_lib/"
    unformatted=$(gofmt -l bindings/go examples/go)
    test -z "$unformatted" || { echo "gofmt: $unformatted"; exit 1; }
    (
        export CGO_ENABLED=1 CGO_LDFLAGS="-L$go_lib"
        go -C bindings/go vet ./...
        go -C bindings/go test -race -count=1 ./...
        # The example has its own go.mod, with the binding through a replace directive.
        go -C examples/go vet ./...
        go -C examples/go build -o "$target_dir/go-binding/whoami" .
        go -C examples/go test -race -count=1 ./...
    )
else
    echo "skipped: go is not installed"
fi

step "Python binding (bindings/python): pip install builds the abi3 wheel through maturin (--release)"
# A fresh virtual environment in the shared target directory; the package's test extras
# bring pytest, FastAPI, httpx, Flask, mypy and ruff.
repo=$(pwd)
venv="$target_dir/python-venv"
rm -rf "$venv"
python3 -m venv "$venv" || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$venv"; }
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
CARGO_TARGET_DIR="$target_dir" "$py" -m pip install -q "./bindings/python[test]"
# The wheel `maturin build --release` makes is the abi3 one (cp39-abi3); the build is cached.
"$py" -m pip install -q maturin
rm -rf "$target_dir/wheels"
(cd bindings/python && CARGO_TARGET_DIR="$target_dir" "$venv/bin/maturin" build --release --quiet -o "$target_dir/wheels")
ls "$target_dir/wheels"/tokenward-*-cp39-abi3-*.whl
# The Node suite checks a server in another process and language on the same PostgreSQL
# database: this Python, with the wheel installed.
export TOKENWARD_TEST_PYTHON="$py"

step "Python binding: cargo clippy on its crate"
cargo clippy --locked -p tokenward-python --all-targets -- -D warnings

step "Python binding: pytest (every vector, lifecycle, processes and threads, bad input, ASGI and WSGI), examples"
# Run from outside the source tree, so `import tokenward` is the installed wheel.
(cd "$target_dir" && "$py" -m pytest -q -p no:cacheprovider "$repo/bindings/python/tests" "$repo/examples/python")

step "Python binding: ruff, mypy --strict (package, tests, examples, bench), stubtest"
"$venv/bin/ruff" check bindings/python examples/python
"$venv/bin/ruff" format --check bindings/python examples/python
(cd "$target_dir" && "$py" -m mypy --strict -p tokenward && "$py" -m mypy --strict "$repo/examples/python" "$repo/bindings/python/bench.py" "$repo/bindings/python/tests")
(cd "$target_dir" && "$py" -m mypy.stubtest tokenward --allowlist "$repo/bindings/python/stubtest-allowlist.txt")

step "Node binding (bindings/node): npm install builds the addon (napi build --release)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nodejs npm
fi
(cd bindings/node && CARGO_TARGET_DIR="$target_dir" npm install --no-audit --no-fund)

step "Node binding: native.js and native.d.ts are what napi generates from the code"
git diff --exit-code -- bindings/node/native.js bindings/node/native.d.ts

step "Node binding: cargo clippy on its crate"
cargo clippy --locked -p tokenward-node --all-targets -- -D warnings

step "Node binding: node --test (every vector, lifecycle, workers and processes, bad input, Express)"
(cd bindings/node && node --test --test-reporter=dot test/)

step "Node binding: tsc --noEmit --strict over a typed usage (bindings/node/types)"
(cd bindings/node && npx tsc -p types)

step "Node examples: examples/node/express, and the Backstage backend plugin (startTestBackend)"
(cd examples/node/express && npm ci --no-audit --no-fund && node --test test.js)
# better-sqlite3 (pulled by Backstage's test utilities) builds from source against Node's
# headers in /usr/include/node: its prebuilt downloads are not reachable here.
(cd examples/node/backstage-plugin && npm_config_nodedir=/usr npm ci --no-audit --no-fund && node --test test/)

step "example: mint and verify"
cargo run --locked --quiet --example mint_and_verify

step "fuzz targets compile (run them with cargo fuzz; see fuzz/README.md)"
cargo check --locked --quiet --manifest-path fuzz/Cargo.toml --bins

step "benchmarks compile"
cargo bench --locked --no-run

printf '\nall checks passed\n'
