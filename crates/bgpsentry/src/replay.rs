//! `bgpsentry replay`: read MRT inputs in time order and report what they
//! hold. Detectors, the store and the API plug in here as further sinks.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bgpsentry_core::model::fasthash::FxHashSet;
use bgpsentry_core::model::{PeerTable, RouteEvent, RouteMessage, Timestamp};
use ipnet::IpNet;
use serde::Serialize;

use crate::ingest::inputs::{Input, expand, size_hint};
use crate::ingest::mrt::{DamageReport, ReplayOptions, Sink, StreamEnd, replay_with_peers};
use bgpsentry_core::mrt::DamageKind;

/// How many damage examples the summary lists.
const MAX_EXAMPLES: usize = 20;
/// Diagnostics printed per input and reason; the rest are counted and
/// stated once at the end.
pub const DIAGNOSTICS_PER_REASON: u64 = 10;
/// Distinct reasons tracked per input; reports of further reasons are
/// counted together and not printed.
const MAX_REASONS: usize = 32;
/// The key of those.
const OTHER_REASONS: &str = "other reasons";

/// Bounds repeated diagnostics: the first [`DIAGNOSTICS_PER_REASON`] per
/// input and reason are printed, the rest only counted, so a hostile input
/// (a gzip of zeros, a file of unsupported records) cannot flood stderr.
#[derive(Debug, Default)]
pub struct DiagLimit {
    per_input: BTreeMap<usize, BTreeMap<String, u64>>,
}

impl DiagLimit {
    /// Counts one report; true when it should be printed.
    pub fn admit(&mut self, input: usize, reason: &str) -> bool {
        let m = self.per_input.entry(input).or_default();
        if let Some(n) = m.get_mut(reason) {
            *n += 1;
            return *n <= DIAGNOSTICS_PER_REASON;
        }
        if m.len() < MAX_REASONS {
            m.insert(reason.to_string(), 1);
            return true;
        }
        *m.entry(OTHER_REASONS.to_string()).or_default() += 1;
        false
    }

    /// `(input, reason, total, shown)` for every reason with reports that
    /// were not printed.
    pub fn suppressed(&self) -> Vec<(usize, &str, u64, u64)> {
        let mut v = Vec::new();
        for (&input, m) in &self.per_input {
            for (reason, &n) in m {
                if reason == OTHER_REASONS {
                    v.push((input, reason.as_str(), n, 0));
                } else if n > DIAGNOSTICS_PER_REASON {
                    v.push((input, reason.as_str(), n, DIAGNOSTICS_PER_REASON));
                }
            }
        }
        v
    }
}

/// The closing line for reports that were not all printed.
pub fn suppressed_line(input: &str, reason: &str, total: u64, shown: u64) -> String {
    format!("{input}: {total} reports of \"{reason}\" in total, {shown} shown")
}

/// The outcome of reading all inputs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Completeness {
    /// Every input read to its end, nothing skipped.
    Complete,
    /// Something was skipped or an input failed, but records were read.
    Partial,
    /// Nothing could be read.
    Failed,
}

/// One damage example, for the user to find.
#[derive(Clone, Debug, Serialize)]
pub struct DamageExample {
    /// The input.
    pub input: String,
    /// Byte offset in its decompressed stream.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

/// What `replay` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Always `"summary"`, so JSON lines can be told apart.
    pub kind: &'static str,
    /// Inputs named (after expanding directories).
    pub inputs: usize,
    /// Inputs that could not be opened or read at all.
    pub inputs_failed: usize,
    /// MRT records framed.
    pub records: u64,
    /// BGP messages (UPDATEs, RIB entries, state changes) decoded.
    pub messages: u64,
    /// Prefix announcements (RIB entries included).
    pub announcements: u64,
    /// Prefix withdrawals.
    pub withdrawals: u64,
    /// Peer state changes.
    pub state_changes: u64,
    /// Distinct collector peers.
    pub peers: usize,
    /// Distinct prefixes seen.
    pub prefixes: usize,
    /// First message time.
    pub first_ts: Option<String>,
    /// Last message time.
    pub last_ts: Option<String>,
    /// Seconds between them.
    pub span_secs: i64,
    /// Damaged or skipped places.
    pub damaged: u64,
    /// Damage counted by reason.
    pub damage_by_reason: BTreeMap<String, u64>,
    /// The first few damage places.
    pub damage_examples: Vec<DamageExample>,
    /// Input errors (could not open or read).
    pub input_errors: Vec<String>,
    /// Wall time.
    pub elapsed_secs: f64,
    /// Records per second of wall time.
    pub records_per_sec: f64,
    /// Overall outcome.
    pub status: Completeness,
}

/// Counts everything that passes.
pub struct Counter {
    names: Vec<String>,
    limit: DiagLimit,
    /// Damage reports per input.
    damage_per_input: Vec<u64>,
    summary: Summary,
    prefixes: FxHashSet<IpNet>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Counter {
    /// A counter for these inputs.
    pub fn new(inputs: &[Input]) -> Self {
        Counter {
            names: inputs.iter().map(Input::name).collect(),
            limit: DiagLimit::default(),
            damage_per_input: vec![0; inputs.len()],
            summary: Summary {
                kind: "summary",
                inputs: inputs.len(),
                inputs_failed: 0,
                records: 0,
                messages: 0,
                announcements: 0,
                withdrawals: 0,
                state_changes: 0,
                peers: 0,
                prefixes: 0,
                first_ts: None,
                last_ts: None,
                span_secs: 0,
                damaged: 0,
                damage_by_reason: BTreeMap::new(),
                damage_examples: Vec::new(),
                input_errors: Vec::new(),
                elapsed_secs: 0.0,
                records_per_sec: 0.0,
                status: Completeness::Complete,
            },
            prefixes: FxHashSet::default(),
            first: None,
            last: None,
        }
    }

    /// Finishes the summary.
    pub fn finish(mut self, peers: &PeerTable, elapsed: Duration) -> Summary {
        for (input, reason, total, shown) in self.limit.suppressed() {
            let name = self.names.get(input).map_or("", String::as_str);
            tracing::warn!("{}", suppressed_line(name, reason, total, shown));
        }
        let s = &mut self.summary;
        s.peers = peers.len();
        s.prefixes = self.prefixes.len();
        s.first_ts = self.first.map(|t| t.to_rfc3339());
        s.last_ts = self.last.map(|t| t.to_rfc3339());
        s.span_secs = match (self.first, self.last) {
            (Some(a), Some(b)) => b.secs_since(a),
            _ => 0,
        };
        s.elapsed_secs = elapsed.as_secs_f64();
        s.records_per_sec = if s.elapsed_secs > 0.0 {
            s.records as f64 / s.elapsed_secs
        } else {
            0.0
        };
        s.status = if s.records == 0 && (s.inputs_failed > 0 || s.damaged > 0 || s.inputs == 0) {
            Completeness::Failed
        } else if s.inputs_failed > 0 || s.damaged > 0 {
            Completeness::Partial
        } else {
            Completeness::Complete
        };
        self.summary
    }
}

impl Sink for Counter {
    fn message(&mut self, msg: &RouteMessage, _peers: &PeerTable) {
        let s = &mut self.summary;
        s.messages += 1;
        if self.first.is_none() {
            self.first = Some(msg.ts);
        }
        self.first = self.first.min(Some(msg.ts));
        self.last = self.last.max(Some(msg.ts));
        match &msg.event {
            RouteEvent::Update {
                withdrawn,
                announced,
                ..
            } => {
                s.announcements += announced.len() as u64;
                s.withdrawals += withdrawn.len() as u64;
                for n in announced.iter().chain(withdrawn.iter()) {
                    self.prefixes.insert(n.prefix);
                }
            }
            RouteEvent::PeerState { .. } => s.state_changes += 1,
        }
    }

    fn damage(&mut self, r: &DamageReport) {
        let s = &mut self.summary;
        s.damaged += 1;
        let reason = r.kind.reason();
        let print = self.limit.admit(r.input, &reason);
        *s.damage_by_reason.entry(reason).or_default() += 1;
        if let Some(n) = self.damage_per_input.get_mut(r.input) {
            *n += 1;
        }
        let input = self.names.get(r.input).cloned().unwrap_or_default();
        if print {
            tracing::warn!(input = %input, offset = r.offset, "{}", r.kind);
        }
        if s.damage_examples.len() < MAX_EXAMPLES {
            s.damage_examples.push(DamageExample {
                input,
                offset: r.offset,
                message: r.kind.to_string(),
            });
        }
    }

    fn stream_end(&mut self, input: usize, end: &StreamEnd) {
        self.summary.records += end.records;
        if let Some(e) = &end.error {
            tracing::error!("{e}");
            self.summary.inputs_failed += 1;
            self.summary.input_errors.push(e.clone());
        } else if end.records == 0
            && end.bytes == 0
            && self.damage_per_input.get(input).copied() == Some(0)
        {
            // Nothing at all where MRT was expected: damage, as for `dump`.
            self.damage(&DamageReport {
                input,
                offset: 0,
                kind: DamageKind::Empty,
            });
        }
    }
}

/// Fans one merged stream out to several sinks.
pub struct Tee<'a>(pub Vec<&'a mut dyn Sink>);

impl Sink for Tee<'_> {
    fn message(&mut self, msg: &RouteMessage, peers: &PeerTable) {
        for s in self.0.iter_mut() {
            s.message(msg, peers);
        }
    }
    fn damage(&mut self, r: &DamageReport) {
        for s in self.0.iter_mut() {
            s.damage(r);
        }
    }
    fn stream_end(&mut self, i: usize, e: &StreamEnd) {
        for s in self.0.iter_mut() {
            s.stream_end(i, e);
        }
    }
}

/// Shows progress on a terminal (stderr), nothing when piped.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Progress {
    /// Starts a progress bar over `total` raw bytes, fed by `counter`.
    pub fn start(total: Option<u64>, counter: Arc<AtomicU64>, enabled: bool) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                ticker: None,
                stop,
            };
        }
        let bar = match total {
            Some(t) => indicatif::ProgressBar::new(t),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        );
        if let Ok(style) = style {
            bar.set_style(style);
        }
        let b = bar.clone();
        let st = stop.clone();
        let ticker = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                b.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress {
            bar: Some(bar),
            ticker: Some(ticker),
            stop,
        }
    }

    /// Removes the bar.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// Options of `replay` that concern reading.
#[derive(Clone, Debug)]
pub struct ReadArgs {
    /// Inputs as given.
    pub inputs: Vec<String>,
    /// Collector name override for every input.
    pub collector: Option<String>,
    /// URL stall timeout.
    pub stall: Duration,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// Reads every input into `sink` and returns the summary and peer table.
pub fn read_all(args: &ReadArgs, sink: &mut dyn Sink) -> anyhow::Result<(Summary, PeerTable)> {
    read_all_with_peers(args, sink, PeerTable::new())
}

/// [`read_all`], interning peers into `peers` (the table of a warm-up read
/// before), so a collector peer keeps its id from one read to the next.
pub fn read_all_with_peers(
    args: &ReadArgs,
    sink: &mut dyn Sink,
    peers: PeerTable,
) -> anyhow::Result<(Summary, PeerTable)> {
    let inputs = expand(&args.inputs)?;
    let counter = Arc::new(AtomicU64::new(0));
    let total: Option<u64> = inputs.iter().map(size_hint).sum();
    let progress = Progress::start(total, counter.clone(), args.progress);
    let collectors = inputs
        .iter()
        .map(|i| {
            args.collector
                .clone()
                .unwrap_or_else(|| i.collector_guess())
        })
        .collect();
    let opts = ReplayOptions {
        collectors,
        stall: args.stall,
        progress: counter,
    };
    let started = Instant::now();
    let mut count = Counter::new(&inputs);
    let peers = {
        let mut tee = Tee(vec![&mut count, sink]);
        replay_with_peers(&inputs, &opts, &mut tee, peers)
    };
    progress.finish();
    let summary = count.finish(&peers, started.elapsed());
    Ok((summary, peers))
}

/// A sink that does nothing (replay with no detectors).
pub struct Discard;

impl Sink for Discard {
    fn message(&mut self, _msg: &RouteMessage, _peers: &PeerTable) {}
}

/// Prints a summary for people.
pub fn print_summary(s: &Summary) {
    println!("inputs          {} ({} failed)", s.inputs, s.inputs_failed);
    println!("records         {}", s.records);
    println!("messages        {}", s.messages);
    println!("announcements   {}", s.announcements);
    println!("withdrawals     {}", s.withdrawals);
    println!("state changes   {}", s.state_changes);
    println!("peers           {}", s.peers);
    println!("prefixes        {}", s.prefixes);
    println!(
        "time span       {} .. {} ({} s)",
        s.first_ts.as_deref().unwrap_or("-"),
        s.last_ts.as_deref().unwrap_or("-"),
        s.span_secs
    );
    println!("damaged         {}", s.damaged);
    for (reason, n) in &s.damage_by_reason {
        println!("  {n:>8}  {reason}");
    }
    for e in &s.damage_examples {
        println!("  at {} byte {}: {}", e.input, e.offset, e.message);
    }
    for e in &s.input_errors {
        println!("  input error: {e}");
    }
    println!(
        "elapsed         {:.3} s ({:.0} records/s)",
        s.elapsed_secs, s.records_per_sec
    );
    println!("status          {:?}", s.status);
}
