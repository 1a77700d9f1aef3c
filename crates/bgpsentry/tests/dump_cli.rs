//! End-to-end tests of `bgpsentry dump`: the built binary on a golden input
//! (stdout byte for byte equal to bgpdump's) and on bad inputs written to a
//! temporary directory at test time — empty, missing, garbage, a `.gz` that
//! is bzip2, truncated raw and compressed files, garbage spliced between
//! records — checking stdout, the stderr message (file name and byte
//! offset) and the exit code (0 complete, 3 partial, 1 failed).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_bgpsentry");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mrt");
const UPDATES: &str = "ripe-bgpdump-testdata/updates.20071015.1505.gz";

fn data(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

fn dump(args: &[&Path]) -> Output {
    Command::new(BIN)
        .arg("dump")
        .args(args)
        .output()
        .expect("run bgpsentry")
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("open"))
        .read_to_end(&mut v)
        .expect("gunzip");
    v
}

/// bgpdump's golden output for `UPDATES`.
fn golden() -> Vec<u8> {
    gunzip(&data(
        "ripe-bgpdump-testdata/expected-bgpdump-output/updates.20071015.1505.gz.bgp.gz",
    ))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write fixture");
    p
}

/// True when `part` is `whole` cut after some complete line.
fn is_line_prefix(part: &[u8], whole: &[u8]) -> bool {
    whole.starts_with(part) && (part.is_empty() || part.ends_with(b"\n"))
}

#[test]
fn golden_input_matches_bgpdump_byte_for_byte() {
    let o = dump(&[&data(UPDATES)]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        o.stdout == golden(),
        "stdout differs from bgpdump's golden output"
    );
    assert!(o.stderr.is_empty(), "stderr: {}", stderr(&o));
}

#[test]
fn several_inputs_print_one_after_the_other() {
    let a = data("ripe-bgpdump-testdata/updates.nlri_mask_trailing_bits.gz");
    let o = dump(&[&a, &data(UPDATES)]);
    assert_eq!(o.status.code(), Some(0));
    let mut want = gunzip(&data(
        "ripe-bgpdump-testdata/expected-bgpdump-output/updates.nlri_mask_trailing_bits.gz.bgp.gz",
    ));
    want.extend(golden());
    assert!(o.stdout == want);
}

#[test]
fn output_file_option() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.txt");
    let o = Command::new(BIN)
        .arg("dump")
        .arg("-o")
        .arg(&out)
        .arg(data(UPDATES))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    assert!(std::fs::read(&out).expect("output") == golden());
}

#[test]
fn empty_file_fails_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "empty.mrt", b"");
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let e = stderr(&o);
    assert!(
        e.contains("empty.mrt") && e.contains("empty input"),
        "stderr: {e}"
    );
}

#[test]
fn missing_path_fails_alone_and_is_partial_next_to_good_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-file.gz");
    let o = dump(&[&missing]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("no-such-file.gz") && e.contains("No such file"),
        "stderr: {e}"
    );

    let o = dump(&[&missing, &data(UPDATES)]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    assert!(o.stdout == golden());
}

#[test]
fn garbage_bytes_fail_with_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Deterministic noise (xorshift), not MRT.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let p = write(dir.path(), "garbage.bin", &bytes);
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    assert!(o.stdout.is_empty());
    let e = stderr(&o);
    assert!(
        e.contains("garbage.bin: byte 0:") && e.contains("garbage"),
        "stderr: {e}"
    );
}

#[test]
fn gz_name_with_bzip2_content_is_read_by_magic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = data("bgpkit/updates.bz2");
    let p = write(
        dir.path(),
        "updates.gz",
        &std::fs::read(&real).expect("read"),
    );
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(o.stdout.iter().filter(|&&b| b == b'\n').count(), 268);
    assert!(o.stdout == dump(&[&real]).stdout);
}

#[test]
fn truncated_raw_file_is_partial_with_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = gunzip(&data(UPDATES));
    let p = write(dir.path(), "cut.mrt", &raw[..100_000]);
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("cut.mrt: byte 99915: truncated record: header announces 100 bytes, stream ends after 85"),
        "stderr: {e}"
    );
    // Every record before the cut is printed.
    assert!(is_line_prefix(&o.stdout, &golden()));
    assert_eq!(o.stdout.iter().filter(|&&b| b == b'\n').count(), 2288);
}

#[test]
fn truncated_gzip_file_is_partial_with_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = std::fs::read(data(UPDATES)).expect("read");
    let p = write(dir.path(), "cut.gz", &gz[..gz.len() / 2]);
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("cut.gz: byte ") && e.contains("truncated record"),
        "stderr: {e}"
    );
    assert!(!o.stdout.is_empty() && is_line_prefix(&o.stdout, &golden()));
}

#[test]
fn garbage_between_records_is_skipped_and_reading_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = gunzip(&data(UPDATES));
    // 99915 is a record boundary (see the truncation test).
    let mut bytes = raw[..99_915].to_vec();
    bytes.extend_from_slice(&[
        0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0, 1, 0xff, 0xff, 0xff, 0xff, 7,
    ]);
    bytes.extend_from_slice(&raw[99_915..]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).expect("gzip");
    let p = write(dir.path(), "spliced.gz", &gz.finish().expect("gzip"));
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("spliced.gz: byte 99915: 13 bytes of garbage skipped"),
        "stderr: {e}"
    );
    assert!(
        o.stdout == golden(),
        "every record before and after the garbage is printed"
    );
}

#[test]
fn directory_input_reads_files_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(data(UPDATES), dir.path().join("b.gz")).expect("copy");
    std::fs::copy(
        data("ripe-bgpdump-testdata/updates.nlri_mask_trailing_bits.gz"),
        dir.path().join("a.gz"),
    )
    .expect("copy");
    write(
        dir.path(),
        "c.txt",
        b"not mrt at all, just some text that is long enough",
    );
    let o = dump(&[dir.path()]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    let mut want = gunzip(&data(
        "ripe-bgpdump-testdata/expected-bgpdump-output/updates.nlri_mask_trailing_bits.gz.bgp.gz",
    ));
    want.extend(golden());
    assert!(o.stdout == want);
    assert!(stderr(&o).contains("c.txt: byte 0:"));
}

/// Several inputs are decoded at once, but stdout and stderr are exactly
/// those of one input after the other: the golden text, the damage of a bad
/// input in its place, the golden text again, whatever `--jobs` says.
#[test]
fn parallel_inputs_print_in_the_order_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = write(dir.path(), "garbage.mrt", &[0x5a; 300]);
    let golden = golden();
    let mut want = golden.clone();
    want.extend_from_slice(&golden);
    let mut outputs = Vec::new();
    for jobs in ["1", "2", "3"] {
        let o = Command::new(BIN)
            .args(["dump", "--jobs", jobs])
            .arg(data(UPDATES))
            .arg(&garbage)
            .arg(data(UPDATES))
            .output()
            .expect("run bgpsentry");
        assert_eq!(o.status.code(), Some(3), "jobs {jobs}: {}", stderr(&o));
        assert!(
            o.stdout == want,
            "jobs {jobs}: stdout differs from golden twice"
        );
        assert!(stderr(&o).contains("garbage.mrt"), "{}", stderr(&o));
        outputs.push(o.stderr);
    }
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "stderr depends on --jobs"
    );
}

/// A reader that stops early (`| head`) ends the dump at once and cleanly,
/// even with inputs still being decoded on other threads.
#[test]
fn closed_pipe_stops_every_worker() {
    let mut child = Command::new(BIN)
        .args(["dump", "--jobs", "2"])
        .args(std::iter::repeat_n(data(UPDATES), 8))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 100];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    // stdout is dropped here: the pipe is closed.
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert!(first.starts_with(b"BGP4MP|"));
}

/// gzip of `bytes`.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// `n` framed OSPFv2 records (a valid MRT type bgpsentry does not decode).
fn unsupported_records(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 12);
    for i in 0..n {
        v.extend_from_slice(&(1_203_878_877u32 + (i / 1000) as u32).to_be_bytes());
        v.extend_from_slice(&11u16.to_be_bytes());
        v.extend_from_slice(&0u16.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
    }
    v
}

/// Issue 19, item 6: a gzip of zeros and a file of 100,000 unsupported
/// records give a few lines of stderr that state the totals, not a line per
/// record.
#[test]
fn repeated_diagnostics_are_limited_and_totalled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = write(dir.path(), "zeros.gz", &gzip(&vec![0u8; 16 << 20]));
    let o = dump(&[&zeros]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.len() < 2000,
        "{} bytes of stderr: {}",
        e.len(),
        &e[..2000]
    );
    assert!(
        e.contains("zeros.gz: byte 0:") && e.contains(&format!("{} bytes of garbage", 16 << 20)),
        "stderr: {e}"
    );

    let many = write(dir.path(), "ospf.mrt", &unsupported_records(100_000));
    let o = dump(&[&many]);
    let e = stderr(&o);
    assert!(
        e.lines().count() <= 12,
        "{} lines: {e:.3000}",
        e.lines().count()
    );
    assert_eq!(
        e.matches("unsupported record: MRT type 11").count(),
        10,
        "{e}"
    );
    assert!(
        e.contains(
            "ospf.mrt: 100000 reports of \"unsupported: MRT type 11 subtype 0\" in total, 10 shown"
        ),
        "stderr: {e}"
    );
    // The limit is per input: a second input gets its own first reports.
    let o = dump(&[&many, &many]);
    let e = stderr(&o);
    assert_eq!(
        e.matches("unsupported record: MRT type 11").count(),
        20,
        "{e:.3000}"
    );
    assert_eq!(e.matches("100000 reports of").count(), 2, "{e:.3000}");
}

/// Issue 19, item 7: TABLE_DUMP_V2 RIB records without the PEER_INDEX_TABLE
/// that names their peers are damage in `dump` (exit 3), as in `replay`.
#[test]
fn rib_without_peer_index_table_is_partial_as_in_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = gunzip(&data(
        "ripe-bgpdump-testdata/bview.ipv4_unicast_add_path.gz",
    ));
    // The first record is the PEER_INDEX_TABLE (TABLE_DUMP_V2, subtype 1).
    assert_eq!(&raw[4..8], &[0, 13, 0, 1]);
    let len = u32::from_be_bytes([raw[8], raw[9], raw[10], raw[11]]) as usize;
    let p = write(dir.path(), "no-peers.mrt", &raw[12 + len..]);
    let o = dump(&[&p]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(
            "no-peers.mrt: byte 0: record does not decode: RIB entry before any PEER_INDEX_TABLE"
        ),
        "stderr: {e}"
    );
    let r = Command::new(BIN)
        .args(["replay", "--json"])
        .arg(&p)
        .output()
        .expect("run replay");
    assert_eq!(
        r.status.code(),
        o.status.code(),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}
