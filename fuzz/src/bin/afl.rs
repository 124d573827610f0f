//! The AFL++ harness: `da-fuzz-afl <target>` runs one target of `da_fuzz::TARGETS` on the
//! inputs afl-fuzz feeds it. Built with `cargo afl build -p da-fuzz --features afl`; run by
//! `fuzz/run.sh`.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = da_fuzz::target(&name) else {
        let names: Vec<&str> = da_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: da-fuzz-afl <target>; targets: {}", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
