//! Fuzz target for the whole `dump`/`replay` decoding path: arbitrary bytes
//! through `decompress` (raw, gzip or bzip2 by magic) → `RecordReader`
//! (framing, resync) → `StreamDecoder::decode` (the detectors' model) and
//! bgpkit parse → `Printer` (`bgpdump -m` text). Nothing may panic, and the
//! reader must end: every item it yields consumes input.
#![no_main]

use std::cell::Cell;
use std::io::{Cursor, Read};
use std::rc::Rc;

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use libfuzzer_sys::fuzz_target;

/// Counts the decompressed bytes the reader pulls.
struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok((_, r)) = decompress(Cursor::new(data.to_vec())) else {
        return;
    };
    let n = Rc::new(Cell::new(0u64));
    let r = Counting {
        inner: r,
        n: Rc::clone(&n),
    };
    let mut decoder = StreamDecoder::new();
    let mut printer = Printer::new();
    let mut out = Vec::new();
    let mut items = 0usize;
    for item in RecordReader::new(r) {
        items += 1;
        // Every item consumes at least one byte: a reader that stops
        // advancing trips this.
        assert!(items as u64 <= n.get() + 2, "reader does not advance");
        let Ok(fr) = item else { continue };
        if let Ok(rec) = fr.raw.clone().parse() {
            out.clear();
            printer.write_record(&rec, &mut out);
            assert!(out.is_empty() || out.ends_with(b"\n"));
        }
        let _ = decoder.decode(fr);
    }
});
