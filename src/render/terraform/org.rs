//! One organization's file: the organization (with its org-sync claims and
//! role sync), its groups, group sync, provisioner key and templates, each
//! with an `import {}` block when the plan found it already there.

use std::collections::{BTreeMap, BTreeSet};

use hcl::{Block, Body, BodyBuilder, Expression};

use super::labels::Labels;
use super::notes::Gaps;
use super::{ResolveSource, import_block, map, object, reference, strings};
use crate::error::Result;
use crate::model::Snapshot;
use crate::plan::{Action, GroupSpec, OrgSummary, Plan, Step, StepSpec, TemplateSpec};

pub struct Built {
    pub label: String,
    pub body: Body,
    pub needs_sources_var: bool,
}

/// What the resources of one org refer to while its file is built.
struct Ctx<'a> {
    org: &'a str,
    org_label: String,
    org_id: Option<&'a str>,
    snapshot: &'a Snapshot,
    /// Group name -> expression of its id (resources, data sources, Everyone).
    groups: BTreeMap<String, Expression>,
    body: BodyBuilder,
}

pub fn build(
    plan: &Plan,
    snapshot: &Snapshot,
    summary: &OrgSummary,
    labels: &mut Labels,
    resolve: &ResolveSource,
    gaps: &mut Gaps,
) -> Result<Built> {
    let steps: Vec<&Step> = plan.steps.iter().filter(|s| s.org.as_deref() == Some(summary.name.as_str())).collect();
    let org_label = labels.take("coderd_organization", &[&summary.name]);
    let org_id = snapshot.organizations.iter().find(|o| o.name == summary.name).map(|o| o.id.as_str());
    let mut c = Ctx { org: &summary.name, org_label, org_id, snapshot, groups: BTreeMap::new(), body: Body::builder() };
    // The Everyone group's id is the organization's id.
    c.groups.insert("Everyone".into(), c.org_ref());
    organization(&mut c, plan, summary, &steps);
    for step in &steps {
        if let StepSpec::Group(g) = &step.spec {
            group(&mut c, labels, step, g, &steps, gaps);
        }
    }
    for step in &steps {
        if let StepSpec::GroupSync(gs) = &step.spec {
            let label = labels.take("coderd_organization_group_sync", &[c.org]);
            let existing = c.org_id.and_then(|id| c.snapshot.idp_sync.groups.iter().find(|g| g.organization_id == id));
            let mut mapping: BTreeMap<String, Vec<Expression>> = BTreeMap::new();
            // Entries already there stay (the resource writes the whole mapping).
            for (claim, ids) in existing.map(|e| &e.mapping).into_iter().flatten() {
                for id in ids {
                    let name = c.snapshot.groups.iter().find(|g| &g.id == id).map(|g| g.name.clone());
                    let e =
                        name.and_then(|n| c.groups.get(&n).cloned()).unwrap_or_else(|| Expression::from(id.as_str()));
                    push_unique(mapping.entry(claim.clone()).or_default(), e);
                }
            }
            for (claim, names) in &gs.mapping {
                for n in names {
                    let e = group_ref(&mut c, labels, n);
                    push_unique(mapping.entry(claim.clone()).or_default(), e);
                }
            }
            let mut b = Block::builder("resource")
                .add_label("coderd_organization_group_sync")
                .add_label(label.as_str())
                .add_attribute(("organization_id", c.org_ref()))
                .add_attribute(("field", gs.field.as_str()));
            if let Some(r) = &gs.regex_filter {
                b = b.add_attribute(("regex_filter", r.as_str()));
            }
            b = b
                .add_attribute(("auto_create_missing", gs.auto_create_missing_groups))
                .add_attribute(("mapping", map(mapping.into_iter().map(|(k, v)| (k, Expression::Array(v))))));
            if let (Some(id), Some(_)) = (c.org_id, existing) {
                c.add(import_block(reference(&["coderd_organization_group_sync", &label]), id));
            }
            c.add(b.build());
        }
    }
    let mut key_label = None;
    for step in &steps {
        if let StepSpec::ProvisionerKey(k) = &step.spec {
            if step.action != Action::Create {
                gaps.existing_keys.push(format!("{}/{}", c.org, k.name));
                continue;
            }
            let label = labels.take("coderd_provisioner_key", &[c.org, &k.name]);
            c.add(
                Block::builder("resource")
                    .add_label("coderd_provisioner_key")
                    .add_label(label.as_str())
                    .add_attribute(("organization_id", c.org_ref()))
                    .add_attribute(("name", k.name.as_str()))
                    .add_attribute(("tags", map(k.tags.iter().map(|(a, b)| (a.clone(), b.as_str())))))
                    .build(),
            );
            // The secret exists only in Terraform's state; the output is sensitive.
            c.add(
                Block::builder("output")
                    .add_label(format!("{label}_provisioner_key"))
                    .add_attribute(("value", reference(&["coderd_provisioner_key", &label, "key"])))
                    .add_attribute(("sensitive", true))
                    .build(),
            );
            key_label = Some(label);
        }
    }
    let mut needs_sources_var = false;
    for step in &steps {
        if let StepSpec::Template(t) = &step.spec {
            needs_sources_var |= template(&mut c, labels, step, t, key_label.as_deref(), resolve)?;
        }
    }
    Ok(Built { label: c.org_label.clone(), body: c.body.build(), needs_sources_var })
}

impl Ctx<'_> {
    fn org_ref(&self) -> Expression {
        reference(&["coderd_organization", &self.org_label, "id"])
    }

    fn add(&mut self, block: Block) {
        let body = std::mem::take(&mut self.body);
        self.body = body.add_block(block);
    }
}

fn push_unique(v: &mut Vec<Expression>, e: Expression) {
    if !v.contains(&e) {
        v.push(e);
    }
}

fn organization(c: &mut Ctx, plan: &Plan, summary: &OrgSummary, steps: &[&Step]) {
    let spec = steps.iter().find_map(|s| match &s.spec {
        StepSpec::Organization(o) => Some(o),
        _ => None,
    });
    let (display_name, description, icon) = match spec {
        Some(o) => (&o.display_name, &o.description, &o.icon),
        None => (&summary.display_name, &summary.description, &summary.icon),
    };
    // Claim values that put users in this org: the plan's additions and the entries already there.
    let mut claims: BTreeSet<String> = BTreeSet::new();
    for step in &plan.steps {
        if let StepSpec::OrganizationSync(s) = &step.spec {
            claims.extend(s.add.iter().filter(|(_, orgs)| orgs.contains(&summary.name)).map(|(c, _)| c.clone()));
        }
    }
    if let (Some(id), Some(sync)) = (c.org_id, &c.snapshot.idp_sync.organization) {
        claims.extend(sync.mapping.iter().filter(|(_, ids)| ids.iter().any(|i| i == id)).map(|(c, _)| c.clone()));
    }
    let mut b = Block::builder("resource")
        .add_label("coderd_organization")
        .add_label(c.org_label.as_str())
        .add_attribute(("name", summary.name.as_str()))
        .add_attribute(("display_name", display_name.as_str()))
        .add_attribute(("description", description.as_str()))
        .add_attribute(("icon", icon.as_str()));
    if !claims.is_empty() {
        b = b.add_attribute(("org_sync_idp_groups", strings(&claims)));
    }
    if let Some(rs) = steps.iter().find_map(|s| match &s.spec {
        StepSpec::RoleSync(r) => Some(r),
        _ => None,
    }) {
        // The block replaces the org's role sync: keep what is there, add the split's.
        let mut mapping: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let existing = c.org_id.and_then(|id| c.snapshot.idp_sync.roles.iter().find(|r| r.organization_id == id));
        for (claim, roles) in existing.map(|e| &e.mapping).into_iter().flatten().chain(&rs.mapping) {
            mapping.entry(claim.clone()).or_default().extend(roles.iter().cloned());
        }
        b = b.add_block(
            Block::builder("role_sync")
                .add_attribute(("field", rs.field.as_str()))
                .add_attribute(("mapping", map(mapping.iter().map(|(k, v)| (k.clone(), strings(v))))))
                .build(),
        );
    }
    if summary.exists {
        c.add(import_block(reference(&["coderd_organization", &c.org_label]), &summary.name));
    }
    c.add(b.build());
}

fn group(c: &mut Ctx, labels: &mut Labels, step: &Step, g: &GroupSpec, steps: &[&Step], gaps: &mut Gaps) {
    let existing =
        c.org_id.and_then(|id| c.snapshot.groups.iter().find(|x| x.organization_id == id && x.name == g.name));
    if existing.is_some_and(|x| x.source == "oidc") {
        // The provider refuses to import IdP-created groups: read it instead.
        gaps.oidc_groups.push(format!("{}/{}", c.org, g.name));
        group_ref(c, labels, &g.name);
        return;
    }
    let label = labels.take("coderd_group", &[c.org, &g.name]);
    let synced = steps.iter().any(|s| match &s.spec {
        StepSpec::GroupSync(gs) => gs.mapping.values().flatten().any(|n| n == &g.name),
        _ => false,
    });
    let mut b = Block::builder("resource")
        .add_label("coderd_group")
        .add_label(label.as_str())
        .add_attribute(("organization_id", c.org_ref()))
        .add_attribute(("name", g.name.as_str()))
        .add_attribute(("display_name", g.display_name.as_str()))
        .add_attribute(("avatar_url", g.avatar_url.as_str()))
        .add_attribute(("quota_allowance", g.quota_allowance));
    // A group that group sync fills is left to it (members unmanaged); else
    // the set is exact: the plan's members, existing ones included.
    if !synced {
        let ids: Vec<String> = g.members.iter().map(|u| u.user_id.clone()).collect();
        b = b.add_attribute(("members", strings(&ids)));
    }
    if step.action != Action::Create || existing.is_some() {
        c.add(import_block(reference(&["coderd_group", &label]), &format!("{}/{}", c.org, g.name)));
    }
    c.add(b.build());
    c.groups.insert(g.name.clone(), reference(&["coderd_group", &label, "id"]));
}

/// The id expression of a group by name: a resource of this file, or a
/// data source looking it up in the org (added the first time).
fn group_ref(c: &mut Ctx, labels: &mut Labels, name: &str) -> Expression {
    if let Some(e) = c.groups.get(name) {
        return e.clone();
    }
    let label = labels.take("data.coderd_group", &[c.org, name]);
    let block = Block::builder("data")
        .add_label("coderd_group")
        .add_label(label.as_str())
        .add_attribute(("organization_id", c.org_ref()))
        .add_attribute(("name", name))
        .build();
    c.add(block);
    let e = reference(&["data", "coderd_group", &label, "id"]);
    c.groups.insert(name.to_string(), e.clone());
    e
}

/// Returns true when the version's directory is left to `var.template_sources`.
fn template(
    c: &mut Ctx,
    labels: &mut Labels,
    step: &Step,
    t: &TemplateSpec,
    key_label: Option<&str>,
    resolve: &ResolveSource,
) -> Result<bool> {
    let label = labels.take("coderd_template", &[c.org, &t.name]);
    let s = &t.settings;
    let mut groups = Vec::new();
    for (name, role) in &t.acl.groups {
        let id = group_ref(c, labels, name);
        groups.push(object(vec![("id", id), ("role", Expression::from(role.as_str()))]));
    }
    let users: Vec<Expression> = t
        .acl
        .users
        .iter()
        .map(|u| {
            object(vec![("id", Expression::from(u.user.user_id.as_str())), ("role", Expression::from(u.role.as_str()))])
        })
        .collect();
    let mut b = Block::builder("resource")
        .add_label("coderd_template")
        .add_label(label.as_str())
        .add_attribute(("organization_id", c.org_ref()))
        .add_attribute(("name", t.name.as_str()))
        .add_attribute(("display_name", s.display_name.as_str()))
        .add_attribute(("description", s.description.as_str()))
        .add_attribute(("icon", s.icon.as_str()))
        .add_attribute(("default_ttl_ms", s.settings.default_ttl_ms))
        .add_attribute(("activity_bump_ms", s.settings.activity_bump_ms))
        .add_attribute(("failure_ttl_ms", s.settings.failure_ttl_ms))
        .add_attribute(("time_til_dormant_ms", s.settings.time_til_dormant_ms))
        .add_attribute(("time_til_dormant_autodelete_ms", s.settings.time_til_dormant_autodelete_ms))
        .add_attribute(("require_active_version", s.settings.require_active_version))
        .add_attribute(("allow_user_auto_start", s.settings.allow_user_autostart))
        .add_attribute(("allow_user_auto_stop", s.settings.allow_user_autostop))
        .add_attribute(("allow_user_cancel_workspace_jobs", s.settings.allow_user_cancel_workspace_jobs))
        .add_attribute((
            "auto_stop_requirement",
            object(vec![
                ("days_of_week", strings(&s.settings.autostop_requirement.days_of_week)),
                ("weeks", Expression::from(s.settings.autostop_requirement.weeks)),
            ]),
        ))
        .add_attribute(("auto_start_permitted_days_of_week", strings(&s.settings.autostart_requirement.days_of_week)));
    if !s.settings.max_port_share_level.is_empty() {
        b = b.add_attribute(("max_port_share_level", s.settings.max_port_share_level.as_str()));
    }
    // With `acl` set the provider drops Everyone unless listed: the plan lists it where it is granted.
    b = b.add_attribute((
        "acl",
        object(vec![("groups", Expression::Array(groups)), ("users", Expression::Array(users))]),
    ));
    let exists = step.action != Action::Create;
    let mut var = false;
    if !exists {
        let directory = match resolve(&t.source)? {
            Some(dir) => Expression::from(dir),
            None => {
                var = true;
                Expression::from(
                    hcl::expr::FuncCall::builder("join")
                        .arg("/")
                        .arg(Expression::Array(vec![
                            reference(&["var", "template_sources"]),
                            Expression::from(t.source.name.as_str()),
                        ]))
                        .build(),
                )
            }
        };
        let tags: Vec<Expression> = t
            .provisioner_tags
            .iter()
            .map(|(k, v)| object(vec![("name", Expression::from(k.as_str())), ("value", Expression::from(v.as_str()))]))
            .collect();
        let version = object(vec![
            ("directory", directory),
            ("active", Expression::from(true)),
            ("provisioner_tags", Expression::Array(tags)),
        ]);
        b = b.add_attribute(("versions", Expression::Array(vec![version])));
        if let Some(k) = key_label {
            // The version's import job needs a provisioner started with this key.
            b = b.add_attribute(("depends_on", Expression::Array(vec![reference(&["coderd_provisioner_key", k])])));
        }
    } else {
        // Versions stay unmanaged: the template keeps the ones it has.
        c.add(import_block(reference(&["coderd_template", &label]), &format!("{}/{}", c.org, t.name)));
    }
    c.add(b.build());
    Ok(var)
}
