//! Opening MRT streams: compression is recognised by magic bytes, not by file
//! name, because archives get renamed and mirrors lie (a `.gz` that is really
//! bzip2 still opens). Concatenated gzip members and bzip2 streams are read
//! to the end, as RouteViews and RIS files sometimes are.

use std::io::{self, Cursor, Read};

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;

/// The compression found at the start of a stream.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain MRT.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// bzip2 (`BZh`).
    Bzip2,
}

impl Compression {
    /// Recognises compression from the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// What a file name's extension claims.
    pub fn from_name(name: &str) -> Compression {
        if name.ends_with(".gz") || name.ends_with(".gzip") {
            Compression::Gzip
        } else if name.ends_with(".bz2") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Reads up to `n` bytes without failing on a short stream.
fn read_head(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// Wraps `inner` in the decompressor its first bytes call for, returning the
/// compression found and a reader of the decompressed MRT bytes.
pub fn decompress<R: Read + Send + 'static>(
    mut inner: R,
) -> io::Result<(Compression, Box<dyn Read + Send>)> {
    let head = read_head(&mut inner, 4)?;
    let kind = Compression::sniff(&head);
    let whole = Cursor::new(head).chain(inner);
    let reader: Box<dyn Read + Send> = match kind {
        Compression::Gzip => Box::new(MultiGzDecoder::new(whole)),
        Compression::Bzip2 => Box::new(MultiBzDecoder::new(whole)),
        Compression::None => Box::new(whole),
    };
    Ok((kind, reader))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn sniffs_by_content_not_name() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello mrt").expect("write");
        let gz = gz.finish().expect("gz");
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"hello mrt").expect("write");
        let bz = bz.finish().expect("bz");
        for (bytes, want) in [
            (gz, Compression::Gzip),
            (bz, Compression::Bzip2),
            (b"hello mrt".to_vec(), Compression::None),
        ] {
            let (kind, mut r) = decompress(Cursor::new(bytes)).expect("open");
            assert_eq!(kind, want);
            let mut s = String::new();
            r.read_to_string(&mut s).expect("read");
            assert_eq!(s, "hello mrt");
        }
        let (kind, mut r) = decompress(Cursor::new(Vec::new())).expect("empty");
        assert_eq!(kind, Compression::None);
        let mut s = Vec::new();
        assert_eq!(r.read_to_end(&mut s).expect("read"), 0);
    }
}
