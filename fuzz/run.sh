#!/usr/bin/env bash
# Coverage-guided fuzzing of every target (or those named) under AFL++, through cargo-afl.
#
#   fuzz/run.sh [SECS_PER_TARGET] [TARGET...]      default 60 s each, every target
#
# Installs cargo-afl (crates.io) and builds AFL++ with it on first use, builds the
# `da-fuzz-afl` harness instrumented (target/afl), runs afl-fuzz on each target for the given
# time from its committed seed corpus (fuzz/corpus/<target>), then prints executions, paths
# found and crashes per target and exits 1 if any target crashed. Findings are left in
# target/afl-out/<target>/default/{crashes,hangs}; copy a crash into the corpus with its fix.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(p2p_request p2p_response gossip header proto index body consensus commitment http_route)
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo afl --version >/dev/null 2>&1; then
  cargo install cargo-afl --locked --version '^0.18'
fi
# AFL++ itself (afl-fuzz and the runtime), built once per cargo-afl version.
if ! built=$(cargo afl config --build 2>&1); then
  grep -q "already built" <<<"$built" || { echo "$built" >&2; exit 1; }
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/afl}
cargo afl build --release -p da-fuzz --features afl --bin da-fuzz-afl
bin="$CARGO_TARGET_DIR/release/da-fuzz-afl"

# No core pattern tuning or CPU binding on CI machines; no UI.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export AFL_NO_UI=1 AFL_QUIET=1

out=target/afl-out
mkdir -p "$out"
failed=0
printf '%-14s %12s %10s %8s %8s %8s\n' target execs execs/s paths crashes hangs
for t in "${targets[@]}"; do
  rm -rf "${out:?}/$t"
  cargo afl fuzz -V "$secs" -i "fuzz/corpus/$t" -o "$out/$t" -- "$bin" "$t" >"$out/$t.log" 2>&1 || {
    echo "afl-fuzz failed on $t; log: $out/$t.log" >&2
    tail -20 "$out/$t.log" >&2
    failed=1
    continue
  }
  stats="$out/$t/default/fuzzer_stats"
  val() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  printf '%-14s %12s %10s %8s %8s %8s\n' "$t" "$(val execs_done)" "$(val execs_per_sec)" \
    "$(val corpus_count)" "$(val saved_crashes)" "$(val saved_hangs)"
  if [ "$(val saved_crashes)" != "0" ]; then
    echo "CRASH in $t: $out/$t/default/crashes" >&2
    failed=1
  fi
done
exit $failed
