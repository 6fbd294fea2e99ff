//! The parts of the state a plan depends on, for the fingerprints. A live
//! deployment changes all the time without anything a plan relies on
//! changing: users sign in, workspaces start and stop, templates are used.
//! Fingerprinting that activity would make every plan stale by the time it
//! is applied, so these views leave it out:
//! - users: when they were last seen, and whether they are `active` or
//!   `dormant` (Coder marks idle users dormant, and active again when they
//!   sign in; a suspension is an admin's decision and does count);
//! - templates: their active user count and last update time (the settings
//!   that an update changes are fingerprinted themselves);
//! - workspaces: when they were last used, their builds (start, stop, a new
//!   template version) and whether they are outdated. What is kept: which
//!   workspace, its name, owner, org and template, whether it is dormant or
//!   scheduled for deletion, and whether it has been deleted.

use serde::Serialize;

use super::{Template, User, Workspace};

/// A user without their activity: serialised as `User` is, with
/// `last_seen_at` null and `dormant` written as `active`.
#[derive(Serialize)]
pub(super) struct UserView<'a> {
    id: &'a str,
    username: &'a str,
    email: &'a str,
    name: &'a str,
    status: &'a str,
    login_type: &'a str,
    roles: &'a [String],
    created_at: Option<&'a str>,
    last_seen_at: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_service_account: bool,
}

/// Users without their activity.
pub(super) fn users(users: &[User]) -> Vec<UserView<'_>> {
    users
        .iter()
        .map(|u| UserView {
            id: &u.id,
            username: &u.username,
            email: &u.email,
            name: &u.name,
            status: if u.status == "dormant" { "active" } else { &u.status },
            login_type: &u.login_type,
            roles: &u.roles,
            created_at: u.created_at.as_deref(),
            last_seen_at: None,
            is_service_account: u.is_service_account,
        })
        .collect()
}

/// Templates without their usage.
pub(super) fn templates(templates: &[Template]) -> Vec<Template> {
    templates.iter().map(|t| Template { active_user_count: 0, updated_at: None, ..t.clone() }).collect()
}

/// What a plan relies on about a workspace.
#[derive(Serialize)]
pub(super) struct WorkspaceView<'a> {
    id: &'a str,
    name: &'a str,
    owner_id: &'a str,
    owner_name: &'a str,
    organization_id: &'a str,
    template_id: &'a str,
    template_name: &'a str,
    dormant_at: Option<&'a str>,
    deleting_at: Option<&'a str>,
    deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    shares: Option<&'a super::WorkspaceShares>,
}

pub(super) fn workspaces(workspaces: &[Workspace]) -> Vec<WorkspaceView<'_>> {
    workspaces
        .iter()
        .map(|w| WorkspaceView {
            id: &w.id,
            name: &w.name,
            owner_id: &w.owner_id,
            owner_name: &w.owner_name,
            organization_id: &w.organization_id,
            template_id: &w.template_id,
            template_name: &w.template_name,
            dormant_at: w.dormant_at.as_deref(),
            deleting_at: w.deleting_at.as_deref(),
            deleted: w.is_deleted_or_deleting(),
            shares: w.shares.as_ref(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_view_is_written_as_the_user_without_activity() {
        let mut all = crate::fixture::builtin().unwrap().users;
        all[0].status = "dormant".into();
        assert!(all.iter().any(|u| u.last_seen_at.is_some()));
        let expected: Vec<User> = all
            .iter()
            .map(|u| User {
                last_seen_at: None,
                status: if u.status == "dormant" { "active".into() } else { u.status.clone() },
                ..u.clone()
            })
            .collect();
        assert_eq!(serde_json::to_string(&users(&all)).unwrap(), serde_json::to_string(&expected).unwrap());
    }
}
