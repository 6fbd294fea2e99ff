//! The fake Coder keeps to the real contract: every answer it gives while
//! orgsplit imports and makes every kind of change is validated against the
//! response schema `swagger.json` defines for that method, path and status
//! (JSON Schema Draft 4), and error answers against `codersdk.Response`.
//!
//! Two adjustments to the spec, both about what the Go server really sends:
//! fields it does not require may be `null` (Go marshals nil pointers,
//! slices and maps as `null`, and the spec does not say which fields are
//! pointers), and the spec-vs-server differences listed in `KNOWN` below,
//! each documented in ENDPOINTS.md or the server source.

use std::collections::{BTreeMap, BTreeSet};

use jsonschema::{Draft, Validator};
use orgsplit::coder::requests::*;
use orgsplit::coder::types as wire;
use orgsplit::coder::{Client, remap_acl};
use orgsplit::import::live::{LiveOptions, import_live};
use orgsplit::model::ProvisionerDaemon;
use serde_json::{Value, json};

use crate::common::fixtures;
use fake_coder::{FakeCoder, Logged};

/// (method, spec path, status) -> the schema the server really answers with.
const KNOWN: &[(&str, &str, u16, &str, &str)] = &[
    (
        "GET",
        "/organizations/{organization}/paginated-members",
        200,
        "#/definitions/codersdk.PaginatedMembersResponse",
        "ENDPOINTS.md 4: one object, not an array",
    ),
    (
        "GET",
        "/workspaceproxies",
        200,
        "#/definitions/codersdk.RegionsResponse-codersdk_WorkspaceProxy",
        "ENDPOINTS.md 11: one object, not an array",
    ),
    (
        "POST",
        "/organizations/{organization}/members/roles",
        200,
        "#/definitions/codersdk.Role",
        "coderd/roles.go writes db2sdk.Role: one role, not an array",
    ),
    (
        "PUT",
        "/organizations/{organization}/members/roles",
        200,
        "#/definitions/codersdk.Role",
        "coderd/roles.go writes db2sdk.Role: one role, not an array",
    ),
    (
        "POST",
        "/organizations/{organization}/templates",
        201,
        "#/definitions/codersdk.Template",
        "ENDPOINTS.md 7: 201, not 200",
    ),
    (
        "POST",
        "/organizations/{organization}/provisionerkeys",
        201,
        "#/definitions/codersdk.CreateProvisionerKeyResponse",
        "ENDPOINTS.md 10",
    ),
];

enum Expect {
    Empty,
    Bytes,
    Schema(Value),
}

struct Contract {
    spec: Value,
    definitions: Value,
    validators: BTreeMap<String, Validator>,
}

impl Contract {
    /// `file` under tests/fixtures: `swagger.json` (the shared notes' copy) or
    /// `swagger-v2.30.0.json` (from the coder v2.30.0 module the real-Coder harness builds).
    fn load(file: &str) -> Contract {
        let mut spec: Value = serde_json::from_slice(&std::fs::read(fixtures().join(file)).unwrap()).unwrap();
        // v2.30.0's spec has `basePath: /api/v2` and paths under it; later ones
        // (v2.36.1) have `basePath: /` and full paths (`/api/v2/...`, `/api/experimental/...`).
        if spec["basePath"] != "/api/v2" {
            let paths = spec["paths"].as_object().unwrap();
            let under: serde_json::Map<String, Value> = paths
                .iter()
                .filter_map(|(p, ops)| p.strip_prefix("/api/v2").map(|p| (p.to_string(), ops.clone())))
                .collect();
            assert!(!under.is_empty(), "{file}: no path under /api/v2");
            spec["paths"] = Value::Object(under);
        }
        let mut definitions = spec["definitions"].clone();
        for (_, d) in definitions.as_object_mut().unwrap().iter_mut() {
            let required: BTreeSet<String> = d
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(String::from))
                .collect();
            let Some(props) = d.get_mut("properties").and_then(Value::as_object_mut) else { continue };
            for (name, p) in props.iter_mut() {
                // The spec's User.status enum lacks `dormant`, which codersdk.UserStatus (and the server) has.
                if name == "status" && p["allOf"][0]["$ref"] == "#/definitions/codersdk.UserStatus" {
                    *p = json!({"$ref": "#/definitions/codersdk.UserStatus"});
                }
                // regexp.Regexp is `object` in the spec; a string or null on the wire (ENDPOINTS.md 12).
                if p["$ref"] == "#/definitions/regexp.Regexp" {
                    *p = json!({"type": ["string", "null"]});
                }
                if !required.contains(name) {
                    *p = json!({"anyOf": [p.clone(), {"type": "null"}]});
                }
            }
        }
        Contract { spec, definitions, validators: BTreeMap::new() }
    }

    /// The spec path a request path matches, literal segments beating parameters.
    fn spec_path(&self, method: &str, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap().strip_prefix("/api/v2").unwrap();
        let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(usize, String)> = None;
        for (p, ops) in self.spec["paths"].as_object().unwrap() {
            if ops.get(method.to_lowercase()).is_none() {
                continue;
            }
            let t: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            if t.len() != seg.len() || !t.iter().zip(&seg).all(|(t, s)| t.starts_with('{') || t == s) {
                continue;
            }
            let literal = t.iter().filter(|t| !t.starts_with('{')).count();
            if best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, p.clone()));
            }
        }
        best.map(|(_, p)| p)
    }

    /// What an answer's body must be.
    fn expect(&self, method: &str, spec_path: &str, status: u16) -> Result<Expect, String> {
        if status >= 400 {
            return Ok(Expect::Schema(json!({"$ref": "#/definitions/codersdk.Response"})));
        }
        if let Some(k) = KNOWN.iter().find(|k| k.0 == method && k.1 == spec_path && k.2 == status) {
            return Ok(Expect::Schema(json!({"$ref": k.3})));
        }
        if matches!(status, 204 | 304) {
            return Ok(Expect::Empty);
        }
        let op = &self.spec["paths"][spec_path][method.to_lowercase()];
        match op["responses"].get(status.to_string()) {
            // No schema: raw bytes (a file download).
            Some(r) => Ok(r.get("schema").cloned().map_or(Expect::Bytes, Expect::Schema)),
            None => Err(format!("status {status} is not documented for {method} {spec_path}")),
        }
    }

    fn check(&mut self, r: &Logged) -> Result<(), String> {
        let spec_path =
            self.spec_path(&r.method, &r.path).ok_or_else(|| format!("{} {} is not in the spec", r.method, r.path))?;
        let body = r.response_body.clone().unwrap_or_default();
        let schema = match self.expect(&r.method, &spec_path, r.status)? {
            Expect::Schema(schema) => schema,
            Expect::Bytes => return Ok(()),
            Expect::Empty if body.is_empty() => return Ok(()),
            Expect::Empty => return Err(format!("{} {}: a {} with a body", r.method, r.path, r.status)),
        };
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            let root = json!({"allOf": [schema], "definitions": self.definitions});
            let v =
                jsonschema::options().with_draft(Draft::Draft4).should_validate_formats(false).build(&root).unwrap();
            self.validators.insert(key.clone(), v);
        }
        let value: Value =
            serde_json::from_slice(&body).map_err(|e| format!("{} {}: not JSON: {e}", r.method, r.path))?;
        let errors: Vec<String> = self.validators[&key]
            .iter_errors(&value)
            .take(3)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{} {} ({}): {}", r.method, r.path, r.status, errors.join("; ")))
        }
    }
}

/// A live import, then every kind of change apply makes, then the usual refusals.
fn exercise(fake: &FakeCoder, client: &Client) {
    import_live(client, &LiveOptions { page_size: 200, ..LiveOptions::default() }).unwrap();
    let s = fake.snapshot();
    let old = s.templates.iter().find(|t| t.name == "mlbox-gpu").unwrap().clone();
    let version = s.template_versions.iter().find(|v| v.id == old.active_version_id).unwrap().clone();
    let user = s.users.iter().find(|u| u.login_type == "password").unwrap().id.clone();

    let org = client
        .ensure_organization(&CreateOrganizationRequest { name: "mlbox".into(), ..Default::default() })
        .unwrap()
        .into_value();
    client.ensure_member(&org.id, &user).unwrap();
    client.set_member_roles(&org.id, &user, &["organization-template-admin".into()]).unwrap();
    let group = client
        .ensure_group(&org.id, &CreateGroupRequest { name: "ml".into(), ..Default::default() })
        .unwrap()
        .into_value();
    client.ensure_group_members(&group.id, std::slice::from_ref(&user)).unwrap();
    let perm = wire::Permission { negate: false, resource_type: "template".into(), action: "update".into() };
    let mut role = CustomRoleRequest {
        name: "template-editor".into(),
        organization_permissions: vec![perm],
        ..Default::default()
    };
    client.create_custom_role(&org.id, &role).unwrap();
    role.display_name = "Template Editor".into();
    client.update_custom_role(&org.id, &role).unwrap();
    client
        .create_provisioner_key(
            &org.id,
            &CreateProvisionerKeyRequest { name: "mlbox".into(), tags: version.job.tags.clone() },
        )
        .unwrap();
    let entry = |given: &str, gets: &str| vec![MappingEntry { given: given.into(), gets: gets.into() }];
    client.ensure_org_sync_mapping(&entry("ml", &org.id)).unwrap();
    client.ensure_group_sync_mapping(&org.id, &entry("ml", &group.id)).unwrap();
    client.ensure_role_sync_mapping(&org.id, &entry("ml-leads", "organization-template-admin")).unwrap();

    let (bytes, content_type) = client.download_file(&version.job.file_id).unwrap();
    let file = client.upload_file(bytes.clone(), &content_type).unwrap();
    client.upload_file(bytes, &content_type).unwrap();
    fake.state_mut(|st| {
        let id = st.new_id("daemon", "mlbox");
        let tags = version.job.tags.clone();
        st.s.provisioner_daemons.push(ProvisionerDaemon {
            id,
            organization_id: org.id.clone(),
            tags,
            ..Default::default()
        });
    });
    let v = client
        .create_template_version(&org.id, &CreateTemplateVersionRequest::from_file(file, version.job.tags.clone()))
        .unwrap();
    let every = std::time::Duration::from_millis(1);
    client.wait_for_template_version(&v.id, std::time::Duration::from_secs(1), every).unwrap();
    let t = client.create_template(&org.id, &CreateTemplateRequest::like(&old, &v.id)).unwrap();
    let groups = BTreeMap::from([(s.groups.iter().find(|g| g.name == "ml").unwrap().id.clone(), group.id.clone())]);
    client
        .patch_template_acl(
            &t.id,
            &remap_acl(old.acl.as_ref().unwrap(), &old.organization_id, &org.id, &groups).request,
        )
        .unwrap();
    client.template_acl(&t.id).unwrap();
    client.deprecate_template(&old.id, "Moved to the mlbox organization").unwrap();
    client.deprecate_template(&old.id, "Moved to the mlbox organization").unwrap();
    client.organization_members(&org.id).unwrap();
    // What apply reads and writes beyond the above.
    fake.state_mut(|st| {
        let variable = |name: &str, sensitive: bool| fake_coder::state::Variable {
            name: name.into(),
            value: "v".into(),
            sensitive,
            ..Default::default()
        };
        st.variables.insert(old.active_version_id.clone(), vec![variable("region", false), variable("token", true)]);
    });
    client.template_version_variables(&old.active_version_id).unwrap();
    client.provisioner_jobs(&org.id, &client.me().unwrap().id).unwrap();
    let update = UpdateOrganizationRequest {
        display_name: "ML box".into(),
        description: "GPUs".into(),
        icon: String::new(),
        ..Default::default()
    };
    client.update_organization(&org.id, &update).unwrap();
    let config = PatchOrganizationSyncConfig { field: "memberOf".into(), assign_default: true };
    client.patch_org_sync_config(&config).unwrap();
    let groups_config =
        PatchGroupSyncConfig { field: "memberOf".into(), regex_filter: None, auto_create_missing_groups: false };
    client.patch_group_sync_config(&org.id, &groups_config).unwrap();
    client.patch_role_sync_config(&org.id, &PatchRoleSyncConfig { field: "memberOf".into() }).unwrap();
    client.find_template(&org.id, "mlbox-gpu").unwrap();
    client.find_group(&org.id, "ml").unwrap();

    // Refusals: 409, 412, 400 (validation, IdP sync), 404, 401.
    let _ = client.create_organization(&CreateOrganizationRequest { name: "mlbox".into(), ..Default::default() });
    let outsider = s.users.iter().find(|u| u.login_type == "password" && u.id != user).unwrap();
    let _ = client
        .patch_group(&group.id, &PatchGroupRequest { add_users: vec![outsider.id.clone()], ..Default::default() });
    let _ = client.create_organization(&CreateOrganizationRequest { name: "Not Valid".into(), ..Default::default() });
    let oidc = s.users.iter().find(|u| u.login_type == "oidc").unwrap();
    let _ = client.add_member(&org.id, &oidc.id);
    let _ = client.template("00000000-0000-0000-0000-000000000000");
    let (stranger, _) = fake.client_with("Nobody0001-thisisnotatokenatall000");
    let _ = stranger.me();
}

#[test]
fn every_answer_of_the_fake_matches_swagger() {
    fake_keeps_to("swagger.json");
}

/// The same against the swagger of the release the real-Coder tests run (v2.30.0).
#[test]
fn every_answer_of_the_fake_matches_the_swagger_of_coder_v2_30_0() {
    fake_keeps_to("swagger-v2.30.0.json");
}

/// The same against the swagger of the release the real-Coder tests run
/// now (v2.36.1), with the fake as v2.30.0 and as a current release.
#[test]
fn every_answer_of_the_fake_matches_the_swagger_of_coder_v2_36_1() {
    fake_keeps_to("swagger-v2.36.1.json");
    let mut s = fake_coder::megaco();
    s.build_info.get_or_insert_with(Default::default).version = "v2.36.1".into();
    s.organizations.iter_mut().find(|o| o.is_default).unwrap().default_org_member_roles =
        Some(vec!["organization-workspace-access".into()]);
    let log = keeps_to("swagger-v2.36.1.json", s, &[200, 201, 400, 401, 404, 409, 412], |fake, client| {
        exercise(fake, client);
        let org = client.find_organization("mlbox").unwrap().unwrap();
        let sharing = UpdateWorkspaceSharing {
            sharing_disabled: false,
            shareable_workspace_owners: Some("service_accounts".into()),
        };
        client.patch_workspace_sharing(&org.id, &sharing).unwrap();
        assert_eq!(client.workspace_sharing(&org.id).unwrap().owners(), "service_accounts");
        let roles = UpdateOrganizationRequest {
            default_org_member_roles: Some(vec!["organization-auditor".into()]),
            ..Default::default()
        };
        client.update_organization(&org.id, &roles).unwrap();
    });
    for path in ["/settings/workspace-sharing", "/api/v2/experiments"] {
        assert!(log.iter().any(|r| r.status == 200 && r.path.ends_with(path)), "{path} was checked");
    }
}

fn fake_keeps_to(file: &str) {
    keeps_to(file, fake_coder::megaco(), &[200, 201, 304, 400, 401, 404, 409, 412], exercise);
}

/// Start the fake with `state`, run `exercise` against it, and hold every
/// answer to `file`; `statuses` must each have been seen. The log.
fn keeps_to(
    file: &str,
    state: orgsplit::model::Snapshot,
    statuses: &[u16],
    exercise: impl FnOnce(&FakeCoder, &Client),
) -> Vec<Logged> {
    let fake = FakeCoder::start(state);
    fake.record_bodies(true);
    let (client, _) = fake.client();
    exercise(&fake, &client);
    let mut contract = Contract::load(file);
    let log = fake.log();
    let problems: Vec<String> = log.iter().filter_map(|r| contract.check(r).err()).collect();
    assert!(problems.is_empty(), "{} answers break the contract:\n{}", problems.len(), problems.join("\n"));
    // And the run covered every endpoint orgsplit uses, and each refusal.
    let seen: BTreeSet<(String, String, u16)> =
        log.iter().map(|r| (r.method.clone(), contract.spec_path(&r.method, &r.path).unwrap(), r.status)).collect();
    let seen_statuses: BTreeSet<u16> = seen.iter().map(|s| s.2).collect();
    for status in statuses {
        assert!(seen_statuses.contains(status), "no {status} answer was checked");
    }
    assert!(seen.len() >= 40, "{} (method, path, status) checked: {seen:?}", seen.len());
    log
}

#[test]
fn the_contract_check_catches_a_wrong_field() {
    let mut contract = Contract::load("swagger.json");
    let logged = |body: Value| Logged {
        method: "GET".into(),
        path: "/api/v2/users?limit=1".into(),
        status: 200,
        fault: None,
        authenticated: true,
        request_body: Vec::new(),
        response_body: Some(serde_json::to_vec(&body).unwrap()),
    };
    let user = json!({"id": "u", "username": "a", "email": "a@x", "created_at": "2024-01-01T00:00:00Z", "status": "dormant", "roles": null});
    assert_eq!(
        contract.check(&logged(json!({"users": [user.clone()], "count": 1}))),
        Ok(()),
        "dormant and null are fine"
    );
    let mut wrong = user.clone();
    wrong["username"] = json!(7);
    assert!(contract.check(&logged(json!({"users": [wrong], "count": 1}))).unwrap_err().contains("username"));
    let mut missing = user;
    missing.as_object_mut().unwrap().remove("email");
    assert!(contract.check(&logged(json!({"users": [missing], "count": 1}))).is_err(), "a required field");
    assert!(contract.check(&logged(json!([]))).is_err(), "an array where the spec says an object");
}

/// Workspace sharing as v2.30.0 has it (behind the `workspace-sharing`
/// experiment): the experiments, each org's setting, workspaces with
/// `shared_with` and `GET /workspaces/{id}/acl` answer as its swagger says.
#[test]
fn the_fakes_workspace_sharing_matches_the_swagger_of_coder_v2_30_0() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let mut s = fake_coder::megaco();
    s.organizations[0].shareable_workspace_owners = Some("everyone".into());
    let user = s.users.iter().find(|u| u.username == "erik-lee").unwrap().id.clone();
    let group = s.groups.iter().find(|g| g.name == "design").unwrap().id.clone();
    s.workspaces[0].shares = Some(WorkspaceShares {
        users: vec![AclEntry { id: user, role: "admin".into() }],
        groups: vec![AclEntry { id: group, role: "use".into() }],
    });
    let shared = s.workspaces[0].id.clone();
    let fake = FakeCoder::start(s);
    fake.record_bodies(true);
    let (client, _) = fake.client();
    import_live(&client, &LiveOptions::default()).unwrap();
    let res = reqwest::blocking::Client::new()
        .get(format!("{}/api/v2/workspaces/{shared}/acl", fake.url()))
        .header("Coder-Session-Token", fake.token())
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().unwrap();
    assert_eq!(body["users"][0]["username"], "erik-lee");
    assert_eq!(body["users"][0]["role"], "admin");
    assert_eq!(body["group"][0]["name"], "design");
    let mut contract = Contract::load("swagger-v2.30.0.json");
    let log = fake.log();
    let problems: Vec<String> = log.iter().filter_map(|r| contract.check(r).err()).collect();
    assert!(problems.is_empty(), "{} answers break the contract:\n{}", problems.len(), problems.join("\n"));
    for path in ["/experiments", "/settings/workspace-sharing", "/acl"] {
        assert!(log.iter().any(|r| r.status == 200 && r.path.ends_with(path)), "{path} was checked");
    }
}
