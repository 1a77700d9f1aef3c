//! Opening one evidence source: a local file, or an http(s) URL streamed
//! while it downloads (never buffered whole). URLs get a connect timeout, a
//! per-read stall timeout and a size cap, so a hostile or broken server can
//! neither hang a refresh nor fill memory.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::time::Duration;

/// Largest evidence source accepted (compressed bytes). Full RADB / RIPE
/// dumps are a few hundred MB; 4 GiB leaves room without being unbounded.
pub const MAX_SOURCE_BYTES: u64 = 4 << 30;

/// Why a source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{url}: {message}")]
    Request { url: String, message: String },
    #[error("{url}: HTTP status {status}")]
    Http { url: String, status: u16 },
}

/// True for http:// and https:// sources.
pub fn is_url(src: &str) -> bool {
    let l = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Fails reads once more than `left` bytes have been read.
struct Capped<R> {
    inner: R,
    left: u64,
    name: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(format!(
                "{}: larger than {MAX_SOURCE_BYTES} bytes, refused",
                self.name
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Open `src` for reading its raw (possibly compressed) bytes.
pub fn open(src: &str, stall: Duration) -> Result<Box<dyn Read + Send>, FetchError> {
    if !is_url(src) {
        let f = File::open(src).map_err(|source| FetchError::Io {
            path: src.to_string(),
            source,
        })?;
        return Ok(Box::new(BufReader::with_capacity(1 << 16, f)));
    }
    let req = |message: String| FetchError::Request {
        url: src.to_string(),
        message,
    };
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10).min(stall))
        .timeout(stall)
        .user_agent(concat!("bgpsentry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| req(e.to_string()))?;
    let resp = client.get(src).send().map_err(|e| req(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Http {
            url: src.to_string(),
            status: status.as_u16(),
        });
    }
    if resp.content_length().is_some_and(|n| n > MAX_SOURCE_BYTES) {
        return Err(req(format!(
            "Content-Length over {MAX_SOURCE_BYTES} bytes, refused"
        )));
    }
    Ok(Box::new(Capped {
        inner: resp,
        left: MAX_SOURCE_BYTES,
        name: src.to_string(),
    }))
}
