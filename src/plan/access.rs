//! Who may use which template: the rules the planner, the access diff and
//! the tests share.

use std::cmp::Ordering;

use crate::model::{Index, Template, User};

/// Site roles that may use and manage every template in every org.
pub fn is_site_template_admin(site_roles: &[String]) -> bool {
    site_roles.iter().any(|r| r == "owner" || r == "template-admin")
}

/// Org roles that may use and manage every template of their org.
pub fn is_org_template_admin(org_roles: &[String]) -> bool {
    org_roles.iter().any(|r| r == "organization-admin" || r == "organization-template-admin")
}

/// Whether an org role may let a member create and use workspaces: the
/// built-in `organization-workspace-access`, and any custom role (its
/// permissions are not checked here, so it is given the benefit of the doubt).
fn grants_workspace_use(role: &str) -> bool {
    role == "organization-workspace-access"
        || !matches!(
            role,
            "organization-member"
                | "organization-auditor"
                | "organization-user-admin"
                | "organization-template-admin"
                | "organization-admin"
        )
}

/// `admin` outranks `use`.
pub fn stronger<'x>(a: Option<&'x str>, b: Option<&'x str>) -> Option<&'x str> {
    let rank = |r: Option<&str>| match r {
        Some("admin") => 2,
        Some("use") => 1,
        _ => 0,
    };
    match rank(a).cmp(&rank(b)) {
        Ordering::Less => b,
        _ => a,
    }
}

/// How `user` may use `template`: `Some("admin")`, `Some("use")` or None.
/// Deprecation is not considered here (a deprecated template still serves
/// its existing workspaces); callers decide what it means for them.
pub fn template_access<'x>(ix: &Index<'_>, user: &User, template: &'x Template) -> Option<&'x str> {
    if is_site_template_admin(&user.roles) {
        return Some("admin");
    }
    let member = ix.membership.get(&(template.organization_id.as_str(), user.id.as_str()))?;
    // The org's default member roles are unioned into every member's roles.
    let defaults =
        ix.org_by_id.get(template.organization_id.as_str()).and_then(|o| o.default_org_member_roles.as_ref());
    let roles: Vec<String> = member.roles.iter().flatten().chain(defaults.into_iter().flatten()).cloned().collect();
    if is_org_template_admin(&roles) {
        return Some("admin");
    }
    // Where the org's default roles are known (newer releases), a member
    // uses workspaces only through a role that grants it: with none of the
    // built-in ones and no custom role, they cannot use the template.
    if defaults.is_some() && !roles.iter().any(|r| grants_workspace_use(r)) {
        return None;
    }
    let Some(acl) = &template.acl else {
        // Not exported: Coder's default grants the org's Everyone group `use`.
        return Some("use");
    };
    let mut best = acl.users.iter().find(|e| e.id == user.id).map(|e| e.role.as_str());
    for e in &acl.group {
        let in_group = e.id == template.organization_id
            || ix.group_by_id.get(e.id.as_str()).is_some_and(|g| g.members.iter().any(|m| m == &user.id));
        if in_group {
            best = stronger(best, Some(e.role.as_str()));
        }
    }
    best.filter(|r| matches!(*r, "use" | "admin"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    #[test]
    fn access_follows_membership_roles_and_acl() {
        let s = Snapshot {
            users: ["amy", "bob", "cat", "dan"]
                .iter()
                .map(|n| User { id: n.to_string(), username: n.to_string(), ..Default::default() })
                .chain([User {
                    id: "own".into(),
                    username: "own".into(),
                    roles: vec!["owner".into()],
                    ..Default::default()
                }])
                .collect(),
            organization_members: ["amy", "bob", "cat"]
                .iter()
                .map(|u| OrganizationMember {
                    organization_id: "o".into(),
                    user_id: u.to_string(),
                    roles: Some(if *u == "cat" { vec!["organization-template-admin".into()] } else { vec![] }),
                })
                .collect(),
            groups: vec![Group {
                id: "g".into(),
                organization_id: "o".into(),
                members: vec!["bob".into()],
                ..Default::default()
            }],
            templates: vec![Template {
                id: "t".into(),
                organization_id: "o".into(),
                acl: Some(TemplateAcl {
                    users: vec![AclEntry { id: "amy".into(), role: "use".into() }],
                    group: vec![AclEntry { id: "g".into(), role: "admin".into() }],
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let ix = Index::new(&s);
        let t = &s.templates[0];
        let access = |u: &str| template_access(&ix, ix.user_by_name[u], t);
        assert_eq!(access("amy"), Some("use"));
        assert_eq!(access("bob"), Some("admin"));
        assert_eq!(access("cat"), Some("admin"), "org template admin");
        assert_eq!(access("dan"), None, "not a member");
        assert_eq!(access("own"), Some("admin"), "site owner");

        // The org's default member roles count for every member.
        let with_defaults = |roles: Option<&[&str]>| {
            let mut s = s.clone();
            s.organizations = vec![Organization {
                id: "o".into(),
                default_org_member_roles: roles.map(|r| r.iter().map(|x| x.to_string()).collect()),
                ..Default::default()
            }];
            s
        };
        let amy = |s: &Snapshot| {
            let ix = Index::new(s);
            template_access(&ix, ix.user_by_name["amy"], &s.templates[0]).map(String::from)
        };
        assert_eq!(amy(&with_defaults(None)).as_deref(), Some("use"), "unknown defaults: as before");
        assert_eq!(amy(&with_defaults(Some(&["organization-workspace-access"]))).as_deref(), Some("use"));
        assert_eq!(amy(&with_defaults(Some(&["organization-template-admin"]))).as_deref(), Some("admin"));
        assert_eq!(amy(&with_defaults(Some(&[]))), None, "no default roles: no workspaces");
        assert_eq!(amy(&with_defaults(Some(&["my-custom-role"]))).as_deref(), Some("use"));
        assert_eq!(access("dan"), None, "not a member, whatever the defaults");
    }
}
