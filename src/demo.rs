//! Demo data: two CoCs, agencies that do and do not share data, projects of several HUD types.
//! Loading is idempotent: fixed ids, and rows already there are left alone.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::domain::dob::AnonymousDobRule;
use crate::domain::identity::AnonymousNameFormat;
use crate::domain::words::RoiGrantMode;
use crate::domain::CocCode;
use crate::error::{AppError, AppResult};
use crate::repo::tenants::{self as repo, AgencyRow, CocRow, ProjectRow};

pub struct DemoAgency {
    pub id: Uuid,
    pub coc: &'static str,
    pub name: &'static str,
    pub shares_data: bool,
    pub victim_service_provider: bool,
}

pub const CHICAGO: &str = "IL-510";
pub const SPOKANE: &str = "WA-502";

pub fn agencies() -> Vec<DemoAgency> {
    let a = |n: u128, coc, name, shares_data, vsp| DemoAgency {
        id: Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n),
        coc,
        name,
        shares_data,
        victim_service_provider: vsp,
    };
    vec![
        a(0xa1, CHICAGO, "Lakeshore Shelter Network", true, false),
        a(0xa2, CHICAGO, "West Side Outreach", true, false),
        a(0xa3, CHICAGO, "All Chicago (CoC lead)", true, false),
        a(0xa4, CHICAGO, "Northside Youth Services", false, false),
        a(0xb1, SPOKANE, "Spokane Family Services", true, false),
        a(0xb2, SPOKANE, "Inland Safe Haven", false, true),
        a(0xb3, SPOKANE, "Spokane CHHS (CoC lead)", true, false),
    ]
}

fn projects() -> Vec<(u128, u128, &'static str, i16)> {
    vec![
        (0x11, 0xa1, "Lakeshore Emergency Shelter", 0),
        (0x12, 0xa1, "Lakeshore Rapid Re-Housing", 13),
        (0x13, 0xa2, "West Side Street Outreach", 4),
        (0x14, 0xa3, "Chicago Coordinated Entry", 14),
        (0x15, 0xa4, "Northside Transitional Housing", 2),
        (0x21, 0xb1, "Family Shelter Night-by-Night", 1),
        (0x22, 0xb1, "Family PSH", 3),
        (0x23, 0xb2, "Safe Haven", 8),
        (0x24, 0xb3, "Spokane Coordinated Entry", 14),
    ]
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// Loads the demo rows that are not there yet; answers how many it added.
pub fn load(conn: &mut PgConnection) -> AppResult<usize> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let mut added = 0;
        for (code, name, dob_rule, ce_option_b) in [
            (
                CHICAGO,
                "Chicago CoC",
                AnonymousDobRule::Jan1OfBirthYear,
                true,
            ),
            (
                SPOKANE,
                "Spokane City & County CoC",
                AnonymousDobRule::Jan1OfNextYearUnlessYoungOrOld,
                false,
            ),
        ] {
            if repo::find_coc(conn, code)?.is_none() {
                repo::insert_coc(
                    conn,
                    &CocRow {
                        code: CocCode::parse(code)
                            .map_err(|_| AppError::Internal("demo CoC code".into()))?,
                        name: name.into(),
                        anonymous_name_format: if code == SPOKANE {
                            AnonymousNameFormat::AnonymousAnonymous
                        } else {
                            AnonymousNameFormat::UidAnonymous
                        },
                        anonymous_dob_rule: dob_rule,
                        anonymous_ssn_quality: 99,
                        roi_grant_mode: RoiGrantMode::Window,
                        roi_default_term_months: None,
                        observational_assessment_after_refusals: 2,
                        locked_visible_to_ce_assessors: ce_option_b,
                        inactivity_days: 90,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                added += 1;
            }
        }
        for a in agencies() {
            if repo::find_agency(conn, a.id)?.is_none() {
                repo::insert_agency(
                    conn,
                    &AgencyRow {
                        id: a.id,
                        coc_code: CocCode::parse(a.coc)
                            .map_err(|_| AppError::Internal("demo CoC code".into()))?,
                        name: a.name.into(),
                        shares_data: a.shares_data,
                        victim_service_provider: a.victim_service_provider,
                        participates_in_ce: !a.victim_service_provider,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                added += 1;
            }
        }
        for (pid, aid, name, ptype) in projects() {
            if repo::find_project(conn, id(pid))?.is_none() {
                repo::insert_project(
                    conn,
                    &ProjectRow {
                        id: id(pid),
                        agency_id: id(aid),
                        name: name.into(),
                        project_type: ptype,
                        ce_entry_point: ptype == 14,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                added += 1;
            }
        }
        added += load_clients(conn)?;
        added += load_deidentified_and_merged(conn)?;
        Ok(added)
    })
}

fn demo_caller(agency: u128, roles: Vec<crate::consent::Role>) -> crate::service::context::Caller {
    let principal = crate::auth::Principal {
        sub: "demo-loader".into(),
        agency_id: Some(id(agency)),
        roles,
    };
    crate::service::context::Caller::new(principal, "demo".into(), None)
}

/// Clients in every identity mode and visibility, once (the loader's user marks them).
fn load_clients(conn: &mut PgConnection) -> AppResult<usize> {
    use crate::consent::Role::CaseWorker;
    use crate::db::schema::clients;
    use crate::service::clients::create;
    use diesel::prelude::*;
    use serde_json::json;
    let loaded: i64 = clients::table
        .filter(clients::created_by_user.eq("demo-loader"))
        .count()
        .get_result(conn)?;
    if loaded > 0 {
        return Ok(0);
    }
    let roi = json!({"method": "signed", "documentation_note": "Form on file at intake desk"});
    let specs = [
        (
            0xa1,
            json!({"identity_mode": "identified", "first_name": "Maria", "last_name": "Lopez", "ssn": "234-56-7890", "dob": "1985-04-12", "race": ["hispanic_latinao"], "gender": [0], "veteran_status": 0, "roi": roi}),
        ),
        (
            0xa1,
            json!({"identity_mode": "identified", "first_name": "John", "last_name": "Smith", "ssn_data_quality": 8, "dob": "1972-11-02", "race": ["white"], "gender": [1], "veteran_status": 1}),
        ),
        (
            0xa1,
            json!({"identity_mode": "consent_refused", "visibility": "private", "dob_data_quality": 9, "race": ["black_af_american"], "gender": [1]}),
        ),
        (
            0xa2,
            json!({"identity_mode": "code_name", "first_name": "Blue", "last_name": "Jacket", "birth_year": 1968, "gender": [1]}),
        ),
        (
            0xa2,
            json!({"identity_mode": "anonymous", "birth_year": 1990, "race": ["white"], "gender": [0]}),
        ),
        (
            0xa4,
            json!({"identity_mode": "identified", "first_name": "Tyrell", "last_name": "Banks", "ssn": "6789", "ssn_data_quality": 2, "dob": "2007-03-09", "visibility": "locked", "race": ["black_af_american"], "gender": [1]}),
        ),
        (
            0xb1,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Petrova", "dob": "1979-08-30", "race": ["white"], "gender": [0], "roi": {"method": "verbal", "scope": {"type": "cocs", "coc_codes": ["WA-502"]}}}),
        ),
        (
            0xb1,
            json!({"identity_mode": "anonymous", "birth_year": 1979, "visibility": "open", "race": ["am_ind_ak_native"], "gender": [1], "roi": {"method": "signed"}}),
        ),
        (
            0xb2,
            json!({"identity_mode": "anonymous", "birth_year": 2001, "visibility": "private", "race": ["asian"], "gender": [0]}),
        ),
    ];
    let mut ids = Vec::new();
    for (agency, body) in specs {
        let caller = demo_caller(agency, vec![CaseWorker]);
        ids.push(create(conn, &caller, parse(body)?)?.client.id);
    }
    load_stays(conn, &ids)?;
    let ce_clients = load_ce_list(conn, ids[1])?;
    Ok(ids.len() + ce_clients)
}

/// Chicago's ranked Coordinated Entry list: Maria (open, ROI) is on it from her CE stay; a
/// consent-refused client enrolled by outreach into the CoC-wide CE entry point refuses twice
/// and gets an observational assessment, and is on the list by client id; John Smith (closed)
/// is assessed in CE but does not pull onto the list (only the coc_admin's CoC view shows him).
fn load_ce_list(conn: &mut PgConnection, closed_client: Uuid) -> AppResult<usize> {
    use crate::consent::Role::CaseWorker;
    use crate::service::stay_data::{add, NewStayDatum};
    use crate::service::stays::create;
    use serde_json::json;
    let today = Utc::now().date_naive();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    let outreach = demo_caller(0xa2, vec![CaseWorker]);
    let shelter = demo_caller(0xa1, vec![CaseWorker]);
    let refused = json!({"identity_mode": "consent_refused", "dob_data_quality": 9,
                         "race": ["white"], "gender": [1], "veteran_status": 1});
    let client = crate::service::clients::create(conn, &outreach, parse(refused)?)?
        .client
        .id;
    let ce = json!({"project_id": id(0x14), "entry_date": day(30), "relationship_to_hoh": 1,
                    "living_situation": 116, "times_homeless_past_three_years": 4,
                    "months_homeless_past_three_years": 113});
    let stay = create(conn, &outreach, client, parse(ce)?)?.enrollment.id;
    for (caller, days, reason) in [
        (&outreach, 25, json!("declined_assessment")),
        (&shelter, 14, json!(null)),
    ] {
        let refusal = json!({"refused_on": day(days), "reason_code": reason});
        add(conn, caller, stay, NewStayDatum::Refusal(parse(refusal)?))?;
    }
    let observational = json!({"assessment_date": day(7), "assessment_kind": "observational",
                               "assessment_type": 3, "assessment_level": 2,
                               "prioritization_status": 1, "priority_score": 18});
    add(
        conn,
        &outreach,
        stay,
        NewStayDatum::Assessment(parse(observational)?),
    )?;
    let ce = json!({"project_id": id(0x14), "entry_date": day(9), "relationship_to_hoh": 1});
    let closed_stay = create(conn, &shelter, closed_client, parse(ce)?)?
        .enrollment
        .id;
    let assessment = json!({"assessment_date": day(8), "assessment_type": 3, "assessment_level": 2,
                            "prioritization_status": 1, "priority_score": 25});
    add(
        conn,
        &shelter,
        closed_stay,
        NewStayDatum::Assessment(parse(assessment)?),
    )?;
    Ok(1)
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    crate::api::support::parse_json(v.to_string().as_bytes())
}

/// Stays with services, assessments, CE events and notes for some of the demo clients.
fn load_stays(conn: &mut PgConnection, clients: &[Uuid]) -> AppResult<()> {
    use crate::consent::Role::CaseWorker;
    use crate::service::stay_data::{add, NewStayDatum};
    use crate::service::stays::create;
    use serde_json::json;
    let today = Utc::now().date_naive();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    // (client index, agency, project, entry days ago)
    let stays = [
        (0, 0xa1, 0x11, 40),
        (0, 0xa3, 0x14, 20),
        (1, 0xa1, 0x11, 15),
        (3, 0xa2, 0x13, 30),
        (4, 0xa2, 0x13, 10),
        (6, 0xb1, 0x21, 12),
    ];
    for (client, agency, project, entry) in stays {
        let caller = demo_caller(agency, vec![CaseWorker]);
        let body = json!({"project_id": id(project), "entry_date": day(entry), "relationship_to_hoh": 1,
                          "living_situation": 116, "length_of_stay": 2});
        let stay = create(conn, &caller, clients[client], parse(body)?)?
            .enrollment
            .id;
        let service = json!({"date_provided": day(entry - 1), "service_type": "meal", "quantity": 1,
                             "note": "Hot meal at the drop-in."});
        add(conn, &caller, stay, NewStayDatum::Service(parse(service)?))?;
        let note = json!({"note_date": day(entry - 2), "text": "Talked about housing options and next steps."});
        add(conn, &caller, stay, NewStayDatum::CaseNote(parse(note)?))?;
        if project == 0x14 || project == 0x13 {
            let assessment = json!({"assessment_date": day(entry - 3), "assessment_type": 3, "assessment_level": 2,
                                    "prioritization_status": 1, "priority_score": 12 + entry % 7,
                                    "text": "Housing needs assessment completed."});
            add(
                conn,
                &caller,
                stay,
                NewStayDatum::Assessment(parse(assessment)?),
            )?;
            let event = json!({"event_date": day(entry - 4), "event": 4});
            add(conn, &caller, stay, NewStayDatum::CeEvent(parse(event)?))?;
        }
    }
    Ok(())
}

/// Spokane: a household of four de-identified by request, one member (fleeing domestic
/// violence) removed into a household of her own; Chicago: two records of one person merged.
/// Once: the loader's user marks them.
fn load_deidentified_and_merged(conn: &mut PgConnection) -> AppResult<usize> {
    use crate::consent::Role::{CaseWorker, SystemAdmin};
    use crate::db::schema::clients;
    use crate::service::{clients::create, deidentify, merge, stay_data, stays};
    use diesel::prelude::*;
    use serde_json::json;
    const LOADER: &str = "demo-loader-deid";
    let loaded: i64 = clients::table
        .filter(clients::created_by_user.eq(LOADER))
        .count()
        .get_result(conn)?;
    if loaded > 0 {
        return Ok(0);
    }
    let caller = |agency: Option<u128>, role| {
        let principal = crate::auth::Principal {
            sub: LOADER.into(),
            agency_id: agency.map(id),
            roles: vec![role],
        };
        crate::service::context::Caller::new(principal, "demo".into(), Some("demo data".into()))
    };
    let worker = caller(Some(0xb1), CaseWorker);
    let admin = caller(None, SystemAdmin);
    let today = Utc::now().date_naive();
    let entry = (today - chrono::Duration::days(20)).to_string();
    let people = [
        ("Lena", "Morrow", "1988-02-17", 1),
        ("Max", "Morrow", "2014-09-03", 2),
        ("Ivy", "Morrow", "2017-12-24", 2),
        ("Rosa", "Vance", "1991-05-30", 4),
    ];
    let mut ids = Vec::new();
    let mut household = None;
    for (first, last, dob, rel) in people {
        let body = json!({"identity_mode": "identified", "first_name": first, "last_name": last, "dob": dob});
        let client = create(conn, &worker, parse(body)?)?.client.id;
        let mut stay =
            json!({"project_id": id(0x21), "entry_date": entry, "relationship_to_hoh": rel});
        if let Some(h) = household {
            stay["household_id"] = json!(h);
        }
        let e = stays::create(conn, &worker, client, parse(stay)?)?.enrollment;
        household.get_or_insert(e.household_id);
        let note = json!({"note_date": entry, "text": format!("{first} {last} (DOB {dob}) checked in; call (509) 555-0134 for the family.")});
        stay_data::add(
            conn,
            &worker,
            e.id,
            stay_data::NewStayDatum::CaseNote(parse(note)?),
        )?;
        ids.push(client);
    }
    let request = json!({"client_id": ids[0], "member_ids": [ids[1], ids[2]], "dv_member_ids": [ids[3]],
                         "description": "Please make this family anonymous; one adult member is fleeing DV and leaves the household."});
    let filed = deidentify::file(conn, &worker, parse(request)?, false)?;
    deidentify::complete(conn, &admin, filed.request.id, false)?;
    deidentify::vacuum_after(conn)?;

    let chicago = caller(Some(0xa1), CaseWorker);
    let a = json!({"identity_mode": "identified", "first_name": "Darnell", "last_name": "Price", "dob": "1969-07-04"});
    let b = json!({"identity_mode": "identified", "first_name": "Darnel", "last_name": "Price", "ssn": "345-67-8901"});
    let survivor = create(conn, &chicago, parse(a)?)?.client.id;
    let duplicate = create(conn, &chicago, parse(b)?)?.client.id;
    let body = json!({"duplicate_id": duplicate, "confirm_same_person": true});
    merge::merge(conn, &admin, survivor, parse(body)?, false)?;
    Ok(ids.len() + 2)
}

/// What `hearth demo` prints: who is who, and how to get a token.
pub fn summary() -> String {
    let mut s = String::from("Demo agencies (mint a token with `hearth token --sub you --role case_worker --agency ID`):\n");
    for a in agencies() {
        s.push_str(&format!(
            "  {}  {}  {}{}{}\n",
            a.id,
            a.coc,
            a.name,
            if a.shares_data { "  [shares data]" } else { "" },
            if a.victim_service_provider {
                "  [victim service provider]"
            } else {
                ""
            }
        ));
    }
    s.push_str(
        "Coordinated Entry: GET /v1/cocs/IL-510/priority-list (a priority_list_reader, ce_assessor, \
         coc_admin or any IL-510 agency user) ranks a consent-refused client (two refusals, an \
         observational assessment) and Maria Lopez; John Smith is closed and shows only in \
         ?view=coc (coc_admin).\n",
    );
    s
}
