//! Property tests over random small deployments and splits: whatever the
//! split, applying the plan never removes a workspace, template, user or
//! membership; every workspace keeps its owner; every template the plan
//! deprecates has a copy that each of its users can use; new workspace names
//! are valid and unique; the order respects every dependency; the plan is
//! deterministic; and planning again on the after-state changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;

use super::access::{is_site_template_admin, template_access};
use super::{Action, Plan, StepSpec, expected_after, names::is_valid_name, plan};
use crate::model::*;
use crate::split::{self, OrgSpec, SharedTemplates, SplitFile};

const ORG: &str = "org-coder";
/// A second organization (when drawn): templates with odd numbers live
/// there, named as their even neighbour in `coder`, so names repeat across orgs.
const OTHER: &str = "org-other";
const WORKSPACE_NAMES: [&str; 6] = ["dev", "Dev_Box", "dev-team-1", "a-long-workspace-name-for-tests", "main", "x"];

#[derive(Debug, Clone)]
pub(super) struct TemplateDraw {
    acl: u8,
    groups: Vec<usize>,
    users: Vec<(usize, bool)>,
    deprecated: bool,
    autodelete: bool,
}

#[derive(Debug, Clone)]
pub(super) struct OrgDraw {
    groups: Vec<usize>,
    users: Vec<usize>,
    templates: Vec<usize>,
    claim: Option<usize>,
    admins: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(super) struct World {
    users: Vec<(bool, bool, usize)>,
    groups: Vec<Vec<usize>>,
    templates: Vec<TemplateDraw>,
    workspaces: Vec<(usize, usize, usize, bool)>,
    people: bool,
    org_sync: bool,
    orgs: Vec<OrgDraw>,
    duplicate: bool,
    two_orgs: bool,
}

pub(super) fn world() -> impl Strategy<Value = World> {
    let idx = || 0usize..8;
    let template = (
        0u8..3,
        prop::collection::vec(idx(), 0..3),
        prop::collection::vec((idx(), any::<bool>()), 0..3),
        prop::bool::weighted(0.15),
        any::<bool>(),
    )
        .prop_map(|(acl, groups, users, deprecated, autodelete)| TemplateDraw {
            acl,
            groups,
            users,
            deprecated,
            autodelete,
        });
    let org = (
        prop::collection::vec(idx(), 0..3),
        prop::collection::vec(idx(), 0..3),
        prop::collection::vec(idx(), 0..3),
        prop::option::of(0usize..3),
        prop::collection::vec(idx(), 0..2),
    )
        .prop_map(|(groups, users, templates, claim, admins)| OrgDraw { groups, users, templates, claim, admins });
    (
        prop::collection::vec((any::<bool>(), prop::bool::weighted(0.15), 0usize..3), 2..7),
        prop::collection::vec(prop::collection::vec(idx(), 0..5), 0..4),
        prop::collection::vec(template, 1..5),
        prop::collection::vec((idx(), idx(), 0usize..WORKSPACE_NAMES.len(), prop::bool::weighted(0.1)), 0..14),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(org, 1..3),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(users, groups, templates, workspaces, people, org_sync, orgs, duplicate, two_orgs)| World {
            users,
            groups,
            templates,
            workspaces,
            people,
            org_sync,
            orgs,
            duplicate,
            two_orgs,
        })
}

/// Template `k`'s org id and name.
fn template_place(w: &World, k: usize) -> (&'static str, String) {
    if w.two_orgs {
        (if k % 2 == 1 { OTHER } else { ORG }, format!("tpl-{}", k / 2))
    } else {
        (ORG, format!("tpl-{k}"))
    }
}

pub(super) fn snapshot(w: &World) -> Snapshot {
    let n = w.users.len();
    let mut s = Snapshot { format_version: FORMAT_VERSION, ..Default::default() };
    s.organizations.push(Organization { id: ORG.into(), name: "coder".into(), is_default: true, ..Default::default() });
    if w.two_orgs {
        s.organizations.push(Organization { id: OTHER.into(), name: "other".into(), ..Default::default() });
        s.groups.push(Group {
            id: OTHER.into(),
            organization_id: OTHER.into(),
            name: "Everyone".into(),
            members: (0..n).map(|i| format!("u{i}")).collect(),
            ..Default::default()
        });
        for i in 0..n {
            s.organization_members.push(OrganizationMember {
                organization_id: OTHER.into(),
                user_id: format!("u{i}"),
                roles: Some(vec![]),
            });
        }
    }
    for (i, (oidc, owner, _)) in w.users.iter().enumerate() {
        s.users.push(User {
            id: format!("u{i}"),
            username: format!("user-{i}"),
            email: format!("user-{i}@example.com"),
            status: "active".into(),
            login_type: if *oidc { "oidc" } else { "password" }.into(),
            roles: vec![if *owner { "owner" } else { "member" }.into()],
            ..Default::default()
        });
        s.organization_members.push(OrganizationMember {
            organization_id: ORG.into(),
            user_id: format!("u{i}"),
            roles: Some(vec![]),
        });
    }
    let ids = |v: &[usize]| -> Vec<String> {
        v.iter().map(|u| format!("u{}", u % n)).collect::<BTreeSet<_>>().into_iter().collect()
    };
    s.groups.push(Group {
        id: ORG.into(),
        organization_id: ORG.into(),
        name: "Everyone".into(),
        members: ids(&(0..n).collect::<Vec<_>>()),
        ..Default::default()
    });
    for (j, members) in w.groups.iter().enumerate() {
        s.groups.push(Group {
            id: format!("g{j}"),
            organization_id: ORG.into(),
            name: format!("team-{j}"),
            source: "user".into(),
            members: ids(members),
            ..Default::default()
        });
    }
    for (k, t) in w.templates.iter().enumerate() {
        let (org, name) = template_place(w, k);
        let acl = match t.acl {
            0 => None,
            1 => Some(TemplateAcl { users: vec![], group: vec![AclEntry { id: org.into(), role: "use".into() }] }),
            _ => Some(TemplateAcl {
                users: t
                    .users
                    .iter()
                    .map(|(u, admin)| AclEntry {
                        id: format!("u{}", u % n),
                        role: if *admin { "admin" } else { "use" }.into(),
                    })
                    .collect(),
                group: t
                    .groups
                    .iter()
                    .filter(|_| !w.groups.is_empty() && org == ORG)
                    .map(|g| AclEntry { id: format!("g{}", g % w.groups.len()), role: "use".into() })
                    .collect(),
            }),
        };
        s.templates.push(Template {
            id: format!("t{k}"),
            organization_id: org.into(),
            name,
            active_version_id: format!("v{k}"),
            provisioner: "terraform".into(),
            deprecated: t.deprecated,
            deprecation_message: if t.deprecated { "gone".into() } else { String::new() },
            settings: crate::model::TemplateSettings {
                time_til_dormant_ms: if t.autodelete { 86_400_000 } else { 0 },
                time_til_dormant_autodelete_ms: if t.autodelete { 86_400_000 } else { 0 },
                ..Default::default()
            },
            acl,
            ..Default::default()
        });
        s.template_versions.push(TemplateVersion {
            id: format!("v{k}"),
            template_id: format!("t{k}"),
            organization_id: org.into(),
            name: "v1".into(),
            job: VersionJob { file_id: format!("f{k}"), ..Default::default() },
            ..Default::default()
        });
    }
    let mut taken = BTreeSet::new();
    for (i, (owner, t, name, deleted)) in w.workspaces.iter().enumerate() {
        let (owner, t, name) = (owner % n, t % w.templates.len(), WORKSPACE_NAMES[*name]);
        if !*deleted && !taken.insert((owner, name)) {
            continue; // names are unique per owner among live workspaces
        }
        let status = if *deleted { "deleted" } else { "running" };
        let (org, template_name) = template_place(w, t);
        s.workspaces.push(Workspace {
            id: format!("w{i}"),
            name: name.into(),
            owner_id: format!("u{owner}"),
            owner_name: format!("user-{owner}"),
            organization_id: org.into(),
            template_id: format!("t{t}"),
            template_name,
            latest_build: WorkspaceBuild { status: status.into(), ..Default::default() },
            ..Default::default()
        });
    }
    if w.people {
        s.people = Some(People {
            key_column: "username".into(),
            columns: vec!["memberOf".into()],
            records: w
                .users
                .iter()
                .enumerate()
                .map(|(i, (_, _, c))| PersonRecord {
                    user_id: format!("u{i}"),
                    username: format!("user-{i}"),
                    attributes: [("memberOf".to_string(), format!("claim-{c}"))].into(),
                    line: i as u64 + 2,
                })
                .collect(),
            ..Default::default()
        });
    }
    if w.org_sync {
        s.idp_sync.organization = Some(OrganizationSyncSettings {
            field: "memberOf".into(),
            mapping: BTreeMap::new(),
            organization_assign_default: true,
        });
    }
    s.canonicalize();
    s
}

pub(super) fn split_text(w: &World) -> String {
    split_text_with(w, true)
}

/// The split; with `one_name_per_org` false, an org may list two templates
/// of one name from different orgs (a problem in the split file).
pub(super) fn split_text_with(w: &World, one_name_per_org: bool) -> String {
    let pick = |v: &[usize], len: usize, f: &dyn Fn(usize) -> String| -> Vec<String> {
        if len == 0 {
            return vec![];
        }
        v.iter().map(|i| f(i % len)).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let organizations = w
        .orgs
        .iter()
        .enumerate()
        .map(|(i, o)| OrgSpec {
            name: format!("team-org-{i}"),
            groups: pick(&o.groups, w.groups.len(), &|j| format!("team-{j}")),
            users: pick(&o.users, w.users.len(), &|u| format!("user-{u}")),
            // One template of a name per org: the split cannot list two (that is
            // a split-file error, with its line and column).
            templates: {
                let mut names = BTreeSet::new();
                let mut picked: Vec<usize> = o.templates.iter().map(|k| k % w.templates.len().max(1)).collect();
                picked.sort_unstable();
                picked.retain(|k| !one_name_per_org || names.insert(template_place(w, *k).1));
                pick(&picked, w.templates.len(), &|k| match template_place(w, k) {
                    (org, name) if w.two_orgs => format!("{}/{name}", if org == ORG { "coder" } else { "other" }),
                    (_, name) => name,
                })
            },
            admins: pick(&o.admins, w.users.len(), &|u| format!("user-{u}")),
            org_sync_claims: o.claim.filter(|_| w.org_sync).map(|c| format!("claim-{c}")).into_iter().collect(),
            ..Default::default()
        })
        .collect();
    let mut split = SplitFile { format_version: 1, organizations, ..Default::default() };
    split.migration.wiki = "https://wiki.example.com/move".into();
    split.migration.deadline = "2030-01-31".into();
    split.migration.shared_templates =
        if w.duplicate { SharedTemplates::Duplicate } else { SharedTemplates::KeepInDefault };
    toml::to_string(&split).expect("a split serialises")
}

pub(super) fn make(s: &Snapshot, text: &str) -> Plan {
    let doc = split::load(text, Path::new("split.toml")).expect("generated splits parse");
    plan(s, &doc, text.as_bytes()).unwrap_or_else(|e| panic!("planning failed: {e}\n{text}"))
}

/// The ids, in the after-state, of the copies the plan makes of `t` (a copy
/// may have another name than its source).
pub(super) fn copies_of(p: &Plan, after: &Snapshot, t: &Template) -> BTreeSet<Id> {
    let org_id = |name: &str| after.organizations.iter().find(|o| o.name == name).map(|o| o.id.clone());
    p.steps
        .iter()
        .filter_map(|st| match (&st.spec, &st.org) {
            (StepSpec::Template(spec), Some(org)) if spec.source.template_id == t.id => {
                let org = org_id(org)?;
                after.templates.iter().find(|c| c.organization_id == org && c.name == spec.name).map(|c| c.id.clone())
            }
            _ => None,
        })
        .collect()
}

/// Owners of live workspaces and ACL grantees (not Everyone), the users who must keep a usable template.
fn users_of(s: &Snapshot, t: &Template) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = s
        .workspaces
        .iter()
        .filter(|w| w.template_id == t.id && !w.is_deleted_or_deleting())
        .map(|w| w.owner_id.clone())
        .collect();
    if let Some(acl) = &t.acl {
        out.extend(acl.users.iter().map(|e| e.id.clone()));
        for g in acl.group.iter().filter(|g| g.id != t.organization_id) {
            out.extend(s.groups.iter().filter(|x| x.id == g.id).flat_map(|x| x.members.iter().cloned()));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_loses_nothing_and_leaves_nobody_without_a_template(w in world()) {
        let s = snapshot(&w);
        let text = split_text(&w);
        let p = make(&s, &text);
        prop_assert_eq!(p.to_json().unwrap(), make(&s, &text).to_json().unwrap(), "deterministic");
        let at: BTreeMap<&str, usize> = p.steps.iter().enumerate().map(|(i, st)| (st.key.as_str(), i)).collect();
        for (i, st) in p.steps.iter().enumerate() {
            for d in &st.depends_on {
                prop_assert!(at[d.as_str()] < i, "{} before {}", st.key, d);
            }
        }
        let after = expected_after(&s, &p).unwrap();
        // Nothing removed; every workspace keeps its owner, org and template.
        let ws = |x: &Snapshot| x.workspaces.iter().map(|w| (w.id.clone(), w.owner_id.clone(), w.template_id.clone(), w.organization_id.clone())).collect::<BTreeSet<_>>();
        prop_assert_eq!(ws(&s), ws(&after));
        let ids = |v: Vec<&String>| v.into_iter().cloned().collect::<BTreeSet<_>>();
        prop_assert!(ids(s.users.iter().map(|u| &u.id).collect()) == ids(after.users.iter().map(|u| &u.id).collect()));
        prop_assert!(ids(s.templates.iter().map(|t| &t.id).collect()).is_subset(&ids(after.templates.iter().map(|t| &t.id).collect())));
        let pairs = |x: &Snapshot| x.organization_members.iter().map(|m| (m.organization_id.clone(), m.user_id.clone())).collect::<BTreeSet<_>>();
        prop_assert!(pairs(&s).is_subset(&pairs(&after)));
        // Every template the plan deprecates has a copy each of its users can use.
        let ix = Index::new(&after);
        for t in after.templates.iter().filter(|t| t.deprecated) {
            let was = s.templates.iter().find(|x| x.id == t.id).unwrap();
            if was.deprecated {
                continue;
            }
            for u in users_of(&s, was) {
                let user = ix.user_by_id[u.as_str()];
                let has_ws = s.workspaces.iter().any(|w| w.owner_id == u && w.template_id == t.id && !w.is_deleted_or_deleting());
                if is_site_template_admin(&user.roles) && !has_ws {
                    continue;
                }
                let usable = after.templates.iter().any(|c| copies_of(&p, &after, t).contains(&c.id) && !c.deprecated && template_access(&ix, user, c).is_some());
                prop_assert!(usable, "{} cannot use any copy of {}\n{}", user.username, t.name, text);
            }
        }
        // New workspace names are valid and unique per owner, old names included.
        let mut names: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for w in s.workspaces.iter().filter(|w| !w.is_deleted_or_deleting()) {
            names.entry(&w.owner_id).or_default().insert(&w.name);
        }
        for m in &p.workspace_migrations {
            prop_assert!(is_valid_name(&m.new.workspace_name), "{}", m.new.workspace_name);
            prop_assert!(names.entry(&m.owner.user_id).or_default().insert(&m.new.workspace_name), "{} taken", m.new.workspace_name);
            prop_assert!(p.steps.iter().any(|st| st.key == m.new.template_step && matches!(st.spec, StepSpec::Template(_))));
        }
        // Planning again on the after-state changes nothing.
        let again = make(&after, &text);
        let changing: Vec<&str> = again.steps.iter().filter(|st| st.action != Action::NoOp).map(|st| st.key.as_str()).collect();
        prop_assert!(changing.is_empty(), "{:?}\n{}", changing, text);
    }
}
