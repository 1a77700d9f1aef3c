//! The baseline: which origins are *established* for which prefixes, so that
//! a new origin can be told from a normal one.
//!
//! Three sources, all ending in [`RoutingState`]'s established flag:
//!
//! * a prefix-to-AS table (RouteViews pfx2as or pyasn, see
//!   [`crate::bootstrap`]) — every listed origin is established;
//! * an MRT RIB dump given as a bootstrap — every origin of every RIB entry
//!   is established (the routes themselves are not kept: the dump's peers
//!   are not the replay's peers);
//! * learning — an origin continuously visible for `learn_secs` (default
//!   [`DEFAULT_LEARN_SECS`], 24 h) becomes established, for the life of the
//!   process. 24 h is long enough that a hijack noticed and fixed within a
//!   working day never becomes "normal", and short enough that a genuine
//!   re-homing stops alerting the next day.
//!
//! RIB entries that arrive *inside* the replayed stream (a RIB dump passed
//! as an input, `from_rib`) are routes of real peers: the detector keeps them
//! in the state and also establishes their origins.

use std::io::Read;

use ipnet::IpNet;

use super::state::RoutingState;
use crate::bootstrap::{BootstrapError, TableReport, read_table};
use crate::model::{RouteEvent, RouteMessage};

/// Default time of continuous visibility after which an origin is established.
pub const DEFAULT_LEARN_SECS: u32 = 86_400;

/// Establishes every (prefix, origin) of a prefix-to-AS table.
pub fn load_table<R: Read + Send + 'static>(
    state: &mut RoutingState,
    input: R,
) -> Result<TableReport, BootstrapError> {
    read_table(input, |p, origins| {
        for o in origins {
            state.establish(p, *o);
        }
    })
}

/// Establishes the origins a RIB message (or any announcement) carries;
/// returns how many (prefix, origin) pairs it named.
pub fn establish_message(state: &mut RoutingState, msg: &RouteMessage) -> usize {
    let RouteEvent::Update {
        announced,
        attrs: Some(attrs),
        ..
    } = &msg.event
    else {
        return 0;
    };
    let mut n = 0;
    for nlri in announced {
        for o in attrs.origins.iter() {
            state.establish(nlri.prefix, *o);
            n += 1;
        }
    }
    n
}

/// Establishes one (prefix, origin) pair.
pub fn establish(state: &mut RoutingState, prefix: IpNet, origin: crate::model::Asn) {
    state.establish(prefix, origin);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smallvec::smallvec;

    use super::*;
    use crate::model::{AsPath, Asn, Nlri, PathAttrs, PeerId, Timestamp};

    #[test]
    fn table_and_rib_messages_establish() {
        let mut st = RoutingState::new(DEFAULT_LEARN_SECS);
        let rep = load_table(&mut st, std::io::Cursor::new(b"10.0.0.0/8\t1_2\n".to_vec()))
            .expect("table");
        assert_eq!(rep.entries, 1);
        let t = Timestamp::from_secs(0);
        let p: IpNet = "10.0.0.0/8".parse().expect("p");
        assert_eq!(st.established_origins(p, t).to_vec(), vec![Asn(1), Asn(2)]);
        let msg = RouteMessage {
            ts: t,
            peer: PeerId(0),
            event: RouteEvent::Update {
                withdrawn: smallvec![],
                announced: smallvec![Nlri {
                    prefix: "192.0.2.0/24".parse().expect("p"),
                    path_id: None
                }],
                attrs: Some(Arc::new(PathAttrs::from_path(AsPath::from_sequence([
                    Asn(7),
                    Asn(9),
                ])))),
                from_rib: true,
            },
        };
        assert_eq!(establish_message(&mut st, &msg), 1);
        assert_eq!(
            st.established_origins("192.0.2.0/24".parse().expect("p"), t)
                .to_vec(),
            vec![Asn(9)]
        );
    }
}
