//! `bgpsentry dump`: MRT to `bgpdump -m` text, so operators can diff our
//! decoding against the tool they trust and pipe it into their scripts.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bgpkit_parser::models::{MrtMessage, TableDumpV2Message};
use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{DamageKind, RecordReader, decompress, parse_record};

use crate::cli::DumpArgs;
use crate::ingest::inputs::{Input, expand, open};
use crate::replay::{Completeness, DiagLimit, suppressed_line};

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
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, inputs.len().max(1));
    let totals = print_in_order(&inputs, jobs, &mut out)?;
    failed += totals.failed;
    let (records, damaged) = (totals.records, totals.damaged);
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

/// Text of one input, handed from its decoding worker to the writer in order.
enum Piece {
    /// Lines, about [`CHUNK`] bytes at a time.
    Text(Vec<u8>),
    /// A diagnostic for standard error, kept in order with the text.
    Diag(String),
    /// The input is finished.
    Done(Totals),
}

/// Counts over inputs.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    records: u64,
    damaged: u64,
    failed: usize,
}

/// Bytes of text per piece.
const CHUNK: usize = 1 << 20;
/// Pieces an input may run ahead of the writer: bounds memory to about
/// `jobs × AHEAD × CHUNK` however large an input is.
const AHEAD: usize = 32;

/// Decodes `inputs` on `jobs` threads, each input wholly on one thread, and
/// writes their text in the order given, exactly as one thread would: bzip2
/// and gzip decompression are the floor of a dump, and only several inputs
/// at once use more than one core. Stops early, without error, when the
/// reader of `out` goes away (broken pipe).
fn print_in_order(inputs: &[Input], jobs: usize, out: &mut impl Write) -> anyhow::Result<Totals> {
    let next = AtomicUsize::new(0);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..inputs.len())
        .map(|_| mpsc::sync_channel::<Piece>(AHEAD))
        .unzip();
    let senders: Vec<Mutex<Option<SyncSender<Piece>>>> =
        senders.into_iter().map(|s| Mutex::new(Some(s))).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let Some(tx) = senders[i].lock().ok().and_then(|mut s| s.take()) else {
                        break;
                    };
                    // A send fails only when the writer stopped (broken pipe): stop too.
                    if dump_one(input, &tx).is_err() {
                        break;
                    }
                }
            });
        }
        let mut totals = Totals::default();
        let stderr = io::stderr();
        for rx in receivers {
            for piece in rx {
                match piece {
                    Piece::Text(t) => {
                        if let Err(e) = out.write_all(&t) {
                            if e.kind() == io::ErrorKind::BrokenPipe {
                                return Ok(totals);
                            }
                            return Err(e.into());
                        }
                    }
                    Piece::Diag(d) => {
                        let _ = writeln!(stderr.lock(), "bgpsentry: {d}");
                    }
                    Piece::Done(t) => {
                        totals.records += t.records;
                        totals.damaged += t.damaged;
                        totals.failed += t.failed;
                    }
                }
            }
        }
        Ok(totals)
    })
}

/// Decodes one input into pieces; `Err` when the writer has gone away.
fn dump_one(input: &Input, tx: &SyncSender<Piece>) -> Result<(), mpsc::SendError<Piece>> {
    let mut t = Totals::default();
    let raw = match open(input, Arc::new(AtomicU64::new(0)), Duration::from_secs(30)) {
        Ok(r) => r,
        Err(e) => {
            tx.send(Piece::Diag(e.to_string()))?;
            t.failed += 1;
            return tx.send(Piece::Done(t));
        }
    };
    let (_, dec) = match decompress(raw) {
        Ok(x) => x,
        Err(e) => {
            tx.send(Piece::Diag(format!("{}: {e}", input.name())))?;
            t.failed += 1;
            return tx.send(Piece::Done(t));
        }
    };
    let name = input.name();
    let mut printer = Printer::new();
    let mut have_peer_table = false;
    let mut limit = DiagLimit::default();
    let mut text = Vec::with_capacity(CHUNK + 4096);
    // Counts a damage report and prints it unless its reason has been
    // printed often enough for this input.
    let mut report = |t: &mut Totals,
                      text: &mut Vec<u8>,
                      offset: u64,
                      kind: &DamageKind|
     -> Result<(), mpsc::SendError<Piece>> {
        t.damaged += 1;
        if limit.admit(0, &kind.reason()) {
            tx.send(Piece::Text(std::mem::take(text)))?;
            tx.send(Piece::Diag(format!("{name}: byte {offset}: {kind}")))?;
        }
        Ok(())
    };
    for item in RecordReader::new(dec) {
        match item {
            Ok(rec) => {
                t.records += 1;
                let offset = rec.offset;
                match parse_record(rec.raw) {
                    Ok((r, salvaged)) => {
                        if let Some(s) = salvaged {
                            report(&mut t, &mut text, offset, &s.damage())?;
                        }
                        match &r.message {
                            MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(
                                _,
                            )) => {
                                have_peer_table = true;
                            }
                            // As `replay`: RIB entries without a peer table
                            // cannot name their peers, so they are lost.
                            MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(_))
                                if !have_peer_table =>
                            {
                                let kind = DamageKind::Undecodable(
                                    "RIB entry before any PEER_INDEX_TABLE".into(),
                                );
                                report(&mut t, &mut text, offset, &kind)?;
                            }
                            _ => {}
                        }
                        printer.write_record(&r, &mut text);
                    }
                    Err(e) => {
                        let kind = DamageKind::Undecodable(e.to_string());
                        report(&mut t, &mut text, offset, &kind)?;
                    }
                }
            }
            Err(d) => report(&mut t, &mut text, d.offset, &d.kind)?,
        }
        if text.len() >= CHUNK {
            tx.send(Piece::Text(std::mem::replace(
                &mut text,
                Vec::with_capacity(CHUNK + 4096),
            )))?;
        }
    }
    tx.send(Piece::Text(text))?;
    if t.records == 0 && t.damaged == 0 {
        tx.send(Piece::Diag(format!("{name}: {}", DamageKind::Empty)))?;
        t.damaged += 1;
    }
    for (_, reason, total, shown) in limit.suppressed() {
        tx.send(Piece::Diag(suppressed_line(&name, reason, total, shown)))?;
    }
    tx.send(Piece::Done(t))
}
