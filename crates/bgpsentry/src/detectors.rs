//! The detectors `replay` (and later `run`) runs, built in one place from
//! the command line: the hijack detector with its baseline (`--bootstrap`
//! tables or RIB dumps) and settings. Other detectors add one line to
//! [`build`]. Also the `replay` command itself: inputs through
//! [`DetectSink`], then each event's final state as a table or JSON lines.

use std::fs::File;
use std::io::{Cursor, Read};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bgpsentry_core::bootstrap::looks_like_mrt;
use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::baseline::DEFAULT_LEARN_SECS;
use bgpsentry_core::detect::hijack::{
    DEFAULT_FORGED_LEARN_SECS, DEFAULT_GROUP_SECS, DEFAULT_MIN_PEERS, DEFAULT_REJOIN_SECS,
    DEFAULT_RESYNC_MIN_PREFIXES, DEFAULT_STALE_SECS, DEFAULT_WARMUP_MIN_PEERS, DEFAULT_WARMUP_SECS,
    HijackConfig, HijackDetector, HijackSnapshot,
};
use bgpsentry_core::detect::state::RoutingState;
use bgpsentry_core::evidence::Evidence;
use bgpsentry_core::model::{Asn, Event, EventChange, PeerTable, RouteMessage, Timestamp};
use clap::Args;

use crate::cli::ReplayArgs;
use crate::ingest::mrt::Sink;
use crate::pipeline::DetectSink;
use crate::replay::{ReadArgs, read_all};

/// Detector options of `replay` / `run`.
#[derive(Debug, Args, Clone)]
pub struct DetectArgs {
    /// Baseline of established origins: a RouteViews pfx2as or pyasn table,
    /// or an MRT RIB dump (gzip / bzip2 / plain, recognised by content).
    /// Repeatable.
    #[arg(long = "bootstrap", value_name = "FILE")]
    pub bootstrap: Vec<String>,
    /// Seconds of continuous visibility after which an origin is established.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEARN_SECS)]
    pub learn_secs: u32,
    /// An ongoing hijack with no announcement for this long is stale.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_STALE_SECS)]
    pub stale_secs: i64,
    /// Extra DDoS-protection ASNs (tag `dps_new_origin`); repeatable.
    #[arg(long = "dps-asn", value_name = "ASN")]
    pub dps_asn: Vec<Asn>,
    /// A hijack route that comes back within this many seconds of its
    /// event's end rejoins that event (same id) instead of opening a new
    /// one; negative disables.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_REJOIN_SECS, allow_negative_numbers = true)]
    pub rejoin_secs: i64,
    /// Distinct collector peers that must carry a hijack before the event
    /// is published (pending until then, nothing reported).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MIN_PEERS)]
    pub min_peers: usize,
    /// Learn only, for this many seconds of message time from the first
    /// message; then origins carried by at least `--warmup-min-peers`
    /// route slots are established. 0: no warm-up.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_WARMUP_SECS)]
    pub warmup_secs: u32,
    /// Route slots an origin needs at the end of the warm-up.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WARMUP_MIN_PEERS)]
    pub warmup_min_peers: usize,
    /// Also raise forged-origin (type-1, new adjacency next to the
    /// established origin) events, `event_type` 2.
    #[arg(long)]
    pub forged_origin: bool,
    /// Seconds of adjacency learning before forged-origin detection starts.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_FORGED_LEARN_SECS)]
    pub forged_learn_secs: u32,
    /// One incident, one event: a hijacker's announcements against other
    /// victims join its live event while it saw a hijack announcement within
    /// this many seconds. 0: one event per (hijacker, victim set).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_GROUP_SECS)]
    pub group_secs: i64,
    /// A peer announcing this many prefixes within a minute (while few other
    /// peers burst) is re-sending its table: non-established origins it then
    /// announces, that no live event carries, are established as from a RIB
    /// dump instead of opening events. 0 disables.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RESYNC_MIN_PREFIXES)]
    pub resync_min_prefixes: u32,
    /// Do not run the hijack detector.
    #[arg(long)]
    pub no_hijack: bool,
    /// Route-leak detector options.
    #[command(flatten)]
    pub leak: crate::cli::LeakArgs,
}

impl Default for DetectArgs {
    /// The same values as the command line's defaults.
    fn default() -> Self {
        DetectArgs {
            bootstrap: Vec::new(),
            learn_secs: DEFAULT_LEARN_SECS,
            stale_secs: DEFAULT_STALE_SECS,
            dps_asn: Vec::new(),
            rejoin_secs: DEFAULT_REJOIN_SECS,
            min_peers: DEFAULT_MIN_PEERS,
            warmup_secs: DEFAULT_WARMUP_SECS,
            warmup_min_peers: DEFAULT_WARMUP_MIN_PEERS,
            forged_origin: false,
            forged_learn_secs: DEFAULT_FORGED_LEARN_SECS,
            group_secs: DEFAULT_GROUP_SECS,
            resync_min_prefixes: DEFAULT_RESYNC_MIN_PREFIXES,
            no_hijack: false,
            leak: crate::cli::LeakArgs::default(),
        }
    }
}

/// Builds the hijack detector with its baseline loaded.
pub fn hijack_detector(
    args: &DetectArgs,
    evidence: Arc<Evidence>,
) -> anyhow::Result<HijackDetector> {
    let mut cfg = HijackConfig {
        learn_secs: args.learn_secs,
        stale_secs: args.stale_secs,
        rejoin_secs: args.rejoin_secs,
        min_peers: args.min_peers,
        warmup_secs: args.warmup_secs,
        warmup_min_peers: args.warmup_min_peers,
        forged_origin: args.forged_origin,
        forged_learn_secs: args.forged_learn_secs,
        group_secs: args.group_secs,
        resync_min_prefixes: args.resync_min_prefixes,
        ..Default::default()
    };
    for a in &args.dps_asn {
        if !cfg.dps_asns.contains(a) {
            cfg.dps_asns.push(*a);
        }
    }
    let mut det = HijackDetector::new(cfg, evidence);
    for path in &args.bootstrap {
        bootstrap_file(&mut det, path)?;
    }
    Ok(det)
}

/// Feeds a bootstrap RIB dump's origins into the baseline.
struct BootstrapSink<'a>(&'a mut HijackDetector, u64);

impl Sink for BootstrapSink<'_> {
    fn message(&mut self, msg: &RouteMessage, _peers: &PeerTable) {
        self.1 += self.0.bootstrap_message(msg) as u64;
    }
}

fn bootstrap_file(det: &mut HijackDetector, path: &str) -> anyhow::Result<()> {
    let f = File::open(path).with_context(|| format!("opening bootstrap {path}"))?;
    let (_, mut r) =
        bgpsentry_core::mrt::decompress(f).with_context(|| format!("reading {path}"))?;
    let mut head = vec![0u8; 64];
    let n = read_up_to(&mut r, &mut head).with_context(|| format!("reading {path}"))?;
    head.truncate(n);
    if looks_like_mrt(&head) {
        let read = ReadArgs {
            inputs: vec![path.to_string()],
            collector: None,
            stall: Duration::from_secs(30),
            progress: false,
        };
        let mut sink = BootstrapSink(det, 0);
        let (summary, _) = read_all(&read, &mut sink)?;
        tracing::info!(
            path,
            records = summary.records,
            origins = sink.1,
            "bootstrap RIB loaded"
        );
    } else {
        let rep = det
            .bootstrap_table(Cursor::new(head).chain(r))
            .with_context(|| format!("bootstrap table {path}"))?;
        for (line, msg) in &rep.problems {
            tracing::warn!(path, line, "skipped: {msg}");
        }
        tracing::info!(
            path,
            entries = rep.entries,
            skipped = rep.skipped,
            "bootstrap table loaded"
        );
    }
    Ok(())
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Every detector the options ask for, in a fixed order.
pub fn build(args: &DetectArgs, evidence: Arc<Evidence>) -> anyhow::Result<Vec<Box<dyn Detector>>> {
    let mut v: Vec<Box<dyn Detector>> = Vec::new();
    if !args.no_hijack {
        v.push(Box::new(hijack_detector(args, evidence.clone())?));
    }
    if !args.leak.no_leak {
        let ev = args
            .leak
            .evidence
            .clone()
            .unwrap_or_else(|| evidence.clone());
        v.push(Box::new(bgpsentry_core::detect::leak::LeakDetector::new(
            args.leak.config(),
            ev,
        )));
    }
    Ok(v)
}

/// The detectors of `run` as one [`Detector`] whose learned state can be
/// checkpointed and restored (`bgpsentry run`'s restart without forgetting
/// or re-alerting). It advances the detectors itself, on message time, with
/// the same cadence as [`DetectSink`] (whose own `advance` calls it
/// ignores), so a run interrupted by a checkpoint and a restore produces
/// the same events as an uninterrupted one.
pub struct DetectorSet {
    /// The hijack detector (unless `--no-hijack`).
    pub hijack: Option<HijackDetector>,
    /// The route-leak detector (unless `--no-leak`).
    pub leak: Option<bgpsentry_core::detect::leak::LeakDetector<Arc<Evidence>>>,
    /// The `advance` cadence, kept here (not in [`DetectSink`]) so that a
    /// restored set resumes it exactly where the checkpoint left it.
    cadence: crate::pipeline::Cadence,
    now: Timestamp,
}

/// What a checkpoint holds of a [`DetectorSet`]: `S` is `&RoutingState`
/// when writing and `RoutingState` when reading.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SetSnapshot<S> {
    last_advance: Option<Timestamp>,
    now: Timestamp,
    hijack: Option<HijackSnapshot<S>>,
    leak: Option<bgpsentry_core::detect::leak::detector::LeakSnapshot>,
}

impl DetectorSet {
    /// Newest message time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// A snapshot of everything the detectors learned.
    pub fn snapshot(&self) -> SetSnapshot<&RoutingState> {
        SetSnapshot {
            last_advance: self.cadence.last,
            now: self.now,
            hijack: self.hijack.as_ref().map(HijackDetector::snapshot),
            leak: self.leak.as_ref().map(|l| l.snapshot()),
        }
    }

    /// Replaces the learned state with a snapshot's. Either every detector
    /// is restored or (on an error) the set must be discarded and rebuilt.
    pub fn restore(&mut self, snap: SetSnapshot<RoutingState>) -> anyhow::Result<()> {
        match (&mut self.hijack, snap.hijack) {
            (Some(h), Some(s)) => h.restore(s).context("hijack detector")?,
            (None, None) => {}
            _ => anyhow::bail!("the checkpoint and this configuration run different detectors"),
        }
        match (&mut self.leak, snap.leak) {
            (Some(l), Some(s)) => l
                .restore(s)
                .map_err(|e| anyhow::anyhow!("leak detector: {e}"))?,
            (None, None) => {}
            _ => anyhow::bail!("the checkpoint and this configuration run different detectors"),
        }
        self.cadence.last = snap.last_advance;
        self.now = snap.now;
        Ok(())
    }

    /// Ids already used (e.g. by events in the store) are never handed out
    /// again: the next hijack gets at least `hijack`, the next leak at
    /// least `leak`.
    pub fn reserve_ids(&mut self, hijack: u64, leak: u64) {
        if let Some(h) = &mut self.hijack {
            h.reserve_ids(hijack);
        }
        if let Some(l) = &mut self.leak {
            l.reserve_ids(leak);
        }
    }

    /// The ids the next hijack and leak events get.
    pub fn next_ids(&self) -> (u64, u64) {
        (
            self.hijack.as_ref().map_or(1, HijackDetector::next_id),
            self.leak.as_ref().map_or(1, |l| l.next_id()),
        )
    }
}

impl Detector for DetectorSet {
    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>) {
        self.now = self.now.max(msg.ts);
        if self.cadence.due(msg.ts) {
            if let Some(h) = &mut self.hijack {
                h.advance(msg.ts, out);
            }
            if let Some(l) = &mut self.leak {
                l.advance(msg.ts, out);
            }
        }
        if let Some(h) = &mut self.hijack {
            h.observe(msg, peers, out);
        }
        if let Some(l) = &mut self.leak {
            l.observe(msg, peers, out);
        }
    }

    fn advance(&mut self, _now: Timestamp, _out: &mut Vec<EventChange>) {
        // Advanced from `observe`, on its own restorable cadence.
    }

    fn routing_state(&self) -> Option<&RoutingState> {
        self.hijack.as_ref().map(HijackDetector::state)
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let now = self.now.max(now);
        if let Some(h) = &mut self.hijack {
            h.finish(now, out);
        }
        if let Some(l) = &mut self.leak {
            l.finish(now, out);
        }
    }
}

/// The detectors `build` makes, as one checkpointable set.
pub fn build_set(args: &DetectArgs, evidence: Arc<Evidence>) -> anyhow::Result<DetectorSet> {
    let hijack = if args.no_hijack {
        None
    } else {
        Some(hijack_detector(args, evidence.clone())?)
    };
    let leak = if args.leak.no_leak {
        None
    } else {
        let ev = args
            .leak
            .evidence
            .clone()
            .unwrap_or_else(|| evidence.clone());
        Some(bgpsentry_core::detect::leak::LeakDetector::new(
            args.leak.config(),
            ev,
        ))
    };
    Ok(DetectorSet {
        hijack,
        leak,
        cadence: crate::pipeline::Cadence::default(),
        now: Timestamp::default(),
    })
}

/// What the detectors' learned state depends on, as a short hash: every
/// detector setting and the baseline files. A checkpoint taken under
/// another fingerprint is not restored. Evidence (RPKI, IRR, relationships,
/// as2org) is deliberately not part of it: refreshing those files must not
/// throw the learned baseline away; tags are recomputed with the new
/// evidence at the next change of each event.
pub fn fingerprint(args: &DetectArgs) -> String {
    use sha2::Digest as _;
    let l = &args.leak;
    let text = format!(
        "hijack={} bootstrap={:?} learn={} stale={} dps={:?} rejoin={} min_peers={} warmup={}/{} forged={}/{} \
         leak={} leak_min_peers={} leak_min_prefixes={} leak_quiet={} leak_min_conf={} leak_rs={:?}",
        !args.no_hijack,
        args.bootstrap,
        args.learn_secs,
        args.stale_secs,
        args.dps_asn,
        args.rejoin_secs,
        args.min_peers,
        args.warmup_secs,
        args.warmup_min_peers,
        args.forged_origin,
        args.forged_learn_secs,
        !l.no_leak,
        l.leak_min_peers,
        l.leak_min_prefixes,
        l.leak_quiet_secs,
        l.leak_min_confidence,
        l.leak_route_servers,
    ) + &format!(
        " leak_persist={} leak_large={} leak_rejoin={} leak_re={:?} leak_established={} leak_min_score={} leak_quick={}/{}",
        l.leak_min_persist_secs,
        l.leak_large_prefixes,
        l.leak_rejoin_secs,
        l.leak_re_asns,
        l.leak_established_hours,
        l.leak_min_score,
        l.leak_quick_prefixes,
        l.leak_quick_score,
    );
    let text = format!(
        "{text} group={} resync={}",
        args.group_secs, args.resync_min_prefixes
    );
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..8])
}

/// The decoded messages of a first pass, kept for the second.
pub struct Recorded {
    messages: Vec<RouteMessage>,
    peers: PeerTable,
    summary: crate::replay::Summary,
}

impl Recorded {
    /// Feeds the kept messages to `sink` as the inputs would have; returns
    /// the first pass's summary and peer table.
    pub fn replay_into(self, sink: &mut dyn Sink) -> (crate::replay::Summary, PeerTable) {
        for m in &self.messages {
            sink.message(m, &self.peers);
        }
        (self.summary, self.peers)
    }
}

/// First pass: infer AS relationships (AS-Rank, as `evidence infer-asrel`)
/// from every path, and keep up to `cap` decoded messages so the detection
/// pass need not decode again. Returns `None` for the messages when the
/// inputs held more than `cap` (the detection pass then reads them again).
pub fn infer_and_record(
    read: &ReadArgs,
    cap: usize,
) -> anyhow::Result<(bgpsentry_core::evidence::AsRelationships, Option<Recorded>)> {
    use bgpsentry_core::model::RouteEvent;
    struct Observe {
        inference: bgpsentry_core::evidence::AsRelInference,
        messages: Vec<RouteMessage>,
        cap: usize,
        overflow: bool,
    }
    impl Sink for Observe {
        fn message(&mut self, msg: &RouteMessage, _peers: &PeerTable) {
            if let RouteEvent::Update { attrs: Some(a), .. } = &msg.event
                && let Some(seq) = a.as_path.dedup_sequence()
            {
                self.inference.observe(&seq);
            }
            if !self.overflow {
                if self.messages.len() < self.cap {
                    self.messages.push(msg.clone());
                } else {
                    self.overflow = true;
                    self.messages = Vec::new();
                }
            }
        }
    }
    let mut sink = Observe {
        inference: bgpsentry_core::evidence::AsRelInference::new(),
        messages: Vec::new(),
        cap,
        overflow: cap == 0,
    };
    let (summary, peers) = read_all(read, &mut sink)?;
    let rels = sink.inference.infer();
    tracing::info!(edges = rels.len(), stats = ?sink.inference.stats(), cached = sink.messages.len(), "AS relationships inferred from the inputs");
    let rec = (!sink.overflow).then(|| Recorded {
        messages: sink.messages,
        peers,
        summary,
    });
    Ok((rels, rec))
}

/// `bgpsentry replay`: detectors over the inputs; prints each event's final
/// state (JSON lines with `--json`, else the most confident first,
/// `crate::report`) and the summary.
pub fn run_replay(args: &ReplayArgs, evidence: Evidence) -> anyhow::Result<i32> {
    let read = ReadArgs {
        inputs: args.input.inputs.clone(),
        collector: args.input.collector.clone(),
        stall: Duration::from_secs(args.input.stall_timeout),
        progress: !args.no_progress,
    };
    let started = std::time::Instant::now();
    let detect = args.detect.clone();
    let mut evidence = evidence;
    // When relationships must be inferred, the first pass both observes the
    // paths and keeps the decoded messages (up to a bound), so the detection
    // pass replays them from memory instead of decoding every file twice.
    let mut recorded: Option<Recorded> = None;
    let warmup = (!args.warmup.is_empty()).then(|| ReadArgs {
        inputs: args.warmup.clone(),
        ..read.clone()
    });
    let infer = args.evidence.asrel.is_none() && !(detect.leak.no_leak && detect.no_hijack);
    if let Some(warm) = warmup.as_ref().filter(|_| infer) {
        // Relationships from the warm-up alone: stable routing before the
        // judged data, which an incident in it cannot poison.
        let (rels, rec) = infer_and_record(warm, args.max_cached_messages)?;
        evidence.asrel = rels;
        recorded = rec;
    } else if infer {
        // Relationships are inferred from the inputs before any detector is
        // built: the leak detector needs them (docs/leaks.md) and the hijack
        // tags use them (`asrel_*`, docs/tags.md).
        let (rels, rec) = infer_and_record(&read, args.max_cached_messages)?;
        evidence.asrel = rels;
        recorded = rec;
    }
    let evidence = Arc::new(evidence);
    let detectors = build(&detect, evidence.clone())?;
    let mut store_sink = match &args.db {
        Some(p) => Some(crate::store::StoreSink::new(
            crate::store::Store::open(p)
                .with_context(|| format!("opening store {}", p.display()))?,
            0,
        )),
        None => None,
    };
    let outputs: Vec<&mut dyn crate::pipeline::ChangeSink> = store_sink
        .iter_mut()
        .map(|s| s as &mut dyn crate::pipeline::ChangeSink)
        .collect();
    let mut sink = DetectSink::new(detectors, outputs);
    let (summary, peers) = match (&warmup, recorded) {
        (Some(warm), rec) => {
            let mut learner = crate::pipeline::Learner {
                sink: &mut sink,
                last: Timestamp::default(),
            };
            let (warm_summary, warm_peers) = match rec {
                Some(rec) => rec.replay_into(&mut learner),
                None => read_all(warm, &mut learner)?,
            };
            let last = learner.last;
            tracing::info!(
                inputs = warm_summary.inputs,
                records = warm_summary.records,
                until = %last.to_radar_millis(),
                "warm-up read: learned, nothing judged"
            );
            sink.end_learning(last);
            crate::replay::read_all_with_peers(&read, &mut sink, warm_peers)?
        }
        (None, Some(rec)) => rec.replay_into(&mut sink),
        (None, None) => read_all(&read, &mut sink)?,
    };
    // The routing state as the inputs left it, for `serve`'s routing
    // endpoints (built before `finish`, which ends nothing in the state).
    let routes = args.db.as_ref().and_then(|_| {
        sink.routing_state()
            .map(|st| crate::routing_snapshot::build(st, &evidence, sink.now(), peers.len()))
    });
    let (events, changes) = sink.finish();
    // Reported under the ids the store gave them.
    let events: Vec<Event> = match &store_sink {
        Some(s) => events.iter().map(|e| s.stored(e)).collect(),
        None => events,
    };
    let stored_ids = store_sink.as_ref().map(|s| s.id_counts());
    // Wall time of the whole command, both passes included.
    let mut summary = summary;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    if summary.elapsed_secs > 0.0 {
        summary.records_per_sec = summary.records as f64 / summary.elapsed_secs;
    }
    if let Some(s) = store_sink {
        let (mut store, _committed) = s.finish().context("writing events to the store")?;
        crate::routing_snapshot::publish_context(&mut store, &evidence, &asrel_source(args))
            .context("writing the AS registry to the store")?;
        crate::daemon::record_context(&mut store, &events, &evidence, peers.len())?;
        if let Some(snap) = &routes {
            store
                .publish_routes(snap)
                .context("writing the routing snapshot to the store")?;
        }
    }
    if args.json {
        for e in &events {
            println!("{}", serde_json::to_string(e)?);
        }
        let mut v = serde_json::to_value(&summary)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("events".into(), events.len().into());
            o.insert("event_changes".into(), changes.into());
            if let Some((existing, new)) = stored_ids {
                o.insert("events_already_stored".into(), existing.into());
                o.insert("events_newly_stored".into(), new.into());
            }
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!("{}", crate::report::events_text(&events, args.top));
        println!("events          {} ({} changes)", events.len(), changes);
        if let Some((existing, new)) = stored_ids {
            println!("stored          {new} new, {existing} already in the store (same event)");
        }
        crate::replay::print_summary(&summary);
    }
    Ok(crate::run::exit_code(summary.status))
}

/// Where `replay`'s relationships come from, as `entities/asns/{asn}/rel`
/// reports it.
fn asrel_source(args: &ReplayArgs) -> String {
    match &args.evidence.asrel {
        Some(p) => format!("file {p}"),
        None if !args.warmup.is_empty() => "inferred from the warm-up inputs".into(),
        None => "inferred from the inputs".into(),
    }
}
