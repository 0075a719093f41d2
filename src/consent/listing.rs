//! Which agencies and projects a caller may list and read, and who sees a record's `person_id`.

/// The agencies (and their projects) a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// System administrators: every agency.
    Everything,
    /// Everyone else: the agencies of its own CoC, and every agency taking part in sharing.
    CocAndSharing(String),
}

impl TenantScope {
    /// The scope of a caller: `coc` is its agency's CoC (`None`: an agency Hearth does not know).
    pub fn of(is_system_admin: bool, coc: Option<String>) -> Option<TenantScope> {
        if is_system_admin {
            return Some(TenantScope::Everything);
        }
        coc.map(TenantScope::CocAndSharing)
    }

    /// Whether an agency of `coc` with `shares_data` is in scope.
    pub fn includes(&self, coc: &str, shares_data: bool) -> bool {
        match self {
            TenantScope::Everything => true,
            TenantScope::CocAndSharing(own) => own == coc || shares_data,
        }
    }
}

/// HUD 5.08 Personal ID ties a person's records together; it is seen only by system
/// administrators (and in the CoC's aggregate outputs, which show counts, not ids).
pub fn sees_person_id(viewer: &super::Viewer) -> bool {
    viewer.has_role(super::Role::SystemAdmin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(TenantScope::of(false, None), None);
        let s = TenantScope::of(false, Some("IL-510".into())).unwrap();
        assert!(s.includes("IL-510", false));
        assert!(s.includes("WA-502", true));
        assert!(!s.includes("WA-502", false));
        assert!(TenantScope::of(true, None)
            .unwrap()
            .includes("WA-502", false));
    }

    #[test]
    fn only_system_admins_see_person_ids() {
        use crate::consent::{Role, Viewer};
        for r in Role::ALL {
            let v = Viewer {
                roles: vec![*r],
                ..Viewer::default()
            };
            assert_eq!(sees_person_id(&v), *r == Role::SystemAdmin, "{r:?}");
        }
    }
}
