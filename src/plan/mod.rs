//! The plan: a snapshot and a split file in, a reviewed list of steps out.
//!
//! A [`Plan`] (JSON, versioned, schema from `orgsplit schema plan`) holds:
//!
//! - what it is for: the deployment URL and version, the snapshot's
//!   fingerprint and per-section fingerprints (a plan is only valid against
//!   the state it was made from: [`check_fingerprint`]), the split file's
//!   digest, and the migration settings (wiki, deadline, message template);
//! - `organizations`: each target org at a glance;
//! - `steps`, in the order to carry them out: each one [`Action`] (create,
//!   update or no-op, never delete) on one object keyed `<org>/<kind>/<name>`,
//!   with the keys it depends on and a [`StepSpec`] that says exactly what to
//!   send (org fields; provisioner key name, tags and the command that starts
//!   a provisioner with it; custom roles as Coder permissions; members with
//!   their org roles and whether the API or IdP sync puts them there; groups
//!   and their members; IdP org, group and role sync mappings; template
//!   re-creations with source template, version and file ids, tags, every
//!   setting and the ACL by new names; deprecations with their final message);
//! - `workspace_migrations`: per affected workspace, the owner, the old
//!   workspace and the new org, template and workspace name;
//! - `findings`: what planning noticed, each with a stable code, a severity
//!   and the objects it affects (for the report and for reviewers).
//!
//! Steps name new objects by name (they have no ids yet); apply resolves
//! names to ids as it goes. Creating an organization also makes the caller a
//! member of it: the expected after-state cannot know who the caller is and
//! leaves that membership out.
//!
//! Layout: `types.rs` and `specs.rs` are the document (the contract);
//! `validate/` checks the split against the snapshot and resolves who and
//! what goes where; `build/` turns that into steps, migration items and
//! findings; `graph.rs` orders the steps; `make.rs` is the whole pipeline
//! ([`plan()`]); `after.rs` is the expected after-state ([`expected_after`],
//! which `diff` shows and apply verifies against, comparing the readable
//! form of `render::readable`); `access.rs` says who may use a template;
//! `names.rs` and `roles.rs` hold Coder's name rules and the RBAC vocabulary.

pub mod access;
mod after;
mod build;
pub(crate) mod graph;
mod make;
pub mod names;
mod positions;
#[cfg(test)]
mod props;
#[cfg(test)]
mod props_bounds;
pub mod roles;
mod specs;
mod types;
mod usable;
mod validate;

pub use after::{apply, expected_after, planned_id, set_settings};
pub use build::{settings_of, shell_word};
pub use make::{Fingerprints, plan, plan_fingerprinted};

pub use specs::*;
pub use types::*;

use std::path::Path;

use crate::error::{Diagnostic, Error, Result};
use crate::model::Snapshot;

/// The org part of the key of a deployment-wide step.
pub const DEPLOYMENT: &str = "(deployment)";

/// The key of a step: `<org>/<kind>/<name>`.
pub fn step_key(org: Option<&str>, kind: &str, name: &str) -> String {
    format!("{}/{kind}/{name}", org.unwrap_or(DEPLOYMENT))
}

impl StepSpec {
    /// The `kind` tag, as in the JSON and in step keys.
    pub fn kind(&self) -> &'static str {
        match self {
            StepSpec::Organization(_) => "organization",
            StepSpec::ProvisionerKey(_) => "provisioner-key",
            StepSpec::CustomRole(_) => "custom-role",
            StepSpec::OrganizationSync(_) => "organization-sync",
            StepSpec::Member(_) => "member",
            StepSpec::Group(_) => "group",
            StepSpec::GroupSync(_) => "group-sync",
            StepSpec::RoleSync(_) => "role-sync",
            StepSpec::Template(_) => "template",
            StepSpec::Deprecation(_) => "deprecation",
        }
    }
}

/// The plan document in three parts (see [`Plan::to_json_parts`]).
pub struct PlanJson {
    rest: Vec<u8>,
    field: Vec<u8>,
    at: usize,
}

impl PlanJson {
    /// Where the rest of the plan leaves the workspace migrations.
    const LEFT: &'static [u8] = b"\n  \"workspace_migrations\": []";

    /// The document's bytes, in order.
    pub fn parts(&self) -> [&[u8]; 3] {
        // `{\n  "workspace_migrations": [...]\n}\n`, without the braces.
        let field = &self.field[1..self.field.len() - 3];
        [&self.rest[..self.at], field, &self.rest[self.at + Self::LEFT.len()..]]
    }
}

impl Plan {
    /// Read a plan document. `path` is only used in error messages.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Plan> {
        // One parse in the usual case (a large plan takes a quarter of a
        // second); only a document that fails it is probed, so a version
        // problem is reported as such rather than as a bad field.
        if let Ok(plan) = serde_json::from_slice::<Plan>(bytes)
            && plan.format_version == FORMAT_VERSION
        {
            return Ok(plan);
        }
        #[derive(serde::Deserialize)]
        struct Probe {
            format_version: Option<serde_json::Value>,
            steps: Option<serde::de::IgnoredAny>,
            orgsplit_v1_plan: Option<serde::de::IgnoredAny>,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e))?;
        if probe.orgsplit_v1_plan.is_some() {
            return Err(Diagnostic::new(path, "this is a v1 plan (`orgsplit v1-plan --out`), not an orgsplit plan")
                .help(
                    "write its v2 side as a plan with `orgsplit v1-plan V1-SNAPSHOT --target V2-SNAPSHOT --v2-plan \
                     v2-plan.json`, and give that to diff and apply",
                )
                .into());
        }
        match (probe.format_version, probe.steps) {
            (Some(serde_json::Value::Number(n)), Some(_)) if n.as_u64() == Some(FORMAT_VERSION as u64) => {}
            (Some(other), Some(_)) => {
                return Err(Diagnostic::new(
                    path,
                    format!("unknown plan format_version {other}: this orgsplit reads version {FORMAT_VERSION}"),
                )
                .help("make the plan again with this orgsplit: `orgsplit plan SNAPSHOT --split FILE --out plan.json`")
                .into());
            }
            _ => {
                return Err(Diagnostic::new(path, "not an orgsplit plan: it has no `format_version` and `steps`")
                    .help("make one with `orgsplit plan SNAPSHOT --split FILE --out plan.json`")
                    .into());
            }
        }
        serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(path, &e).into())
    }

    /// The plan document: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        crate::json::pretty(self)
    }

    /// The plan document as `to_json` makes it, in parts to write one after
    /// the other ([`PlanJson::parts`]). The workspace migrations, half of a
    /// large plan, are serialised on a second core as a document of that one
    /// field (so at the same depth), and put in the place the rest of the
    /// plan leaves for them.
    pub fn to_json_parts(&mut self) -> Result<PlanJson> {
        #[derive(serde::Serialize)]
        struct Field<'a> {
            workspace_migrations: &'a [WorkspaceMigration],
        }
        let migrations = std::mem::take(&mut self.workspace_migrations);
        let (rest, field) =
            crate::cores::join(|| self.to_json(), || crate::json::pretty(&Field { workspace_migrations: &migrations }));
        self.workspace_migrations = migrations;
        let (rest, field) = (rest?, field?);
        // A raw newline is only ever formatting (strings escape theirs), and
        // only a top-level key follows one with two spaces.
        let at = memchr::memmem::rfind(&rest, PlanJson::LEFT)
            .ok_or_else(|| Error::Bug("the plan document has no place for its workspace migrations".into()))?;
        Ok(PlanJson { rest, field, at })
    }

    pub fn step(&self, key: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.key == key)
    }

    /// True when applying the plan would change something.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.action != Action::NoOp)
    }
}

/// Refuse a plan made from another state of the deployment, naming the
/// sections that changed, so nobody applies a plan to a state it was not
/// reviewed against.
pub fn check_fingerprint(plan: &Plan, snapshot: &Snapshot) -> Result<()> {
    let (fingerprint, now) = snapshot.fingerprints();
    if fingerprint == plan.snapshot.fingerprint {
        return Ok(());
    }
    let mut changed: Vec<String> = now
        .iter()
        .filter(|(section, hash)| plan.snapshot.sections.get(**section) != Some(*hash))
        .map(|(section, _)| section.to_string())
        .collect();
    changed.extend(plan.snapshot.sections.keys().filter(|s| !now.contains_key(s.as_str())).cloned());
    changed.sort();
    changed.dedup();
    let what = if changed.is_empty() { "its fingerprint differs".to_string() } else { changed.join(", ") };
    Err(Error::Refused(format!(
        "the plan was made from another state of the deployment (changed since: {what}); \
         make the plan again from the current snapshot: `orgsplit plan SNAPSHOT --split FILE --out plan.json`"
    )))
}

/// MegaCo and the plan of its split file, for tests.
#[cfg(test)]
pub(crate) fn megaco_plan() -> (Snapshot, Plan) {
    let before = crate::fixture::builtin().unwrap();
    let text = String::from_utf8(crate::fixture::builtin_file("split.toml").unwrap().to_vec()).unwrap();
    let doc = crate::split::load(&text, Path::new("split.toml")).unwrap();
    let plan = plan(&before, &doc, text.as_bytes()).unwrap();
    (before, plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Plan {
        let org = Step {
            key: step_key(Some("ml"), "organization", "ml"),
            org: Some("ml".into()),
            name: "ml".into(),
            action: Action::Create,
            depends_on: vec![],
            changes: vec![],
            spec: StepSpec::Organization(OrganizationSpec { name: "ml".into(), ..Default::default() }),
        };
        let member = Step {
            key: step_key(Some("ml"), "member", "amy"),
            org: Some("ml".into()),
            name: "amy".into(),
            action: Action::NoOp,
            depends_on: vec![org.key.clone()],
            changes: vec![],
            spec: StepSpec::Member(MemberSpec {
                membership_by: ManagedBy::IdpSync { field: "memberOf".into(), claims: vec!["coder-ml".into()] },
                ..Default::default()
            }),
        };
        Plan {
            format_version: FORMAT_VERSION,
            deployment: Deployment::default(),
            snapshot: SnapshotRef::default(),
            split: SplitRef::default(),
            migration: MigrationSettings::default(),
            organizations: vec![],
            steps: vec![org, member],
            workspace_migrations: vec![],
            findings: vec![],
            summary: Summary::default(),
        }
    }

    #[test]
    fn plan_round_trips_with_tagged_specs() {
        let plan = tiny();
        let bytes = plan.to_json().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""kind": "organization""#), "{text}");
        assert!(text.contains(r#""by": "idp-sync""#), "{text}");
        assert_eq!(Plan::from_json(&bytes, Path::new("p.json")).unwrap(), plan);
        assert_eq!(plan.steps[1].key, "ml/member/amy");
        assert_eq!(step_key(None, "organization-sync", "memberOf"), "(deployment)/organization-sync/memberOf");
        assert!(plan.has_changes());
    }

    #[test]
    fn a_written_plan_is_its_to_json_with_or_without_migrations() {
        let (_, mut megaco) = megaco_plan();
        assert!(megaco.workspace_migrations.len() > 100);
        // A message quoting the field, even after a newline, is not taken for it.
        megaco.findings[0].message = "\n  \"workspace_migrations\": []".into();
        let dir = tempfile::tempdir().unwrap();
        for mut plan in [megaco, tiny()] {
            let path = dir.path().join("plan.json");
            let copy = plan.clone();
            let json = plan.to_json_parts().unwrap();
            crate::output::write_atomic_parts(&path, &json.parts()).unwrap();
            assert_eq!(plan, copy, "the plan is left as it was");
            #[allow(clippy::disallowed_methods)] // a test reads what the edge wrote
            let written = std::fs::read(&path).unwrap();
            assert!(written == plan.to_json().unwrap(), "the same bytes as to_json");
        }
    }

    #[test]
    fn unknown_fields_and_versions_are_refused() {
        let mut doc: serde_json::Value = serde_json::from_slice(&tiny().to_json().unwrap()).unwrap();
        doc["steps"][0]["spec"]["surprise"] = serde_json::json!(1);
        let err = Plan::from_json(&serde_json::to_vec(&doc).unwrap(), Path::new("p.json")).unwrap_err();
        assert!(err.to_string().contains("unknown field `surprise`"), "{err}");
        doc["format_version"] = serde_json::json!(9);
        let err = Plan::from_json(&serde_json::to_vec(&doc).unwrap(), Path::new("p.json")).unwrap_err();
        assert!(err.to_string().starts_with("p.json: unknown plan format_version 9"), "{err}");
        let err = Plan::from_json(b"{\"format_version\": 1}", Path::new("s.json")).unwrap_err();
        assert!(err.to_string().contains("not an orgsplit plan"), "{err}");
    }

    #[test]
    fn stale_plan_is_refused_naming_the_changed_sections() {
        let mut snapshot = Snapshot { format_version: 1, ..Default::default() };
        let mut plan = tiny();
        plan.snapshot.fingerprint = snapshot.fingerprint();
        plan.snapshot.sections = snapshot.section_fingerprints().into_iter().map(|(k, v)| (k.into(), v)).collect();
        assert!(check_fingerprint(&plan, &snapshot).is_ok());
        snapshot.templates.push(crate::model::Template { id: "t".into(), ..Default::default() });
        snapshot.workspaces.push(crate::model::Workspace { id: "w".into(), ..Default::default() });
        let err = check_fingerprint(&plan, &snapshot).unwrap_err();
        assert!(err.to_string().contains("(changed since: templates, workspaces)"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::ERROR);
    }
}
