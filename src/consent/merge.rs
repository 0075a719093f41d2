//! The consent rules of a merge (Spokane job aid: "provide both client IDs and confirm that the
//! clients are indeed the same person"): who may merge, and which visibility the survivor takes.

use uuid::Uuid;

use super::{Role, Viewer, Visibility};

/// A system administrator merges any two records; an agency administrator only two records its
/// own agency created.
pub fn may_merge(viewer: &Viewer, survivor_creator: Uuid, duplicate_creator: Uuid) -> bool {
    viewer.has_role(Role::SystemAdmin)
        || (viewer.has_role(Role::AgencyAdmin)
            && viewer.agency_id == Some(survivor_creator)
            && viewer.agency_id == Some(duplicate_creator))
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
