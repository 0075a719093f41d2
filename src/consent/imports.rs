//! Who may import HUD HMIS CSV into which agency (and read that import's job).

use uuid::Uuid;

use super::Role;

/// A system administrator imports into any agency; an agency administrator only into its own.
/// (The permission table decides first whether the role may import at all.)
pub fn may_import_into(roles: &[Role], caller_agency: Option<Uuid>, target: Uuid) -> bool {
    roles.contains(&Role::SystemAdmin)
        || (roles.contains(&Role::AgencyAdmin) && caller_agency == Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let (own, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let cases: &[(&[Role], Option<Uuid>, Uuid, bool)] = &[
            (&[Role::SystemAdmin], None, other, true),
            (&[Role::SystemAdmin], Some(own), other, true),
            (&[Role::AgencyAdmin], Some(own), own, true),
            (&[Role::AgencyAdmin], Some(own), other, false),
            (&[Role::AgencyAdmin], None, own, false),
            (&[Role::CaseWorker], Some(own), own, false),
            (&[Role::CocAdmin], Some(own), own, false),
            (&[Role::CaseWorker, Role::AgencyAdmin], Some(own), own, true),
            (&[], Some(own), own, false),
        ];
        for (roles, agency, target, want) in cases {
            assert_eq!(
                may_import_into(roles, *agency, *target),
                *want,
                "{roles:?} {agency:?} -> {target:?}"
            );
        }
    }
}
