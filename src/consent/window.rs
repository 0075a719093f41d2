//! The one closed date window of the consent rules: `from <= d < until`, an
//! open end meaning indefinite. ROI activity and the datum rule both go
//! through this type, so their edges can never disagree.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Half-open window `[from, until)`; `until == None` never ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateWindow {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl DateWindow {
    pub fn new(from: NaiveDate, until: Option<NaiveDate>) -> Self {
        Self { from, until }
    }

    /// The first date is in, the end date is out: a consent revoked on a day
    /// no longer covers that day.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && self.until.is_none_or(|u| d < u)
    }

    /// True when no date lies inside, e.g. an ROI revoked before it took effect.
    pub fn is_empty(&self) -> bool {
        self.until.is_some_and(|u| u <= self.from)
    }
}
