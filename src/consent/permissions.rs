//! Least privilege: which role may attempt which kind of action. This table is consulted for
//! every authenticated request before anything else (the route's action comes from
//! `api::guard::ROUTES`); the record rule then decides what the caller may see of a record.
//!
//! A role grants nothing it does not list. A token whose roles are all unknown to Hearth (an
//! identity provider's token meant for another system) holds no role here and may do nothing
//! but the public operations (`/healthz`, `/readyz`, `/metrics`, the contract).

use serde::Serialize;

use super::Role;

/// A kind of action, as the permission table knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// List and read CoCs, agencies and projects.
    ReadTenants,
    /// Create CoCs, agencies and projects.
    ManageTenants,
    /// Edit a CoC's consent policy.
    EditCocPolicy,
    /// Read a client record and what is attached to it (the record rule decides how much).
    ReadClient,
    /// Duplicate search (by SSN, DOB and names).
    SearchClients,
    /// Create a record, change its identity, add contact details and documents.
    WriteRecord,
    /// Enroll, exit, and add data to a stay.
    WriteData,
    /// ROI grant and revocation, visibility, designate sharing, de-identification requests.
    ConsentWorkflow,
    /// List de-identification requests (an agency's own, a CoC's, all: the service scopes it).
    ListDeidentificationRequests,
    /// Delete contact details and documents.
    DeleteData,
    /// Merge duplicate records.
    MergeRecords,
    /// Complete or reject de-identification requests.
    AdministerDeidentification,
    /// A record's accounting of disclosures.
    ReadAudit,
    /// What the server did that a helpdesk used to do by hand.
    ReadHelpdeskNotices,
    /// The Coordinated Entry priority list.
    ReadPriorityList,
    /// Aggregate reports without PII.
    ReadReports,
    /// HUD HMIS CSV export.
    ExportData,
    /// HUD HMIS CSV import.
    ImportData,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ReadTenants,
        Action::ManageTenants,
        Action::EditCocPolicy,
        Action::ReadClient,
        Action::SearchClients,
        Action::WriteRecord,
        Action::WriteData,
        Action::ConsentWorkflow,
        Action::ListDeidentificationRequests,
        Action::DeleteData,
        Action::MergeRecords,
        Action::AdministerDeidentification,
        Action::ReadAudit,
        Action::ReadHelpdeskNotices,
        Action::ReadPriorityList,
        Action::ReadReports,
        Action::ExportData,
        Action::ImportData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadTenants => "read_tenants",
            Action::ManageTenants => "manage_tenants",
            Action::EditCocPolicy => "edit_coc_policy",
            Action::ReadClient => "read_client",
            Action::SearchClients => "search_clients",
            Action::WriteRecord => "write_record",
            Action::WriteData => "write_data",
            Action::ConsentWorkflow => "consent_workflow",
            Action::ListDeidentificationRequests => "list_deidentification_requests",
            Action::DeleteData => "delete_data",
            Action::MergeRecords => "merge_records",
            Action::AdministerDeidentification => "administer_deidentification",
            Action::ReadAudit => "read_audit",
            Action::ReadHelpdeskNotices => "read_helpdesk_notices",
            Action::ReadPriorityList => "read_priority_list",
            Action::ReadReports => "read_reports",
            Action::ExportData => "export_data",
            Action::ImportData => "import_data",
        }
    }

    /// Words for a 403's detail.
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadTenants => "reading CoCs, agencies and projects",
            Action::ManageTenants => "creating CoCs, agencies and projects",
            Action::EditCocPolicy => "editing a CoC's policy",
            Action::ReadClient => "reading client records",
            Action::SearchClients => "searching client records",
            Action::WriteRecord => "creating or changing client records",
            Action::WriteData => "enrolling clients and adding data to stays",
            Action::ConsentWorkflow => "consent workflows (ROI, visibility, sharing)",
            Action::ListDeidentificationRequests => "listing de-identification requests",
            Action::DeleteData => "deleting contact details and documents",
            Action::MergeRecords => "merging records",
            Action::AdministerDeidentification => {
                "completing or rejecting de-identification requests"
            }
            Action::ReadAudit => "reading a record's audit trail",
            Action::ReadHelpdeskNotices => "reading helpdesk notices",
            Action::ReadPriorityList => "reading the priority list",
            Action::ReadReports => "reading aggregate reports",
            Action::ExportData => "exporting HMIS CSV",
            Action::ImportData => "importing HMIS CSV",
        }
    }
}

use Action::*;

/// The permission table: role by action. Record-level limits (own agency, own CoC, what the
/// consent engine shows) apply on top of it in the workflows.
const TABLE: &[(Role, &[Action])] = &[
    (
        Role::CaseWorker,
        &[
            ReadTenants,
            ReadClient,
            SearchClients,
            WriteRecord,
            WriteData,
            ConsentWorkflow,
            ListDeidentificationRequests,
            DeleteData,
            ReadPriorityList,
        ],
    ),
    (
        Role::AgencyAdmin,
        &[
            ReadTenants,
            ReadClient,
            SearchClients,
            WriteRecord,
            WriteData,
            ConsentWorkflow,
            ListDeidentificationRequests,
            DeleteData,
            MergeRecords,
            ReadAudit,
            ReadPriorityList,
            ExportData,
            ImportData,
        ],
    ),
    (
        Role::CeAssessor,
        &[
            ReadTenants,
            ReadClient,
            SearchClients,
            WriteData,
            ListDeidentificationRequests,
            ReadPriorityList,
        ],
    ),
    (
        Role::CocAdmin,
        &[
            ReadTenants,
            EditCocPolicy,
            ReadClient,
            SearchClients,
            ListDeidentificationRequests,
            ReadAudit,
            ReadHelpdeskNotices,
            ReadPriorityList,
            ReadReports,
            ExportData,
        ],
    ),
    (Role::PriorityListReader, &[ReadClient, ReadPriorityList]),
    (Role::SystemAdmin, Action::ALL),
];

/// Whether `role` may attempt `action`.
pub fn permits(role: Role, action: Action) -> bool {
    TABLE
        .iter()
        .any(|(r, actions)| *r == role && actions.contains(&action))
}

/// Whether any of `roles` may attempt `action`. No role: nothing.
pub fn roles_permit(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| permits(*r, action))
}

/// The roles that may attempt `action`, for a 403's detail and the contract.
pub fn roles_for(action: Action) -> Vec<Role> {
    Role::ALL
        .iter()
        .copied()
        .filter(|r| permits(*r, action))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_row_and_no_role_has_two() {
        for r in Role::ALL {
            assert_eq!(TABLE.iter().filter(|(x, _)| x == r).count(), 1, "{r:?}");
        }
    }

    #[test]
    fn no_roles_permit_nothing() {
        for a in Action::ALL {
            assert!(!roles_permit(&[], *a), "{a:?}");
        }
    }

    #[test]
    fn system_admin_may_attempt_everything() {
        for a in Action::ALL {
            assert!(permits(Role::SystemAdmin, *a), "{a:?}");
        }
    }

    #[test]
    fn readers_and_assessors_do_not_change_records_or_consent() {
        for r in [Role::PriorityListReader, Role::CeAssessor, Role::CocAdmin] {
            for a in [WriteRecord, ConsentWorkflow, DeleteData, MergeRecords] {
                assert!(!permits(r, a), "{r:?} {a:?}");
            }
        }
        assert!(!permits(Role::PriorityListReader, WriteData));
        assert!(!permits(Role::PriorityListReader, SearchClients));
    }

    #[test]
    fn the_table_as_the_closing_note_states_it() {
        // role -> actions, in Action::ALL order: a change to the table changes this line.
        let rendered: Vec<String> = Role::ALL
            .iter()
            .map(|r| {
                let acts: Vec<&str> = Action::ALL
                    .iter()
                    .filter(|a| permits(*r, **a))
                    .map(|a| a.as_str())
                    .collect();
                format!("{}: {}", r.as_str(), acts.join(" "))
            })
            .collect();
        assert!(rendered
            .iter()
            .any(|l| l == "priority_list_reader: read_client read_priority_list"));
        assert!(rendered.iter().any(|l| {
            l == "ce_assessor: read_tenants read_client search_clients write_data \
                  list_deidentification_requests read_priority_list"
        }));
    }

    #[test]
    fn roles_for_lists_the_permitted_roles() {
        assert_eq!(
            roles_for(ReadHelpdeskNotices),
            vec![Role::CocAdmin, Role::SystemAdmin]
        );
    }
}
