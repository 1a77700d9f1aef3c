//! Customer cones for the leak evidence: the ASes an AS reaches by going
//! only down provider → customer edges (itself included). A leaker that
//! hands a provider or a peer routes whose origins are outside its cone is
//! passing on routes it had no business exporting; origins inside the cone
//! point rather at a wrong relationship (the "provider" it got them from is
//! really a customer) or at a customer's selective announcement.
//!
//! Built lazily from [`AsKnowledge::p2c_edges`] (edges below the check's
//! confidence threshold are left out), one breadth-first walk per leaker,
//! cached. Walks stop at [`MAX_CONE`] ASes: such a cone is "large" and
//! answers `None` (no evidence either way) for ASes it did not reach.

use crate::fasthash::{HashMap, HashMapExt, HashSet};

use super::knowledge::AsKnowledge;
use crate::model::Asn;

/// The largest cone walked to the end.
pub const MAX_CONE: usize = 20_000;

/// One AS's cone: the members and whether the walk was cut short.
#[derive(Debug, Default)]
struct Cone {
    members: HashSet<Asn>,
    truncated: bool,
}

/// Lazily computed customer cones.
#[derive(Debug, Default)]
pub struct Cones {
    customers: Option<HashMap<Asn, Vec<Asn>>>,
    cones: HashMap<Asn, Cone>,
}

impl Cones {
    /// Nothing computed yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn customers(&mut self, k: &dyn AsKnowledge, min_confidence: f32) -> &HashMap<Asn, Vec<Asn>> {
        self.customers.get_or_insert_with(|| {
            let mut m: HashMap<Asn, Vec<Asn>> = HashMap::new();
            for (p, c, conf) in k.p2c_edges() {
                if conf >= min_confidence {
                    m.entry(p).or_default().push(c);
                }
            }
            m
        })
    }

    /// The number of ASes in `a`'s cone (itself included; [`MAX_CONE`] when
    /// the walk was cut short), `None` when the knowledge has no edges.
    pub fn size(&mut self, k: &dyn AsKnowledge, min_confidence: f32, a: Asn) -> Option<usize> {
        self.cone(k, min_confidence, a).map(|c| c.members.len())
    }

    fn cone(&mut self, k: &dyn AsKnowledge, min_confidence: f32, a: Asn) -> Option<&Cone> {
        if !self.cones.contains_key(&a) {
            let customers = self.customers(k, min_confidence);
            if customers.is_empty() {
                return None;
            }
            let cone = walk(customers, a);
            self.cones.insert(a, cone);
        }
        self.cones.get(&a)
    }

    /// How many of `origins` are outside `leaker`'s cone, out of how many
    /// could be judged (`None` when the knowledge has no edges at all).
    pub fn outside(
        &mut self,
        k: &dyn AsKnowledge,
        min_confidence: f32,
        leaker: Asn,
        origins: &[Asn],
    ) -> Option<(usize, usize)> {
        let cone = self.cone(k, min_confidence, leaker)?;
        let (mut out, mut judged) = (0, 0);
        for o in origins {
            if cone.members.contains(o) {
                judged += 1;
            } else if !cone.truncated {
                judged += 1;
                out += 1;
            }
        }
        Some((out, judged))
    }
}

fn walk(customers: &HashMap<Asn, Vec<Asn>>, root: Asn) -> Cone {
    let mut members: HashSet<Asn> = [root].into_iter().collect();
    let mut todo = vec![root];
    while let Some(a) = todo.pop() {
        for c in customers.get(&a).map(Vec::as_slice).unwrap_or(&[]) {
            if members.len() >= MAX_CONE {
                return Cone {
                    members,
                    truncated: true,
                };
            }
            if members.insert(*c) {
                todo.push(*c);
            }
        }
    }
    Cone {
        members,
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::knowledge::RelTable;
    use super::*;

    #[test]
    fn cone_follows_customer_edges_only() {
        let mut t = RelTable::new();
        t.p2c(1, 2).p2c(2, 3).p2p(3, 4).p2c(5, 1);
        let mut c = Cones::new();
        let o = |a: &[u32]| a.iter().map(|x| Asn(*x)).collect::<Vec<_>>();
        assert_eq!(c.outside(&t, 0.6, Asn(1), &o(&[2, 3])), Some((0, 2)));
        assert_eq!(c.outside(&t, 0.6, Asn(1), &o(&[4, 5, 1])), Some((2, 3)));
        assert_eq!(c.outside(&t, 0.6, Asn(3), &o(&[2])), Some((1, 1)));
        assert_eq!(c.size(&t, 0.6, Asn(5)), Some(4));
        assert_eq!(c.size(&t, 0.6, Asn(4)), Some(1));
        assert_eq!(
            Cones::new().outside(&RelTable::new(), 0.6, Asn(3), &o(&[2])),
            None
        );
    }
}
