//! Files, template versions and their provisioner jobs, templates and
//! their ACLs, as the server handles them: a raw-bytes upload whose `hash`
//! is the file id (201 new, 200 the same bytes again), a version job that
//! only a daemon of the org with matching tags picks up, template create
//! answering 201, a PATCH that resets every plain field it does not send
//! and keeps the pointer fields it does not send, as v2.30.0 does (304 when
//! nothing changes), and ACL group ids that must belong to the template's org.

use std::collections::BTreeMap;

use orgsplit::model::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::http::{Reply, Request};
use super::reads::{error, json as reply, not_found, validation};
use super::state::{Job, NOW, State, StoredFile};
use super::writes::{body, premium, str_field, valid_name};

/// Upload limit of `POST /files`: 10 * (10 << 20) bytes.
const MAX_FILE: usize = 10 * (10 << 20);

pub fn handle(st: &mut State, me: &str, req: &Request, seg: &[&str], org: &str) -> Result<Reply, Reply> {
    match (req.method.as_str(), seg) {
        ("POST", ["files"]) => upload(st, me, req),
        ("POST", ["organizations", _, "templateversions"]) => create_version(st, me, org, req),
        ("POST", ["organizations", _, "templates"]) => create_template(st, me, org, req),
        ("PATCH", ["templates", id]) => patch_template(st, id, req),
        ("PATCH", ["templates", id, "acl"]) => patch_acl(st, id, req),
        _ => Err(error(405, "Method not allowed.", &format!("{} /api/v2/{}", req.method, seg.join("/")))),
    }
}

fn upload(st: &mut State, me: &str, req: &Request) -> Result<Reply, Reply> {
    let content_type = req.header("Content-Type").unwrap_or_default().to_string();
    if !matches!(content_type.as_str(), "application/x-tar" | "application/zip") {
        return Err(error(400, &format!("Unsupported content type header {content_type:?}."), ""));
    }
    if req.body.len() > MAX_FILE {
        return Err(error(413, "File is too large.", ""));
    }
    let hash: String = Sha256::digest(&req.body).iter().map(|b| format!("{b:02x}")).collect();
    if let Some(id) = st.file_ids.get(&(hash.clone(), me.to_string())) {
        return Ok(reply(200, &json!({ "hash": id })));
    }
    let id = st.new_id("file", &hash);
    st.file_ids.insert((hash, me.to_string()), id.clone());
    st.files.insert(id.clone(), StoredFile { bytes: req.body.clone(), content_type });
    Ok(reply(201, &json!({ "hash": id })))
}

fn create_version(st: &mut State, me: &str, org: &str, req: &Request) -> Result<Reply, Reply> {
    let b = body(req)?;
    if str_field(&b, "storage_method") != "file"
        || !matches!(str_field(&b, "provisioner").as_str(), "terraform" | "echo")
    {
        return Err(validation(
            400,
            "Validation failed.",
            "storage_method",
            "storage_method must be \"file\" and provisioner \"terraform\" or \"echo\"",
        ));
    }
    let file_id = str_field(&b, "file_id");
    if st.file(&file_id).is_none() {
        return Err(error(400, "File not found.", &format!("file {file_id:?} does not exist")));
    }
    let template_id = str_field(&b, "template_id");
    if !template_id.is_empty() && st.template(&template_id).is_none_or(|t| t.organization_id != org) {
        return Err(not_found());
    }
    let mut tags: BTreeMap<String, String> =
        serde_json::from_value(b.get("tags").cloned().filter(|v| !v.is_null()).unwrap_or(json!({})))
            .unwrap_or_default();
    // The server adds the implicit scope tags.
    tags.entry("scope".into()).or_insert_with(|| "organization".into());
    tags.entry("owner".into()).or_default();
    let id = st.new_id("template-version", &file_id);
    let name = Some(str_field(&b, "name")).filter(|n| !n.is_empty()).unwrap_or_else(|| format!("fake-{}", st.created));
    let version = TemplateVersion {
        id: id.clone(),
        template_id,
        organization_id: org.into(),
        name,
        created_at: Some(NOW.into()),
        job: VersionJob { file_id, status: "pending".into(), tags },
    };
    st.jobs.insert(id.clone(), Job { polls_left: st.build_polls, error: st.fail_builds.clone(), initiator: me.into() });
    // The version keeps the values it was given for its variables.
    let given: Vec<super::state::Variable> = b
        .get("user_variable_values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| super::state::Variable {
            name: str_field(v, "name"),
            value: str_field(v, "value"),
            ..Default::default()
        })
        .collect();
    if !given.is_empty() {
        st.variables.insert(id.clone(), given);
    }
    let message = str_field(&b, "message");
    if !message.is_empty() {
        st.version_messages.insert(id.clone(), message);
    }
    st.push_version(version.clone());
    Ok(reply(201, &st.version_json(&version)))
}

/// Move a version's job along, as a provisioner daemon would: only when a
/// daemon of its org has all its tags; otherwise it stays pending forever.
pub fn advance_job(st: &mut State, id: &str) {
    let Some(v) = st.version(id).cloned() else { return };
    let Some(job) = st.jobs.get(id).cloned() else { return };
    if !matches!(v.job.status.as_str(), "pending" | "running")
        || st.daemons_matching(&v.organization_id, &v.job.tags) == 0
    {
        return;
    }
    let status = match (job.polls_left, &job.error) {
        (0, Some(_)) => "failed",
        (0, None) => "succeeded",
        _ => "running",
    };
    st.jobs.insert(id.into(), Job { polls_left: job.polls_left.saturating_sub(1), ..job });
    if let Some(v) = st.version_mut(id) {
        v.job.status = status.into();
    }
}

fn create_template(st: &mut State, me: &str, org: &str, req: &Request) -> Result<Reply, Reply> {
    let b = body(req)?;
    let name = str_field(&b, "name");
    if !valid_name(&name) {
        return Err(validation(400, "Validation failed.", "name", "Validation failed for tag \"template_name\""));
    }
    if st.template_by_name(org, &name).is_some() {
        return Err(error(409, &format!("Template with name {name:?} already exists."), ""));
    }
    let version_id = str_field(&b, "template_version_id");
    let v = st.version(&version_id).cloned().ok_or_else(|| error(404, "Template version not found.", ""))?;
    if v.organization_id != org {
        return Err(error(400, "Template version must be in the same organization as the template.", ""));
    }
    // coderd (v2.36.1 checked) answers 400 with a validation, and before it looks at the job.
    if !v.template_id.is_empty() {
        return Err(validation(
            400,
            &format!("Template version {version_id} is already part of a template"),
            "template_version_id",
            "Template version is already part of a template",
        ));
    }
    if v.job.status != "succeeded" {
        return Err(error(
            400,
            "Template version import job has not completed.",
            &format!("job status is {:?}", v.job.status),
        ));
    }
    let id = st.new_id("template", &name);
    let user = st.user(me).cloned().unwrap_or_default();
    let mut t = Template {
        id: id.clone(),
        organization_id: org.into(),
        name,
        active_version_id: version_id.clone(),
        provisioner: "terraform".into(),
        created_by_id: user.id,
        created_by_name: user.username,
        created_at: Some(NOW.into()),
        updated_at: Some(NOW.into()),
        acl: None,
        ..Template::default()
    };
    apply_settings(&mut t, &b, true);
    let everyone = !b.get("disable_everyone_group_access").and_then(Value::as_bool).unwrap_or(false);
    t.acl = Some(TemplateAcl {
        users: Vec::new(),
        group: if everyone { vec![AclEntry { id: org.into(), role: "use".into() }] } else { Vec::new() },
    });
    if let Some(v) = st.version_mut(&version_id) {
        v.template_id = id.clone();
    }
    st.push_template(t.clone());
    Ok(reply(201, &st.template_json(&t)))
}

/// The settings a create or a PATCH writes, each as sent: an omitted field
/// becomes its zero value (ENDPOINTS.md section 7); a PATCH then puts back
/// what v2.30.0 keeps (`patch_template`).
fn apply_settings(t: &mut Template, b: &Value, create: bool) {
    let s = |k: &str| str_field(b, k);
    let i = |k: &str| b.get(k).and_then(Value::as_i64).unwrap_or(0);
    let f = |k: &str| b.get(k).and_then(Value::as_bool).unwrap_or(false);
    let days = |v: Option<&Value>| -> Vec<String> {
        v.and_then(|v| v.get("days_of_week")).and_then(|d| serde_json::from_value(d.clone()).ok()).unwrap_or_default()
    };
    t.display_name = s("display_name");
    t.description = s("description");
    t.icon = s("icon");
    t.settings.default_ttl_ms = i("default_ttl_ms");
    t.settings.activity_bump_ms = i("activity_bump_ms");
    t.settings.failure_ttl_ms = i("failure_ttl_ms");
    (t.settings.time_til_dormant_ms, t.settings.time_til_dormant_autodelete_ms) = if create {
        (i("dormant_ttl_ms"), i("delete_ttl_ms"))
    } else {
        (i("time_til_dormant_ms"), i("time_til_dormant_autodelete_ms"))
    };
    t.settings.allow_user_autostart = f("allow_user_autostart");
    t.settings.allow_user_autostop = f("allow_user_autostop");
    t.settings.allow_user_cancel_workspace_jobs = f("allow_user_cancel_workspace_jobs");
    t.settings.require_active_version = f("require_active_version");
    t.settings.max_port_share_level = s("max_port_share_level");
    let stop = b.get("autostop_requirement");
    t.settings.autostop_requirement = AutostopRequirement {
        days_of_week: days(stop),
        weeks: stop.and_then(|v| v.get("weeks")).and_then(Value::as_i64).unwrap_or(0),
    };
    t.settings.autostart_requirement = AutostartRequirement { days_of_week: days(b.get("autostart_requirement")) };
}

/// Whether the server is a release newer than v2.30.0 (by its build info),
/// whose `PATCH /templates/{id}` takes every field as optional (an omitted
/// one is kept, never zeroed) and never answers 304 (coder/coder#24984,
/// merged after v2.30.0: every settable field of `UpdateTemplateMeta` a
/// pointer, the write always made). v2.30.0 and older zero the omitted
/// plain fields (TTLs, allow_user_*, require_active_version).
pub fn optional_template_fields(st: &State) -> bool {
    let Some(b) = &st.s.build_info else { return false };
    let v = b.version.trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']).map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) > (2, 30)
}

fn patch_template(st: &mut State, id: &str, req: &Request) -> Result<Reply, Reply> {
    let old = st.template(id).cloned().ok_or_else(not_found)?;
    let old_extras = st.template_extras.get(id).cloned().unwrap_or_default();
    let b = body(req)?;
    // v2.30.0 refuses a dormancy or failure TTL under a minute, and negative TTLs.
    for key in ["failure_ttl_ms", "time_til_dormant_ms", "time_til_dormant_autodelete_ms"] {
        let ms = b.get(key).and_then(Value::as_i64).unwrap_or(0);
        if ms < 0 || (ms > 0 && ms < 60_000) {
            return Err(validation(
                400,
                "Invalid request to update template metadata!",
                key,
                "Value must be at least one minute.",
            ));
        }
    }
    for key in ["default_ttl_ms", "activity_bump_ms"] {
        if b.get(key).and_then(Value::as_i64).unwrap_or(0) < 0 {
            return Err(validation(
                400,
                "Invalid request to update template metadata!",
                key,
                "Must be a positive integer.",
            ));
        }
    }
    let mut t = old.clone();
    apply_settings(&mut t, &b, false);
    let optional = optional_template_fields(st);
    if optional {
        // Newer releases: every field is optional, an omitted one is kept.
        let (o, n) = (&old.settings, &mut t.settings);
        let kept = |k: &str| b.get(k).is_none_or(Value::is_null);
        for (key, slot, was) in [
            ("default_ttl_ms", &mut n.default_ttl_ms, o.default_ttl_ms),
            ("activity_bump_ms", &mut n.activity_bump_ms, o.activity_bump_ms),
            ("failure_ttl_ms", &mut n.failure_ttl_ms, o.failure_ttl_ms),
            ("time_til_dormant_ms", &mut n.time_til_dormant_ms, o.time_til_dormant_ms),
            ("time_til_dormant_autodelete_ms", &mut n.time_til_dormant_autodelete_ms, o.time_til_dormant_autodelete_ms),
        ] {
            if kept(key) {
                *slot = was;
            }
        }
        for (key, slot, was) in [
            ("allow_user_autostart", &mut n.allow_user_autostart, o.allow_user_autostart),
            ("allow_user_autostop", &mut n.allow_user_autostop, o.allow_user_autostop),
            (
                "allow_user_cancel_workspace_jobs",
                &mut n.allow_user_cancel_workspace_jobs,
                o.allow_user_cancel_workspace_jobs,
            ),
            ("require_active_version", &mut n.require_active_version, o.require_active_version),
        ] {
            if kept(key) {
                *slot = was;
            }
        }
    }
    // v2.30.0 zeroes the omitted plain fields (above) but keeps what its
    // pointer fields name when they are omitted: display name, description,
    // icon, port share level and the autostop and autostart requirements
    // (coderd/templates.go patchTemplateMeta). An autostop requirement of 0
    // weeks is 1.
    for (key, slot, was) in [
        ("display_name", &mut t.display_name, &old.display_name),
        ("description", &mut t.description, &old.description),
        ("icon", &mut t.icon, &old.icon),
        ("max_port_share_level", &mut t.settings.max_port_share_level, &old.settings.max_port_share_level),
    ] {
        if b.get(key).is_none_or(Value::is_null) {
            *slot = was.clone();
        }
    }
    if b.get("autostop_requirement").is_none_or(Value::is_null) {
        t.settings.autostop_requirement = old.settings.autostop_requirement.clone();
    } else if t.settings.autostop_requirement.weeks == 0 {
        t.settings.autostop_requirement.weeks = 1;
    }
    if b.get("autostart_requirement").is_none_or(Value::is_null) {
        t.settings.autostart_requirement = old.settings.autostart_requirement.clone();
    }
    let name = str_field(&b, "name");
    if !name.is_empty() {
        t.name = name;
    }
    // `deprecation_message` is a pointer: omitted keeps, "" un-deprecates.
    if let Some(message) = b.get("deprecation_message").and_then(Value::as_str) {
        t.deprecation_message = message.into();
        t.deprecated = !message.is_empty();
    }
    let org = t.organization_id.clone();
    if let (Some(true), Some(acl)) = (b.get("disable_everyone_group_access").and_then(Value::as_bool), &mut t.acl) {
        acl.group.retain(|g| g.id != org);
    }
    // Pointers too: omitted (or an empty CORS behavior) keeps.
    let extras = super::state::TemplateExtras {
        cors_behavior: Some(str_field(&b, "cors_behavior"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| old_extras.cors_behavior.clone()),
        use_classic_parameter_flow: b
            .get("use_classic_parameter_flow")
            .and_then(Value::as_bool)
            .unwrap_or(old_extras.use_classic_parameter_flow),
    };
    // v2.30.0 answers 304 when nothing changes; newer releases 200.
    if t == old && extras == old_extras {
        if optional {
            return Ok(reply(200, &st.template_json(&t)));
        }
        return Ok(Reply { status: 304, headers: Vec::new(), body: Vec::new() });
    }
    t.updated_at = Some(NOW.into());
    st.set_template(t.clone());
    st.template_extras.insert(id.into(), extras);
    Ok(reply(200, &st.template_json(&t)))
}

fn patch_acl(st: &mut State, id: &str, req: &Request) -> Result<Reply, Reply> {
    if !st.entitled("template_rbac") {
        return Err(premium("Template RBAC"));
    }
    let t = st.template(id).cloned().ok_or_else(not_found)?;
    let b = body(req)?;
    let perms = |key: &str| -> BTreeMap<String, String> {
        serde_json::from_value(b.get(key).cloned().filter(|v| !v.is_null()).unwrap_or(json!({}))).unwrap_or_default()
    };
    let (users, groups) = (perms("user_perms"), perms("group_perms"));
    for (key, perms) in [("user_perms", &users), ("group_perms", &groups)] {
        if let Some((_, role)) = perms.iter().find(|(_, r)| !matches!(r.as_str(), "use" | "admin" | "")) {
            return Err(validation(
                400,
                "Invalid request to update template ACL.",
                key,
                &format!("{role:?} is not a valid role"),
            ));
        }
    }
    if let Some(u) = users.keys().find(|u| st.user(u).is_none()) {
        return Err(validation(
            400,
            "Invalid request to update template ACL.",
            "user_perms",
            &format!("Failed to find user with id {u:?}"),
        ));
    }
    // Group ids are per organization: a group of another org is not one of this template's.
    if let Some(g) = groups.keys().find(|g| st.group(g).is_none_or(|g| g.organization_id != t.organization_id)) {
        return Err(validation(
            400,
            "Invalid request to update template ACL.",
            "group_perms",
            &format!("Failed to find group with id {g:?} in the template's organization"),
        ));
    }
    let mut t = t;
    let acl = t.acl.get_or_insert_with(TemplateAcl::default);
    for (list, perms) in [(&mut acl.users, &users), (&mut acl.group, &groups)] {
        for (who, role) in perms {
            list.retain(|e| &e.id != who);
            if !role.is_empty() {
                list.push(AclEntry { id: who.clone(), role: role.clone() });
            }
        }
    }
    st.set_template(t);
    Ok(reply(200, &json!({"message": "Successfully updated template ACL list.", "detail": "", "validations": null})))
}
