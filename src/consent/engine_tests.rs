use chrono::NaiveDate;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::consent::model::{
    AccessBasis as B, AccessLevel as L, IdentityMode, Lifecycle, RecordFacts, RoiFacts, RoiScope,
    Role, Viewer, Visibility as V,
};
use crate::consent::window::DateWindow;

const CREATOR: u128 = 1;
const CONTRIB: u128 = 2;
const OTHER: u128 = 3;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn ag(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn today() -> NaiveDate {
    d("2024-06-01")
}

/// An ROI; an empty date means "not set".
fn roi(from: &str, expires: &str, revoked: &str, scope: RoiScope) -> RoiFacts {
    let opt = |s: &str| (!s.is_empty()).then(|| d(s));
    let (expires_on, revoked_on) = (opt(expires), opt(revoked));
    RoiFacts {
        effective_from: d(from),
        expires_on,
        revoked_on,
        scope,
    }
}

const SW: RoiScope = RoiScope::Statewide;

fn statewide(from: &str) -> RoiFacts {
    roi(from, "", "", SW)
}

fn only(codes: &[&str]) -> RoiScope {
    RoiScope::Cocs(codes.iter().map(|c| c.to_string()).collect())
}

/// An IL-510 record created by agency 1, with agency 2 contributing.
fn rec(visibility: V, rois: Vec<RoiFacts>) -> RecordFacts {
    RecordFacts {
        creating_agency: ag(CREATOR),
        coc_code: "IL-510".into(),
        visibility,
        identity: IdentityMode::Identified,
        lifecycle: Lifecycle::Active,
        rois,
        contributors: vec![ag(CREATOR), ag(CONTRIB)],
        active_ce_enrollment: false,
        locked_visible_to_ce_assessors: false,
    }
}

/// A record in another identity mode, created by agency 1 with agency 2 contributing.
fn deid(identity: IdentityMode, visibility: V, rois: Vec<RoiFacts>) -> RecordFacts {
    with(rec(visibility, rois), |r| r.identity = identity)
}

fn open_rec() -> RecordFacts {
    rec(V::Open, vec![statewide("2024-03-01")])
}

fn with(mut r: RecordFacts, f: impl FnOnce(&mut RecordFacts)) -> RecordFacts {
    f(&mut r);
    r
}

fn viewer(agency: Option<u128>, coc: &str, shares: bool, roles: &[Role]) -> Viewer {
    let (agency_id, coc_code) = (agency.map(ag), Some(coc.to_string()));
    Viewer {
        agency_id,
        coc_code,
        agency_shares_data: shares,
        roles: roles.to_vec(),
    }
}

fn worker(agency: u128, shares: bool) -> Viewer {
    viewer(Some(agency), "IL-510", shares, &[Role::CaseWorker])
}

fn sysadmin() -> Viewer {
    Viewer {
        roles: vec![Role::SystemAdmin],
        ..Viewer::default()
    }
}

/// (name, viewer, record, expected level/basis/rule, a phrase of the explanation)
type RecordCase = (
    &'static str,
    Viewer,
    RecordFacts,
    (L, Option<B>, u8),
    &'static str,
);

#[test]
#[rustfmt::skip]
fn record_rule_table() {
    let full = |b, n| (L::Full, Some(b), n);
    let limited = |b, n| (L::Limited, Some(b), n);
    let none = (L::None, None, 9);
    let revoked = rec(V::Open, vec![roi("2024-03-01", "", "2024-05-01", SW)]);
    let expired = rec(V::Open, vec![roi("2023-01-01", "2024-01-01", "", SW)]);
    let future = rec(V::Open, vec![statewide("2024-07-01")]);
    let chicago_only = rec(V::Open, vec![roi("2024-03-01", "", "", only(&["IL-510"]))]);
    let locked = rec(V::Locked, vec![]);
    let locked_b = with(rec(V::Locked, vec![]), |r| r.locked_visible_to_ce_assessors = true);
    let on_list = with(open_rec(), |r| r.active_ce_enrollment = true);
    let ce = |c: &str| viewer(Some(OTHER), c, false, &[Role::CeAssessor]);
    let admin = |c: &str| viewer(Some(OTHER), c, false, &[Role::CocAdmin]);
    let plr = |c: &str| viewer(Some(OTHER), c, false, &[Role::PriorityListReader]);
    let cases: Vec<RecordCase> = vec![
        ("system admin without agency", sysadmin(), rec(V::Private, vec![]), full(B::Helpdesk, 1), "break-glass helpdesk access. Reading personal identifying information needs an X-Access-Reason header"),
        ("creator sees private", worker(CREATOR, false), rec(V::Private, vec![]), full(B::CreatingAgency, 2), "Your agency created this record."),
        ("creator sees locked", worker(CREATOR, false), locked.clone(), full(B::CreatingAgency, 2), "created"),
        ("creator sees superseded", worker(CREATOR, false), with(open_rec(), |r| r.lifecycle = Lifecycle::Superseded), full(B::CreatingAgency, 2), "superseded"),
        ("sharing agency, statewide ROI", worker(OTHER, true), open_rec(), full(B::StatewideRoi, 3),
            "The record is open and an ROI effective 2024-03-01 covers your CoC (IL-510), and your agency takes part in data sharing."),
        ("sharing agency, merged record", worker(OTHER, true), with(open_rec(), |r| r.lifecycle = Lifecycle::Merged), full(B::StatewideRoi, 3), "merged"),
        ("coc admin of another CoC, statewide ROI", admin("WA-502"), open_rec(), full(B::StatewideRoi, 3), "admin of your CoC"),
        ("sharing agency in the ROI's CoC list", worker(OTHER, true), chicago_only.clone(), full(B::StatewideRoi, 3), "IL-510"),
        ("ROI scoped to another CoC", viewer(Some(OTHER), "WA-502", true, &[Role::CaseWorker]), chicago_only, none, "No ROI on the record covers your CoC (WA-502)."),
        ("revoked ROI", worker(OTHER, true), revoked.clone(), none, "The ROI was revoked on 2024-05-01"),
        ("expired ROI", worker(OTHER, true), expired.clone(), none, "The ROI expired on 2024-01-01"),
        ("ROI effective in the future", worker(OTHER, true), future, none, "takes effect only on 2024-07-01"),
        ("open without ROI, sharing non-contributor", worker(OTHER, true), rec(V::Open, vec![]), none, "no ROI on file"),
        ("closed, sharing non-contributor", worker(OTHER, true), rec(V::Closed, vec![]), none, "closed to statewide"),
        ("open with ROI, non-sharing non-contributor", worker(OTHER, false), open_rec(), none, "does not take part in data sharing"),
        ("sharing contributor prefers row 3", worker(CONTRIB, true), open_rec(), full(B::StatewideRoi, 3), "ROI"),
        ("contributor, closed", worker(CONTRIB, false), rec(V::Closed, vec![]), full(B::Contributor, 5), "The record is closed, and your agency has entered data into it."),
        ("contributor, open without ROI", worker(CONTRIB, false), rec(V::Open, vec![]), full(B::Contributor, 5), "no ROI on file"),
        ("contributor, revoked ROI", worker(CONTRIB, true), revoked.clone(), full(B::Contributor, 5), "revoked on 2024-05-01"),
        ("contributor, expired ROI", worker(CONTRIB, false), expired, full(B::Contributor, 5), "entered data"),
        ("contributor, private", worker(CONTRIB, true), rec(V::Private, vec![]), none, "The record is private: only the creating agency sees it."),
        ("contributor, locked", worker(CONTRIB, false), locked.clone(), none, "The record is locked"),
        ("CE assessor, locked, policy on", ce("IL-510"), locked_b.clone(), full(B::CeAssessor, 6), "CE assessor there"),
        ("CE assessor, locked, policy off", ce("IL-510"), locked.clone(), none, "policy does not let CE assessors"),
        ("CE assessor of another CoC", ce("WA-502"), locked_b.clone(), none, "another CoC"),
        ("CE assessor, closed record", ce("IL-510"), with(rec(V::Closed, vec![]), |r| r.locked_visible_to_ce_assessors = true), none, "only locked records"),
        ("CE assessor and CoC admin: row 6 first", viewer(Some(OTHER), "IL-510", false, &[Role::CocAdmin, Role::CeAssessor]), locked_b, full(B::CeAssessor, 6), "locked"),
        ("CoC admin, locked", admin("IL-510"), locked, limited(B::CocAggregate, 7), "aggregate reporting"),
        ("CoC admin, private", admin("IL-510"), rec(V::Private, vec![]), limited(B::CocAggregate, 7), "record is private"),
        ("CoC admin, closed", admin("IL-510"), rec(V::Closed, vec![]), limited(B::CocAggregate, 7), "record is closed"),
        ("CoC admin, open with revoked ROI", admin("IL-510"), revoked, limited(B::CocAggregate, 7), "open without an active ROI"),
        ("CoC admin of another CoC, closed", admin("WA-502"), rec(V::Closed, vec![]), none, "CoC admin, but the record belongs to another CoC"),
        ("priority list reader", plr("IL-510"), on_list.clone(), limited(B::PriorityList, 8), "active Coordinated Entry enrollment"),
        ("priority list reader without CE enrollment", plr("IL-510"), open_rec(), none, "no active Coordinated Entry enrollment"),
        ("priority list reader, closed", plr("IL-510"), with(rec(V::Closed, vec![]), |r| r.active_ce_enrollment = true), none, "closed to statewide"),
        ("priority list reader of another CoC", plr("WA-502"), on_list.clone(), none, "another CoC"),
        // Row 4: de-identified open records need no ROI.
        ("sharing agency, consent-refused open", worker(OTHER, true), deid(IdentityMode::ConsentRefused, V::Open, vec![]), limited(B::Deidentified, 4), "de-identified (consent_refused) and open, and your agency takes part in data sharing"),
        ("sharing agency of another CoC, anonymous open", viewer(Some(OTHER), "WA-502", true, &[Role::CaseWorker]), deid(IdentityMode::Anonymous, V::Open, vec![]), limited(B::Deidentified, 4), "may add stays and data"),
        ("non-sharing contributor, anonymous open", worker(CONTRIB, false), deid(IdentityMode::Anonymous, V::Open, vec![]), limited(B::Deidentified, 4), "has entered data"),
        ("CE assessor of the record's CoC, consent-refused open", ce("IL-510"), deid(IdentityMode::ConsentRefused, V::Open, vec![]), limited(B::Deidentified, 4), "CE assessor of its CoC (IL-510)"),
        ("CoC admin of the record's CoC, anonymous open", admin("IL-510"), deid(IdentityMode::Anonymous, V::Open, vec![]), limited(B::Deidentified, 4), "de-identified"),
        ("CE assessor of another CoC, anonymous open", ce("WA-502"), deid(IdentityMode::Anonymous, V::Open, vec![]), none, "another CoC"),
        ("non-sharing non-contributor, anonymous open", worker(OTHER, false), deid(IdentityMode::Anonymous, V::Open, vec![]), none, "did not create this record"),
        ("sharing agency, consent-refused closed", worker(OTHER, true), deid(IdentityMode::ConsentRefused, V::Closed, vec![]), none, "closed to statewide"),
        ("code name is not de-identified", worker(OTHER, true), deid(IdentityMode::CodeName, V::Open, vec![]), none, "no ROI on file"),
        ("an active ROI in scope gives row 3 first", worker(OTHER, true), deid(IdentityMode::ConsentRefused, V::Open, vec![statewide("2024-03-01")]), full(B::StatewideRoi, 3), "ROI effective 2024-03-01"),
        ("sharing contributor of a de-identified record: row 4 before row 5", worker(CONTRIB, false), deid(IdentityMode::ConsentRefused, V::Open, vec![roi("2024-03-01", "", "", only(&["WA-502"]))]), limited(B::Deidentified, 4), "de-identified"),
        ("priority list reader, de-identified open on the list", plr("IL-510"), with(deid(IdentityMode::Anonymous, V::Open, vec![]), |r| r.active_ce_enrollment = true), limited(B::PriorityList, 8), "by client id"),
        ("priority list reader, de-identified closed", plr("IL-510"), with(deid(IdentityMode::Anonymous, V::Closed, vec![]), |r| r.active_ce_enrollment = true), none, "closed to statewide"),
        ("priority list reader, de-identified open without CE", plr("IL-510"), deid(IdentityMode::Anonymous, V::Open, vec![]), none, "no active Coordinated Entry"),
        // The readings consent.md states.
        ("reading 1: effectively open is judged per CoC (covered)", viewer(Some(OTHER), "IL-510", true, &[Role::CaseWorker]), rec(V::Open, vec![roi("2024-03-01", "", "", only(&["IL-510"]))]), full(B::StatewideRoi, 3), "covers your CoC (IL-510)"),
        ("reading 1: effectively open is judged per CoC (not covered)", viewer(Some(OTHER), "WA-502", true, &[Role::CocAdmin]), rec(V::Open, vec![roi("2024-03-01", "", "", only(&["IL-510"]))]), none, "No ROI on the record covers your CoC (WA-502)."),
        ("reading 1: the priority list judges by the record's CoC", plr("IL-510"), with(rec(V::Open, vec![roi("2024-03-01", "", "", only(&["WA-502"]))]), |r| r.active_ce_enrollment = true), none, "No ROI on the record covers your CoC (IL-510)."),
        ("reading 2: a contributor keeps full when consent is given later", worker(CONTRIB, false), rec(V::Open, vec![statewide("2024-05-01")]), full(B::Contributor, 5), "The record is open, and your agency has entered data into it."),
        ("reading 2: a contributor keeps full when the later ROI skips its CoC", viewer(Some(CONTRIB), "WA-502", true, &[Role::CaseWorker]), rec(V::Open, vec![roi("2024-05-01", "", "", only(&["IL-510"]))]), full(B::Contributor, 5), "No ROI on the record covers your CoC (WA-502)."),
        ("reading 4: a revoke leaves the record open while another ROI is active", worker(OTHER, true), rec(V::Open, vec![roi("2024-01-01", "", "2024-05-01", SW), statewide("2024-04-01")]), full(B::StatewideRoi, 3), "ROI effective 2024-04-01"),
        ("unrelated non-sharing agency", worker(OTHER, false), rec(V::Closed, vec![]), none, "did not create this record"),
        ("roles without an agency", viewer(None, "IL-510", true, &[Role::CocAdmin]), on_list, none, "not acting for an agency"),
    ];
    for (name, v, r, want, says) in cases {
        let got = decide_record(&v, &r, today());
        assert_eq!((got.level, got.basis, got.rule), want, "{name}: {:?}", got.reasons);
        let text = got.explanation();
        assert!(text.contains(says), "{name}: {text:?} lacks {says:?}");
        assert!(text.contains(&format!("rule {}", want.2)), "{name}: {text}");
    }
}

fn datum(agency: u128, on: &str, kind: DatumKind) -> DatumFacts {
    DatumFacts {
        entered_by_agency: ag(agency),
        collected_on: d(on),
        kind,
    }
}

/// (name, viewer, record, datum, expected basis of the record decision, expected access)
type DatumCase = (
    &'static str,
    Viewer,
    RecordFacts,
    DatumFacts,
    Option<B>,
    DatumAccess,
);

#[test]
#[rustfmt::skip]
fn datum_rule_table() {
    use DatumAccess::{Full, Hidden, NonPiiOnly};
    use DatumKind::{Contact, Document, FreeText, Structured};
    // Revoked, then granted again: windows [01-01, 02-01) and [03-01, ..).
    let regranted = rec(V::Open, vec![roi("2024-01-01", "", "2024-02-01", SW), statewide("2024-03-01")]);
    let lapsed = rec(V::Closed, vec![roi("2024-01-01", "2024-04-01", "", SW)]);
    let chicago_lapsed = rec(V::Closed, vec![roi("2024-01-01", "2024-04-01", "", only(&["IL-510"]))]);
    let on_list = with(regranted.clone(), |r| r.active_ce_enrollment = true);
    let locked_b = with(rec(V::Locked, vec![]), |r| r.locked_visible_to_ce_assessors = true);
    let admin = viewer(Some(OTHER), "IL-510", false, &[Role::CocAdmin]);
    let ce = viewer(Some(OTHER), "IL-510", false, &[Role::CeAssessor]);
    let plr = viewer(Some(OTHER), "IL-510", false, &[Role::PriorityListReader]);
    let wa_contrib = viewer(Some(CONTRIB), "WA-502", false, &[Role::CaseWorker]);
    let sharer = worker(OTHER, true);
    let sharer_wa = viewer(Some(OTHER), "WA-502", true, &[Role::CaseWorker]);
    let deid_open = with(rec(V::Open, vec![]), |r| r.identity = IdentityMode::Anonymous);
    let cases: Vec<DatumCase> = vec![
        ("own free text at limited", admin.clone(), rec(V::Closed, vec![]), datum(OTHER, "2020-01-01", FreeText), Some(B::CocAggregate), Full),
        ("helpdesk sees everything", sysadmin(), rec(V::Private, vec![]), datum(CREATOR, "2020-01-01", Document), Some(B::Helpdesk), Full),
        ("creator sees pre-ROI data of others", worker(CREATOR, false), regranted.clone(), datum(CONTRIB, "2023-01-01", FreeText), Some(B::CreatingAgency), Full),
        ("CE assessor sees documents", ce, locked_b, datum(CREATOR, "2020-01-01", Document), Some(B::CeAssessor), Full),
        ("ROI: collected on effective_from", sharer.clone(), regranted.clone(), datum(CREATOR, "2024-01-01", FreeText), Some(B::StatewideRoi), Full),
        ("ROI: day before effective_from", sharer.clone(), regranted.clone(), datum(CREATOR, "2023-12-31", Structured), Some(B::StatewideRoi), Hidden),
        ("ROI: collected on revoked_on", sharer.clone(), regranted.clone(), datum(CREATOR, "2024-02-01", Structured), Some(B::StatewideRoi), Hidden),
        ("ROI: day before revoked_on", sharer.clone(), regranted.clone(), datum(CREATOR, "2024-01-31", Contact), Some(B::StatewideRoi), Full),
        ("ROI: between windows", sharer.clone(), regranted.clone(), datum(CREATOR, "2024-02-15", Structured), Some(B::StatewideRoi), Hidden),
        ("ROI: second window start", sharer, regranted, datum(CREATOR, "2024-03-01", Document), Some(B::StatewideRoi), Full),
        ("contributor: day before expires_on", worker(CONTRIB, false), lapsed.clone(), datum(CREATOR, "2024-03-31", FreeText), Some(B::Contributor), Full),
        ("contributor: collected on expires_on", worker(CONTRIB, false), lapsed.clone(), datum(CREATOR, "2024-04-01", Structured), Some(B::Contributor), Hidden),
        ("contributor: after expiry", worker(CONTRIB, false), lapsed, datum(CREATOR, "2024-05-01", Structured), Some(B::Contributor), Hidden),
        ("contributor: no ROI ever", worker(CONTRIB, false), rec(V::Closed, vec![]), datum(CREATOR, "2024-05-01", Structured), Some(B::Contributor), Hidden),
        ("contributor: ROI does not cover its CoC", wa_contrib.clone(), chicago_lapsed.clone(), datum(CREATOR, "2024-02-01", Structured), Some(B::Contributor), Hidden),
        ("contributor: own datum outside any window", wa_contrib, chicago_lapsed, datum(CONTRIB, "2023-01-01", FreeText), Some(B::Contributor), Full),
        ("priority list: structured in window", plr.clone(), on_list.clone(), datum(CREATOR, "2024-03-05", Structured), Some(B::PriorityList), NonPiiOnly),
        ("priority list: free text in window", plr.clone(), on_list.clone(), datum(CREATOR, "2024-03-05", FreeText), Some(B::PriorityList), Hidden),
        ("priority list: contact in window", plr.clone(), on_list.clone(), datum(CREATOR, "2024-03-05", Contact), Some(B::PriorityList), Hidden),
        ("priority list: structured out of window", plr.clone(), on_list, datum(CREATOR, "2024-02-05", Structured), Some(B::PriorityList), Hidden),
        ("aggregate: structured", admin.clone(), rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", Structured), Some(B::CocAggregate), NonPiiOnly),
        ("aggregate: free text", admin.clone(), rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", FreeText), Some(B::CocAggregate), Hidden),
        ("aggregate: a case note (a stay datum: its text is its free text)", admin.clone(), rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", crate::consent::STAY_DATUM_KIND), Some(B::CocAggregate), NonPiiOnly),
        ("aggregate: document", admin.clone(), rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", Document), Some(B::CocAggregate), Hidden),
        ("aggregate: contact", admin, rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", Contact), Some(B::CocAggregate), Hidden),
        ("de-identified: structured before any ROI", sharer_wa.clone(), deid_open.clone(), datum(CREATOR, "2020-01-01", Structured), Some(B::Deidentified), NonPiiOnly),
        ("de-identified: free text", sharer_wa.clone(), deid_open.clone(), datum(CREATOR, "2024-03-05", FreeText), Some(B::Deidentified), Hidden),
        ("de-identified: contact", sharer_wa.clone(), deid_open.clone(), datum(CREATOR, "2024-03-05", Contact), Some(B::Deidentified), Hidden),
        ("de-identified: own free text", sharer_wa, deid_open.clone(), datum(OTHER, "2024-03-05", FreeText), Some(B::Deidentified), Full),
        ("priority list, de-identified: structured outside any window", plr.clone(), with(deid_open.clone(), |r| r.active_ce_enrollment = true), datum(CREATOR, "2020-01-01", Structured), Some(B::PriorityList), NonPiiOnly),
        ("priority list, de-identified: document", plr, with(deid_open, |r| r.active_ce_enrollment = true), datum(CREATOR, "2020-01-01", Document), Some(B::PriorityList), Hidden),
        ("reading 3: windows count only ROIs covering the viewer's CoC", viewer(Some(OTHER), "WA-502", true, &[Role::CaseWorker]), rec(V::Open, vec![roi("2024-01-01", "", "", only(&["IL-510"])), roi("2024-03-01", "", "", only(&["WA-502"]))]), datum(CREATOR, "2024-02-01", Structured), Some(B::StatewideRoi), Hidden),
        ("reading 3: the covering ROI's window releases", viewer(Some(OTHER), "WA-502", true, &[Role::CaseWorker]), rec(V::Open, vec![roi("2024-01-01", "", "", only(&["IL-510"])), roi("2024-03-01", "", "", only(&["WA-502"]))]), datum(CREATOR, "2024-03-01", Structured), Some(B::StatewideRoi), Full),
        ("ROI on a de-identified record: row 4's non-PII part before it", worker(OTHER, true), deid(IdentityMode::Anonymous, V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2020-01-01", Structured), Some(B::StatewideRoi), NonPiiOnly),
        ("ROI on a de-identified record: free text before it", worker(OTHER, true), deid(IdentityMode::ConsentRefused, V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2020-01-01", FreeText), Some(B::StatewideRoi), Hidden),
        ("ROI on a de-identified record: in full inside it", worker(OTHER, true), deid(IdentityMode::Anonymous, V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2024-03-05", FreeText), Some(B::StatewideRoi), Full),
        ("ROI on a de-identified record: another CoC's admin is not row 4's", viewer(Some(OTHER), "WA-502", false, &[Role::CocAdmin]), deid(IdentityMode::Anonymous, V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2020-01-01", Structured), Some(B::StatewideRoi), Hidden),
        ("ROI: the record's CoC admin keeps row 7's non-PII part before it", viewer(Some(OTHER), "IL-510", false, &[Role::CocAdmin]), rec(V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2020-01-01", Structured), Some(B::StatewideRoi), NonPiiOnly),
        ("ROI: the record's CoC admin, free text before it", viewer(Some(OTHER), "IL-510", false, &[Role::CocAdmin]), rec(V::Open, vec![statewide("2024-03-01")]), datum(CREATOR, "2020-01-01", FreeText), Some(B::StatewideRoi), Hidden),
        ("none hides everything", worker(OTHER, false), rec(V::Closed, vec![]), datum(CREATOR, "2020-01-01", Structured), None, Hidden),
    ];
    for (name, v, r, datum, basis, want) in cases {
        let decision = decide_record(&v, &r, today());
        assert_eq!(decision.basis, basis, "{name}: {:?}", decision.reasons);
        assert_eq!(decide_datum(&v, &decision, &r, &datum), want, "{name}");
    }
}

#[test]
fn roi_window_takes_the_earlier_end() {
    let w = roi("2024-01-01", "2024-06-01", "2024-03-01", SW).window();
    assert_eq!(
        w,
        DateWindow {
            from: d("2024-01-01"),
            until: Some(d("2024-03-01"))
        }
    );
    let w = roi("2024-01-01", "2024-02-01", "2024-03-01", SW).window();
    assert_eq!(w.until, Some(d("2024-02-01")));
    assert!(statewide("2024-01-01").window().until.is_none());
    // Revoked before it took effect: never active.
    let r = roi("2024-05-01", "", "2024-04-01", SW);
    assert!(r.window().is_empty() && !r.is_active(d("2024-05-01")));
    assert!(!statewide("2024-01-01").window().is_empty());
    assert!(roi_active_for(&open_rec(), "WA-502", today()));
    assert!(!roi_active_for(&open_rec(), "WA-502", d("2024-02-29")));
    let closed = rec(V::Closed, vec![statewide("2024-01-01")]);
    assert!(!effectively_open_for(&closed, "IL-510", today()));
}

// ---- properties ----

// Two CoCs and few agencies make matches between viewer and record common.
const COCS: [&str; 2] = ["IL-510", "WA-502"];

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // A narrow range makes coincident dates (the window edges) common.
    (0i64..90).prop_map(|n| d("2024-01-01") + chrono::Duration::days(n))
}

fn any_coc() -> impl Strategy<Value = String> {
    prop::sample::select(COCS.to_vec()).prop_map(String::from)
}

fn any_agency() -> impl Strategy<Value = Uuid> {
    (1u128..5).prop_map(ag)
}

fn any_scope() -> impl Strategy<Value = RoiScope> {
    let codes = prop::sample::subsequence(COCS.to_vec(), 0..=2);
    prop_oneof![Just(SW), codes.prop_map(|c| only(&c))]
}

fn any_role() -> impl Strategy<Value = Role> {
    // system_admin short-circuits the rule, so it is kept rare enough for the
    // later rows to be reached often.
    let others: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|r| *r != Role::SystemAdmin)
        .collect();
    prop_oneof![1 => Just(Role::SystemAdmin), 3 => prop::sample::select(others)]
}

fn sometimes<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.9, s)
}

prop_compose! {
    fn any_roi()(
        effective_from in any_date(),
        expires_on in prop::option::weighted(0.3, any_date()),
        revoked_on in prop::option::weighted(0.3, any_date()),
        scope in any_scope(),
    ) -> RoiFacts {
        RoiFacts { effective_from, expires_on, revoked_on, scope }
    }
}

prop_compose! {
    fn any_viewer()(
        agency_id in sometimes(any_agency()),
        coc_code in sometimes(any_coc()),
        agency_shares_data in any::<bool>(),
        roles in prop::collection::vec(any_role(), 0..3),
    ) -> Viewer {
        Viewer { agency_id, coc_code, agency_shares_data, roles }
    }
}

prop_compose! {
    fn any_record()(
        creating_agency in any_agency(),
        coc_code in any_coc(),
        visibility in prop::sample::select(V::ALL),
        identity in prop::sample::select(IdentityMode::ALL),
        lifecycle in prop::sample::select(Lifecycle::ALL),
        rois in prop::collection::vec(any_roi(), 0..3),
        contributors in prop::collection::vec(any_agency(), 0..3),
        active_ce_enrollment in any::<bool>(),
        locked_visible_to_ce_assessors in any::<bool>(),
    ) -> RecordFacts {
        RecordFacts {
            creating_agency, coc_code, visibility, identity, lifecycle, rois, contributors,
            active_ce_enrollment, locked_visible_to_ce_assessors,
        }
    }
}

const KINDS: [DatumKind; 4] = [
    DatumKind::Structured,
    DatumKind::FreeText,
    DatumKind::Document,
    DatumKind::Contact,
];

prop_compose! {
    fn any_datum()(
        entered_by_agency in any_agency(),
        collected_on in any_date(),
        kind in prop::sample::select(KINDS.as_slice()),
    ) -> DatumFacts {
        DatumFacts { entered_by_agency, collected_on, kind }
    }
}

/// A viewer, a record and a today.
fn scene() -> impl Strategy<Value = (Viewer, RecordFacts, NaiveDate)> {
    (any_viewer(), any_record(), any_date())
}

/// A scene whose viewer is a CoC admin or priority list reader of the
/// record's CoC, so that limited decisions are common.
fn limited_scene() -> impl Strategy<Value = (Viewer, RecordFacts, NaiveDate)> {
    let role = prop::sample::select(&[Role::CocAdmin, Role::PriorityListReader][..]);
    (scene(), role).prop_map(|((mut v, r, t), role)| {
        v.coc_code = Some(r.coc_code.clone());
        v.roles.push(role);
        (v, r, t)
    })
}

fn some_data() -> impl Strategy<Value = Vec<DatumFacts>> {
    prop::collection::vec(any_datum(), 1..6)
}

proptest! {
    // Some properties hold only for rarer decisions (limited, ROI bases) and
    // filter for them; a case costs microseconds.
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_global_rejects: 100_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn creating_agency_always_gets_full((v, r, t) in scene()) {
        // A token acts for its agency with any role but priority_list_reader.
        prop_assume!(v.acts_for_agency() || v.has_role(Role::SystemAdmin));
        let v = Viewer { agency_id: Some(r.creating_agency), ..v };
        prop_assert_eq!(decide_record(&v, &r, t).level, L::Full);
    }

    #[test]
    fn no_active_roi_never_grants_statewide((v, r, t) in scene()) {
        prop_assume!(r.rois.iter().all(|roi| !roi.is_active(t)));
        prop_assert_ne!(decide_record(&v, &r, t).basis, Some(B::StatewideRoi));
    }

    #[test]
    fn none_has_no_basis_and_hides_every_datum((v, r, t) in scene(), data in some_data()) {
        let dec = decide_record(&v, &r, t);
        prop_assert_eq!(dec.basis.is_none(), dec.level == L::None);
        prop_assert!((1..=9).contains(&dec.rule) && !dec.reasons.is_empty());
        if dec.level == L::None {
            prop_assert_eq!(dec.rule, 9);
            for datum in &data {
                prop_assert_eq!(decide_datum(&v, &dec, &r, datum), DatumAccess::Hidden);
            }
        }
    }

    #[test]
    fn limited_never_shows_others_data_in_full((v, r, t) in limited_scene(), data in some_data()) {
        let dec = decide_record(&v, &r, t);
        prop_assume!(dec.level == L::Limited);
        for datum in data.iter().filter(|x| v.agency_id != Some(x.entered_by_agency)) {
            let got = decide_datum(&v, &dec, &r, datum);
            prop_assert_ne!(got, DatumAccess::Full);
            if datum.kind != DatumKind::Structured {
                prop_assert_eq!(got, DatumAccess::Hidden);
            }
        }
    }

    #[test]
    fn decisions_are_deterministic((v, r, t) in scene(), x in any_datum()) {
        let a = decide_record(&v, &r, t);
        let b = decide_record(&v.clone(), &r.clone(), t);
        prop_assert_eq!(decide_datum(&v, &a, &r, &x), decide_datum(&v, &b, &r, &x));
        prop_assert_eq!(a.explanation(), b.explanation());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn private_and_locked_stay_with_their_audience((v, r, t) in scene()) {
        let basis = decide_record(&v, &r, t).basis;
        let allowed: &[B] = match r.visibility {
            V::Private => &[B::Helpdesk, B::CreatingAgency, B::CocAggregate],
            V::Locked => &[B::Helpdesk, B::CreatingAgency, B::CeAssessor, B::CocAggregate],
            V::Open | V::Closed => B::ALL,
        };
        prop_assert!(basis.is_none_or(|b| allowed.contains(&b)), "{:?} on {:?}", basis, r);
    }

    #[test]
    fn roi_bases_release_only_data_inside_a_covering_window((v, r, t) in scene(), x in any_datum()) {
        let dec = decide_record(&v, &r, t);
        let roi_basis = [B::StatewideRoi, B::Contributor, B::PriorityList];
        prop_assume!(dec.basis.is_some_and(|b| roi_basis.contains(&b)));
        // A priority list reader reads a de-identified record's structured data whole (datum
        // rule 4).
        prop_assume!(!(dec.basis == Some(B::PriorityList) && r.identity.is_deidentified()));
        prop_assume!(v.agency_id != Some(x.entered_by_agency));
        // An ROI on a de-identified open record adds to row 4 (datum_rule_table).
        prop_assume!(!(dec.basis == Some(B::StatewideRoi) && r.deidentified_open()));
        // And to row 7 for the record's CoC admins.
        prop_assume!(!(dec.basis == Some(B::StatewideRoi) && v.has_role(Role::CocAdmin) && v.coc_code.as_deref() == Some(r.coc_code.as_str())));
        // A viewer without a CoC is covered by no ROI, not even a statewide one.
        let inside = v.coc_code.as_deref().is_some_and(|coc| {
            let covering = r.rois.iter().filter(|roi| roi.scope.covers(coc));
            covering.map(RoiFacts::window).any(|w| w.contains(x.collected_on))
        });
        let shown = inside && (dec.level == L::Full || x.kind == DatumKind::Structured);
        prop_assert_eq!(decide_datum(&v, &dec, &r, &x) != DatumAccess::Hidden, shown);
    }

    #[test]
    fn window_contains_matches_its_definition(
        (from, until, x) in (any_date(), prop::option::of(any_date()), any_date()),
    ) {
        let w = DateWindow { from, until };
        let by_definition = from <= x && match until { Some(u) => x < u, None => true };
        prop_assert_eq!(w.contains(x), by_definition);
        prop_assert!(!(w.is_empty() && w.contains(x)));
    }
}

#[test]
fn only_the_agency_itself_and_admins_act_for_an_agency() {
    let splitter = Uuid::from_u128(1);
    let other = Uuid::from_u128(2);
    let at = |agency: Option<Uuid>, role: Role| Viewer {
        agency_id: agency,
        roles: vec![role],
        ..Default::default()
    };
    assert!(acts_for(&at(Some(splitter), Role::CaseWorker), splitter));
    assert!(acts_for(&at(None, Role::SystemAdmin), splitter));
    assert!(!acts_for(&at(Some(other), Role::CocAdmin), splitter));
    assert!(!acts_for(&at(None, Role::CaseWorker), splitter));
}

/// The answer of a stay without an exit.
fn stay(
    v: &Viewer,
    dec: &AccessDecision,
    r: &RecordFacts,
    entry: &DatumFacts,
    data: &[DatumFacts],
) -> StayAnswer {
    decide_stay(v, dec, r, entry, None, data).answer
}

#[test]
fn a_stay_across_the_window_start_answers_as_a_continuation() {
    use DatumKind::{FreeText, Structured};
    // ROI from 2024-03-01; the stay began 2024-02-01 (entry collected then).
    let r = rec(V::Open, vec![statewide("2024-03-01")]);
    let sharer = worker(OTHER, true);
    let dec = decide_record(&sharer, &r, today());
    let entry = datum(CREATOR, "2024-02-01", Structured);
    let service_after = datum(CREATOR, "2024-03-05", Structured);
    let service_before = datum(CREATOR, "2024-02-10", Structured);
    assert_eq!(
        stay(&sharer, &dec, &r, &entry, &[service_before, service_after]),
        StayAnswer::Continuation
    );
    assert_eq!(
        stay(&sharer, &dec, &r, &entry, &[service_before]),
        StayAnswer::Hidden
    );
    assert_eq!(stay(&sharer, &dec, &r, &entry, &[]), StayAnswer::Hidden);
    // An entry inside the window answers as itself.
    let inside = datum(CREATOR, "2024-03-02", Structured);
    assert_eq!(
        stay(&sharer, &dec, &r, &inside, &[]),
        StayAnswer::Entry(DatumAccess::Full)
    );
    // A case note after the ROI date releases the stay too, at full; at limited it does not.
    let note = datum(CREATOR, "2024-03-05", FreeText);
    assert_eq!(
        stay(&sharer, &dec, &r, &entry, &[note]),
        StayAnswer::Continuation
    );
    let plr = viewer(Some(OTHER), "IL-510", false, &[Role::PriorityListReader]);
    let listed = with(r.clone(), |x| x.active_ce_enrollment = true);
    let dec = decide_record(&plr, &listed, today());
    assert_eq!(
        stay(&plr, &dec, &listed, &entry, &[note]),
        StayAnswer::Hidden
    );
    // Nobody at level none reaches anything.
    let none = decide_record(&worker(OTHER, false), &rec(V::Closed, vec![]), today());
    assert_eq!(
        stay(
            &worker(OTHER, false),
            &none,
            &rec(V::Closed, vec![]),
            &entry,
            &[service_after]
        ),
        StayAnswer::Hidden
    );
}

/// (name, viewer, record, entry, exit date, expected answer, expected exit access)
type ExitCase = (
    &'static str,
    Viewer,
    RecordFacts,
    DatumFacts,
    &'static str,
    StayAnswer,
    DatumAccess,
);

/// The exit is a datum of its own (consent.md, vocabulary), entered by the stay's agency on its
/// exit date: the datum rule decides it apart from the entry (rule 3), and a released exit makes
/// a stay whose entry is withheld reachable as a continuation (rule 6).
#[test]
#[rustfmt::skip]
fn an_exit_is_a_datum_of_its_own() {
    use DatumAccess::{Full, Hidden, NonPiiOnly};
    use DatumKind::Structured;
    use StayAnswer::{Continuation, Entry};
    // Issue (a): a WA-502 window [03-01, 03-10) revoked, then an IL-510 ROI from 04-01.
    let revoked = with(
        rec(V::Open, vec![roi("2024-03-01", "", "2024-03-10", only(&["IL-510", "WA-502"])), roi("2024-04-01", "", "", only(&["IL-510"]))]),
        |r| r.contributors = vec![ag(CREATOR), ag(CONTRIB)],
    );
    let wa_contrib = viewer(Some(CONTRIB), "WA-502", true, &[Role::CaseWorker]);
    // Issue (b): a closed record enrolled 02-01, an ROI from 04-01, exited 04-20.
    let granted = rec(V::Open, vec![statewide("2024-04-01")]);
    let sharer = worker(OTHER, true);
    let plr = viewer(Some(OTHER), "IL-510", false, &[Role::PriorityListReader]);
    let cases: Vec<ExitCase> = vec![
        ("(a) entry in the window, exit after it closed", wa_contrib.clone(), revoked.clone(), datum(CREATOR, "2024-03-05", Structured), "2024-05-20", Entry(Full), Hidden),
        ("(a) exit on the day the window closed", wa_contrib.clone(), revoked.clone(), datum(CREATOR, "2024-03-05", Structured), "2024-03-10", Entry(Full), Hidden),
        ("(a) exit inside the window", wa_contrib.clone(), revoked.clone(), datum(CREATOR, "2024-03-05", Structured), "2024-03-09", Entry(Full), Full),
        ("(a) the IL-510 window releases it to an IL-510 sharer", sharer.clone(), revoked, datum(CREATOR, "2024-03-05", Structured), "2024-05-20", Entry(Full), Full),
        ("(b) entry before the ROI, exit inside", sharer.clone(), granted.clone(), datum(CREATOR, "2024-02-01", Structured), "2024-04-20", Continuation, Full),
        ("(b) entry and exit before the ROI", sharer.clone(), granted.clone(), datum(CREATOR, "2024-02-01", Structured), "2024-03-20", StayAnswer::Hidden, Hidden),
        ("(b) exit on the ROI's first day", sharer.clone(), granted.clone(), datum(CREATOR, "2024-02-01", Structured), "2024-04-01", Continuation, Full),
        ("creator sees every exit", worker(CREATOR, false), granted.clone(), datum(CREATOR, "2024-02-01", Structured), "2024-03-20", Entry(Full), Full),
        ("priority list: exit released at limited", plr.clone(), with(granted.clone(), |r| r.active_ce_enrollment = true), datum(CREATOR, "2024-02-01", Structured), "2024-04-20", Continuation, NonPiiOnly),
        ("priority list: exit outside every window", plr, with(granted, |r| r.active_ce_enrollment = true), datum(CREATOR, "2024-02-01", Structured), "2024-03-20", StayAnswer::Hidden, Hidden),
        ("aggregate: every exit without PII", viewer(Some(OTHER), "IL-510", false, &[Role::CocAdmin]), rec(V::Locked, vec![]), datum(CREATOR, "2020-01-01", Structured), "2020-02-01", Entry(NonPiiOnly), NonPiiOnly),
    ];
    for (name, v, r, entry, exit_on, answer, exit) in cases {
        let dec = decide_record(&v, &r, today());
        let x = DatumFacts::exit_of(entry.entered_by_agency, d(exit_on));
        assert_eq!(x.collected_on, d(exit_on), "{name}");
        let got = decide_stay(&v, &dec, &r, &entry, Some(&x), &[]);
        assert_eq!(got, StayDecision { answer, exit }, "{name}: {:?}", dec.reasons);
        // Without an exit, nothing of an exit is shown; the entry answers as before.
        let open = decide_stay(&v, &dec, &r, &entry, None, &[]);
        assert_eq!(open.exit, Hidden, "{name}");
        if answer != Continuation {
            assert_eq!(open.answer, answer, "{name}");
        }
    }
}

/// A token whose only role is priority_list_reader gets row 8 or nothing (row 9), whatever its
/// agency did with the record; another role beside it keeps what that role gives.
#[test]
#[rustfmt::skip]
fn a_priority_list_reader_alone_reads_through_row_8_only() {
    use DatumKind::{FreeText, Structured};
    let only_plr = |agency: u128, shares: bool| viewer(Some(agency), "IL-510", shares, &[Role::PriorityListReader]);
    let listed = with(open_rec(), |r| r.active_ce_enrollment = true);
    let closed = with(rec(V::Closed, vec![]), |r| r.active_ce_enrollment = true);
    let anon = deid(IdentityMode::Anonymous, V::Open, vec![]);
    let cases: Vec<RecordCase> = vec![
        ("creator's reader, private record", only_plr(CREATOR, true), rec(V::Private, vec![]), (L::None, None, 9), "not as your agency"),
        ("creator's reader, closed record on CE", only_plr(CREATOR, true), closed.clone(), (L::None, None, 9), "closed to statewide"),
        ("creator's reader, listed record", only_plr(CREATOR, true), listed.clone(), (L::Limited, Some(B::PriorityList), 8), "priority list reader"),
        ("contributor's reader, closed record", only_plr(CONTRIB, false), closed.clone(), (L::None, None, 9), "not as your agency"),
        ("sharing agency's reader, open record not on CE", only_plr(OTHER, true), open_rec(), (L::None, None, 9), "no active Coordinated Entry"),
        ("sharing agency's reader, listed record", only_plr(OTHER, true), listed.clone(), (L::Limited, Some(B::PriorityList), 8), "priority list reader"),
        ("sharing agency's reader, de-identified open not on CE", only_plr(OTHER, true), anon.clone(), (L::None, None, 9), "no active Coordinated Entry"),
        ("reader and case worker of the creator", viewer(Some(CREATOR), "IL-510", false, &[Role::PriorityListReader, Role::CaseWorker]), closed, (L::Full, Some(B::CreatingAgency), 2), "created"),
        ("reader and case worker of a sharing agency", viewer(Some(OTHER), "IL-510", true, &[Role::CaseWorker, Role::PriorityListReader]), listed.clone(), (L::Full, Some(B::StatewideRoi), 3), "ROI"),
        ("reader and case worker of a sharing agency, de-identified", viewer(Some(OTHER), "IL-510", true, &[Role::CaseWorker, Role::PriorityListReader]), anon, (L::Limited, Some(B::Deidentified), 4), "de-identified"),
    ];
    for (name, v, r, want, says) in cases {
        let got = decide_record(&v, &r, today());
        assert_eq!((got.level, got.basis, got.rule), want, "{name}: {:?}", got.reasons);
        assert!(got.explanation().contains(says), "{name}: {:?} lacks {says:?}", got.explanation());
    }
    // Its agency's own data is not its own to read (datum rule 1 is for agencies' staff): a
    // case note the agency wrote before the ROI is hidden, its structured data outside every
    // window too.
    let reader = only_plr(CREATOR, true);
    let dec = decide_record(&reader, &listed, today());
    assert_eq!(decide_datum(&reader, &dec, &listed, &datum(CREATOR, "2024-03-05", FreeText)), DatumAccess::Hidden);
    assert_eq!(decide_datum(&reader, &dec, &listed, &datum(CREATOR, "2024-02-05", Structured)), DatumAccess::Hidden);
    assert_eq!(decide_datum(&reader, &dec, &listed, &datum(CREATOR, "2024-03-05", Structured)), DatumAccess::NonPiiOnly);
    // Nor does it act for its agency.
    assert!(!acts_for(&reader, ag(CREATOR)));
    assert!(acts_for(&viewer(Some(CREATOR), "IL-510", true, &[Role::PriorityListReader, Role::AgencyAdmin]), ag(CREATOR)));
}
