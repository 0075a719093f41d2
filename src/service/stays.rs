//! Project stays: enrollment (3.10, 3.15, 3.16, 3.917), exit (3.11, 3.12, 3.12.A), households.

use chrono::{NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::{
    decide_datum, decide_stay, AccessBasis, DatumAccess, DatumFacts, DatumKind, IdentityMode,
    StayAnswer,
};
use crate::domain::{check_code, destination_needs_subsidy, CocCode, HudList};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::clients as client_repo;
use crate::repo::stays::{self as repo, EnrollmentRow};
use crate::repo::tenants as tenants_repo;
use crate::repo::visible;
use crate::service::access::{decide, Decided};
use crate::service::context::Caller;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrollment {
    pub project_id: Uuid,
    /// HUD 3.10 Project Start Date: the first day the project served the client.
    pub entry_date: NaiveDate,
    /// HUD 3.15: 1 self (head of household), 2 child, 3 spouse or partner, 4 other relative,
    /// 5 unrelated member, 99.
    pub relationship_to_hoh: i16,
    /// Join this household (an existing enrollment's `household_id` in the same project);
    /// omit to start a new household, headed by this client.
    pub household_id: Option<Uuid>,
    /// HUD 3.16 Enrollment CoC (default: the project's CoC).
    pub enrollment_coc: Option<String>,
    /// HUD 3.917 Prior Living Situation.
    pub living_situation: Option<i16>,
    /// 3.917.2
    pub length_of_stay: Option<i16>,
    /// 0 no, 1 yes.
    pub los_under_threshold: Option<i16>,
    /// 0 no, 1 yes.
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    /// 3.917.4
    pub times_homeless_past_three_years: Option<i16>,
    /// 3.917.5
    pub months_homeless_past_three_years: Option<i16>,
    /// When the data was collected (default: entry_date). Other agencies see it only if this
    /// day falls in an ROI window.
    pub collected_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrollmentView {
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Uuid,
    pub household_id: Uuid,
    pub relationship_to_hoh: i16,
    /// Null when the entry is withheld.
    pub entry_date: Option<NaiveDate>,
    pub exit_date: Option<NaiveDate>,
    pub destination: Option<i16>,
    pub destination_subsidy_type: Option<i16>,
    pub enrollment_coc: Option<String>,
    pub living_situation: Option<i16>,
    pub length_of_stay: Option<i16>,
    pub los_under_threshold: Option<i16>,
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    pub times_homeless_past_three_years: Option<i16>,
    pub months_homeless_past_three_years: Option<i16>,
    /// Set on stays re-created by an ROI split: the project's entry assessment is due again.
    pub entry_assessment_required: bool,
    pub entered_by_agency_id: Uuid,
    pub entered_by_your_agency: bool,
    /// Null when the entry is withheld.
    pub collected_on: Option<NaiveDate>,
    /// Datum rule 6: the stay began outside every ROI window that releases it to you, but data
    /// of it is released; it is answered as a continuation, its entry's own fields (start date,
    /// prior living situation, entry assessment) withheld.
    pub entry_withheld: bool,
    /// The stay has an exit, but the datum rule withholds it from you (the exit is a datum of
    /// its own, collected on its exit date: consent.md, datum rule 3): `exit_date`,
    /// `destination` and `destination_subsidy_type` are null.
    pub exit_withheld: bool,
    #[serde(skip)]
    pub version: i32,
}

pub fn enrollment_view(r: &EnrollmentRow, caller: &Caller) -> EnrollmentView {
    EnrollmentView {
        id: r.id,
        client_id: r.client_id,
        project_id: r.project_id,
        household_id: r.household_id,
        relationship_to_hoh: r.relationship_to_hoh,
        entry_date: Some(r.entry_date),
        exit_date: r.exit_date,
        destination: r.destination,
        destination_subsidy_type: r.destination_subsidy_type,
        enrollment_coc: r.enrollment_coc.clone(),
        living_situation: r.living_situation,
        length_of_stay: r.length_of_stay,
        los_under_threshold: r.los_under_threshold,
        previous_street_essh: r.previous_street_essh,
        date_to_street_essh: r.date_to_street_essh,
        times_homeless_past_three_years: r.times_homeless_past_three_years,
        months_homeless_past_three_years: r.months_homeless_past_three_years,
        entry_assessment_required: r.entry_assessment_required,
        entered_by_agency_id: r.entered_by_agency,
        entered_by_your_agency: caller.principal.agency_id == Some(r.entered_by_agency),
        collected_on: Some(r.collected_on),
        entry_withheld: false,
        exit_withheld: false,
        version: r.version,
    }
}

/// The stay as the datum rule answers it to the caller: as a continuation (datum rule 6: its
/// entry's own fields withheld) or with its entry, and without its exit when `exit_shown` is
/// false.
pub fn stay_view(
    r: &EnrollmentRow,
    caller: &Caller,
    continuation: bool,
    exit_shown: bool,
) -> EnrollmentView {
    let view = if continuation {
        continuation_view(r, caller)
    } else {
        enrollment_view(r, caller)
    };
    if exit_shown || r.exit_date.is_none() {
        return view;
    }
    EnrollmentView {
        exit_date: None,
        destination: None,
        destination_subsidy_type: None,
        exit_withheld: true,
        ..view
    }
}

/// The stay as a continuation (datum rule 6): its entry's own fields withheld.
fn continuation_view(r: &EnrollmentRow, caller: &Caller) -> EnrollmentView {
    EnrollmentView {
        entry_date: None,
        enrollment_coc: None,
        living_situation: None,
        length_of_stay: None,
        los_under_threshold: None,
        previous_street_essh: None,
        date_to_street_essh: None,
        times_homeless_past_three_years: None,
        months_homeless_past_three_years: None,
        entry_assessment_required: false,
        collected_on: None,
        entry_withheld: true,
        ..enrollment_view(r, caller)
    }
}

/// An agency's first datum in a record makes it a contributor.
pub fn note_contribution(
    conn: &mut PgConnection,
    client: Uuid,
    agency: Uuid,
    changes: &mut Vec<String>,
) -> AppResult<()> {
    if client_repo::add_contributor(conn, client, agency)? {
        changes.push(contribution_change(conn, client)?);
    }
    Ok(())
}

/// What a first contribution says: the agency is a contributor, and whether that shares the
/// record with it now (`consent::contribution_shares`: not while the record is locked or
/// private).
pub fn contribution_change(conn: &mut PgConnection, client: Uuid) -> AppResult<String> {
    let visibility = client_repo::lock(conn, client)?.map(|r| r.visibility);
    Ok(match visibility {
        Some(v) if !crate::consent::contribution_shares(v) => format!(
            "Your agency is recorded as a contributor to this record. While it is {}, that gives              your agency no access to it; it does once the client chooses closed or open.",
            v.as_str()
        ),
        _ => "Your agency is now a contributor to this record.".into(),
    })
}

fn code(list: HudList, field: &'static str, v: Option<i16>, errs: &mut Vec<FieldError>) {
    if let Some(v) = v {
        if let Err(e) = check_code(list, field, v as i32) {
            errs.push(FieldError::new(field, e.code, e.message));
        }
    }
}

/// The date checks every datum shares: not in the future, not absurdly old.
pub fn check_date(field: &str, d: NaiveDate, today: NaiveDate, errs: &mut Vec<FieldError>) {
    if d > today {
        errs.push(FieldError::new(
            field,
            "in_future",
            format!("{field} cannot be in the future."),
        ));
    } else if d < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(d) {
        errs.push(FieldError::new(
            field,
            "out_of_range",
            format!("{field} is too early."),
        ));
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrollmentWrite {
    pub enrollment: EnrollmentView,
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
}

pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    input: NewEnrollment,
) -> AppResult<EnrollmentWrite> {
    let agency = crate::service::clients::require_agency(caller, "Enrolling a client")?;
    conn.transaction(|conn| {
        client_repo::lock(conn, client)?;
        let d = decide(conn, caller, client)?;
        d.require_contributable()?;
        let (project, project_agency) = tenants_repo::find_project(conn, input.project_id)?
            .ok_or_else(|| AppError::validation("project_id", "unknown_project", "No project has this id."))?;
        let own = tenants_repo::find_agency(conn, agency)?
            .ok_or_else(|| AppError::Forbidden("The token's agency is not known to Hearth.".into()))?;
        let is_ce = project.project_type == 14;
        crate::consent::ce::may_enroll(&crate::consent::ce::EnrollmentScene {
            agency,
            agency_coc: own.coc_code.to_string(),
            agency_participates_in_ce: own.participates_in_ce,
            project_agency: project_agency.id,
            project_coc: project_agency.coc_code.to_string(),
            project_is_ce: is_ce,
            ce_entry_point: project.ce_entry_point,
        })
        .map_err(|m| AppError::Forbidden(m.into()))?;
        if is_ce && d.facts.visibility == crate::consent::Visibility::Private {
            return Err(AppError::conflict(
                "private-record-in-ce",
                "A private record cannot be enrolled in Coordinated Entry: CE needs the agencies in the process to see the record.",
            ));
        }
        let mut errs = Vec::new();
        check_date("entry_date", input.entry_date, caller.today, &mut errs);
        if let Some(c) = input.collected_on {
            check_date("collected_on", c, caller.today, &mut errs);
        }
        code(HudList::RelationshipToHoH, "relationship_to_hoh", Some(input.relationship_to_hoh), &mut errs);
        code(HudList::LivingSituation, "living_situation", input.living_situation, &mut errs);
        code(HudList::LengthOfStay, "length_of_stay", input.length_of_stay, &mut errs);
        code(HudList::TimesHomelessPastThreeYears, "times_homeless_past_three_years", input.times_homeless_past_three_years, &mut errs);
        code(HudList::MonthsHomelessPastThreeYears, "months_homeless_past_three_years", input.months_homeless_past_three_years, &mut errs);
        for (field, v) in [("los_under_threshold", input.los_under_threshold), ("previous_street_essh", input.previous_street_essh)] {
            if v.is_some_and(|v| !(0..=1).contains(&v)) {
                errs.push(FieldError::new(field, "code_not_in_list", format!("{field} is 0 (no) or 1 (yes).")));
            }
        }
        if let Some(d2) = input.date_to_street_essh {
            if d2 > input.entry_date {
                errs.push(FieldError::new("date_to_street_essh", "after_entry", "date_to_street_essh is on or before entry_date."));
            }
        }
        let enrollment_coc = match &input.enrollment_coc {
            None => Some(project_agency.coc_code.to_string()),
            Some(c) => match CocCode::parse(c) {
                Ok(c) if tenants_repo::find_coc(conn, c.as_str())?.is_some() => Some(c.as_str().to_string()),
                Ok(_) => {
                    errs.push(FieldError::new("enrollment_coc", "unknown_coc", "No CoC has this code."));
                    None
                }
                Err(e) => {
                    errs.push(FieldError::new("enrollment_coc", e.code, e.message));
                    None
                }
            },
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let household_id = match input.household_id {
            None => {
                if input.relationship_to_hoh != 1 {
                    return Err(AppError::validation(
                        "relationship_to_hoh",
                        "household_needs_head",
                        "A new household starts with its head (relationship_to_hoh 1); send household_id to join one.",
                    ));
                }
                Uuid::now_v7()
            }
            Some(h) => {
                check_household_join(conn, h, project.id, client, d.facts.identity, input.relationship_to_hoh)?;
                h
            }
        };
        let now = Utc::now();
        let row = EnrollmentRow {
            id: Uuid::now_v7(),
            client_id: client,
            project_id: project.id,
            household_id,
            relationship_to_hoh: input.relationship_to_hoh,
            entry_date: input.entry_date,
            exit_date: None,
            destination: None,
            destination_subsidy_type: None,
            enrollment_coc,
            living_situation: input.living_situation,
            length_of_stay: input.length_of_stay,
            los_under_threshold: input.los_under_threshold,
            previous_street_essh: input.previous_street_essh,
            date_to_street_essh: input.date_to_street_essh,
            times_homeless_past_three_years: input.times_homeless_past_three_years,
            months_homeless_past_three_years: input.months_homeless_past_three_years,
            entry_assessment_required: false,
            entered_by_agency: agency,
            entered_by_user: caller.principal.sub.clone(),
            collected_on: input.collected_on.unwrap_or(input.entry_date),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let row = repo::insert_enrollment(conn, &row)?;
        let mut changes = vec![format!("Enrolled in project {} from {}.", project.id, row.entry_date)];
        note_contribution(conn, client, agency, &mut changes)?;
        caller.audit(conn, Some(client), "enrollment_created", d.decision.basis, Some(serde_json::json!({"enrollment_id": row.id})))?;
        Ok(EnrollmentWrite { enrollment: enrollment_view(&row, caller), changes, warnings: vec![] })
    })
}

/// Joining a household: same project, one head, one stay per member, and no mixing of
/// anonymous and identified members (anonymize job aid).
fn check_household_join(
    conn: &mut PgConnection,
    household: Uuid,
    project: Uuid,
    client: Uuid,
    mode: IdentityMode,
    relationship: i16,
) -> AppResult<()> {
    let members = repo::household(conn, household)?;
    let open: Vec<&EnrollmentRow> = members.iter().filter(|m| m.exit_date.is_none()).collect();
    // A household of another project (another agency's, perhaps) answers exactly as an unknown
    // id: a household id confirms nothing about stays the caller may not see.
    if open.is_empty() || open.iter().any(|m| m.project_id != project) {
        return Err(AppError::validation(
            "household_id",
            "unknown_household",
            "No open household of this project has this id.",
        ));
    }
    if open.iter().any(|m| m.client_id == client) {
        return Err(AppError::conflict(
            "already-in-household",
            "The client already has an open stay in this household.",
        ));
    }
    if relationship == 1 && open.iter().any(|m| m.relationship_to_hoh == 1) {
        return Err(AppError::validation(
            "relationship_to_hoh",
            "household_has_head",
            "The household already has a head; a household has exactly one.",
        ));
    }
    let ids: Vec<Uuid> = open.iter().map(|m| m.client_id).collect();
    let modes = client_repo::identity_modes_of(conn, &ids)?;
    let has_anonymous = modes.contains(&IdentityMode::Anonymous);
    let all_anonymous = modes.iter().all(|m| *m == IdentityMode::Anonymous);
    if (mode == IdentityMode::Anonymous && !all_anonymous)
        || (mode != IdentityMode::Anonymous && has_anonymous)
    {
        return Err(AppError::validation(
            "household_id",
            "anonymous_household",
            "A household that holds an anonymous member holds only anonymous members.",
        ));
    }
    Ok(())
}

/// A stay the caller may see, with the record's decision and the stay's datum access.
pub struct Stay {
    pub record: Decided,
    pub row: EnrollmentRow,
    /// The entry's access; `Hidden` for a continuation.
    pub access: DatumAccess,
    /// Datum rule 6: reached through its data, the entry withheld.
    pub continuation: bool,
    /// The exit's access; `Hidden` when the stay has no exit or the exit is withheld.
    pub exit: DatumAccess,
}

pub fn load_stay(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    lock: bool,
) -> AppResult<Stay> {
    let (row, record) = if lock {
        // A write: the record's row lock first (in the order a merge or split takes its locks:
        // the record, then its stays), then the stay's. A stay a merge or split moved meanwhile
        // is decided on the record it was found on, now merged or superseded (409).
        let client = repo::find_enrollment(conn, id)?
            .ok_or(AppError::NotFound)?
            .client_id;
        let record = crate::service::access::decide_locked(conn, caller, client)?;
        let row = repo::lock_enrollment(conn, id)?.ok_or(AppError::NotFound)?;
        (row, record)
    } else {
        let row = repo::find_enrollment(conn, id)?.ok_or(AppError::NotFound)?;
        let record = decide(conn, caller, row.client_id)?;
        (row, record)
    };
    let datum = DatumFacts {
        entered_by_agency: row.entered_by_agency,
        collected_on: row.collected_on,
        kind: DatumKind::Structured,
    };
    // The exit is a datum of its own (consent.md, vocabulary).
    let exit = row
        .exit_date
        .map(|x| DatumFacts::exit_of(row.entered_by_agency, x));
    let answer = match decide_datum(&record.viewer, &record.decision, &record.facts, &datum) {
        DatumAccess::Hidden => {
            // Datum rule 6 looks at the stay's data only when its entry is withheld.
            let mut data: Vec<DatumFacts> = repo::stay_data_facts(conn, row.id)?
                .into_iter()
                .map(|(entered_by_agency, collected_on, _kind)| DatumFacts {
                    entered_by_agency,
                    collected_on,
                    kind: crate::consent::STAY_DATUM_KIND,
                })
                .collect();
            // The rows an HMIS CSV import kept of the stay are its data too.
            data.extend(repo::kept_facts_of(conn, row.id)?.into_iter().map(
                |(entered_by_agency, collected_on, file, disability)| DatumFacts {
                    entered_by_agency,
                    collected_on: collected_on.unwrap_or(row.entry_date),
                    kind: crate::consent::kept_rows::kept_row_kind(&file, disability.as_deref()),
                },
            ));
            decide_stay(
                &record.viewer,
                &record.decision,
                &record.facts,
                &datum,
                exit.as_ref(),
                &data,
            )
        }
        _ => decide_stay(
            &record.viewer,
            &record.decision,
            &record.facts,
            &datum,
            exit.as_ref(),
            &[],
        ),
    };
    let (access, continuation) = match answer.answer {
        StayAnswer::Entry(a) => (a, false),
        StayAnswer::Continuation => (DatumAccess::Hidden, true),
        StayAnswer::Hidden => return Err(AppError::NotFound),
    };
    Ok(Stay {
        record,
        row,
        access,
        continuation,
        exit: answer.exit,
    })
}

impl Stay {
    /// Data is added to a stay by callers with full access to the record and the stay.
    pub fn require_writable(&self) -> AppResult<()> {
        self.record.require_contributable()?;
        let deidentified = self.record.decision.basis == Some(AccessBasis::Deidentified);
        // A stay whose exit is withheld from the caller is not whole to it either.
        let exit_withheld = self.row.exit_date.is_some() && self.exit == DatumAccess::Hidden;
        if self.continuation || exit_withheld || (self.access != DatumAccess::Full && !deidentified)
        {
            return Err(AppError::Forbidden(
                "Your access to this stay is limited; you cannot add to it.".into(),
            ));
        }
        Ok(())
    }
}

impl Stay {
    /// Exiting the stay: as adding to it, except that the agency that entered it may exit it on
    /// a superseded record too (closing out its own stay is no new data).
    pub fn require_exitable(&self) -> AppResult<()> {
        if !crate::consent::acts_for(&self.record.viewer, self.row.entered_by_agency) {
            return self.require_writable();
        }
        self.record.require_exit_of_own_stay()?;
        let exit_withheld = self.row.exit_date.is_some() && self.exit == DatumAccess::Hidden;
        if self.continuation || exit_withheld {
            return Err(AppError::Forbidden(
                "Your access to this stay is limited; you cannot add to it.".into(),
            ));
        }
        Ok(())
    }
}

pub fn get(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> AppResult<EnrollmentView> {
    let stay = load_stay(conn, caller, id, false)?;
    if stay.record.decision.level == crate::consent::AccessLevel::Full {
        caller.audit(
            conn,
            Some(stay.row.client_id),
            "enrollment_read",
            stay.record.decision.basis,
            Some(serde_json::json!({"enrollment_id": id})),
        )?;
    }
    Ok(stay_view(
        &stay.row,
        caller,
        stay.continuation,
        stay.exit != DatumAccess::Hidden,
    ))
}

pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
) -> AppResult<Vec<EnrollmentView>> {
    let d = decide(conn, caller, client)?;
    let rows = visible::enrollments_of(conn, &d.viewer, caller.today, client)?;
    if d.decision.level == crate::consent::AccessLevel::Full && !rows.is_empty() {
        caller.audit(
            conn,
            Some(client),
            "enrollments_read",
            d.decision.basis,
            None,
        )?;
    }
    Ok(rows
        .iter()
        .map(|v| {
            stay_view(
                &v.row,
                caller,
                v.entry_access.is_none(),
                v.exit_access.is_some(),
            )
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitStay {
    /// HUD 3.11 Project Exit Date: on or after the entry date, not in the future.
    pub exit_date: NaiveDate,
    /// HUD 3.12 Destination.
    pub destination: i16,
    /// HUD 3.12.A, required when destination is 435.
    pub destination_subsidy_type: Option<i16>,
}

/// Exits a stay (the agency that enrolled the client).
pub fn exit(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    input: ExitStay,
) -> AppResult<EnrollmentWrite> {
    conn.transaction(|conn| {
        let stay = load_stay(conn, caller, id, true)?;
        stay.require_exitable()?;
        if !crate::consent::acts_for(&stay.record.viewer, stay.row.entered_by_agency) {
            return Err(AppError::Forbidden("Only the agency that enrolled the client exits the stay.".into()));
        }
        if stay.row.exit_date.is_some() {
            return Err(AppError::conflict("already-exited", "This stay already has an exit."));
        }
        let mut errs = Vec::new();
        if input.exit_date < stay.row.entry_date {
            errs.push(FieldError::new("exit_date", "exit_before_entry", "exit_date is on or after the stay's entry_date."));
        }
        check_date("exit_date", input.exit_date, caller.today, &mut errs);
        code(HudList::Destination, "destination", Some(input.destination), &mut errs);
        match (destination_needs_subsidy(input.destination as i32), input.destination_subsidy_type) {
            (true, None) => errs.push(FieldError::new(
                "destination_subsidy_type",
                "required",
                "Destination 435 (rental with ongoing subsidy) needs destination_subsidy_type (3.12.A).",
            )),
            (true, s) => code(HudList::RentalSubsidyType, "destination_subsidy_type", s, &mut errs),
            (false, Some(_)) => errs.push(FieldError::new(
                "destination_subsidy_type",
                "not_applicable",
                "destination_subsidy_type goes only with destination 435.",
            )),
            (false, None) => {}
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let mut row = stay.row.clone();
        row.exit_date = Some(input.exit_date);
        row.destination = Some(input.destination);
        row.destination_subsidy_type = input.destination_subsidy_type;
        let row = repo::update_enrollment(conn, &row)?;
        let mut changes = vec![format!("Exited on {} to destination {}.", input.exit_date, input.destination)];
        let mut warnings = Vec::new();
        if let Some(agency) = caller.principal.agency_id {
            note_contribution(conn, row.client_id, agency, &mut changes)?;
        }
        if row.relationship_to_hoh == 1 {
            let others = repo::household(conn, row.household_id)?
                .into_iter()
                .filter(|m| m.id != row.id && m.exit_date.is_none())
                .count();
            if others > 0 {
                warnings.push(format!("{others} other household member(s) still have open stays; exit them or name a new head."));
            }
        }
        caller.audit(conn, Some(row.client_id), "enrollment_exited", stay.record.decision.basis, Some(serde_json::json!({"enrollment_id": row.id})))?;
        Ok(EnrollmentWrite { enrollment: enrollment_view(&row, caller), changes, warnings })
    })
}

/// Takes a member out of its household (Spokane: members fleeing domestic violence): the stay
/// gets a household of its own, headed by the member.
pub fn remove_from_household(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<EnrollmentWrite> {
    conn.transaction(|conn| {
        let stay = load_stay(conn, caller, id, true)?;
        stay.require_writable()?;
        if !crate::consent::acts_for(&stay.record.viewer, stay.row.entered_by_agency) {
            return Err(AppError::Forbidden("Only the agency that enrolled the client changes its household.".into()));
        }
        let others: Vec<EnrollmentRow> = repo::household(conn, stay.row.household_id)?
            .into_iter()
            .filter(|m| m.id != stay.row.id && m.exit_date.is_none())
            .collect();
        if others.is_empty() {
            return Err(AppError::conflict("alone-in-household", "The stay is the only open one in its household."));
        }
        if stay.row.relationship_to_hoh == 1 {
            return Err(AppError::conflict(
                "head-of-household",
                "The head of household cannot leave while others remain; remove the other members instead.",
            ));
        }
        let mut row = stay.row.clone();
        row.household_id = Uuid::now_v7();
        row.relationship_to_hoh = 1;
        let row = repo::update_enrollment(conn, &row)?;
        let changes = vec!["Removed from the household; the stay now heads a household of its own.".to_string()];
        caller.audit(conn, Some(row.client_id), "household_member_removed", stay.record.decision.basis, Some(serde_json::json!({"enrollment_id": row.id})))?;
        Ok(EnrollmentWrite { enrollment: enrollment_view(&row, caller), changes, warnings: vec![] })
    })
}
