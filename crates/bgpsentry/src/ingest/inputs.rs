//! Naming and opening MRT inputs: files, directories (every file inside,
//! sorted by path, so a day of archives replays in order) and http(s) URLs,
//! which are streamed while they download rather than saved whole first.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One input the user named, after expanding directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A local file.
    File(PathBuf),
    /// An http(s) URL.
    Url(String),
}

impl Input {
    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Url(u) => u.clone(),
        }
    }

    /// The collector this input most likely comes from: a `route-views*` or
    /// `rrcNN` component of the path or URL, else the parent directory name.
    pub fn collector_guess(&self) -> String {
        let name = self.name();
        let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        for p in parts.iter().rev() {
            if p.starts_with("route-views") || (p.starts_with("rrc") && p.len() == 5) {
                return (*p).to_string();
            }
        }
        // RIS / RouteViews file names used by BGPStream: ris.rrc06.updates..., routeviews.route-views.jinx...
        if let Some(file) = parts.last() {
            for seg in file.split('.') {
                if seg.starts_with("rrc") && seg.len() == 5 {
                    return seg.to_string();
                }
            }
            if let Some(rest) = file.strip_prefix("routeviews.") {
                let mut it = rest.split('.');
                if let (Some(a), Some(b)) = (it.next(), it.next()) {
                    return if b == "updates" || b == "ribs" {
                        a.to_string()
                    } else {
                        format!("{a}.{b}")
                    };
                }
            }
        }
        // The parent directory names the collector, unless it only names a
        // period or a kind of file (`20080220/`, `2008.02/`, `UPDATES/`):
        // then the one above it, so the days of one collector share peers.
        let is_period_or_kind = |p: &str| {
            p.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                || ["updates", "ribs", "bgpdata", "rib"].contains(&p.to_ascii_lowercase().as_str())
        };
        if let Some(dir) = parts.iter().rev().skip(1).find(|p| !is_period_or_kind(p)) {
            return (*dir).to_string();
        }
        "local".to_string()
    }
}

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path does not exist or cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The request failed (DNS, connect, TLS, timeout).
    #[error("{url}: {message}")]
    Request {
        /// The URL.
        url: String,
        /// What failed.
        message: String,
    },
}

/// Expands the user's arguments into inputs: directories become their files
/// (recursively, sorted by path, hidden files skipped).
pub fn expand(args: &[String]) -> Result<Vec<Input>, OpenError> {
    let mut out = Vec::new();
    for a in args {
        if a.starts_with("http://") || a.starts_with("https://") {
            out.push(Input::Url(a.clone()));
            continue;
        }
        let p = PathBuf::from(a);
        let meta = std::fs::metadata(&p).map_err(|source| OpenError::Io {
            path: a.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(&p, &mut files)?;
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else {
            out.push(Input::File(p));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), OpenError> {
    let io_err = |source| OpenError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Counts bytes read through it, for progress reporting.
pub struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Size of the input in bytes when known up front (files only).
pub fn size_hint(input: &Input) -> Option<u64> {
    match input {
        Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Input::Url(_) => None,
    }
}

/// Opens an input for reading its raw (possibly compressed) bytes.
/// URLs are streamed; a stall longer than `stall` fails the read.
pub fn open(
    input: &Input,
    counter: Arc<AtomicU64>,
    stall: Duration,
) -> Result<Box<dyn Read + Send>, OpenError> {
    match input {
        Input::File(p) => {
            let f = File::open(p).map_err(|source| OpenError::Io {
                path: p.display().to_string(),
                source,
            })?;
            Ok(Box::new(Counting {
                inner: io::BufReader::with_capacity(256 * 1024, f),
                counter,
            }))
        }
        Input::Url(u) => {
            let req = |message: String| OpenError::Request {
                url: u.clone(),
                message,
            };
            let client = reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(stall)
                .user_agent(concat!("bgpsentry/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| req(e.to_string()))?;
            let resp = client.get(u).send().map_err(|e| req(e.to_string()))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(OpenError::Http {
                    url: u.clone(),
                    status: status.as_u16(),
                });
            }
            Ok(Box::new(Counting {
                inner: resp,
                counter,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_names_from_archive_paths() {
        let f = |s: &str| Input::File(PathBuf::from(s)).collector_guess();
        assert_eq!(
            f("/data/route-views.linx/bgpdata/2008.02/UPDATES/updates.20080224.1800.bz2"),
            "route-views.linx"
        );
        assert_eq!(f("/data/rrc00/2008.02/updates.20080224.1800.gz"), "rrc00");
        assert_eq!(f("x/ris.rrc06.updates.1427846400.gz"), "rrc06");
        assert_eq!(
            f("x/routeviews.route-views.jinx.updates.1427846400.bz2"),
            "route-views.jinx"
        );
        assert_eq!(
            f("shared/data/mrt/incident-youtube-2008/updates.20080224.1201.bz2"),
            "incident-youtube-2008"
        );
        assert_eq!(
            Input::Url("https://x/rrc01/latest-update.gz".into()).collector_guess(),
            "rrc01"
        );
        // A directory per day is not a collector: both days share one name,
        // so a warm-up day and the judged day share their peers.
        for day in ["20080220", "20080221"] {
            assert_eq!(
                f(&format!(
                    "shared/data/mrt/routeviews-2008-ordinary/{day}/updates.{day}.0006.bz2"
                )),
                "routeviews-2008-ordinary"
            );
        }
        assert_eq!(f("/srv/mrt/2008.02/UPDATES/updates.x.bz2"), "mrt");
        assert_eq!(f("updates.x.bz2"), "local");
    }
}
