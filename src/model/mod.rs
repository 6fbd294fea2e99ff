//! The snapshot types and the pure functions over them: canonical order,
//! fingerprints, (de)serialisation with version checks, and lookups.

pub mod address;
mod canonical;
mod index;
pub mod names;
mod parallel;
mod snapshot;
mod stable;

pub use index::Index;
pub use snapshot::*;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Result};

/// The org role every member has implicitly; never listed in `roles`.
pub const ORG_MEMBER_ROLE: &str = "organization-member";

impl Snapshot {
    /// Read a snapshot document. `path` is only used in error messages.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Snapshot> {
        // One parse in the usual case (on two cores when it can, see
        // `parallel.rs`); only a document that fails it is probed for its
        // version, so a version problem is reported as such rather than as a
        // bad field.
        let parsed = parallel::parse(bytes).or_else(|| serde_json::from_slice::<Snapshot>(bytes).ok());
        if let Some(mut snapshot) = parsed
            && readable(u64::from(snapshot.format_version))
        {
            snapshot.format_version = FORMAT_VERSION;
            snapshot.canonicalize();
            return Ok(snapshot);
        }
        #[derive(serde::Deserialize)]
        struct Probe {
            format_version: Option<serde_json::Value>,
            coder_v1_snapshot: Option<serde::de::IgnoredAny>,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e))?;
        if probe.coder_v1_snapshot.is_some() {
            return Err(Diagnostic::new(path, "this is a Coder v1 snapshot; this command takes a v2 one")
                .help(
                    "for a v1 deployment use `orgsplit access V1-SNAPSHOT`, `orgsplit v1-plan V1-SNAPSHOT` or \
                     `orgsplit report V1-SNAPSHOT`",
                )
                .into());
        }
        match probe.format_version {
            Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(readable) => {}
            Some(other) => {
                return Err(Diagnostic::new(
                    path,
                    format!(
                        "unknown snapshot format_version {other}: this orgsplit reads versions 1 to {FORMAT_VERSION}"
                    ),
                )
                .help("re-create the snapshot with `orgsplit import`, or use the orgsplit release that wrote it")
                .into());
            }
            None => {
                return Err(Diagnostic::new(path, "not an orgsplit snapshot: it has no `format_version`")
                    .help("create one with `orgsplit import --from-dir DIR --out snapshot.json`")
                    .into());
            }
        }
        let mut snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e))?;
        // An older version is read as the current one: what it lacks is
        // false or unknown (see `OLDER_FORMAT_VERSIONS`).
        snapshot.format_version = FORMAT_VERSION;
        snapshot.canonicalize();
        Ok(snapshot)
    }

    /// The canonical document: sorted, pretty, with a trailing newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut copy = self.clone();
        copy.canonicalize();
        crate::json::pretty(&copy)
    }

    /// A digest of the deployment's state: everything the API reports, but
    /// not where or when it was read, the import's warnings, the people and
    /// template-source inputs (which a live deployment does not hold), nor
    /// the day-to-day activity no plan depends on (see `stable.rs`: users
    /// signing in, workspaces starting and stopping). Two imports of the
    /// same state have the same fingerprint.
    pub fn fingerprint(&self) -> String {
        self.fingerprints().0
    }

    /// One digest per section of the deployment's state, so a stale plan can
    /// say what changed ("templates, workspaces") and not just that something did.
    pub fn section_fingerprints(&self) -> BTreeMap<&'static str, String> {
        self.fingerprints().1
    }

    /// Both at once (`fingerprint` is a digest of the sections' digests), for
    /// callers that need both: each costs a pass over the whole state.
    pub fn fingerprints(&self) -> (String, BTreeMap<&'static str, String>) {
        // Digest a canonical form; loaded snapshots already are, so only
        // others pay for a copy.
        let copy;
        let canonical = if self.is_canonical() {
            self
        } else {
            let mut c = self.clone();
            c.canonicalize();
            copy = c;
            &copy
        };
        let mut out = BTreeMap::new();
        // The workspaces are half the work: a second core digests them.
        let ((), workspaces) = crate::cores::join(
            || {
                out.insert("organizations", digest_of(&canonical.organizations));
                out.insert("users", digest_of(&stable::users(&canonical.users)));
                out.insert("organization_members", digest_of(&canonical.organization_members));
                out.insert("groups", digest_of(&canonical.groups));
                out.insert("templates", digest_of(&stable::templates(&canonical.templates)));
                out.insert("template_versions", digest_of(&canonical.template_versions));
                out.insert("provisioner_keys", digest_of(&canonical.provisioner_keys));
                out.insert("custom_roles", digest_of(&canonical.custom_roles));
                out.insert("idp_sync", digest_of(&canonical.idp_sync));
            },
            || digest_of(&stable::workspaces(&canonical.workspaces)),
        );
        out.insert("workspaces", workspaces);
        let mut digest = Sha256::new();
        for (section, hash) in &out {
            digest.update(section.as_bytes());
            digest.update(b"=");
            digest.update(hash.as_bytes());
            digest.update(b"\n");
        }
        (format!("sha256:{}", hex(&digest.finalize())), out)
    }

    pub fn default_organization(&self) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.is_default)
    }

    /// Whether the deployment's license allows more than one organization.
    /// `None` when the snapshot holds no entitlements.
    pub fn multiple_organizations_entitled(&self) -> Option<bool> {
        let entitlements = self.entitlements.as_ref()?;
        Some(
            entitlements
                .features
                .get("multiple_organizations")
                .is_some_and(|f| f.enabled && (f.entitlement == "entitled" || f.entitlement == "grace_period")),
        )
    }
}

/// Whether this orgsplit reads a snapshot of that `format_version`.
fn readable(version: u64) -> bool {
    version == u64::from(FORMAT_VERSION) || OLDER_FORMAT_VERSIONS.iter().any(|v| u64::from(*v) == version)
}

impl User {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

impl Group {
    /// Every org has an `Everyone` group whose id is the org's id.
    pub fn is_everyone(&self) -> bool {
        self.id == self.organization_id
    }
}

impl Workspace {
    /// True when the latest build deleted the workspace or is deleting it.
    pub fn is_deleted_or_deleting(&self) -> bool {
        matches!(self.latest_build.status.as_str(), "deleted" | "deleting") || self.latest_build.transition == "delete"
    }
}

/// SHA-256 of a value's compact JSON, streamed into the hasher (the same
/// bytes `serde_json::to_vec` would give, without holding them).
fn digest_of<T: serde::Serialize>(value: &T) -> String {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, Hashing(Sha256::new()));
    let _ = serde_json::to_writer(&mut w, value);
    match w.into_inner() {
        Ok(h) => hex(&h.0.finalize()),
        Err(_) => String::new(), // writing into a hasher cannot fail
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Snapshot {
        Snapshot {
            format_version: FORMAT_VERSION,
            users: vec![
                User { id: "2".into(), username: "zed".into(), status: "active".into(), ..Default::default() },
                User { id: "1".into(), username: "amy".into(), status: "suspended".into(), ..Default::default() },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn round_trip_is_canonical_and_stable() {
        let a = tiny().to_json().unwrap();
        let parsed = Snapshot::from_json(&a, Path::new("s.json")).unwrap();
        assert_eq!(parsed.users[0].username, "amy", "users sorted by username");
        assert_eq!(parsed.to_json().unwrap(), a);
    }

    #[test]
    fn unknown_format_version_is_refused_with_advice() {
        let err = Snapshot::from_json(br#"{"format_version": 99}"#, Path::new("s.json")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("s.json: unknown snapshot format_version 99"), "{text}");
        assert!(text.contains("orgsplit import"), "{text}");
    }

    #[test]
    fn version_1_is_read_as_the_current_one_without_service_accounts() {
        let mut doc: serde_json::Value = serde_json::from_slice(&tiny().to_json().unwrap()).unwrap();
        doc["format_version"] = serde_json::json!(1);
        for u in doc["users"].as_array_mut().unwrap() {
            u.as_object_mut().unwrap().remove("is_service_account");
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        let s = Snapshot::from_json(&bytes, Path::new("old.json")).unwrap();
        assert_eq!(s.format_version, FORMAT_VERSION);
        assert!(s.users.iter().all(|u| !u.is_service_account));
        assert_eq!(s.fingerprint(), tiny().fingerprint());
    }

    #[test]
    fn the_streamed_file_has_the_bytes_of_to_json() {
        let mut s = crate::fixture::builtin().unwrap();
        // Out of canonical order, as a snapshot being built may be.
        s.users.reverse();
        s.workspaces.reverse();
        let expected = s.to_json().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        s.canonicalize();
        crate::output::write_atomic_json(&path, &s).unwrap();
        #[allow(clippy::disallowed_methods)] // a test reads what the edge wrote
        let written = std::fs::read(&path).unwrap();
        assert!(written == expected, "the streamed file and to_json differ");
        assert!(s.is_canonical());
    }

    #[test]
    fn what_newer_releases_add_is_written_only_when_known() {
        // So a state without service accounts, default member roles or shares
        // is written, and fingerprinted, as before them: older plans stay fresh.
        let mut s = crate::fixture::builtin().unwrap();
        let text = String::from_utf8(s.to_json().unwrap()).unwrap();
        for field in ["is_service_account", "default_org_member_roles", "shareable_workspace_owners", "\"shares\""] {
            assert!(!text.contains(field), "{field}");
        }
        let before = s.section_fingerprints();
        s.workspaces[0].shares = Some(WorkspaceShares::default());
        s.users[0].is_service_account = true;
        s.organizations[0].default_org_member_roles = Some(vec![]);
        let after = s.section_fingerprints();
        let differ: Vec<_> = before.keys().filter(|k| before[*k] != after[*k]).collect();
        assert_eq!(differ, [&"organizations", &"users", &"workspaces"]);
    }

    #[test]
    fn missing_format_version_says_what_the_file_is_not() {
        let err = Snapshot::from_json(br#"{"users": []}"#, Path::new("x.json")).unwrap_err();
        assert!(err.to_string().contains("not an orgsplit snapshot"), "{err}");
    }

    #[test]
    fn unknown_field_is_an_error_with_position() {
        let mut doc: serde_json::Value = serde_json::from_slice(&tiny().to_json().unwrap()).unwrap();
        doc["surprise"] = serde_json::json!(1);
        let bytes = serde_json::to_vec_pretty(&doc).unwrap();
        let err = Snapshot::from_json(&bytes, Path::new("s.json")).unwrap_err();
        assert!(err.to_string().contains("unknown field `surprise`"), "{err}");
        assert!(err.to_string().starts_with("s.json:"), "{err}");
    }

    #[test]
    fn template_settings_are_fields_of_the_template_in_the_json() {
        let mut s = tiny();
        s.templates.push(Template {
            id: "t".into(),
            name: "k8s".into(),
            settings: TemplateSettings { default_ttl_ms: 5, allow_user_autostart: true, ..Default::default() },
            ..Default::default()
        });
        let bytes = s.to_json().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let t = &doc["templates"][0];
        assert_eq!((t["default_ttl_ms"].as_i64(), t["allow_user_autostart"].as_bool()), (Some(5), Some(true)));
        assert!(t.get("settings").is_none(), "{t}");
        let back = Snapshot::from_json(&bytes, Path::new("s.json")).unwrap();
        assert_eq!(back.templates[0].settings, s.templates[0].settings);

        // Still strict: an unknown field, or a missing setting, is an error naming it.
        let mut odd = doc.clone();
        odd["templates"][0]["surprise"] = serde_json::json!(1);
        let err = Snapshot::from_json(&serde_json::to_vec_pretty(&odd).unwrap(), Path::new("s.json")).unwrap_err();
        assert!(err.to_string().contains("unknown field `surprise`"), "{err}");
        let mut short = doc;
        short["templates"][0].as_object_mut().unwrap().remove("failure_ttl_ms");
        let err = Snapshot::from_json(&serde_json::to_vec_pretty(&short).unwrap(), Path::new("s.json")).unwrap_err();
        assert!(err.to_string().contains("failure_ttl_ms"), "{err}");
    }

    #[test]
    fn fingerprint_ignores_source_and_warnings_but_not_state() {
        let a = tiny();
        let mut b = tiny();
        b.source.location = "elsewhere".into();
        b.warnings.push(Warning::new("x", "y"));
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.users[0].status = "suspended".into();
        assert_ne!(a.fingerprint(), b.fingerprint());
        let changed: Vec<_> = a
            .section_fingerprints()
            .into_iter()
            .zip(b.section_fingerprints())
            .filter(|(x, y)| x.1 != y.1)
            .map(|(x, _)| x.0)
            .collect();
        assert_eq!(changed, ["users"]);
    }

    #[test]
    fn day_to_day_activity_leaves_the_fingerprint_alone() {
        let before = crate::fixture::builtin().unwrap();
        let mut after = before.clone();
        let u = after.users.iter_mut().find(|u| u.status == "active").unwrap();
        u.last_seen_at = Some("2030-01-01T00:00:00Z".into());
        u.status = "dormant".into();
        let t = &mut after.templates[0];
        t.active_user_count += 7;
        t.updated_at = Some("2030-01-01T00:00:00Z".into());
        let w = after.workspaces.iter_mut().find(|w| !w.is_deleted_or_deleting()).unwrap();
        w.last_used_at = Some("2030-01-01T00:00:00Z".into());
        w.outdated = !w.outdated;
        w.latest_build.build_number += 1;
        w.latest_build.status = "stopped".into();
        w.latest_build.transition = "stop".into();
        w.latest_build.template_version_id = "another-version".into();
        assert_eq!(before.fingerprints(), after.fingerprints());

        // What a plan relies on still counts, each in its own section.
        type Change = (&'static str, fn(&mut Snapshot));
        let changes: [Change; 5] = [
            ("users", |s| s.users.iter_mut().find(|u| u.status == "active").unwrap().status = "suspended".into()),
            ("templates", |s| s.templates[0].settings.time_til_dormant_autodelete_ms += 1),
            ("workspaces", |s| s.workspaces[0].dormant_at = Some("2030-01-01T00:00:00Z".into())),
            ("workspaces", |s| {
                let w = s.workspaces.iter_mut().find(|w| !w.is_deleted_or_deleting()).unwrap();
                w.latest_build.transition = "delete".into();
            }),
            ("workspaces", |s| s.workspaces[0].name.push('x')),
        ];
        for (section, change) in changes {
            let mut changed = before.clone();
            change(&mut changed);
            assert_ne!(before.fingerprint(), changed.fingerprint(), "{section}");
            let (a, b) = (before.section_fingerprints(), changed.section_fingerprints());
            let differ: Vec<_> = a.keys().filter(|k| a[*k] != b[*k]).collect();
            assert_eq!(differ, [&section], "{section}");
        }
    }

    #[test]
    fn fingerprint_is_of_the_canonical_form_with_or_without_a_copy() {
        let canonical = crate::fixture::builtin().unwrap();
        assert!(canonical.is_canonical(), "a loaded snapshot is canonical");
        let mut shuffled = canonical.clone();
        shuffled.users.reverse();
        shuffled.groups[1].members.reverse();
        shuffled.workspaces.swap(0, 5);
        assert!(!shuffled.is_canonical());
        assert_eq!(shuffled.fingerprints(), canonical.fingerprints());
        let (all, sections) = canonical.fingerprints();
        assert_eq!((all, sections), (canonical.fingerprint(), canonical.section_fingerprints()));
    }

    #[test]
    fn entitlement_needs_enabled_and_entitled() {
        let mut s = tiny();
        assert_eq!(s.multiple_organizations_entitled(), None);
        let mut e = Entitlements::default();
        e.features.insert(
            "multiple_organizations".into(),
            Feature { enabled: true, entitlement: "not_entitled".into(), ..Default::default() },
        );
        s.entitlements = Some(e.clone());
        assert_eq!(s.multiple_organizations_entitled(), Some(false));
        e.features.get_mut("multiple_organizations").unwrap().entitlement = "grace_period".into();
        s.entitlements = Some(e);
        assert_eq!(s.multiple_organizations_entitled(), Some(true));
    }
}
