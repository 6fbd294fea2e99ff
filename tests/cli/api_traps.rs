//! The traps of ENDPOINTS.md, one test each: the fake Coder shows the
//! server's behaviour, the client (or its `ensure_*` steps) handles it.

use std::collections::BTreeMap;
use std::time::Duration;

use orgsplit::coder::requests::*;
use orgsplit::coder::types as wire;
use orgsplit::coder::{Body, Client, Idempotency, KeyOutcome, VersionBuild, remap_acl};
use orgsplit::model::{ProvisionerDaemon, Snapshot};
use reqwest::Method;
use serde_json::{Value, json};

use fake_coder::{FakeCoder, Waits};

fn megaco() -> (FakeCoder, Client, std::sync::Arc<Waits>) {
    let fake = FakeCoder::start(fake_coder::megaco());
    let (client, waits) = fake.client();
    (fake, client, waits)
}

fn new_org(client: &Client, name: &str) -> wire::Organization {
    client
        .ensure_organization(&CreateOrganizationRequest { name: name.into(), ..Default::default() })
        .unwrap()
        .into_value()
}

fn template<'a>(s: &'a Snapshot, name: &str) -> &'a orgsplit::model::Template {
    s.templates.iter().find(|t| t.name == name).unwrap()
}

/// PATCH /templates/{id} (v2.30.0) writes its plain fields as sent: a naive
/// PATCH with only the deprecation message wipes the template's schedule
/// settings. Its pointer fields (display name, description, icon, autostop
/// requirement) are kept when omitted.
#[test]
fn a_template_patch_resets_what_it_does_not_send_so_the_client_sends_everything() {
    let (fake, client, _) = megaco();
    let before = fake.snapshot();
    let (k8s, java) = (template(&before, "k8s-dev"), template(&before, "java-vm"));
    assert!(k8s.settings.default_ttl_ms > 0 && k8s.settings.allow_user_autostart && !k8s.display_name.is_empty());

    let naive = Body::json(&json!({"deprecation_message": "moved"}));
    client
        .send_json::<Value>(Method::PATCH, &orgsplit::endpoint!["templates", &k8s.id], &naive, Idempotency::Idempotent)
        .unwrap();
    let wiped = template(&fake.snapshot(), "k8s-dev").clone();
    assert!(wiped.deprecated);
    assert_eq!((wiped.settings.default_ttl_ms, wiped.settings.allow_user_autostart), (0, false), "the trap");
    assert_eq!(
        (&wiped.display_name, &wiped.description, &wiped.icon, &wiped.settings.autostop_requirement),
        (&k8s.display_name, &k8s.description, &k8s.icon, &k8s.settings.autostop_requirement),
        "pointer fields are kept"
    );

    let message = "Moved to the [java org](https://wiki.megaco.example/java)";
    let t = client.deprecate_template(&java.id, message).unwrap();
    assert!(t.deprecated && t.deprecation_message == message);
    let after = template(&fake.snapshot(), "java-vm").clone();
    let mut expected = java.clone();
    expected.deprecated = true;
    expected.deprecation_message = message.into();
    expected.updated_at = after.updated_at.clone();
    assert_eq!(after, expected, "nothing but the deprecation changed");
    // Again: the server answers 304 Not Modified, which is success.
    let again = client.deprecate_template(&java.id, message).unwrap();
    let last_patch = fake.log().into_iter().rev().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(last_patch.status, 304);
    assert_eq!(again.deprecation_message, message, "read back after the 304");
}

/// POST /files takes the raw archive (not a multipart form), and its
/// answer's `hash` is the file id; the same bytes again give the same id.
#[test]
fn a_file_upload_is_raw_bytes_and_its_hash_is_the_file_id() {
    let (fake, client, _) = megaco();
    let s = fake.snapshot();
    let version = s.template_versions.iter().find(|v| v.id == template(&s, "k8s-dev").active_version_id).unwrap();
    let (archive, content_type) = client.download_file(&version.job.file_id).unwrap();
    assert_eq!(content_type, "application/x-tar");
    assert_eq!(&archive[257..262], b"ustar");
    let mut changed = archive.clone();
    changed[0] = b'x';
    let id = client.upload_file(changed.clone(), "application/x-tar").unwrap();
    let upload = fake.log().into_iter().rev().find(|r| r.method == "POST").unwrap();
    assert_eq!((upload.status, upload.request_body == changed), (201, true), "raw bytes, created");
    assert_eq!(client.upload_file(changed.clone(), "application/x-tar").unwrap(), id, "same bytes, same id");
    assert_eq!(fake.log().last().unwrap().status, 200);
    assert_eq!(client.download_file(&id).unwrap().0, changed);
    let form = Body::Bytes { bytes: changed, content_type: "multipart/form-data; boundary=x".into() };
    let e = client
        .send_json::<Value>(Method::POST, &orgsplit::endpoint!["files"], &form, Idempotency::Idempotent)
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
}

/// A user must be a member of a group's org before joining the group (412
/// otherwise), and adding someone already in the group is a 412 too.
#[test]
fn group_members_must_join_the_org_first_and_only_once() {
    let (fake, client, _) = megaco();
    let org = new_org(&client, "labs");
    let group = client.ensure_group(&org.id, &CreateGroupRequest { name: "ml".into(), ..Default::default() }).unwrap();
    assert!(group.created());
    let group = group.into_value();
    let user = fake.snapshot().users.iter().find(|u| u.login_type == "password").unwrap().id.clone();
    let e = client.ensure_group_members(&group.id, std::slice::from_ref(&user)).unwrap_err();
    assert_eq!(e.status(), Some(412));
    assert!(e.to_string().contains("must be a member of organization"), "{e}");
    assert!(client.ensure_member(&org.id, &user).unwrap().created());
    assert!(!client.ensure_member(&org.id, &user).unwrap().created(), "a second run finds the member");
    let g = client.ensure_group_members(&group.id, std::slice::from_ref(&user)).unwrap();
    assert!(g.members.iter().any(|m| m.id == user));
    let patches = |f: &FakeCoder| f.log().iter().filter(|r| r.method == "PATCH").count();
    let before = patches(&fake);
    client.ensure_group_members(&group.id, &[user]).unwrap();
    assert_eq!(patches(&fake), before, "nobody to add: no PATCH, no 412");
}

/// With organization sync on, OIDC users' memberships come from the IdP:
/// adding one by hand is a 400, and so is changing their roles where role sync is set.
#[test]
fn idp_synced_users_cannot_be_added_or_given_roles_by_hand() {
    let (fake, client, _) = megaco();
    let s = fake.snapshot();
    let oidc = s.users.iter().find(|u| u.login_type == "oidc" && u.roles.iter().all(|r| r == "member")).unwrap();
    let org = new_org(&client, "raptix");
    let e = client.add_member(&org.id, &oidc.id).unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("manual organization assignment is not allowed"), "{e}");
    let coder = &s.default_organization().unwrap().id;
    let e = client.set_member_roles(coder, &oidc.id, &["organization-auditor".into()]).unwrap_err();
    assert!(e.to_string().contains("role sync is enabled"), "{e}");
    // The IdP mapping is the way: add the claim value -> org entry.
    let wanted = [MappingEntry { given: "raptix-eng".into(), gets: org.id.clone() }];
    let settings = client.ensure_org_sync_mapping(&wanted).unwrap();
    assert_eq!(settings.mapping["raptix-eng"], vec![org.id.clone()]);
    let patches = fake.log().iter().filter(|r| r.method == "PATCH").count();
    client.ensure_org_sync_mapping(&wanted).unwrap();
    assert_eq!(fake.log().iter().filter(|r| r.method == "PATCH").count(), patches, "already mapped: nothing sent");
}

/// Group ids belong to one org: an ACL copied as it is names groups the
/// new template's org does not have. `remap_acl` maps them.
#[test]
fn a_template_acl_must_be_remapped_to_the_new_orgs_groups() {
    let (fake, client, _) = megaco();
    let s = fake.snapshot();
    let old = template(&s, "mlbox-gpu");
    let old_acl = old.acl.clone().unwrap();
    let org = new_org(&client, "mlbox");
    let ml = client
        .ensure_group(&org.id, &CreateGroupRequest { name: "ml".into(), ..Default::default() })
        .unwrap()
        .into_value();
    let new = fake.state_mut(|st| {
        let mut t = old.clone();
        t.id = st.new_id("template", "mlbox-gpu");
        t.organization_id = org.id.clone();
        t.acl = None;
        st.s.templates.push(t.clone());
        t
    });
    let copied = UpdateTemplateAcl {
        group_perms: old_acl.group.iter().map(|e| (e.id.clone(), e.role.clone())).collect(),
        ..Default::default()
    };
    let e = client.patch_template_acl(&new.id, &copied).unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    let old_ml = s.groups.iter().find(|g| g.name == "ml").unwrap();
    let remapped =
        remap_acl(&old_acl, &old.organization_id, &org.id, &BTreeMap::from([(old_ml.id.clone(), ml.id.clone())]));
    assert!(remapped.unmapped_groups.is_empty());
    client.patch_template_acl(&new.id, &remapped.request).unwrap();
    let acl = client.template_acl(&new.id).unwrap();
    assert_eq!(
        acl.group.iter().map(|g| (g.id.as_str(), g.role.as_str())).collect::<Vec<_>>(),
        [(ml.id.as_str(), "use")]
    );
}

/// paginated-members answers one object `{members, count}` (the spec says an array).
#[test]
fn paginated_members_is_an_object_read_page_by_page() {
    let (fake, client, _) = megaco();
    let org = fake.snapshot().default_organization().unwrap().id.clone();
    let members = client.organization_members(&org).unwrap();
    assert_eq!(members.len(), fake.snapshot().organization_members.len());
    let pages: Vec<_> = fake.log().into_iter().filter(|r| r.path.contains("paginated-members")).collect();
    assert_eq!(pages.len(), members.len().div_ceil(500), "no page past the end");
    fake.record_bodies(true);
    client.organization_members(&org).unwrap();
    let body: Value = serde_json::from_slice(fake.log().last().unwrap().response_body.as_ref().unwrap()).unwrap();
    assert!(body.is_object() && body["count"].as_u64() == Some(members.len() as u64));
}

/// Re-creating a template: version built by a daemon of the new org with
/// matching tags (or waiting forever without one), then the template,
/// created with 201 and the create-time names of the dormancy settings.
#[test]
fn a_template_is_re_created_from_its_archive_in_a_new_org() {
    let (fake, client, waits) = megaco();
    let s = fake.snapshot();
    let old = template(&s, "raptix-eks").clone();
    let version = s.template_versions.iter().find(|v| v.id == old.active_version_id).unwrap().clone();
    let org = new_org(&client, "raptix");
    let (bytes, content_type) = client.download_file(&version.job.file_id).unwrap();
    let file = client.upload_file(bytes, &content_type).unwrap();
    let v = client
        .create_template_version(&org.id, &CreateTemplateVersionRequest::from_file(file, version.job.tags.clone()))
        .unwrap();
    assert_eq!(v.job.status, "pending");
    let (timeout, every) = (Duration::from_secs(30), Duration::from_secs(2));
    match client.wait_for_template_version(&v.id, timeout, every).unwrap() {
        VersionBuild::TimedOut { status, matched_provisioners } => {
            assert_eq!((status.as_str(), matched_provisioners), ("pending", Some(0)), "no daemon serves the new org");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(waits.all().iter().sum::<Duration>(), timeout, "it polled on the client's clock");
    fake.state_mut(|st| {
        let id = st.new_id("daemon", "raptix");
        st.s.provisioner_daemons.push(ProvisionerDaemon {
            id,
            name: "raptix-provisioner-0".into(),
            organization_id: org.id.clone(),
            status: "idle".into(),
            tags: v.job.tags.clone(),
            ..ProvisionerDaemon::default()
        })
    });
    let VersionBuild::Succeeded(built) = client.wait_for_template_version(&v.id, timeout, every).unwrap() else {
        panic!()
    };
    let t = client.create_template(&org.id, &CreateTemplateRequest::like(&old, &built.id)).unwrap();
    assert_eq!(fake.log().last().unwrap().status, 201, "the server answers 201 where the spec says 200");
    assert_eq!(
        (t.time_til_dormant_ms, t.time_til_dormant_autodelete_ms),
        (old.settings.time_til_dormant_ms, old.settings.time_til_dormant_autodelete_ms)
    );
    assert_eq!(
        (t.organization_id.as_str(), t.name.as_str(), t.active_version_id.as_str()),
        (org.id.as_str(), "raptix-eks", built.id.as_str())
    );
}

/// A taken org name is a 409; `ensure_organization` finds the org instead.
#[test]
fn a_taken_org_name_is_a_conflict() {
    let (_fake, client, _) = megaco();
    let req = CreateOrganizationRequest { name: "coder".into(), ..Default::default() };
    let e = client.create_organization(&req).unwrap_err();
    assert!(e.is_conflict(), "{e}");
    let found = client.ensure_organization(&req).unwrap();
    assert!(!found.created() && found.value().is_default);
}

/// Role lists replace the member's roles; `organization-member` is implicit and never sent.
#[test]
fn member_roles_are_set_without_the_implicit_member_role() {
    let (fake, client, _) = megaco();
    let org = new_org(&client, "labs");
    let user = fake.snapshot().users.iter().find(|u| u.login_type == "password").unwrap().id.clone();
    client.ensure_member(&org.id, &user).unwrap();
    let roles = ["organization-member".to_string(), "organization-template-admin".to_string()];
    let m = client.set_member_roles(&org.id, &user, &roles).unwrap();
    assert_eq!(m.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["organization-template-admin"]);
    let sent: Value = serde_json::from_slice(&fake.log().last().unwrap().request_body).unwrap();
    assert_eq!(sent, json!({"roles": ["organization-template-admin"]}));
}

/// Custom roles: the answer is one role object although the spec says an array.
#[test]
fn custom_roles_are_created_once_and_updated_when_they_differ() {
    let (_fake, client, _) = megaco();
    let org = new_org(&client, "labs");
    let perm = |resource: &str, action: &str| wire::Permission {
        negate: false,
        resource_type: resource.into(),
        action: action.into(),
    };
    let mut req = CustomRoleRequest {
        name: "provisioner-admin".into(),
        display_name: "Provisioner Admin".into(),
        organization_permissions: vec![perm("provisioner_daemon", "create")],
        organization_member_permissions: Vec::new(),
    };
    let created = client.ensure_custom_role(&org.id, &req).unwrap();
    assert!(created.created() && created.value().name == "provisioner-admin");
    assert!(!client.ensure_custom_role(&org.id, &req).unwrap().created());
    req.organization_permissions.push(perm("provisioner_daemon", "delete"));
    let updated = client.ensure_custom_role(&org.id, &req).unwrap().into_value();
    assert_eq!(updated.organization_permissions.len(), 2);
}

/// A provisioner key's secret comes back once, from the create.
#[test]
fn a_provisioner_key_secret_is_returned_once() {
    let (_fake, client, _) = megaco();
    let org = new_org(&client, "raptix");
    let req = CreateProvisionerKeyRequest {
        name: "raptix-aws".into(),
        tags: BTreeMap::from([("cloud".into(), "raptix-aws".into())]),
    };
    let KeyOutcome::Created(secret) = client.ensure_provisioner_key(&org.id, &req).unwrap() else { panic!() };
    assert!(!secret.expose().is_empty() && !format!("{secret:?}").contains(secret.expose()));
    assert!(matches!(client.ensure_provisioner_key(&org.id, &req).unwrap(), KeyOutcome::Existed));
    let reserved = CreateProvisionerKeyRequest { name: "PSK".into(), ..Default::default() };
    assert_eq!(client.create_provisioner_key(&org.id, &reserved).unwrap_err().status(), Some(400));
}

/// Group and role sync mappings are changed entry by entry, never replaced whole.
#[test]
fn sync_mappings_are_patched_incrementally() {
    let (fake, client, _) = megaco();
    let coder = fake.snapshot().default_organization().unwrap().id.clone();
    let before = client.role_sync(&coder).unwrap();
    let wanted = [MappingEntry { given: "ml-leads".into(), gets: "organization-template-admin".into() }];
    let after = client.ensure_role_sync_mapping(&coder, &wanted).unwrap();
    let mut expected = before.mapping.clone();
    expected.insert("ml-leads".into(), vec!["organization-template-admin".into()]);
    assert_eq!(after.mapping, expected, "the other entries are untouched");
    let sent: Value = serde_json::from_slice(&fake.log().last().unwrap().request_body).unwrap();
    assert_eq!(sent, json!({"add": [{"given": "ml-leads", "gets": "organization-template-admin"}], "remove": []}));
}

/// Issue 16 §2: template settings are sent so that they are right on
/// v2.30.0 and older (an omitted plain field is zeroed) and on newer
/// releases (every field optional, an omitted one kept, no 304): the client
/// sends the whole template back with its changes. On both, one change
/// changes that field alone, and the same change again is success (304 on
/// the older, 200 on the newer).
#[test]
fn template_settings_are_sent_right_to_old_and_new_releases() {
    for (version, optional) in [("v2.30.0", false), ("v2.31.0", true)] {
        let mut s = fake_coder::megaco();
        s.build_info.as_mut().unwrap().version = version.into();
        let fake = FakeCoder::start(s);
        let (client, _) = fake.client();
        let before = fake.snapshot();
        let (k8s, java) = (template(&before, "k8s-dev").clone(), template(&before, "java-vm").clone());
        assert!(k8s.settings.default_ttl_ms > 0 && k8s.settings.allow_user_autostart, "{version}: a setting to lose");

        // What the server does with omitted fields: the mode the fake is in.
        let naive = Body::json(&json!({"deprecation_message": "moved"}));
        client
            .send_json::<Value>(
                Method::PATCH,
                &orgsplit::endpoint!["templates", &k8s.id],
                &naive,
                Idempotency::Idempotent,
            )
            .unwrap();
        let after_naive = template(&fake.snapshot(), "k8s-dev").settings.clone();
        if optional {
            assert_eq!(after_naive, k8s.settings, "{version}: omitted fields are kept");
        } else {
            assert_eq!((after_naive.default_ttl_ms, after_naive.allow_user_autostart), (0, false), "{version}: zeroed");
        }

        // orgsplit's update: one field changes, nothing else.
        let ttl = java.settings.default_ttl_ms + 3_600_000;
        let mut changes = serde_json::Map::new();
        changes.insert("default_ttl_ms".into(), json!(ttl));
        let t = client.update_template(&java.id, &changes).unwrap();
        assert_eq!(t.default_ttl_ms, ttl, "{version}");
        let now = template(&fake.snapshot(), "java-vm").clone();
        let mut want = java.clone();
        want.settings.default_ttl_ms = ttl;
        want.updated_at = now.updated_at.clone();
        assert_eq!(now, want, "{version}: only the TTL changed");
        let patch = |f: &FakeCoder| f.log().into_iter().rev().find(|r| r.method == "PATCH").unwrap();
        let sent: Value = serde_json::from_slice(&patch(&fake).request_body).unwrap();
        for key in ["allow_user_autostart", "time_til_dormant_ms", "require_active_version", "display_name"] {
            assert!(sent.get(key).is_some(), "{version}: every field is sent ({key}): {sent}");
        }

        // The same change again: success on both, and nothing moved.
        let again = client.update_template(&java.id, &changes).unwrap();
        assert_eq!(again.default_ttl_ms, ttl);
        assert_eq!(patch(&fake).status, if optional { 200 } else { 304 }, "{version}");
        assert_eq!(template(&fake.snapshot(), "java-vm").settings, want.settings, "{version}");
    }
}
