//! Property tests of what a plan may not do, whatever the deployment and the
//! split: end in an internal error (a valid split gives a plan, an invalid
//! one gives the problems in it), create an object under a name Coder would
//! refuse, or give anyone access the split does not give them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;

use super::access::{is_site_template_admin, template_access};
use super::props::{make, snapshot, split_text, split_text_with, world};
use super::{Action, StepSpec, expected_after, plan};
use crate::error::Error;
use crate::model::names::{group_name_problem, name_problem};
use crate::model::*;
use crate::split;

/// Template names Coder refuses, as a hand-edited or hostile export may hold them.
const REFUSED: [&str; 6] = ["--yes", "new", "two\nlines", "Docker_X", "a-name-far-longer-than-coder-allows-x", ""];

fn rank(r: Option<&str>) -> u8 {
    match r {
        Some("admin") => 2,
        Some("use") => 1,
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn planning_gives_a_plan_or_the_splits_problems_never_an_internal_error(
        w in world(),
        one_name_per_org in any::<bool>(),
        refused in prop::option::of((0usize..8, 0usize..REFUSED.len())),
    ) {
        let mut s = snapshot(&w);
        if let Some((k, j)) = refused {
            let k = k % s.templates.len();
            let id = s.templates[k].id.clone();
            s.templates[k].name = REFUSED[j].to_string();
            for x in s.workspaces.iter_mut().filter(|x| x.template_id == id) {
                x.template_name = REFUSED[j].to_string();
            }
            s.canonicalize();
        }
        let text = split_text_with(&w, one_name_per_org);
        let doc = split::load(&text, Path::new("split.toml")).expect("generated splits parse");
        match plan(&s, &doc, text.as_bytes()) {
            Err(Error::Bug(m)) => prop_assert!(false, "internal error: {}\n{}", m, text),
            Err(_) => {}
            Ok(p) => {
                for st in p.steps.iter().filter(|st| st.action == Action::Create) {
                    let problem = match &st.spec {
                        StepSpec::Group(_) => group_name_problem(&st.name),
                        StepSpec::Organization(_) | StepSpec::Template(_) | StepSpec::CustomRole(_) => {
                            name_problem(&st.name)
                        }
                        _ => None,
                    };
                    prop_assert!(problem.is_none(), "{} would be refused: {:?}\n{}", st.key, problem, text);
                }
                prop_assert!(expected_after(&s, &p).is_ok());
            }
        }
    }

    #[test]
    fn nobody_gains_access_or_org_roles_the_split_does_not_give(w in world()) {
        let s = snapshot(&w);
        let text = split_text(&w);
        let p = make(&s, &text);
        let after = expected_after(&s, &p).unwrap();
        let doc = split::load(&text, Path::new("split.toml")).unwrap();
        let (was, now) = (Index::new(&s), Index::new(&after));
        let org_name = |id: &str| now.org_name(id).to_string();
        let admins = |org: &str, username: &str| {
            doc.split.organizations.iter().any(|o| o.name == org && o.admins.iter().any(|a| a == username))
        };
        // Org roles: unchanged in the old orgs; in a new org, only what `admins` gives.
        for m in &after.organization_members {
            let username = &now.user_by_id[m.user_id.as_str()].username;
            let before = s.organization_members.iter().find(|x| x.organization_id == m.organization_id && x.user_id == m.user_id);
            let roles = m.roles.clone().unwrap_or_default();
            match before {
                Some(b) => prop_assert_eq!(b.roles.clone().unwrap_or_default(), roles),
                None => {
                    let org = org_name(&m.organization_id);
                    for r in &roles {
                        prop_assert!(r == "organization-admin" && admins(&org, username), "{} gains `{}` in `{}`\n{}", username, r, org, text);
                    }
                }
            }
        }
        // Each copy's source.
        let mut source: BTreeMap<(String, String), &str> = BTreeMap::new();
        for st in &p.steps {
            if let (StepSpec::Template(t), Some(org)) = (&st.spec, &st.org) {
                source.insert((org.clone(), t.name.clone()), t.source.template_id.as_str());
            }
        }
        let uses = |u: &str, t: &str| s.workspaces.iter().any(|x| x.owner_id == u && x.template_id == t && !x.is_deleted_or_deleting());
        for c in &after.templates {
            for u in &after.users {
                let gained = rank(template_access(&now, u, c));
                if gained == 0 {
                    continue;
                }
                let old_user = was.user_by_id[u.id.as_str()];
                let allowed = match s.templates.iter().find(|t| t.id == c.id) {
                    Some(t) => rank(template_access(&was, old_user, t)),
                    None => {
                        let org = org_name(&c.organization_id);
                        let t = source[&(org.clone(), c.name.clone())];
                        let t = s.templates.iter().find(|x| x.id == t).unwrap();
                        let by_acl = match &t.acl {
                            Some(_) => rank(template_access(&was, old_user, t)),
                            // Unknown: the split's groups for the org that hold people who use it.
                            None => {
                                let spec = doc.split.organizations.iter().find(|o| o.name == org).unwrap();
                                let via_group = s.groups.iter().filter(|g| spec.groups.contains(&g.name)).any(|g| {
                                    g.members.contains(&u.id) && g.members.iter().any(|m| uses(m, &t.id))
                                });
                                u8::from(via_group)
                            }
                        };
                        let admin = if admins(&org, &u.username) || is_site_template_admin(&u.roles) { 2 } else { 0 };
                        by_acl.max(u8::from(uses(&u.id, &t.id))).max(admin)
                    }
                };
                prop_assert!(gained <= allowed, "{} gains {:?} on `{}/{}`\n{}", u.username, template_access(&now, u, c), org_name(&c.organization_id), c.name, text);
            }
        }
        let unknown: BTreeSet<&str> = s.templates.iter().filter(|t| t.acl.is_none()).map(|t| t.name.as_str()).collect();
        for st in &p.steps {
            if let StepSpec::Template(t) = &st.spec
                && s.templates.iter().any(|x| x.id == t.source.template_id && x.acl.is_none())
            {
                prop_assert!(!t.acl.groups.contains_key("Everyone"), "{} grants Everyone", st.key);
                prop_assert!(t.settings.disable_everyone_group_access);
                prop_assert!(p.findings.iter().any(|f| f.code == "acl-unknown" && f.affects.iter().any(|a| unknown.contains(a.name.as_str()))));
            }
        }
    }
}
