//! The poll schedule: a standard five-field crontab expression in UTC
//! (`*/5 * * * *`, as in the seed's wrangler config), via `croner`.

use chrono::{DateTime, Utc};

use super::{AlertError, Result};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
}

impl Schedule {
    /// Parses five fields (minute hour day-of-month month day-of-week).
    pub fn parse(expr: &str) -> Result<Self> {
        let fields = expr.split_whitespace().count();
        if fields != 5 {
            return Err(AlertError::Config(format!(
                "schedule.cron {expr:?}: need 5 fields (minute hour day month weekday), got {fields}"
            )));
        }
        let cron = expr
            .parse::<croner::Cron>()
            .map_err(|e| AlertError::Config(format!("schedule.cron {expr:?}: {e}")))?;
        Ok(Schedule { cron })
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields() {
        let s = Schedule::parse("*/5 * * * *").expect("parse");
        let t = DateTime::parse_from_rfc3339("2024-01-01T10:02:30Z")
            .expect("t")
            .with_timezone(&Utc);
        let n = s.next_after(t).expect("next");
        assert_eq!(n.to_rfc3339(), "2024-01-01T10:05:00+00:00");
        assert!(Schedule::parse("0 */5 * * * *").is_err());
        assert!(Schedule::parse("nonsense").is_err());
    }
}
