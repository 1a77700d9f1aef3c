//! Which collector peers are *active*: could have seen a route now. Both
//! detectors scale by it — the hijack detector's visibility shares, the leak
//! detector's peer threshold and peer-share tag — so a warm-up day from
//! another collector, or a peer gone for good, neither dilutes a share nor
//! raises a threshold.
//!
//! A peer is active while its last message is at most [`ACTIVE_PEER_SECS`]
//! old (message time) and its session has not gone down since. The count
//! is refreshed at most once a minute of message time, so asking for it on
//! every announcement costs nothing.

use crate::fasthash::HashMap;

use crate::model::{PeerId, Timestamp};

/// A peer silent for longer than this is no longer active.
pub const ACTIVE_PEER_SECS: i64 = 3600;

/// How often (message seconds) the count is refreshed.
const RECOUNT_SECS: i64 = 60;

/// The last message time of every peer whose session is up, and the count.
#[derive(Clone, Debug, Default)]
pub struct ActivePeers {
    last: HashMap<PeerId, Timestamp>,
    counted_at: Option<Timestamp>,
    count: usize,
}

impl ActivePeers {
    /// No peer seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `peer` sent a message at `ts`.
    pub fn seen(&mut self, peer: PeerId, ts: Timestamp) {
        let new = self.last.insert(peer, ts).is_none();
        let due = self
            .counted_at
            .is_none_or(|at| ts.secs_since(at) >= RECOUNT_SECS || ts < at);
        if new || due {
            self.recount(ts);
        }
    }

    /// `peer`'s session went down at `ts`.
    pub fn down(&mut self, peer: PeerId, ts: Timestamp) {
        if self.last.remove(&peer).is_some() {
            self.recount(ts);
        }
    }

    fn recount(&mut self, now: Timestamp) {
        self.count = self
            .last
            .values()
            .filter(|t| now.secs_since(**t) <= ACTIVE_PEER_SECS)
            .count();
        self.counted_at = Some(now);
    }

    /// Active peers as of the last refresh.
    pub fn count(&self) -> usize {
        self.count
    }

    /// (peer, last message time), ascending, for a checkpoint.
    pub fn to_vec(&self) -> Vec<(PeerId, Timestamp)> {
        let mut v: Vec<(PeerId, Timestamp)> = self.last.iter().map(|(p, t)| (*p, *t)).collect();
        v.sort_unstable();
        v
    }

    /// Back from [`Self::to_vec`], counted at the newest time in it.
    pub fn from_vec(v: Vec<(PeerId, Timestamp)>) -> Self {
        let mut a = ActivePeers {
            last: v.into_iter().collect(),
            ..Default::default()
        };
        if let Some(now) = a.last.values().max().copied() {
            a.recount(now);
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_and_down_peers_are_not_active() {
        let t = Timestamp::from_secs;
        let mut a = ActivePeers::new();
        a.seen(PeerId(1), t(0));
        a.seen(PeerId(2), t(10));
        a.seen(PeerId(3), t(20));
        assert_eq!(a.count(), 3);
        a.down(PeerId(3), t(30));
        assert_eq!(a.count(), 2);
        // peer 1 silent for over an hour
        a.seen(PeerId(2), t(3_700));
        assert_eq!(a.count(), 1);
        let b = ActivePeers::from_vec(a.to_vec());
        assert_eq!(b.count(), 1);
    }
}
