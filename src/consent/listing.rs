//! Which agencies, projects, helpdesk notices and de-identification requests a caller may list,
//! and who sees a record's `person_id`.

use uuid::Uuid;

use super::Role;

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

    /// How an HMIS CSV export describes an agency of `coc` with `shares_data` (and each of its
    /// projects, its staff, and the rows an import kept of them) to this caller: whole when the
    /// API shows it ([`Self::includes`]); otherwise only a project that an exported row names
    /// (a stay the caller is shown, with its project's id), by its ids alone, with its
    /// organization and the users the exported rows name; otherwise not at all.
    pub fn export_description(
        &self,
        coc: &str,
        shares_data: bool,
        referenced: bool,
    ) -> ExportDescription {
        if self.includes(coc, shares_data) {
            ExportDescription::Whole
        } else if referenced {
            ExportDescription::IdsOnly
        } else {
            ExportDescription::Absent
        }
    }
}

/// What an HMIS CSV export writes of an agency's project (`TenantScope::export_description`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportDescription {
    /// As Hearth holds it and an import kept it: every descriptor file.
    Whole,
    /// A row of Project, Organization and ProjectCoC with its ids (no name, address, funding,
    /// beds, nor any row an import kept), and a bare User row per user an exported row names.
    IdsOnly,
    /// Nothing.
    Absent,
}

/// The helpdesk notices a caller may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeScope {
    /// System administrators: every CoC's.
    All,
    /// A CoC's admins: their CoC's.
    Coc(String),
}

/// Who may list helpdesk notices: system administrators all, a `coc_admin` its own CoC's.
/// `agency` is the token's agency and `coc` that agency's CoC (`None` when Hearth does not
/// know the agency). The refusal is a 403's message.
pub fn notice_scope(
    roles: &[Role],
    agency: Option<Uuid>,
    coc: Option<&str>,
) -> Result<NoticeScope, &'static str> {
    if roles.contains(&Role::SystemAdmin) {
        return Ok(NoticeScope::All);
    }
    if !roles.contains(&Role::CocAdmin) {
        return Err("Reading helpdesk notices needs one of the roles: coc_admin.");
    }
    match (agency, coc) {
        (_, Some(c)) => Ok(NoticeScope::Coc(c.to_string())),
        (Some(_), None) => Err("The token's agency is not known to Hearth."),
        (None, None) => Err("No CoC for this token."),
    }
}

/// Whose de-identification requests a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestScope {
    All,
    Coc(String),
    Agency(Uuid),
}

/// Who may list de-identification requests: a system administrator all, a `coc_admin` its
/// CoC's, anyone else its own agency's. `agency` and `coc` as for [`notice_scope`].
pub fn request_scope(
    roles: &[Role],
    agency: Option<Uuid>,
    coc: Option<&str>,
) -> Result<RequestScope, &'static str> {
    if roles.contains(&Role::SystemAdmin) {
        return Ok(RequestScope::All);
    }
    if roles.contains(&Role::CocAdmin) {
        return coc
            .map(|c| RequestScope::Coc(c.to_string()))
            .ok_or("The token's agency is not known to Hearth.");
    }
    agency
        .map(RequestScope::Agency)
        .ok_or("Listing de-identification requests needs a token for an agency.")
}

/// Whether a reader of a de-identification request (within its [`RequestScope`]) reads its
/// `description`: free text the filing agency wrote about its client, so only that agency and
/// the system administrators who complete requests. A CoC's admins, who may see the records
/// without PII only, read the rest of the request (datum rule: no free text below `full`). The
/// text is checked at filing against the names of the records the filer sees in full, never
/// against every client of the installation, which would tell the filer whether a name it
/// guesses is anyone's (record rule row 9).
pub fn reads_request_description(
    roles: &[Role],
    agency: Option<Uuid>,
    requesting_agency: Uuid,
) -> bool {
    roles.contains(&Role::SystemAdmin) || agency == Some(requesting_agency)
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
    fn a_requests_description_is_read_by_its_agency_and_system_admins_only() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(reads_request_description(&[Role::CaseWorker], Some(a), a));
        assert!(reads_request_description(&[Role::SystemAdmin], None, a));
        assert!(!reads_request_description(&[Role::CocAdmin], Some(b), a));
        assert!(reads_request_description(&[Role::CocAdmin], Some(a), a));
    }

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
        use ExportDescription::*;
        assert_eq!(s.export_description("IL-510", false, false), Whole);
        assert_eq!(s.export_description("WA-502", true, false), Whole);
        assert_eq!(s.export_description("WA-502", false, true), IdsOnly);
        assert_eq!(s.export_description("WA-502", false, false), Absent);
        assert_eq!(
            TenantScope::Everything.export_description("WA-502", false, false),
            Whole
        );
    }

    /// Roles, the token's agency, that agency's CoC, and the answer.
    type Case<'a, S> = (
        &'a [Role],
        Option<Uuid>,
        Option<&'a str>,
        Result<S, &'a str>,
    );

    #[test]
    fn notice_scopes() {
        use Role::*;
        let a = Some(Uuid::from_u128(7));
        let known = Some("IL-510");
        let not_coc_admin = Err("Reading helpdesk notices needs one of the roles: coc_admin.");
        let coc = Ok(NoticeScope::Coc("IL-510".into()));
        let cases: &[Case<NoticeScope>] = &[
            (&[SystemAdmin], None, None, Ok(NoticeScope::All)),
            (&[SystemAdmin], a, None, Ok(NoticeScope::All)),
            (&[SystemAdmin, CocAdmin], a, known, Ok(NoticeScope::All)),
            (&[CocAdmin], a, known, coc.clone()),
            (&[CocAdmin, CaseWorker], a, known, coc),
            (
                &[CocAdmin],
                a,
                None,
                Err("The token's agency is not known to Hearth."),
            ),
            (&[CocAdmin], None, None, Err("No CoC for this token.")),
            (&[], a, known, not_coc_admin.clone()),
            (&[CaseWorker], a, known, not_coc_admin.clone()),
            (&[AgencyAdmin], a, known, not_coc_admin.clone()),
            (&[CeAssessor], a, known, not_coc_admin.clone()),
            (&[PriorityListReader], a, known, not_coc_admin),
        ];
        for (roles, agency, c, want) in cases {
            assert_eq!(
                &notice_scope(roles, *agency, *c),
                want,
                "{roles:?} {agency:?} {c:?}"
            );
        }
    }

    #[test]
    fn request_scopes() {
        use Role::*;
        let id = Uuid::from_u128(7);
        let a = Some(id);
        let known = Some("IL-510");
        let no_agency = Err("Listing de-identification requests needs a token for an agency.");
        let cases: &[Case<RequestScope>] = &[
            (&[SystemAdmin], None, None, Ok(RequestScope::All)),
            (&[SystemAdmin, CocAdmin], a, known, Ok(RequestScope::All)),
            (
                &[CocAdmin],
                a,
                known,
                Ok(RequestScope::Coc("IL-510".into())),
            ),
            (
                &[CocAdmin, AgencyAdmin],
                a,
                known,
                Ok(RequestScope::Coc("IL-510".into())),
            ),
            (
                &[CocAdmin],
                a,
                None,
                Err("The token's agency is not known to Hearth."),
            ),
            (
                &[CocAdmin],
                None,
                None,
                Err("The token's agency is not known to Hearth."),
            ),
            (&[CaseWorker], a, known, Ok(RequestScope::Agency(id))),
            (&[AgencyAdmin], a, None, Ok(RequestScope::Agency(id))),
            (
                &[PriorityListReader],
                a,
                known,
                Ok(RequestScope::Agency(id)),
            ),
            (&[CaseWorker], None, None, no_agency.clone()),
            (&[], None, None, no_agency),
        ];
        for (roles, agency, c, want) in cases {
            assert_eq!(
                &request_scope(roles, *agency, *c),
                want,
                "{roles:?} {agency:?} {c:?}"
            );
        }
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
