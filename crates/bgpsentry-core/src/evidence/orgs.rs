//! Who runs an AS: organisation, AS name and country, from CAIDA as2org and
//! AS-name lists. Fills `asn_info` in the API and decides whether two
//! origins are siblings (same organisation), which Radar scores with
//! `asrel_sibling_origins` and the leak detector uses to stay quiet.
//! Loading is in [`super::orgs_load`].

use std::collections::HashMap;

use crate::model::Asn;

/// One organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: Box<str>,
    pub name: Box<str>,
    /// ISO 3166 alpha-2 as registered, e.g. `US`; may be empty.
    pub country: Box<str>,
}

#[derive(Debug, Clone, Default)]
struct AsEntry {
    name: Option<Box<str>>,
    /// Country from an AS-name list, used when the org has none.
    country: Option<Box<str>>,
    org: Option<u32>,
}

/// AS → organisation table.
#[derive(Debug, Clone, Default)]
pub struct OrgTable {
    asns: HashMap<Asn, AsEntry>,
    orgs: Vec<Org>,
    org_index: HashMap<Box<str>, u32>,
}

impl OrgTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add or update an organisation.
    pub fn insert_org(&mut self, id: &str, name: &str, country: &str) {
        let org = Org {
            id: id.into(),
            name: name.into(),
            country: country.trim().into(),
        };
        match self.org_index.get(id) {
            Some(&i) => {
                if let Some(slot) = self.orgs.get_mut(i as usize) {
                    *slot = org;
                }
            }
            None => {
                self.org_index.insert(id.into(), self.orgs.len() as u32);
                self.orgs.push(org);
            }
        }
    }

    /// Record that `asn` belongs to organisation `org_id` (which may be
    /// inserted before or after) and optionally its AS name.
    pub fn insert_asn(&mut self, asn: Asn, org_id: &str, name: Option<&str>) {
        let idx = match self.org_index.get(org_id) {
            Some(&i) => i,
            None => {
                // Placeholder until the organisation record arrives.
                let i = self.orgs.len() as u32;
                self.org_index.insert(org_id.into(), i);
                self.orgs.push(Org {
                    id: org_id.into(),
                    name: "".into(),
                    country: "".into(),
                });
                i
            }
        };
        let e = self.asns.entry(asn).or_default();
        e.org = Some(idx);
        if let Some(n) = name.filter(|n| !n.is_empty())
            && e.name.is_none()
        {
            e.name = Some(n.into());
        }
    }

    /// Set the AS name (and country, if the name list carries one). Names
    /// from an AS-name list replace as2org's short handles.
    pub fn insert_name(&mut self, asn: Asn, name: &str, country: Option<&str>) {
        let e = self.asns.entry(asn).or_default();
        if !name.is_empty() {
            e.name = Some(name.into());
        }
        if let Some(c) = country.filter(|c| !c.is_empty()) {
            e.country = Some(c.into());
        }
    }

    fn org_of(&self, a: Asn) -> Option<&Org> {
        let i = self.asns.get(&a)?.org?;
        self.orgs.get(i as usize)
    }

    /// Registered country of the AS's organisation (or of its AS-name entry).
    pub fn country(&self, a: Asn) -> Option<&str> {
        if let Some(o) = self.org_of(a).filter(|o| !o.country.is_empty()) {
            return Some(&o.country);
        }
        self.asns.get(&a)?.country.as_deref()
    }

    /// AS name (`YOUTUBE - YouTube, Inc.` or the as2org handle `YOUTUBE`).
    pub fn name(&self, a: Asn) -> Option<&str> {
        self.asns.get(&a)?.name.as_deref()
    }

    /// Every ASN with an entry (organisation or name), unordered.
    pub fn asns(&self) -> impl Iterator<Item = Asn> + '_ {
        self.asns.keys().copied()
    }

    /// Organisation id, e.g. `YOUTU-ARIN`.
    pub fn org_id(&self, a: Asn) -> Option<&str> {
        self.org_of(a).map(|o| &*o.id)
    }

    /// Organisation name, e.g. `YouTube, Inc.`.
    pub fn org_name(&self, a: Asn) -> Option<&str> {
        self.org_of(a).map(|o| &*o.name).filter(|n| !n.is_empty())
    }

    /// True if two different ASes belong to the same organisation.
    pub fn siblings(&self, a: Asn, b: Asn) -> bool {
        if a == b {
            return false;
        }
        match (
            self.asns.get(&a).and_then(|e| e.org),
            self.asns.get(&b).and_then(|e| e.org),
        ) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// Number of ASes known.
    pub fn len(&self) -> usize {
        self.asns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// Number of organisations known.
    pub fn org_count(&self) -> usize {
        self.orgs.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn siblings_and_countries() {
        let mut t = OrgTable::new();
        t.insert_asn(Asn(701), "MCI-ARIN", Some("UUNET"));
        t.insert_asn(Asn(702), "MCI-ARIN", Some("AS702"));
        t.insert_org("MCI-ARIN", "MCI Communications", "US");
        t.insert_name(Asn(17557), "PKTELECOM-AS-AP Pakistan Telecom", Some("PK"));
        assert!(t.siblings(Asn(701), Asn(702)));
        assert!(!t.siblings(Asn(701), Asn(701)));
        assert!(!t.siblings(Asn(701), Asn(17557)));
        assert_eq!(t.country(Asn(702)), Some("US"));
        assert_eq!(t.country(Asn(17557)), Some("PK"));
        assert_eq!(t.org_name(Asn(701)), Some("MCI Communications"));
        assert_eq!(t.name(Asn(701)), Some("UUNET"));
        assert_eq!(t.org_id(Asn(17557)), None);
    }
}
