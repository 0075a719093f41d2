//! The consent rules of a merge (Spokane job aid: "provide both client IDs and confirm that the
//! clients are indeed the same person"): who may merge, and which visibility the survivor takes.

use uuid::Uuid;

use chrono::NaiveDate;

use super::guards::{has_roi_not_ended, Refusal};
use super::{IdentityMode, RecordFacts, Role, Viewer, Visibility};

/// A system administrator merges any two records; an agency administrator only two records its
/// own agency created.
pub fn may_merge(viewer: &Viewer, survivor_creator: Uuid, duplicate_creator: Uuid) -> bool {
    viewer.has_role(Role::SystemAdmin)
        || (viewer.has_role(Role::AgencyAdmin)
            && viewer.agency_id == Some(survivor_creator)
            && viewer.agency_id == Some(duplicate_creator))
}

/// Whether two records' identities may become one record (409 `identity-modes-differ`
/// otherwise). A de-identified record (consent.md, record rule row 4: `anonymous`, or
/// `consent_refused`, where the client refused to be identified) merges only with a record of
/// its own mode, in either direction:
///
/// - an identity joining it would be shown, with the free text, contacts and documents that
///   come with it, to the agencies that contributed to the de-identified record: row 4 governs
///   them at `limited` "while the record stays de-identified", and a merged record no longer is;
/// - it joining an identified (or code-name) record gives the identity its data and its
///   contributors, who would then see that identity in full (row 5).
///
/// `identified` and `code_name` records both hold what the client chose to say of themselves,
/// and merge as before (the survivor keeps its own mode, with a warning).
pub fn identities_may_merge(
    survivor: IdentityMode,
    duplicate: IdentityMode,
) -> Result<(), Refusal> {
    use IdentityMode::{Anonymous, ConsentRefused};
    if survivor == duplicate {
        return Ok(());
    }
    let refuse = |message: &str| {
        Err(Refusal {
            code: "identity-modes-differ",
            message: message.into(),
        })
    };
    if survivor == Anonymous || duplicate == Anonymous {
        return refuse("One record is anonymous and the other is not: de-identify the other first (POST /v1/deidentification-requests), so no identity joins an anonymous record.");
    }
    if survivor == ConsentRefused || duplicate == ConsentRefused {
        return refuse("One record is consent_refused (the client refused to be identified there) and the other is not: no identity joins a consent-refused record, and its data and contributors join no identified one. Keep both records, or merge it only with another consent_refused record.");
    }
    Ok(())
}

/// A pending de-identification request, as a merge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDeidentification {
    /// The records it de-identifies: the client, members, members fleeing domestic violence.
    pub targets: Vec<Uuid>,
    /// The suspected duplicates it lists for the administrator to merge.
    pub duplicates: Vec<Uuid>,
}

/// Whether two records may be merged while de-identification requests naming either are pending
/// (409 `deidentification-pending` otherwise). A request names its client, its members and the
/// suspected duplicates it lists (`duplicate_ids`). Completing a request anonymises its records
/// and every record merged into them, so a merge that made one of them a tombstone, or joined it
/// to a record the request does not name, would leave the identity (or the data) on a record that
/// stays identified; a listed duplicate merged into (or absorbing) a record the request does not
/// name would carry the person's identity away from the records the administrator reviews. The
/// one merge allowed is the one the request asks for: a duplicate it lists merged into a record
/// it de-identifies (the completion then scrubs its tombstone too).
pub fn may_merge_while_pending(
    survivor: Uuid,
    duplicate: Uuid,
    pending: &[PendingDeidentification],
) -> Result<(), Refusal> {
    let asked_for = |r: &PendingDeidentification| {
        r.targets.contains(&survivor)
            && r.duplicates.contains(&duplicate)
            && !r.targets.contains(&duplicate)
    };
    let names = |r: &PendingDeidentification| {
        [survivor, duplicate]
            .iter()
            .any(|x| r.targets.contains(x) || r.duplicates.contains(x))
    };
    if pending.iter().any(|r| names(r) && !asked_for(r)) {
        return Err(Refusal {
            code: "deidentification-pending",
            message: "A de-identification request naming one of these records is pending: a system administrator completes or rejects it (POST /v1/deidentification-requests/{id}/complete or /reject) before the records are merged. Only a duplicate the request lists may be merged into a record it de-identifies meanwhile.".into(),
        });
    }
    Ok(())
}

/// The agencies that contributed to the duplicate and to nothing of the survivor (nor created
/// it): the merge makes them contributors of the survivor, and row 5 (`contributor`, any
/// visibility, `full`) then shows them the survivor's identity in full, including what only the
/// survivor holds (its SSN, DOB, contacts). consent.md asks for an explicit confirmation of a
/// merge and nothing more, and a merge that leaves the person's data split over two records
/// serves nobody: the merge goes ahead, and its answer (and its `?dry_run` preview) names these
/// agencies in a warning (docs/workflows.md, "Merging records").
pub fn contributors_gaining_full(
    survivor_creator: Uuid,
    survivor_contributors: &[Uuid],
    duplicate_contributors: &[Uuid],
) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = duplicate_contributors
        .iter()
        .copied()
        .filter(|a| *a != survivor_creator && !survivor_contributors.contains(a))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The agencies that see a record as the agency it is: its creator (row 2) and its contributors
/// (row 5), sorted.
fn audience(record: &RecordFacts) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = std::iter::once(record.creating_agency)
        .chain(record.contributors.iter().copied())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The agencies that created or contributed to `other` and neither created nor contributed to
/// `record`: after a merge they see `record`'s data (moved to, or kept on, the merged record) as
/// the merged record's creator or contributors, which they could not before (unless an ROI
/// shared it). The merge answer names them for each side (docs/workflows.md, "Merging
/// records").
pub fn agencies_gaining_data_of(record: &RecordFacts, other: &RecordFacts) -> Vec<Uuid> {
    let before = audience(record);
    audience(other)
        .into_iter()
        .filter(|a| !before.contains(a))
        .collect()
}

/// A `private` record is seen only by its creating agency (consent.md), a `locked` one only by
/// its creator and contributors (and, by policy, CE assessors); both can be given that
/// visibility only while no other agency contributed. A merge must not undo that: when either
/// record is private or locked, the merge is refused (409 `restricted-record-would-be-shared`)
/// where the merged record would be seen by an agency that could not see that record: the
/// other record was created or contributed to by another agency (row 2 or 5 on the merged
/// record), or it is open with an ROI that has not ended (the client's consent to share the
/// merged record, which cannot hold data the client asked to keep private). The administrator
/// makes the record closed first (where the client agrees), and the merge then warns who gains
/// what; or keeps both records.
pub fn restricted_records_stay_unshared(
    survivor: &RecordFacts,
    duplicate: &RecordFacts,
    today: NaiveDate,
) -> Result<(), Refusal> {
    for (record, other, which) in [
        (survivor, duplicate, "this record (the survivor)"),
        (duplicate, survivor, "the duplicate"),
    ] {
        if !matches!(record.visibility, Visibility::Private | Visibility::Locked) {
            continue;
        }
        let others_see = !agencies_gaining_data_of(record, other).is_empty();
        let other_shared = other.visibility == Visibility::Open && has_roi_not_ended(other, today);
        if others_see || other_shared {
            return Err(Refusal {
                code: "restricted-record-would-be-shared",
                message: format!(
                    "{} is {}: no agency but the ones that already see it may see its data, and the merged record would be seen by {}. Make it closed first (PUT /v1/clients/{{id}}/visibility) if the client agrees to that, or keep both records.",
                    capitalised(which),
                    record.visibility.as_str(),
                    if others_see {
                        "another agency that created or contributed to the other record"
                    } else {
                        "every agency its ROI shares the other (open) record with"
                    }
                ),
            });
        }
    }
    Ok(())
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Why the survivor's visibility changed: the reason `merged_visibility` gave, or that the
/// duplicate's visibility was the more restrictive of the two and the survivor takes it.
pub fn visibility_change_reason(
    survivor: Visibility,
    merged: Visibility,
    warning: Option<&'static str>,
) -> &'static str {
    match warning {
        // The more restrictive of the two is private or locked, which the merged record cannot
        // be: closed is then less restrictive than one of them (or both).
        Some(_) => "the more restrictive of the two visibilities (private or locked) cannot hold the merged record (see the warning), so it is closed",
        None if openness(merged) < openness(survivor) => {
            "the duplicate's visibility was the more restrictive of the two, and the merged record takes it"
        }
        None => "the merged record keeps the more restrictive of the two visibilities",
    }
}

/// How much a visibility shares, least first: the survivor takes the less sharing of the two.
fn openness(v: Visibility) -> u8 {
    match v {
        Visibility::Private => 0,
        Visibility::Locked => 1,
        Visibility::Closed => 2,
        Visibility::Open => 3,
    }
}

/// The survivor's visibility: the more restrictive of the two, except that `private` and
/// `locked` need that no other agency contributed (and `private`, no active CE enrollment);
/// then `closed`, with the reason as a warning.
pub fn merged_visibility(
    a: Visibility,
    b: Visibility,
    other_agencies_contributed: bool,
    active_ce: bool,
) -> (Visibility, Option<&'static str>) {
    let v = if openness(a) <= openness(b) { a } else { b };
    match v {
        Visibility::Private | Visibility::Locked if other_agencies_contributed => (
            Visibility::Closed,
            Some("Other agencies have data in the merged record, so it cannot stay private or locked: it is closed."),
        ),
        Visibility::Private if active_ce => (
            Visibility::Closed,
            Some("The merged record has an active Coordinated Entry enrollment, so it cannot be private: it is closed."),
        ),
        v => (v, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Visibility::*;

    #[test]
    fn the_survivor_takes_the_more_restrictive_visibility() {
        for (a, b, want) in [
            (Open, Closed, Closed),
            (Closed, Open, Closed),
            (Open, Open, Open),
            (Locked, Open, Locked),
            (Private, Locked, Private),
            (Closed, Private, Private),
        ] {
            assert_eq!(
                merged_visibility(a, b, false, false),
                (want, None),
                "{a:?} {b:?}"
            );
        }
        assert_eq!(merged_visibility(Private, Open, true, false).0, Closed);
        assert_eq!(merged_visibility(Locked, Open, true, false).0, Closed);
        assert_eq!(merged_visibility(Private, Open, false, true).0, Closed);
        assert_eq!(merged_visibility(Locked, Open, false, true).0, Locked);
    }

    #[test]
    fn the_duplicates_own_contributors_gain_full_access() {
        let id = Uuid::from_u128;
        let (creator, both, dup_only, other) = (id(1), id(2), id(3), id(4));
        assert_eq!(
            contributors_gaining_full(
                creator,
                &[creator, both],
                &[both, creator, dup_only, dup_only]
            ),
            vec![dup_only]
        );
        assert!(contributors_gaining_full(creator, &[other], &[creator]).is_empty());
    }

    #[test]
    fn a_visibility_change_says_why() {
        // private survivor, open duplicate with other contributors: closed, which is less
        // restrictive than private: the reason is the rule, not "the more restrictive".
        let (v, w) = merged_visibility(Private, Open, true, false);
        assert_eq!(v, Closed);
        assert!(visibility_change_reason(Private, v, w).contains("cannot hold"));
        let (v, w) = merged_visibility(Open, Private, true, false);
        assert!(visibility_change_reason(Open, v, w).contains("cannot hold"));
        let (v, w) = merged_visibility(Open, Closed, false, false);
        assert!(visibility_change_reason(Open, v, w).contains("more restrictive"));
    }

    #[test]
    fn a_deidentified_record_merges_only_with_a_record_of_its_own_mode() {
        use IdentityMode::*;
        let modes = [Identified, ConsentRefused, CodeName, Anonymous];
        for a in modes {
            for b in modes {
                let got = identities_may_merge(a, b);
                let allowed = a == b || (!a.is_deidentified() && !b.is_deidentified());
                assert_eq!(got.is_ok(), allowed, "{a:?} into {b:?}");
                if let Err(r) = got {
                    assert_eq!(r.code, "identity-modes-differ");
                    // Both directions give the same reason.
                    assert_eq!(identities_may_merge(b, a), Err(r));
                }
            }
        }
        // The tester's case: an identified record and a consent-refused one, either way.
        assert!(identities_may_merge(Identified, ConsentRefused).is_err());
        assert!(identities_may_merge(ConsentRefused, Identified).is_err());
        assert!(identities_may_merge(CodeName, Identified).is_ok());
    }

    #[test]
    fn while_a_deidentification_is_pending_only_its_listed_duplicates_merge_into_it() {
        let id = Uuid::from_u128;
        let (client, member, listed, other) = (id(1), id(2), id(3), id(4));
        let pending = [PendingDeidentification {
            targets: vec![client, member],
            duplicates: vec![listed],
        }];
        for (survivor, duplicate, ok) in [
            // A record it de-identifies, as either side, with one it does not list.
            (client, other, false),
            (other, client, false),
            (other, member, false),
            // Two records it de-identifies: one would become a tombstone of the other.
            (client, member, false),
            // A listed duplicate into a record it de-identifies: what it asks for.
            (client, listed, true),
            (member, listed, true),
            // A record it de-identifies into a listed duplicate: the identity would stay there.
            (listed, client, false),
            // A listed duplicate and a record the request does not name, either way (the
            // tester's case: it answered 200).
            (listed, other, false),
            (other, listed, false),
            // Records it does not name.
            (other, id(5), true),
        ] {
            let got = may_merge_while_pending(survivor, duplicate, &pending);
            assert_eq!(got.is_ok(), ok, "{survivor} <- {duplicate}");
            if let Err(r) = got {
                assert_eq!(r.code, "deidentification-pending");
            }
        }
        assert!(may_merge_while_pending(client, other, &[]).is_ok());
        // Another pending request that de-identifies the listed duplicate still holds it.
        let two = [
            pending[0].clone(),
            PendingDeidentification {
                targets: vec![listed],
                duplicates: vec![],
            },
        ];
        assert!(may_merge_while_pending(client, listed, &two).is_err());
    }

    fn facts(creator: Uuid, contributors: &[Uuid], visibility: Visibility) -> RecordFacts {
        RecordFacts {
            creating_agency: creator,
            coc_code: "WA-502".into(),
            visibility,
            identity: IdentityMode::Identified,
            lifecycle: crate::consent::Lifecycle::Active,
            rois: vec![],
            contributors: contributors.to_vec(),
            active_ce_enrollment: false,
            locked_visible_to_ce_assessors: false,
        }
    }

    #[test]
    fn a_private_or_locked_record_merges_only_where_no_one_new_would_see_it() {
        let id = Uuid::from_u128;
        let (a1, a2) = (id(1), id(2));
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let refused = |s: &RecordFacts, d: &RecordFacts| {
            let r = restricted_records_stay_unshared(s, d, today);
            assert_eq!(
                r.as_ref().err().map(|r| r.code),
                Some("restricted-record-would-be-shared"),
                "{s:?} <- {d:?}"
            );
        };
        for restricted in [Private, Locked] {
            let own = facts(a1, &[a1], restricted);
            // The tester's cases: the other record has another agency's data, or another
            // agency created it (a system administrator's merge), either side.
            for other in [facts(a1, &[a1, a2], Closed), facts(a2, &[a2], Closed)] {
                refused(&other, &own);
                refused(&own, &other);
            }
            // The other record is open with an ROI.
            let mut open = facts(a1, &[a1], Open);
            open.rois.push(crate::consent::RoiFacts {
                effective_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                expires_on: None,
                revoked_on: None,
                scope: crate::consent::RoiScope::Statewide,
            });
            refused(&open, &own);
            refused(&own, &open);
            // Two records of one agency, nobody else's data: as before.
            for other in [facts(a1, &[a1], Closed), facts(a1, &[], Private)] {
                assert!(restricted_records_stay_unshared(&own, &other, today).is_ok());
                assert!(restricted_records_stay_unshared(&other, &own, today).is_ok());
            }
        }
        // Closed records of two agencies merge; each side's newcomers are named.
        let (s, d) = (facts(a1, &[a1], Closed), facts(a2, &[a2], Closed));
        assert!(restricted_records_stay_unshared(&s, &d, today).is_ok());
        assert_eq!(agencies_gaining_data_of(&d, &s), vec![a1]);
        assert_eq!(agencies_gaining_data_of(&s, &d), vec![a2]);
        assert!(agencies_gaining_data_of(&s, &facts(a1, &[], Closed)).is_empty());
    }

    #[test]
    fn only_admins_merge_and_an_agency_admin_only_its_own_records() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let v = |roles: Vec<Role>, agency: Option<Uuid>| Viewer {
            agency_id: agency,
            coc_code: None,
            agency_shares_data: true,
            roles,
        };
        assert!(may_merge(&v(vec![Role::SystemAdmin], None), a, b));
        assert!(may_merge(&v(vec![Role::AgencyAdmin], Some(a)), a, a));
        assert!(!may_merge(&v(vec![Role::AgencyAdmin], Some(a)), a, b));
        assert!(!may_merge(&v(vec![Role::CaseWorker], Some(a)), a, a));
    }
}
