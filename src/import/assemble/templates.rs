//! Templates with their ACLs, and template versions: joined by id, every
//! reference the export does not hold reported.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{Orgs, ts};
use crate::coder::types as wire;
use crate::import::collect::Collected;
use crate::model::*;

pub(super) fn templates(
    c: &Collected,
    orgs: &Orgs,
    user_ids: &HashSet<&str>,
    group_ids: &HashSet<&str>,
    w: &mut Vec<Warning>,
) -> Vec<Template> {
    let mut acls: HashMap<&str, &wire::TemplateAcl> = HashMap::new();
    for acl in &c.acls {
        match acl.owner.as_deref() {
            Some(t) if c.templates.contains_key(t) => {
                acls.insert(t, &acl.value);
            }
            Some(t) => w.push(Warning::new(
                "dangling-acl",
                format!("`{}`: ACL of template `{t}`, which is not in the export", acl.file),
            )),
            None => match template_ids_in_name(&acl.file, c).as_slice() {
                [t] => {
                    acls.insert(t, &acl.value);
                }
                several => w.push(Warning::new(
                    "unattributed-acl",
                    format!(
                        "`{}` holds a template ACL but does not say which template it belongs to{}; save it as \
                         {{\"endpoint\": \"/api/v2/templates/<id>/acl\", \"body\": ...}}, or name the file after \
                         the one template's id (`acl-<id>.json`)",
                        acl.file,
                        if several.is_empty() {
                            String::new()
                        } else {
                            format!(" (its name holds {} template ids)", several.len())
                        }
                    ),
                )),
            },
        }
    }
    let mut out = Vec::with_capacity(c.templates.len());
    for item in c.templates.values() {
        let t = &item.value;
        let org = orgs.resolve(&t.organization_id);
        if !orgs.known(&org) && !c.organizations.is_empty() {
            w.push(Warning::new(
                "dangling-template-org",
                format!("template `{}` belongs to organization `{org}`, which is not in the export", t.name),
            ));
        }
        let acl = acls.get(t.id.as_str()).map(|a| {
            for e in &a.users {
                if !user_ids.contains(e.id.as_str()) && !c.users.is_empty() {
                    w.push(Warning::new(
                        "dangling-acl-entry",
                        format!("template `{}` grants user `{}`, who is not in the export", t.name, e.id),
                    ));
                }
            }
            for e in &a.group {
                if !group_ids.contains(e.id.as_str()) && !c.groups.is_empty() {
                    w.push(Warning::new(
                        "dangling-acl-entry",
                        format!("template `{}` grants group `{}`, which is not in the export", t.name, e.id),
                    ));
                }
            }
            TemplateAcl {
                users: a.users.iter().map(|e| AclEntry { id: e.id.clone(), role: e.role.clone() }).collect(),
                group: a.group.iter().map(|e| AclEntry { id: e.id.clone(), role: e.role.clone() }).collect(),
            }
        });
        out.push(Template {
            id: t.id.clone(),
            organization_id: org,
            name: t.name.clone(),
            display_name: t.display_name.clone(),
            description: t.description.clone(),
            icon: t.icon.clone(),
            active_version_id: t.active_version_id.clone(),
            provisioner: t.provisioner.clone(),
            deprecated: t.deprecated,
            deprecation_message: t.deprecation_message.clone(),
            created_by_id: t.created_by_id.clone(),
            created_by_name: t.created_by_name.clone(),
            created_at: ts(&t.created_at),
            updated_at: ts(&t.updated_at),
            active_user_count: t.active_user_count,
            settings: t.settings(),
            acl,
        });
    }
    out
}

/// The ids of the export's templates that a file's name holds (what a curl
/// loop writes: `acl-<id>.json`, `template-acl-<id>.json`), each once, sorted.
fn template_ids_in_name<'c>(file: &str, c: &'c Collected) -> Vec<&'c str> {
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}").unwrap()
    });
    let mut ids: Vec<&str> = UUID
        .find_iter(file)
        .filter_map(|m| c.templates.get_key_value(&m.as_str().to_ascii_lowercase()).map(|(k, _)| k.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

pub(super) fn versions(c: &Collected, w: &mut Vec<Warning>) -> Vec<TemplateVersion> {
    let mut out = Vec::with_capacity(c.versions.len());
    for item in c.versions.values() {
        let v = &item.value;
        if !v.template_id.is_empty() && !c.templates.contains_key(&v.template_id) {
            w.push(Warning::new(
                "dangling-version",
                format!(
                    "template version `{}` ({}) belongs to template `{}`, which is not in the export",
                    v.name, v.id, v.template_id
                ),
            ));
        }
        out.push(TemplateVersion {
            id: v.id.clone(),
            template_id: v.template_id.clone(),
            organization_id: v.organization_id.clone(),
            name: v.name.clone(),
            created_at: ts(&v.created_at),
            job: VersionJob { file_id: v.job.file_id.clone(), status: v.job.status.clone(), tags: v.job.tags.clone() },
        });
    }
    out
}

pub(super) fn check_active_versions(templates: &[Template], versions: &[TemplateVersion], w: &mut Vec<Warning>) {
    if templates.is_empty() {
        return;
    }
    if versions.is_empty() {
        w.push(Warning::new(
            "no-template-versions",
            "the export has no template versions: re-creating a template needs its active version's source \
             archive and provisioner tags (export GET /api/v2/templateversions/{active_version_id})",
        ));
        return;
    }
    let ids: HashSet<&str> = versions.iter().map(|v| v.id.as_str()).collect();
    for t in templates {
        if !t.active_version_id.is_empty() && !ids.contains(t.active_version_id.as_str()) {
            w.push(Warning::new(
                "missing-active-version",
                format!("template `{}`: its active version `{}` is not in the export", t.name, t.active_version_id),
            ));
        }
    }
}
