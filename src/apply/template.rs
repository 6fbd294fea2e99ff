//! Re-creating a template in a new org, and deprecating the old one.
//!
//! Re-creation: download the source template's active version archive,
//! upload it (the same bytes give the same file id), create a version in the
//! new org with the plan's tags and the source's variable values, wait for
//! its build, create the template with the source's settings, and grant the
//! plan's groups and users access (group ids of the new org). Each part
//! looks first: a template already there is only brought in line, and a
//! version an earlier try created (recorded in the journal, or found among
//! the org's jobs after a lost answer) is waited for instead of pushing
//! another. Deprecation comes in its own step, after every re-creation of
//! the template, and sends back every setting with the message.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::context::Ctx;
use super::ledger::Status;
use super::steps::{Outcome, org_of, org_or_fail};
use crate::coder::ApiError;
use crate::coder::requests::*;
use crate::coder::types as wire;
use crate::plan::{DeprecationSpec, TemplateMeta, TemplateSpec};

pub(crate) fn template(ctx: &mut Ctx<'_, '_>, org: &str, spec: &TemplateSpec) -> Outcome {
    let org_id = org_or_fail!(ctx, org);
    let known_absent = ctx.knows_start()
        && !ctx.shared.before.templates.iter().any(|t| t.organization_id == org_id && t.name == spec.name);
    if !known_absent && let Some(t) = ctx.client.find_template(&org_id, &spec.name)? {
        return settle(ctx, org, &org_id, &t, spec, "already there", false);
    }
    if !ctx.has_provisioner(&org_id, &spec.provisioner_tags, false)? {
        return Ok(Status::Waiting(no_provisioner(ctx, org, spec)));
    }
    let values = match variables(ctx, org, spec)? {
        Ok(v) => v,
        Err(status) => return Ok(status),
    };
    let version = match version(ctx, &org_id, spec, values)? {
        Ok(v) => v,
        Err(status) => return Ok(status),
    };
    if ctx.stopped() {
        return Ok(Status::Waiting("stopped".into()));
    }
    match build(ctx, org, &version, spec)? {
        None => {}
        Some(status) => return Ok(status),
    }
    let req = create_request(spec, &version);
    let t = match ctx.client.create_template(&org_id, &req) {
        Ok(t) => t,
        Err(e) if e.maybe_applied || e.is_conflict() => match ctx.client.find_template(&org_id, &spec.name)? {
            Some(t) => t,
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let from = match &spec.source.generated {
        Some(_) => format!("generated from Coder v1 image `{}`", spec.source.name),
        None => format!("re-created from `{}/{}`", spec.source.org, spec.source.name),
    };
    settle(ctx, org, &org_id, &t, spec, &from, true)
}

/// Why a template waits for a provisioner, and what to start where.
fn no_provisioner(ctx: &Ctx<'_, '_>, org: &str, spec: &TemplateSpec) -> String {
    let tags = tag_list(&spec.provisioner_tags);
    let key = ctx.plan.steps.iter().find_map(|s| match &s.spec {
        crate::plan::StepSpec::ProvisionerKey(k) if s.org.as_deref() == Some(org) => Some(k),
        _ => None,
    });
    match key {
        Some(k) => format!(
            "no provisioner serving `{org}` with tags {tags} is running: start one with key `{}` where `{org}`'s \
             infrastructure is (`{}`), then run apply again (or pass --wait-for-provisioners)",
            k.name, k.start_command
        ),
        None => format!(
            "no provisioner serving `{org}` with tags {tags} is running, and the plan creates no key for it: create \
             one (`coder provisioner keys create --org {} --tag KEY=VALUE -- NAME` with these tags), start a \
             provisioner with it, then run apply again",
            crate::plan::shell_word(org)
        ),
    }
}

fn tag_list(tags: &BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        return "(none)".into();
    }
    tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// The source version's variable values: plain ones as read, sensitive ones
/// (which the API redacts) from `--variables`, or the step fails asking for them.
fn variables(
    ctx: &mut Ctx<'_, '_>,
    org: &str,
    spec: &TemplateSpec,
) -> Result<Result<Vec<VariableValue>, Status>, ApiError> {
    // A generated template has no source version to read; its variables have defaults.
    if spec.source.generated.is_some() {
        return Ok(Ok(Vec::new()));
    }
    let read = ctx.client.template_version_variables(&spec.source.active_version_id)?;
    let given = ctx.options.variables.get(&format!("{org}/{}", spec.name));
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for v in read {
        match (v.sensitive, given.and_then(|g| g.get(&v.name))) {
            (false, _) => values.push(VariableValue { name: v.name, value: v.value }),
            (true, Some(secret)) => values.push(VariableValue { name: v.name, value: secret.expose().to_string() }),
            (true, None) => missing.push(v.name),
        }
    }
    if missing.is_empty() {
        return Ok(Ok(values));
    }
    Ok(Err(Status::Failed(format!(
        "needs your input: the API hides the value of sensitive variable(s) {} of `{}/{}`; give them with \
         --variables FILE under [\"{org}/{}\"] (see README), or push the template to `{org}` yourself and run apply \
         again",
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
        spec.source.org,
        spec.source.name,
        spec.name
    ))))
}

/// A version in the new org to build the template from: one an earlier try
/// created, or a new one.
fn version(
    ctx: &mut Ctx<'_, '_>,
    org_id: &str,
    spec: &TemplateSpec,
    values: Vec<VariableValue>,
) -> Result<Result<String, Status>, ApiError> {
    if let Some(id) = ctx.recorded_version()
        && usable(ctx, org_id, &id, spec)?.is_some()
    {
        return Ok(Ok(id));
    }
    let (bytes, content_type) = match &spec.source.generated {
        Some(files) => (ustar(files), String::new()),
        None => ctx.client.download_file(&spec.source.file_id)?,
    };
    let content_type = if content_type.is_empty() { "application/x-tar".to_string() } else { content_type };
    let file_id = ctx.client.upload_file(bytes, &content_type)?;
    // A version whose answer was lost (or whose record a crash cut short) is
    // among the org's jobs; on a first run's first try there can be none.
    if !ctx.knows_start()
        && let Some(id) = lost_version(ctx, org_id, &file_id, spec)?
    {
        return Ok(Ok(id));
    }
    let mut req = CreateTemplateVersionRequest::from_file(&file_id, spec.provisioner_tags.clone());
    req.name = spec.source.active_version_name.clone();
    req.message = version_message(spec);
    req.user_variable_values = values;
    let id = match ctx.client.create_template_version(org_id, &req) {
        Ok(v) => v.id,
        Err(e) if e.maybe_applied => match lost_version(ctx, org_id, &file_id, spec)? {
            Some(id) => id,
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    ctx.record_version(&id);
    Ok(Ok(id))
}

/// A ustar archive of a generated template's files (what `coder templates
/// push` uploads): same files, same bytes (no times, owners or modes of this
/// machine), so a rerun uploads the same file.
fn ustar(files: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, text) in files {
        let mut header = [0u8; 512];
        let name = name.as_bytes();
        header[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        header[100..107].copy_from_slice(b"0000644");
        header[108..115].copy_from_slice(b"0000000");
        header[116..123].copy_from_slice(b"0000000");
        header[124..135].copy_from_slice(format!("{:011o}", text.len()).as_bytes());
        header[136..147].copy_from_slice(b"00000000000");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(text.as_bytes());
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// The message apply creates the template's new version with: it names the
/// template it is for.
fn version_message(spec: &TemplateSpec) -> String {
    match &spec.source.generated {
        Some(_) => format!("orgsplit: generated from Coder v1 image {}", spec.source.name),
        None => format!("orgsplit: re-created from {}/{}", spec.source.org, spec.source.name),
    }
}

/// The newest version of the org that an earlier try made from `file_id`
/// for this template (its message says so: two templates of one org may
/// have the same source, so the same file, and a version made for the
/// other must not be taken) and that can still become the template.
fn lost_version(
    ctx: &mut Ctx<'_, '_>,
    org_id: &str,
    file_id: &str,
    spec: &TemplateSpec,
) -> Result<Option<String>, ApiError> {
    let me = ctx.me.id.clone();
    for job in ctx.client.provisioner_jobs(org_id, &me)? {
        let id = &job.input.template_version_id;
        if job.kind == "template_version_import"
            && job.file_id == file_id
            && !id.is_empty()
            && usable(ctx, org_id, id, spec)?.is_some_and(|v| v.message == version_message(spec))
        {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

/// A version can become the template when it is in the org, not yet linked
/// to a template, carries the plan's tags, and its build has not failed: the version then.
fn usable(
    ctx: &Ctx<'_, '_>,
    org_id: &str,
    id: &str,
    spec: &TemplateSpec,
) -> Result<Option<wire::TemplateVersion>, ApiError> {
    let v = match ctx.client.template_version(id) {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let tags_ok = spec.provisioner_tags.iter().all(|(k, val)| v.job.tags.get(k) == Some(val));
    let ok = v.organization_id == org_id
        && v.template_id.is_empty()
        && tags_ok
        && !matches!(v.job.status.as_str(), "failed" | "canceled" | "canceling");
    Ok(ok.then_some(v))
}

/// Wait for the version's build; `None` when it succeeded.
fn build(ctx: &mut Ctx<'_, '_>, org: &str, id: &str, spec: &TemplateSpec) -> Result<Option<Status>, ApiError> {
    let mut waited = Duration::ZERO;
    loop {
        let v = ctx.client.template_version(id)?;
        match v.job.status.as_str() {
            "succeeded" => return Ok(None),
            "failed" | "canceled" => {
                return Ok(Some(Status::Failed(format!(
                    "the build of the new version {}: {} (run apply again to try with a new version)",
                    v.job.status,
                    if v.job.error.is_empty() { "no reason given" } else { v.job.error.as_str() }
                ))));
            }
            status if waited >= ctx.options.build_timeout || ctx.interrupted() => {
                let matched = v.matched_provisioners.as_ref().map(|m| m.count);
                if status == "pending" && matched == Some(0) {
                    return Ok(Some(Status::Failed(format!(
                        "no provisioner picked up the job: the version stayed pending and no provisioner of `{org}` \
                         has its tags ({}); {}",
                        tag_list(&spec.provisioner_tags),
                        no_provisioner(ctx, org, spec)
                    ))));
                }
                return Ok(Some(Status::Waiting(format!(
                    "the build was still {status} after {}s: run apply again to go on waiting for the same version",
                    waited.as_secs()
                ))));
            }
            _ => {
                ctx.client.pause(ctx.options.poll_every);
                waited += ctx.options.poll_every;
            }
        }
    }
}

fn create_request(spec: &TemplateSpec, version: &str) -> CreateTemplateRequest {
    let s = &spec.settings;
    CreateTemplateRequest {
        name: spec.name.clone(),
        display_name: s.display_name.clone(),
        description: s.description.clone(),
        icon: s.icon.clone(),
        disable_everyone_group_access: s.disable_everyone_group_access,
        ..CreateTemplateRequest::with_settings(&s.settings, version)
    }
}

/// The settings that differ from the plan's, as PATCH fields.
fn setting_changes(t: &wire::Template, s: &TemplateMeta) -> Map<String, Value> {
    let now = TemplateMeta {
        display_name: t.display_name.clone(),
        description: t.description.clone(),
        icon: t.icon.clone(),
        settings: t.settings(),
        disable_everyone_group_access: s.disable_everyone_group_access,
    };
    let (Ok(Value::Object(now)), Ok(Value::Object(mut want))) = (serde_json::to_value(&now), serde_json::to_value(s))
    else {
        return Map::new();
    };
    // Not a template setting: only sent at creation.
    want.remove("disable_everyone_group_access");
    want.retain(|k, v| now.get(k) != Some(v));
    want
}

/// Bring a template in the new org in line with the plan: its settings, and
/// the plan's grants (group names resolved to the new org's ids). Grants are
/// only added or changed, never removed.
fn settle(
    ctx: &mut Ctx<'_, '_>,
    org: &str,
    org_id: &str,
    t: &wire::Template,
    spec: &TemplateSpec,
    first: &str,
    just_created: bool,
) -> Outcome {
    let mut did = vec![first.to_string()];
    let changes = setting_changes(t, &spec.settings);
    if !changes.is_empty() {
        ctx.client.update_template(&t.id, &changes)?;
        did.push(format!("set {}", changes.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    let groups = ctx.group_ids(org_id)?;
    let mut wanted = UpdateTemplateAcl::default();
    for (name, role) in &spec.acl.groups {
        let id = if name == "Everyone" { Some(org_id.to_string()) } else { groups.get(name).cloned() };
        match id {
            Some(id) => wanted.group_perms.insert(id, role.clone()),
            None => {
                return Ok(Status::Failed(format!(
                    "{}; it cannot be granted to group `{name}`, which does not exist in `{org}`",
                    did.join("; ")
                )));
            }
        };
    }
    for u in &spec.acl.users {
        wanted.user_perms.insert(u.user.user_id.clone(), u.role.clone());
    }
    // A template this step just created has only what its creation gave:
    // sending every grant sets them all, so its grants need no read.
    let acl = match just_created {
        true => wire::TemplateAcl::default(),
        false => ctx.client.template_acl(&t.id)?,
    };
    let have = |list: &[wire::AclEntry], id: &str, role: &str| list.iter().any(|e| e.id == id && e.role == role);
    wanted.group_perms.retain(|id, role| !have(&acl.group, id, role));
    wanted.user_perms.retain(|id, role| !have(&acl.users, id, role));
    if !(wanted.group_perms.is_empty() && wanted.user_perms.is_empty()) {
        ctx.client.patch_template_acl(&t.id, &wanted)?;
        let counted = |n: usize, what: &str| (n > 0).then(|| format!("{n} {what}(s)"));
        let who: Vec<String> = [counted(wanted.group_perms.len(), "group"), counted(wanted.user_perms.len(), "user")]
            .into_iter()
            .flatten()
            .collect();
        did.push(format!("granted access to {}", who.join(" and ")));
    }
    Ok(Status::Done(did.join("; ")))
}

pub(crate) fn deprecation(ctx: &mut Ctx<'_, '_>, spec: &DeprecationSpec) -> Outcome {
    // On a first run, the start's read tells: only this step deprecates it.
    let start = ctx.shared.before.templates.iter().find(|t| t.id == spec.template_id);
    let (deprecated, message) = match (ctx.knows_start(), start) {
        (true, Some(t)) => (t.deprecated, t.deprecation_message.clone()),
        _ => {
            let t = ctx.client.template(&spec.template_id)?;
            (t.deprecated, t.deprecation_message)
        }
    };
    if deprecated && message == spec.message {
        return Ok(Status::Done("already deprecated with this message".into()));
    }
    // Only once every replacement is there, so nobody is pointed at nothing
    // (on a first run the replacements' own steps, which this one depends on, made them).
    let look = !ctx.knows_start();
    for r in spec.replacements.iter().filter(|_| look) {
        let there = match org_of(ctx, &r.org)? {
            Ok(org_id) => ctx.client.find_template(&org_id, &r.template)?.is_some(),
            Err(_) => false,
        };
        if !there {
            return Ok(Status::Failed(format!(
                "not deprecated: its replacement `{}/{}` does not exist",
                r.org, r.template
            )));
        }
    }
    ctx.client.deprecate_template(&spec.template_id, &spec.message)?;
    Ok(Status::Done("deprecated with the plan's message".into()))
}
