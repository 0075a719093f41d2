//! The facts the consent engine decides on. They are plain values, loaded by
//! the service, so every rule can be tested without a database.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::window::DateWindow;

// The words of a record's state and of a decision are the domain's (one spelling for serde, the
// contract and the database); the engine speaks them.
pub use crate::domain::words::{
    AccessBasis, AccessLevel, IdentityMode, Lifecycle, Role, Visibility,
};

/// Which CoCs an ROI releases the record to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoiScope {
    /// Every CoC of the installation.
    Statewide,
    /// Only these CoCs, by HUD code.
    Cocs(Vec<String>),
}

impl RoiScope {
    /// HUD codes are canonical upper-case text, so the match is exact.
    pub fn covers(&self, coc_code: &str) -> bool {
        match self {
            RoiScope::Statewide => true,
            RoiScope::Cocs(codes) => codes.iter().any(|c| c == coc_code),
        }
    }
}

/// One Release of Information on a record, past or present.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoiFacts {
    pub effective_from: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
    pub scope: RoiScope,
}

impl RoiFacts {
    /// `[effective_from, min(revoked_on, expires_on))`: whichever end comes
    /// first closes the consent.
    pub fn window(&self) -> DateWindow {
        let until = match (self.revoked_on, self.expires_on) {
            (Some(r), Some(e)) => Some(r.min(e)),
            (r, e) => r.or(e),
        };
        DateWindow::new(self.effective_from, until)
    }

    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.window().contains(today)
    }
}

/// The caller, as its token describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub agency_id: Option<Uuid>,
    /// The CoC of the viewer's agency.
    pub coc_code: Option<String>,
    pub agency_shares_data: bool,
    pub roles: Vec<Role>,
}

impl Viewer {
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    /// Whether the viewer acts for its agency: it holds a role that works with the agency's
    /// records (`case_worker`, `agency_admin`, `coc_admin`, `ce_assessor`). A token whose only
    /// role is `priority_list_reader` (an integration partner pulling the list) does not: it
    /// reads records through record rule row 8 alone, never as the creating, sharing or
    /// contributing agency, and the datum rule's row 1 (own agency's data) does not apply to it.
    pub fn acts_for_agency(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::CaseWorker | Role::AgencyAdmin | Role::CocAdmin | Role::CeAssessor
            )
        })
    }
}

/// Everything about a client record that the record rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFacts {
    pub creating_agency: Uuid,
    pub coc_code: String,
    pub visibility: Visibility,
    pub identity: IdentityMode,
    pub lifecycle: Lifecycle,
    pub rois: Vec<RoiFacts>,
    /// Agencies with at least one datum in the record (may include the creator).
    pub contributors: Vec<Uuid>,
    pub active_ce_enrollment: bool,
    /// From the record's CoC policy (Chicago's consent option B).
    pub locked_visible_to_ce_assessors: bool,
}

impl RecordFacts {
    /// The record as a priority list of `list_coc` judges it (consent.md: "The priority list and
    /// the CoC's own reports judge a record by the list's or report's CoC"): of that CoC, under
    /// its policy (`locked_visible_to_ce_assessors`). A record created in another CoC and listed
    /// here (an active CE stay here, an ROI covering this CoC) is the list's readers' as any
    /// other of the list (row 8), and its CoC admin's (row 7).
    pub fn on_list(&self, list_coc: &str, locked_visible_to_ce_assessors: bool) -> RecordFacts {
        RecordFacts {
            coc_code: list_coc.to_string(),
            locked_visible_to_ce_assessors,
            ..self.clone()
        }
    }
}

impl IdentityMode {
    /// Consent-refused and anonymous records hold no name, SSN or exact date of birth by
    /// construction (consent.md, record rule row 4).
    pub fn is_deidentified(&self) -> bool {
        matches!(self, IdentityMode::ConsentRefused | IdentityMode::Anonymous)
    }
}

impl RecordFacts {
    /// De-identified and `open`: shared at `limited` without an ROI (record rule row 4).
    pub fn deidentified_open(&self) -> bool {
        self.identity.is_deidentified() && self.visibility == Visibility::Open
    }
}

/// A kind of datum. Every kind but `Structured` is wholly PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatumKind {
    /// Coded fields (enrollments, exits, services, assessment answers) whose
    /// free-text parts are dropped at level `limited`.
    Structured,
    FreeText,
    Document,
    Contact,
}

/// The kind of every datum attached to a stay (services, assessments, CE events, current living
/// situations, case notes, refusals) for the datum rule: structured. Its date, its agency and its
/// codes are its non-PII part; its text (a case note's, a service's note, an assessment's text)
/// is its free text, shown at level `full` only. A case note is no exception: datum rule 4
/// ("every datum's non-PII part is visible; free text ... not") answers it at `limited` with its
/// date and agency and without its text, as it answers a service.
pub const STAY_DATUM_KIND: DatumKind = DatumKind::Structured;

/// Anything attached to a record, reduced to what the datum rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DatumFacts {
    pub entered_by_agency: Uuid,
    pub collected_on: NaiveDate,
    pub kind: DatumKind,
}

impl DatumFacts {
    /// A stay's exit (HUD 3.11, 3.12) as a datum of its own (consent.md, vocabulary: "exit").
    /// Only the agency that entered the stay exits it (a system administrator on its behalf,
    /// an ROI split for the granting agency's own stays, an import for the importing agency's
    /// stays), so the exit is entered by the stay's agency. Hearth keeps no collection day of
    /// an exit apart from its date (an imported Exit row's collection day is its `ExitDate`),
    /// so the exit is collected on its exit date.
    pub fn exit_of(stay_agency: Uuid, exit_date: NaiveDate) -> Self {
        DatumFacts {
            entered_by_agency: stay_agency,
            collected_on: exit_date,
            kind: DatumKind::Structured,
        }
    }
}

/// How much of one datum a viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatumAccess {
    Full,
    /// The structured part only, free text dropped. Never returned for a
    /// kind that is wholly PII (those are `Hidden` instead).
    NonPiiOnly,
    Hidden,
}
