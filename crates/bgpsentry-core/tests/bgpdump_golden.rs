//! `bgpdump -m` compatibility: every input of RIPE NCC's bgpdump test suite
//! (`shared/data/mrt/ripe-bgpdump-testdata/`, outputs of upstream HEAD) is
//! decoded with `RecordReader` + bgpkit + `Printer` and compared line for
//! line with its golden output.

use std::fs::File;
use std::io::{BufRead, BufReader};

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{RecordReader, decompress};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/ripe-bgpdump-testdata"
);

/// Everything `Printer` prints for one file, plus records that failed.
fn dump(path: &str) -> (Vec<u8>, usize) {
    let f = File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_, r) = decompress(f).expect("open");
    let mut p = Printer::new();
    let mut out = Vec::new();
    let mut bad = 0;
    for item in RecordReader::new(r) {
        match item.map(|fr| fr.raw.parse()) {
            Ok(Ok(rec)) => p.write_record(&rec, &mut out),
            _ => bad += 1,
        }
    }
    (out, bad)
}

fn golden(name: &str) -> Vec<String> {
    let path = format!("{DIR}/expected-bgpdump-output/{name}.bgp.gz");
    let f = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .lines()
        .map(|l| l.expect("golden line"))
        .collect()
}

fn check(name: &str) {
    let (out, bad) = dump(&format!("{DIR}/{name}"));
    assert_eq!(bad, 0, "{name}: records that failed to decode");
    let ours = String::from_utf8(out).expect("utf8");
    let ours: Vec<&str> = ours.lines().collect();
    let want = golden(name);
    for (i, (a, b)) in ours.iter().zip(want.iter()).enumerate() {
        assert!(
            a == b,
            "{name}: first difference at line {}:\n ours:    {a}\n bgpdump: {b}",
            i + 1
        );
    }
    assert_eq!(
        ours.len(),
        want.len(),
        "{name}: line count differs (ours vs bgpdump)"
    );
}

macro_rules! golden_tests {
    ($($test:ident => $file:literal,)*) => {
        $(#[test] fn $test() { check($file); })*

        /// Every golden file in the directory has a test above.
        #[test]
        fn every_golden_file_is_tested() {
            let mut files: Vec<String> = std::fs::read_dir(format!("{DIR}/expected-bgpdump-output"))
                .expect("golden dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().trim_end_matches(".bgp.gz").to_string())
                .collect();
            files.sort();
            let mut tested = vec![$($file.to_string()),*];
            tested.sort();
            assert_eq!(files, tested);
        }
    };
}

golden_tests! {
    bview_20020722_2337 => "bview.20020722.2337.gz",
    bview_64k_stream_overflow => "bview.64k_stream_overflow.gz",
    bview_ipv4_unicast_add_path => "bview.ipv4_unicast_add_path.gz",
    bview_ipv6_unicast_add_path => "bview.ipv6_unicast_add_path.gz",
    updates_20020722_2238 => "updates.20020722.2238.gz",
    updates_20070211_0141 => "updates.20070211.0141.gz",
    updates_20071015_1505 => "updates.20071015.1505.gz",
    updates_20100722_2015 => "updates.20100722.2015.gz",
    updates_20160811_1600 => "updates.20160811.1600.gz",
    updates_et_header_2015 => "updates.et-header.2015.gz",
    updates_long_withdrawal => "updates.long_withdrawal.gz",
    updates_nlri_mask_trailing_bits => "updates.nlri_mask_trailing_bits.gz",
}
