//! The lifecycle decision: given an event's current state and what was
//! already queued for it, which messages (new, escalated, resolved) each
//! channel gets. Each stage goes out at most once per event and channel;
//! the outbox's unique idempotency key enforces it even if two rounds race.

use std::collections::BTreeSet;

use bgpsentry_core::model::Event;

use super::Result;
use super::config::{AlertConfig, LifecycleConfig};
use super::db::{AlertDb, Batch};
use super::notification::{Notification, Scope, Stage, event_key, idempotency_key, kind_of};
use super::template;

/// Channels that may get a "new" message for this event, per watch.
#[derive(Debug, Clone)]
pub struct NewTarget {
    /// The watch that matched.
    pub watch: String,
    /// Its channels that have not handled the event yet.
    pub channels: Vec<String>,
}

/// True when `now` grew past the thresholds relative to `base`.
pub fn escalated(base: Scope, now: Scope, l: &LifecycleConfig) -> bool {
    let conf = now.confidence >= base.confidence.saturating_add(l.confidence_delta)
        || now.level() > base.level();
    let grew = |b: u32, n: u32, factor: f64, min: u32| {
        f64::from(n) >= f64::from(b.max(1)) * factor && n >= b.saturating_add(min)
    };
    conf || grew(
        base.prefixes,
        now.prefixes,
        l.prefix_factor,
        l.prefix_min_growth,
    ) || grew(base.peers, now.peers, l.peer_factor, l.peer_min_growth)
}

/// The link to an event: the `link` template, or the event in the API.
pub fn link_for(cfg: &AlertConfig, e: &Event) -> String {
    let api = cfg
        .api
        .as_ref()
        .map(|a| a.url.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let kind = kind_of(e);
    match &cfg.link {
        Some(t) => {
            let mut f = template::Fields::new();
            f.insert("id", e.id().to_string());
            f.insert("kind", kind.as_str().to_string());
            f.insert("kind_plural", kind.plural().to_string());
            f.insert("api", api);
            template::render(t, &f)
        }
        None if !api.is_empty() => format!(
            "{api}/radar/bgp/{}/events?eventId={}",
            kind.plural(),
            e.id()
        ),
        None => String::new(),
    }
}

/// Decides the messages for one event state and adds them to `batch`.
/// `targets` lists channels that may get "new" (those whose watch matches
/// and whose cursor has not passed the event); channels that already got
/// "new" are considered for "escalated" and "resolved" regardless.
pub fn plan(
    cfg: &AlertConfig,
    db: &AlertDb,
    event: &Event,
    targets: &[NewTarget],
    batch: &mut Batch,
) -> Result<usize> {
    let key = event_key(event);
    let existing: BTreeSet<(String, String)> = db.stages(&key)?.into_iter().collect();
    let has = |ch: &str, st: Stage| existing.contains(&(ch.to_string(), st.as_str().to_string()));
    let link = link_for(cfg, event);
    let finished = event.finished();
    let now = Scope::of(event);
    let default_watch = targets.first().map(|t| t.watch.clone()).unwrap_or_default();
    let before = batch.rows.len();
    let mk = |stage: Stage, watch: &str, channel: &str| Notification {
        idempotency_key: idempotency_key(event, stage, channel),
        stage,
        watch: watch.to_string(),
        channel: channel.to_string(),
        link: link.clone(),
        event: event.clone(),
    };

    let mut planned_new: BTreeSet<String> = BTreeSet::new();
    for t in targets {
        for ch in &t.channels {
            if has(ch, Stage::New) || planned_new.contains(ch) {
                continue;
            }
            planned_new.insert(ch.clone());
            batch.rows.push(mk(Stage::New, &t.watch, ch));
            if finished && cfg.lifecycle.resolved {
                batch.rows.push(mk(Stage::Resolved, &t.watch, ch));
            }
        }
    }
    let base = match db.baseline(&key)? {
        Some(b) => Some(b),
        None if !planned_new.is_empty() => {
            batch.baselines.push((
                key.clone(),
                kind_of(event).as_str().to_string(),
                event.id(),
                now,
            ));
            None
        }
        None => None,
    };
    if !planned_new.is_empty() && finished {
        batch.closed.push(key.clone());
    }

    let notified: BTreeSet<&str> = existing
        .iter()
        .filter(|(_, s)| s == Stage::New.as_str())
        .map(|(c, _)| c.as_str())
        .collect();
    let known_channels: BTreeSet<&str> = cfg.channels.iter().map(|c| c.name()).collect();
    let mut touched = false;
    for ch in notified {
        if !known_channels.contains(ch) {
            continue; // channel removed from the config
        }
        if finished {
            if cfg.lifecycle.resolved && !has(ch, Stage::Resolved) {
                batch.rows.push(mk(Stage::Resolved, &default_watch, ch));
            }
            touched = true;
        } else if cfg.lifecycle.escalated
            && !has(ch, Stage::Escalated)
            && !has(ch, Stage::Resolved)
            && let Some(b) = base
            && escalated(b, now, &cfg.lifecycle)
        {
            batch.rows.push(mk(Stage::Escalated, &default_watch, ch));
        }
    }
    if touched && finished {
        batch.closed.push(key.clone());
    } else if base.is_some() {
        batch.checked.push(key);
    }
    Ok(batch.rows.len() - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let l = LifecycleConfig::default();
        let b = Scope {
            confidence: 4,
            prefixes: 1,
            peers: 10,
        };
        assert!(!escalated(b, b, &l));
        assert!(escalated(b, Scope { confidence: 8, ..b }, &l));
        assert!(!escalated(b, Scope { prefixes: 5, ..b }, &l));
        assert!(escalated(b, Scope { prefixes: 6, ..b }, &l));
        assert!(!escalated(b, Scope { peers: 19, ..b }, &l));
        assert!(escalated(b, Scope { peers: 20, ..b }, &l));
    }
}
