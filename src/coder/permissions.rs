//! Which permission each endpoint orgsplit calls needs, so a 403 can say
//! what is missing instead of "forbidden". Permissions are Coder's RBAC
//! `resource:action` pairs; the roles named are the built-in ones that hold
//! them (a custom role may hold them too).

const OWNER: &str = "the `owner` site role";
const USER_ADMIN: &str = "the `owner` or `user-admin` site role, or `organization-user-admin` in that organization";
const ORG_ADMIN: &str = "the `owner` site role or `organization-admin` in that organization";
const TEMPLATE_ADMIN: &str =
    "the `owner` or `template-admin` site role, or `organization-template-admin` in that organization";

/// What the request does and what grants it, for `method` on `path` (with or
/// without `/api/v2` and a query). `None` for endpoints orgsplit does not call.
pub fn needed(method: &str, path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = path.strip_prefix("/api/v2").unwrap_or(path);
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (what, permission, who) = match (method, s.as_slice()) {
        ("GET", ["users", ..]) => ("read users", "user:read", USER_ADMIN),
        ("GET", ["workspaces"]) => ("read every workspace", "workspace:read", OWNER),
        ("GET", ["entitlements"]) => ("read the license entitlements", "license:read", OWNER),
        ("GET", ["organizations", _, "members" | "paginated-members"]) => {
            ("read the organization's members", "organization_member:read", USER_ADMIN)
        }
        ("POST", ["organizations"]) => ("create organizations", "organization:create", OWNER),
        ("PATCH", ["organizations", _]) => ("edit the organization", "organization:update", ORG_ADMIN),
        ("POST" | "PUT", ["organizations", _, "members", "roles"]) => {
            ("create or change custom organization roles", "assign_org_role:create", ORG_ADMIN)
        }
        ("POST", ["organizations", _, "members", _]) => {
            ("add members to the organization", "organization_member:create", USER_ADMIN)
        }
        ("PUT", ["organizations", _, "members", _, "roles"]) => {
            ("assign organization roles", "assign_org_role:assign", USER_ADMIN)
        }
        ("GET", ["organizations", _, "members", "roles"]) => {
            ("read the organization's roles", "assign_org_role:read", USER_ADMIN)
        }
        ("GET", ["organizations", _, "groups", ..] | ["groups", ..]) => ("read groups", "group:read", USER_ADMIN),
        ("POST", ["organizations", _, "groups"]) => ("create groups", "group:create", USER_ADMIN),
        ("PATCH", ["groups", _]) => ("change groups", "group:update", USER_ADMIN),
        ("GET", ["organizations", _, "provisionerjobs"]) => {
            ("read the organization's provisioner jobs", "provisioner_jobs:read", ORG_ADMIN)
        }
        ("GET", ["templates", _, "acl"]) => ("read the template's permissions", "template:read", TEMPLATE_ADMIN),
        ("PATCH", ["templates", _, "acl"]) => ("change who may use the template", "template:update", TEMPLATE_ADMIN),
        ("PATCH", ["templates", _]) => ("change the template", "template:update", TEMPLATE_ADMIN),
        ("POST", ["organizations", _, "templates"]) => ("create templates", "template:create", TEMPLATE_ADMIN),
        ("POST", ["organizations", _, "templateversions"]) => {
            ("push template versions", "template:update", TEMPLATE_ADMIN)
        }
        ("GET", ["templates", ..] | ["templateversions", ..] | ["organizations", _, "templates", ..]) => {
            ("read templates", "template:read", TEMPLATE_ADMIN)
        }
        ("POST", ["files"]) => ("upload template source archives", "file:create", TEMPLATE_ADMIN),
        ("GET", ["files", _]) => ("download template source archives", "file:read", TEMPLATE_ADMIN),
        ("GET", ["organizations", _, "provisionerkeys" | "provisionerdaemons", ..]) => {
            ("read provisioner keys and daemons", "provisioner_daemon:read", ORG_ADMIN)
        }
        ("POST", ["organizations", _, "provisionerkeys"]) => {
            ("create provisioner keys", "provisioner_daemon:create", ORG_ADMIN)
        }
        ("GET", ["settings", "idpsync", ..] | ["organizations", _, "settings", "idpsync", ..]) => {
            ("read the IdP sync settings", "idpsync_settings:read", ORG_ADMIN)
        }
        ("PATCH", ["settings", "idpsync", ..] | ["organizations", _, "settings", "idpsync", ..]) => {
            ("change the IdP sync settings", "idpsync_settings:update", ORG_ADMIN)
        }
        ("GET", ["workspaceproxies"]) => ("read workspace proxies", "workspace_proxy:read", OWNER),
        ("PATCH", ["organizations", _, "settings", "workspace-sharing"]) => {
            ("change whether the organization's workspaces may be shared", "organization:update", ORG_ADMIN)
        }
        _ => return None,
    };
    Some(format!("{what} (`{permission}`, held by {who})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_map_to_their_permission() {
        let have = |m: &str, p: &str| needed(m, p).map(|s| s.split(" (").next().unwrap().to_string());
        let cases = [
            ("GET", "/api/v2/users?limit=500&offset=0", Some("read users")),
            ("GET", "/api/v2/organizations/o1/paginated-members?limit=1", Some("read the organization's members")),
            ("GET", "/api/v2/organizations/o1/members/roles", Some("read the organization's roles")),
            ("POST", "/api/v2/organizations/o1/members/u1", Some("add members to the organization")),
            ("PUT", "/api/v2/organizations/o1/members/u1/roles", Some("assign organization roles")),
            ("PATCH", "/api/v2/templates/t1", Some("change the template")),
            ("PATCH", "/api/v2/templates/t1/acl", Some("change who may use the template")),
            ("PATCH", "/api/v2/organizations/o1/settings/idpsync/groups/mapping", Some("change the IdP sync settings")),
            ("DELETE", "/api/v2/templates/t1", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(have(method, path).as_deref(), want, "{method} {path}");
        }
        assert!(needed("POST", "/api/v2/files").unwrap().contains("`file:create`"));
    }
}
