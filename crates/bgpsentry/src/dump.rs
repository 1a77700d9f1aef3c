//! `bgpsentry dump`: MRT to `bgpdump -m` text, so operators can diff our
//! decoding against the tool they trust and pipe it into their scripts.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{RecordReader, decompress, parse_record};

use crate::cli::DumpArgs;
use crate::ingest::inputs::{expand, open};
use crate::replay::Completeness;

/// Runs `dump`; returns how complete the output is.
pub fn run(args: &DumpArgs) -> anyhow::Result<Completeness> {
    // Expanded one argument at a time, so a missing path is reported and
    // skipped (partial) instead of stopping every other input.
    let mut inputs = Vec::new();
    let mut failed = 0usize;
    for a in &args.inputs {
        match expand(std::slice::from_ref(a)) {
            Ok(v) => inputs.extend(v),
            Err(e) => {
                eprintln!("bgpsentry: {e}");
                failed += 1;
            }
        }
    }
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(File::create(p)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut damaged = 0u64;
    let mut records = 0u64;
    let mut line = Vec::with_capacity(4096);
    for input in &inputs {
        let raw = match open(input, Arc::new(AtomicU64::new(0)), Duration::from_secs(30)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("bgpsentry: {e}");
                failed += 1;
                continue;
            }
        };
        let (_, dec) = match decompress(raw) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("bgpsentry: {}: {e}", input.name());
                failed += 1;
                continue;
            }
        };
        let mut printer = Printer::new();
        let (records_before, damaged_before) = (records, damaged);
        for item in RecordReader::new(dec) {
            match item {
                Ok(rec) => {
                    records += 1;
                    let offset = rec.offset;
                    match parse_record(rec.raw) {
                        Ok((r, salvaged)) => {
                            if let Some(s) = salvaged {
                                damaged += 1;
                                eprintln!(
                                    "bgpsentry: {}: byte {offset}: {}",
                                    input.name(),
                                    s.damage()
                                );
                            }
                            line.clear();
                            printer.write_record(&r, &mut line);
                            if let Err(e) = out.write_all(&line) {
                                if e.kind() == io::ErrorKind::BrokenPipe {
                                    return Ok(Completeness::Complete);
                                }
                                return Err(e.into());
                            }
                        }
                        Err(e) => {
                            damaged += 1;
                            eprintln!(
                                "bgpsentry: {}: byte {offset}: record does not decode: {e}",
                                input.name()
                            );
                        }
                    }
                }
                Err(d) => {
                    damaged += 1;
                    eprintln!("bgpsentry: {}: {d}", input.name());
                }
            }
        }
        if records == records_before && damaged == damaged_before {
            eprintln!("bgpsentry: {}: empty input, no MRT records", input.name());
            damaged += 1;
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(
        if records == 0 && (failed > 0 || damaged > 0 || inputs.is_empty()) {
            Completeness::Failed
        } else if failed > 0 || damaged > 0 {
            Completeness::Partial
        } else {
            Completeness::Complete
        },
    )
}
