//! Replaying MRT inputs in time order, using both cores.
//!
//! ```text
//!  input 0 ─ thread: read ─ decompress ─ frame ─ decode ─┐ bounded
//!  input 1 ─ thread: read ─ decompress ─ frame ─ decode ─┤ channels ─► merge by (time, input) ─► Sink
//!  ...                                                   ┘             (interns peers, one thread)
//! ```
//!
//! Every input decodes on its own thread while the merge takes the earliest
//! message across all inputs; ties go to the input named first, and a
//! stream's own order is never changed, so the same inputs always give the
//! same sequence. Bounded channels keep memory flat however far ahead a
//! later file could decode.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use bgpsentry_core::model::{PeerTable, RouteMessage, Timestamp};
use bgpsentry_core::mrt::{
    Compression, DamageKind, Decoded, RecordReader, StreamDecoder, decompress,
};

use super::inputs::{Input, open};

/// Messages per batch sent from a decoding thread.
const BATCH: usize = 1024;
/// Batches an input may buffer while it is far from the merge's front.
const DEPTH: usize = 2;
/// Batches an input may buffer while it is within [`AHEAD`] inputs of the
/// front: about one 15-minute RouteViews file.
const DEPTH_AHEAD: usize = 64;
/// How many inputs after the one being merged may decode ahead.
const AHEAD: usize = 2;

/// Read-ahead control shared by the decoding threads and the merge.
///
/// Archives are usually consecutive in time, so the merge drains input *k*
/// before it needs input *k + 1*. Inputs close behind the front may buffer a
/// whole file, so the next file decompresses on the second core while this
/// one is merged; inputs further away stop after [`DEPTH`] batches, which
/// bounds memory however many inputs there are. A thread only ever waits
/// while it has batches queued, which the merge can always take, so this
/// cannot deadlock.
struct ReadAhead {
    /// The input the merge took its last message from.
    front: AtomicUsize,
    /// Batches sent and not yet received, per input.
    in_flight: Vec<AtomicUsize>,
    lock: Mutex<()>,
    wake: Condvar,
}

impl ReadAhead {
    fn new(n: usize) -> Self {
        ReadAhead {
            front: AtomicUsize::new(0),
            in_flight: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    fn may_send(&self, idx: usize) -> bool {
        let queued = self
            .in_flight
            .get(idx)
            .map_or(0, |q| q.load(Ordering::Acquire));
        let near = idx <= self.front.load(Ordering::Acquire).saturating_add(AHEAD);
        queued < DEPTH || (near && queued < DEPTH_AHEAD)
    }

    /// Blocks the decoding thread of `idx` until it may send another batch.
    fn wait_to_send(&self, idx: usize) {
        while !self.may_send(idx) {
            let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            if self.may_send(idx) {
                break;
            }
            // The timeout only guards against a missed wake-up.
            let _ = self.wake.wait_timeout(guard, Duration::from_millis(20));
        }
        if let Some(q) = self.in_flight.get(idx) {
            q.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The merge received a batch of `idx`.
    fn received(&self, idx: usize) {
        if let Some(q) = self.in_flight.get(idx) {
            q.fetch_sub(1, Ordering::AcqRel);
        }
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.wake.notify_all();
    }

    /// The merge now takes messages from `idx`.
    fn set_front(&self, idx: usize) {
        if self.front.swap(idx, Ordering::AcqRel) != idx {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.wake.notify_all();
        }
    }
}

/// Damage found in one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DamageReport {
    /// Index of the input.
    pub input: usize,
    /// Byte offset in the decompressed stream.
    pub offset: u64,
    /// What was wrong.
    pub kind: DamageKind,
}

/// How one input ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamEnd {
    /// MRT records framed.
    pub records: u64,
    /// Decompressed bytes consumed.
    pub bytes: u64,
    /// The input could not be opened or read at all.
    pub error: Option<String>,
    /// Compression found.
    pub compression: Option<&'static str>,
}

enum Chunk {
    Msgs(Vec<Decoded>),
    Damage(DamageReport),
    End(StreamEnd),
}

/// What consumes the merged stream.
pub trait Sink {
    /// One message, in global time order.
    fn message(&mut self, msg: &RouteMessage, peers: &PeerTable);
    /// Damage in an input, reported when the merge reaches it.
    fn damage(&mut self, _report: &DamageReport) {}
    /// An input is finished.
    fn stream_end(&mut self, _input: usize, _end: &StreamEnd) {}
}

/// Options for a replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Collector name per input (same length as the inputs).
    pub collectors: Vec<String>,
    /// Give up on a URL that sends nothing for this long.
    pub stall: Duration,
    /// Counts raw (compressed) bytes read, for progress.
    pub progress: Arc<AtomicU64>,
}

fn comp_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Bzip2 => "bzip2",
    }
}

fn run_stream(
    idx: usize,
    input: Input,
    tx: SyncSender<Chunk>,
    counter: Arc<AtomicU64>,
    stall: Duration,
    ahead: Arc<ReadAhead>,
) {
    let mut end = StreamEnd::default();
    let raw = match open(&input, counter, stall) {
        Ok(r) => r,
        Err(e) => {
            end.error = Some(e.to_string());
            let _ = tx.send(Chunk::End(end));
            return;
        }
    };
    let (kind, dec) = match decompress(raw) {
        Ok(x) => x,
        Err(e) => {
            end.error = Some(format!("{}: {e}", input.name()));
            let _ = tx.send(Chunk::End(end));
            return;
        }
    };
    end.compression = Some(comp_name(kind));
    let claimed = Compression::from_name(&input.name());
    if claimed != Compression::None && claimed != kind {
        tracing::warn!(input = %input.name(), found = comp_name(kind), "file name suggests {}, content is {}", comp_name(claimed), comp_name(kind));
    }
    let mut reader = RecordReader::new(dec);
    let mut decoder = StreamDecoder::new();
    let mut batch = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<Decoded>| -> bool {
        if batch.is_empty() {
            return true;
        }
        ahead.wait_to_send(idx);
        tx.send(Chunk::Msgs(std::mem::replace(
            batch,
            Vec::with_capacity(BATCH),
        )))
        .is_ok()
    };
    for item in reader.by_ref() {
        match item {
            Ok(rec) => {
                end.records += 1;
                let offset = rec.offset;
                let out = decoder.decode(rec);
                batch.extend(out.messages);
                if !out.damage.is_empty() {
                    if !flush(&mut batch) {
                        return;
                    }
                    for kind in out.damage {
                        if tx
                            .send(Chunk::Damage(DamageReport {
                                input: idx,
                                offset,
                                kind,
                            }))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                if batch.len() >= BATCH && !flush(&mut batch) {
                    return;
                }
            }
            Err(d) => {
                if !flush(&mut batch) {
                    return;
                }
                if tx
                    .send(Chunk::Damage(DamageReport {
                        input: idx,
                        offset: d.offset,
                        kind: d.kind,
                    }))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
    end.bytes = reader.offset();
    if flush(&mut batch) {
        let _ = tx.send(Chunk::End(end));
    }
}

/// Replays `inputs` merged in time order into `sink`; returns the peer table.
pub fn replay(inputs: &[Input], opts: &ReplayOptions, sink: &mut dyn Sink) -> PeerTable {
    replay_with_peers(inputs, opts, sink, PeerTable::new())
}

/// [`replay`], interning peers into `peers` (a warm-up's table), so the same
/// collector peer keeps its id across consecutive replays.
pub fn replay_with_peers(
    inputs: &[Input],
    opts: &ReplayOptions,
    sink: &mut dyn Sink,
    mut peers: PeerTable,
) -> PeerTable {
    let mut rxs: Vec<Receiver<Chunk>> = Vec::with_capacity(inputs.len());
    let mut collector_ids = Vec::with_capacity(inputs.len());
    let mut handles = Vec::new();
    let ahead = Arc::new(ReadAhead::new(inputs.len()));
    for (i, input) in inputs.iter().enumerate() {
        let (tx, rx) = sync_channel(DEPTH_AHEAD + 1);
        rxs.push(rx);
        let name = opts
            .collectors
            .get(i)
            .cloned()
            .unwrap_or_else(|| input.collector_guess());
        collector_ids.push(peers.collector(&name));
        let input = input.clone();
        let counter = opts.progress.clone();
        let stall = opts.stall;
        let ahead_t = ahead.clone();
        let spawned = thread::Builder::new()
            .name(format!("mrt-{i}"))
            .spawn(move || run_stream(i, input, tx, counter, stall, ahead_t));
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => sink.stream_end(
                i,
                &StreamEnd {
                    error: Some(format!("cannot start a thread: {e}")),
                    ..Default::default()
                },
            ),
        }
    }

    let mut bufs: Vec<VecDeque<Decoded>> = (0..inputs.len()).map(|_| VecDeque::new()).collect();
    let mut heap: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
    let refill = |i: usize,
                  bufs: &mut Vec<VecDeque<Decoded>>,
                  heap: &mut BinaryHeap<Reverse<(Timestamp, usize)>>,
                  sink: &mut dyn Sink| {
        while let Ok(chunk) = rxs[i].recv() {
            match chunk {
                Chunk::Msgs(v) => {
                    ahead.received(i);
                    if let Some(first) = v.first() {
                        heap.push(Reverse((first.ts, i)));
                        bufs[i] = v.into();
                        return;
                    }
                }
                Chunk::Damage(d) => sink.damage(&d),
                Chunk::End(e) => {
                    sink.stream_end(i, &e);
                    return;
                }
            }
        }
    };
    for i in 0..inputs.len() {
        refill(i, &mut bufs, &mut heap, sink);
    }
    while let Some(Reverse((_, i))) = heap.pop() {
        ahead.set_front(i);
        if let Some(d) = bufs[i].pop_front() {
            let peer = peers.peer(collector_ids[i], d.peer_ip, d.peer_asn);
            let msg = RouteMessage {
                ts: d.ts,
                peer,
                event: d.event,
            };
            sink.message(&msg, &peers);
        }
        match bufs[i].front() {
            Some(next) => heap.push(Reverse((next.ts, i))),
            None => refill(i, &mut bufs, &mut heap, sink),
        }
    }
    for h in handles {
        let _ = h.join();
    }
    peers
}
