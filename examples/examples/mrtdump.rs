//! `mrtdump -m FILE...`: prints MRT files (plain, gzip or bzip2) in the
//! one-line format of `bgpdump -m` (see [`bgp_examples::bgpdump`]).
//!
//! ```text
//! cargo run --release -p bgp-examples --example mrtdump -- -m updates.20190101.0000.gz
//! ```
//!
//! Several files are printed one after the other, each read on its own
//! (peer table and session state do not carry over). Warnings (records
//! that did not decode, a truncated file) go to standard error; the exit
//! status is 1 when a file could not be opened or was cut short, 2 for a
//! usage error.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use bgp_examples::bgpdump::{self, DumpError};

const USAGE: &str = "usage: mrtdump -m FILE...\n\
    Prints MRT files (plain, .gz or .bz2) one line per route, as bgpdump -m does.\n";

fn main() -> ExitCode {
    let mut files = Vec::new();
    let mut one_line = false;
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("-m") => one_line = true,
            Some("-h" | "--help") => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Some(s) if s.starts_with('-') && s != "-" => {
                eprint!("mrtdump: unknown option {s}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => files.push(arg),
        }
    }
    if !one_line || files.is_empty() {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut status = ExitCode::SUCCESS;
    for file in &files {
        let name = file.to_string_lossy();
        match bgpdump::dump_path(file, &mut out) {
            Ok(stats) => {
                if stats.decode_errors > 0 {
                    eprintln!(
                        "mrtdump: {name}: {} records could not be decoded",
                        stats.decode_errors
                    );
                }
                if stats.unknown_peers > 0 {
                    eprintln!(
                        "mrtdump: {name}: {} RIB entries name a peer not in the peer table",
                        stats.unknown_peers
                    );
                }
                if let Some(e) = stats.read_error {
                    eprintln!("mrtdump: {name}: reading stopped: {e}");
                    status = ExitCode::FAILURE;
                }
            }
            Err(DumpError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => return status,
            Err(e) => {
                eprintln!("mrtdump: {name}: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("mrtdump: cannot write: {e}");
            ExitCode::FAILURE
        }
        _ => status,
    }
}
