//! Org roles: the built-in ones, the page's custom roles expressed as Coder
//! permissions, and the RBAC vocabulary they are checked against (the
//! resource/action pairs of ENDPOINTS.md section 5).

use crate::model::Permission;

/// Org roles every Coder release with organizations has.
pub const BUILT_IN_ORG_ROLES: [&str; 5] = [
    "organization-admin",
    "organization-auditor",
    "organization-template-admin",
    "organization-user-admin",
    "organization-workspace-creation-ban",
];

/// Roles that let their holder manage other people or the org's templates.
pub const ADMIN_ORG_ROLES: [&str; 3] = ["organization-admin", "organization-template-admin", "organization-user-admin"];

/// Valid actions per resource type (`*` allows any action).
const RBAC: &[(&str, &[&str])] = &[
    ("*", &[]),
    ("aibridge_interception", &["create", "read", "update"]),
    ("api_key", &["create", "delete", "read", "update"]),
    ("assign_org_role", &["assign", "create", "delete", "read", "unassign", "update"]),
    ("assign_role", &["assign", "read", "unassign"]),
    ("audit_log", &["create", "read"]),
    ("connection_log", &["read", "update"]),
    ("crypto_key", &["create", "delete", "read", "update"]),
    ("debug_info", &["read"]),
    ("deployment_config", &["read", "update"]),
    ("deployment_stats", &["read"]),
    ("file", &["create", "read"]),
    ("group", &["create", "delete", "read", "update"]),
    ("group_member", &["read"]),
    ("idpsync_settings", &["read", "update"]),
    ("inbox_notification", &["create", "read", "update"]),
    ("license", &["create", "delete", "read"]),
    ("notification_message", &["create", "delete", "read", "update"]),
    ("notification_preference", &["read", "update"]),
    ("notification_template", &["read", "update"]),
    ("oauth2_app", &["create", "delete", "read", "update"]),
    ("oauth2_app_code_token", &["create", "delete", "read"]),
    ("oauth2_app_secret", &["create", "delete", "read", "update"]),
    ("organization", &["create", "delete", "read", "update"]),
    ("organization_member", &["create", "delete", "read", "update"]),
    ("prebuilt_workspace", &["delete", "update"]),
    ("provisioner_daemon", &["create", "delete", "read", "update"]),
    ("provisioner_jobs", &["create", "read", "update"]),
    ("replicas", &["read"]),
    ("system", &["create", "delete", "read", "update"]),
    ("tailnet_coordinator", &["create", "delete", "read", "update"]),
    ("task", &["create", "delete", "read", "update"]),
    ("template", &["create", "delete", "read", "update", "use", "view_insights"]),
    ("usage_event", &["create", "read", "update"]),
    ("user", &["create", "delete", "read", "read_personal", "update", "update_personal"]),
    ("user_secret", &["create", "delete", "read", "update"]),
    ("webpush_subscription", &["create", "delete", "read"]),
    (
        "workspace",
        &[
            "application_connect",
            "create",
            "create_agent",
            "delete",
            "delete_agent",
            "read",
            "share",
            "ssh",
            "start",
            "stop",
            "update",
        ],
    ),
    ("workspace_agent_devcontainers", &["create"]),
    ("workspace_agent_resource_monitor", &["create", "read", "update"]),
    (
        "workspace_dormant",
        &[
            "application_connect",
            "create",
            "create_agent",
            "delete",
            "delete_agent",
            "read",
            "share",
            "ssh",
            "start",
            "stop",
            "update",
        ],
    ),
    ("workspace_proxy", &["create", "delete", "read", "update"]),
];

const ALL_ACTIONS: [&str; 17] = [
    "application_connect",
    "assign",
    "create",
    "create_agent",
    "delete",
    "delete_agent",
    "read",
    "read_personal",
    "ssh",
    "share",
    "unassign",
    "update",
    "update_personal",
    "use",
    "view_insights",
    "start",
    "stop",
];

/// Why a permission is not valid in Coder's RBAC, if it is not.
pub fn permission_problem(resource_type: &str, action: &str) -> Option<String> {
    let Some((_, actions)) = RBAC.iter().find(|(r, _)| *r == resource_type) else {
        return Some(format!("unknown resource type `{resource_type}`"));
    };
    if !ALL_ACTIONS.contains(&action) {
        return Some(format!("unknown action `{action}`"));
    }
    if resource_type != "*" && !actions.contains(&action) {
        return Some(format!("`{resource_type}` has no action `{action}` (it has: {})", actions.join(", ")));
    }
    None
}

/// A custom role: name, display name, org-wide permissions.
pub struct CatalogueRole {
    pub name: &'static str,
    pub display_name: &'static str,
    pub permissions: &'static [(&'static str, &'static str)],
}

/// The page's three custom roles. No negations: in Coder a negated
/// permission denies whoever holds the role, even through another role.
pub const CATALOGUE: [CatalogueRole; 3] = [
    CatalogueRole {
        // Deploys provisioners (keys and daemons) but does not manage templates.
        name: "provisioner-admin",
        display_name: "Provisioner Admin",
        permissions: &[
            ("organization", "read"),
            ("provisioner_daemon", "create"),
            ("provisioner_daemon", "delete"),
            ("provisioner_daemon", "read"),
            ("provisioner_daemon", "update"),
            ("provisioner_jobs", "read"),
            ("template", "read"),
        ],
    },
    CatalogueRole {
        // The inverse: manages templates (and their ACLs) but not provisioners.
        name: "template-editor",
        display_name: "Template Editor",
        permissions: &[
            ("file", "create"),
            ("file", "read"),
            ("group", "read"),
            ("organization", "read"),
            ("provisioner_daemon", "read"),
            ("provisioner_jobs", "read"),
            ("template", "create"),
            ("template", "delete"),
            ("template", "read"),
            ("template", "update"),
            ("template", "view_insights"),
        ],
    },
    CatalogueRole {
        // A CI account that pushes templates from git: no users, no deletes.
        name: "template-pusher",
        display_name: "Template Pusher",
        permissions: &[
            ("file", "create"),
            ("file", "read"),
            ("organization", "read"),
            ("provisioner_jobs", "read"),
            ("template", "create"),
            ("template", "read"),
            ("template", "update"),
        ],
    },
];

pub fn catalogue_permissions(role: &CatalogueRole) -> Vec<Permission> {
    role.permissions
        .iter()
        .map(|(r, a)| Permission { negate: false, resource_type: r.to_string(), action: a.to_string() })
        .collect()
}

/// A role counts as admin-level when it can change something beyond the
/// holder's own workspaces: a built-in admin role, or a custom role granting
/// anything but reading or using.
pub fn is_admin_level(role: &str, permissions: Option<&[Permission]>) -> bool {
    if ADMIN_ORG_ROLES.contains(&role) {
        return true;
    }
    permissions.is_some_and(|ps| {
        ps.iter().any(|p| !p.negate && !matches!(p.action.as_str(), "read" | "use" | "read_personal" | "view_insights"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_uses_only_valid_permissions_and_matches_the_page() {
        for role in &CATALOGUE {
            for (r, a) in role.permissions {
                assert_eq!(permission_problem(r, a), None, "{}: {r}:{a}", role.name);
            }
            assert!(crate::plan::names::is_valid_name(role.name));
        }
        let has = |name: &str, r: &str, a: &str| {
            CATALOGUE.iter().find(|c| c.name == name).unwrap().permissions.contains(&(r, a))
        };
        // Provisioner Admin deploys provisioners, does not manage templates; Template Editor the inverse.
        assert!(has("provisioner-admin", "provisioner_daemon", "create"));
        assert!(!has("provisioner-admin", "template", "update"));
        assert!(has("template-editor", "template", "update"));
        assert!(!has("template-editor", "provisioner_daemon", "create"));
        // Template Pusher pushes, but cannot delete templates or manage users.
        assert!(has("template-pusher", "template", "create") && has("template-pusher", "file", "create"));
        assert!(!has("template-pusher", "template", "delete"));
        let pusher = CATALOGUE.iter().find(|c| c.name == "template-pusher").unwrap();
        assert!(pusher.permissions.iter().all(|(r, _)| !r.starts_with("user") && *r != "organization_member"));
    }

    #[test]
    fn permissions_are_checked_against_the_rbac_table() {
        assert_eq!(permission_problem("template", "use"), None);
        assert_eq!(permission_problem("*", "delete"), None);
        assert!(permission_problem("templates", "read").unwrap().contains("unknown resource type"));
        assert!(permission_problem("file", "delete").unwrap().contains("has no action `delete`"));
        assert!(permission_problem("file", "destroy").unwrap().contains("unknown action"));
    }

    #[test]
    fn admin_level() {
        assert!(is_admin_level("organization-admin", None));
        assert!(!is_admin_level("organization-auditor", None));
        let read = [Permission { negate: false, resource_type: "template".into(), action: "read".into() }];
        assert!(!is_admin_level("support", Some(&read)));
        assert!(is_admin_level("pusher", Some(&catalogue_permissions(&CATALOGUE[2]))));
    }
}
