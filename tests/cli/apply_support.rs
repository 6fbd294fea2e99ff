//! Helpers for the apply tests: an admin at the terminal (who copies key
//! secrets and starts provisioners with them), plans made from the state the
//! fake serves, users logging in through the IdP, and the end state by names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orgsplit::apply::{self, Console, NewKey, Options, RunOutcome};
use orgsplit::model::Snapshot;
use orgsplit::plan::{Plan, StepSpec};

use crate::common::megaco;
use fake_coder::FakeCoder;

/// The person running apply. With `terminal`, secrets can be shown; with
/// `start`, they start a provisioner with each key as soon as they see it.
pub struct Admin<'a> {
    pub fake: &'a FakeCoder,
    pub terminal: bool,
    pub start: bool,
    pub secrets: Vec<String>,
    pub notes: Vec<String>,
    /// Start the provisioners of the secrets seen so far when apply says it waits for them.
    pub start_when_waited_for: bool,
    /// With each key, start a daemon that looks right but cannot take jobs (no `owner` tag).
    pub start_half_broken: bool,
    /// Press Ctrl-C (set the flag) once N steps are done (the first progress report at or past N:
    /// steps settle in batches, so the count can jump over N).
    pub interrupt_at: Option<(usize, &'static std::sync::atomic::AtomicBool)>,
}

impl<'a> Admin<'a> {
    pub fn new(fake: &'a FakeCoder) -> Admin<'a> {
        Admin {
            fake,
            terminal: true,
            start: true,
            secrets: Vec::new(),
            notes: Vec::new(),
            start_when_waited_for: false,
            start_half_broken: false,
            interrupt_at: None,
        }
    }
}

impl Console for Admin<'_> {
    fn can_show_secret(&self) -> bool {
        self.terminal
    }

    fn show_secret(&mut self, key: &NewKey<'_>) -> std::io::Result<()> {
        assert!(key.start_command.contains("coder provisioner start"), "{}", key.start_command);
        self.secrets.push(key.secret.expose().to_string());
        if self.start {
            self.fake.start_provisioner(key.secret.expose()).expect("a key the fake made");
        }
        if self.start_half_broken {
            let (org, tags) = (key.org.to_string(), key.tags.clone());
            self.fake.state_mut(|st| {
                let org = st.org(&org).unwrap().id.clone();
                let mut tags = tags;
                tags.insert("scope".into(), "organization".into());
                let id = st.new_id("daemon", "half-broken");
                st.s.provisioner_daemons.push(orgsplit::model::ProvisionerDaemon {
                    id,
                    organization_id: org,
                    status: "idle".into(),
                    tags,
                    ..Default::default()
                });
            });
        }
        Ok(())
    }

    fn progress(&mut self, done: usize, _total: usize, _key: &str) {
        if let Some((n, flag)) = self.interrupt_at
            && done >= n
        {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn note(&mut self, message: &str) {
        if self.start_when_waited_for && message.starts_with("waiting up to") {
            for s in &self.secrets {
                self.fake.start_provisioner(s);
            }
        }
        self.notes.push(message.to_string());
    }
}

/// A small generated deployment (60 users, one team with two templates of
/// its own) and a split that gives that team an org with every kind of step:
/// org, key, custom role, members with roles, group, group sync, templates
/// and deprecations. About 35 steps: small enough to kill after each one.
pub fn small() -> (Snapshot, String) {
    static SMALL: std::sync::OnceLock<(Snapshot, String)> = std::sync::OnceLock::new();
    SMALL
        .get_or_init(|| {
            // As the fake serves it (the generator leaves ACLs out; the API has them).
            let generated = fixtures::generate(60, 3).snapshot;
            let fake = FakeCoder::start(generated.clone());
            let (client, _) = fake.client();
            let mut s = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
            s.people = generated.people;
            let group = s.groups.iter().find(|g| g.name == "team-0001").expect("the generator's team-0001");
            let name = |id: &String| s.users.iter().find(|u| &u.id == id).unwrap().username.clone();
            let (admin, keeper) = (name(&group.members[0]), name(&group.members[1]));
            let split = format!(
                r#"format_version = 1

[migration]
wiki = "https://wiki.example.com/orgs"
deadline = "2025-09-30"
deprecation_message = "Moved to {{org_display_name}} as {{new_template}}: copy your files before {{deadline}} ({{wiki}})"
shared_templates = "duplicate"

[[organizations]]
name = "team-0001"
display_name = "Team 1"
description = "Team 1 and its clusters"
groups = ["team-0001"]
templates = ["team-0001-*"]
provisioner_tags = {{ team = "team-0001" }}
admins = ["{admin}"]
custom_roles = ["provisioner-admin"]
roles = {{ provisioner-admin = ["{keeper}"] }}
group_sync = {{ field = "memberOf", mapping = {{ team-1 = ["team-0001"] }} }}
"#
            );
            (s, split)
        })
        .clone()
}

pub fn split_text(name: &str) -> String {
    std::fs::read_to_string(megaco().join(name)).unwrap()
}

/// Plan `split` (TOML text) against `snapshot` and write it to `dir/plan.json`.
pub fn write_plan(dir: &Path, snapshot: &Snapshot, split: &str) -> PathBuf {
    let doc = orgsplit::split::load(split, Path::new("split.toml")).unwrap();
    let plan = orgsplit::plan::plan(snapshot, &doc, split.as_bytes()).unwrap();
    let path = dir.join("plan.json");
    std::fs::write(&path, plan.to_json().unwrap()).unwrap();
    path
}

pub fn read_plan(path: &Path) -> Plan {
    Plan::from_json(&std::fs::read(path).unwrap(), path).unwrap()
}

/// Waits that cost nothing: the client's clock is the fake's `Waits`.
pub fn options() -> Options {
    Options { poll_every: Duration::from_secs(2), build_timeout: Duration::from_secs(120), ..Options::default() }
}

/// `orgsplit apply PLAN --yes`, in process.
pub fn run(
    fake: &FakeCoder,
    plan: &Path,
    options: &Options,
    console: &mut (dyn Console + Send),
) -> orgsplit::error::Result<RunOutcome> {
    let (client, _) = fake.client();
    let bytes = std::fs::read(plan).unwrap();
    let parsed = Plan::from_json(&bytes, plan)?;
    let mut prepared = apply::prepare(&client, parsed, plan, &bytes, options)?;
    apply::execute(&mut prepared, &client, options, console)
}

/// Each user's values of the `memberOf` claim, from the people attributes.
pub fn claims(s: &Snapshot) -> BTreeMap<String, Vec<String>> {
    let people = s.people.as_ref().map_or(&[][..], |p| &p.records[..]);
    people
        .iter()
        .filter_map(|r| {
            let values = r.attributes.get("memberOf")?;
            Some((
                r.user_id.clone(),
                values.split(';').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect(),
            ))
        })
        .collect()
}

/// Every OIDC user the plan's IdP sync concerns logs in, after the admin
/// fixed the IdP as the plan's `idp-sync-no-mapping` risk says: users whose
/// claims map to none of their new orgs get a value that does.
pub fn idp_users_log_in(fake: &FakeCoder, plan: &Plan, s: &Snapshot) {
    let mut claims = claims(s);
    let mapped_to = |org: &str| -> Vec<String> {
        plan.steps
            .iter()
            .filter_map(|st| match &st.spec {
                StepSpec::OrganizationSync(o) => Some(o.add.iter().filter(|(_, orgs)| orgs.iter().any(|x| x == org))),
                _ => None,
            })
            .flatten()
            .map(|(claim, _)| claim.clone())
            .collect()
    };
    for st in &plan.steps {
        if let (StepSpec::Member(m), Some(org)) = (&st.spec, st.org.as_deref())
            && matches!(&m.membership_by, orgsplit::plan::ManagedBy::IdpSync { claims, .. } if claims.is_empty())
        {
            claims.entry(m.user.user_id.clone()).or_default().extend(mapped_to(org));
        }
    }
    let mut users: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|st| match &st.spec {
            StepSpec::Member(m) => Some(m.user.user_id.as_str()),
            _ => None,
        })
        .collect();
    users.sort_unstable();
    users.dedup();
    for u in users {
        let oidc = s.users.iter().any(|x| x.id == u && x.login_type == "oidc");
        if let (true, Some(c)) = (oidc, claims.get(u)) {
            fake.oidc_login(u, c);
        }
    }
}

/// The fake's state by names (what apply converges to), without ids.
pub fn end_state(fake: &FakeCoder) -> String {
    orgsplit::render::readable::readable(&fake.snapshot())
}

/// Requests of `method` whose path matches `pattern` (segments, `*` any) and that succeeded.
pub fn succeeded(fake: &FakeCoder, method: &str, pattern: &str) -> usize {
    let want: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    fake.log()
        .iter()
        .filter(|r| r.method == method && (200..300).contains(&r.status))
        .filter(|r| {
            let path = r.path.split('?').next().unwrap_or_default();
            let have: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            have.len() == want.len() && have.iter().zip(&want).all(|(h, w)| *w == "*" || h == w)
        })
        .count()
}

/// Template versions the fake holds that no template uses: a version
/// created twice leaves one behind.
pub fn orphan_versions(fake: &FakeCoder) -> Vec<String> {
    let s = fake.snapshot();
    s.template_versions.iter().filter(|v| v.template_id.is_empty()).map(|v| v.id.clone()).collect()
}

pub fn no_deletes(fake: &FakeCoder) {
    let deletes: Vec<String> = fake.log().iter().filter(|r| r.method == "DELETE").map(|r| r.path.clone()).collect();
    assert!(deletes.is_empty(), "apply sent DELETE requests: {deletes:?}");
}

/// Everything done but what MegaCo's split knowingly leaves to the admin:
/// the OIDC users its `idp-sync-no-mapping` risk names (their claims map to
/// none of their new orgs), who wait until the IdP is fixed.
pub fn done_but_the_idp_risk(report: &RunOutcome, plan: &Plan) {
    let text = report.ledger.render();
    let risky: Vec<String> = plan
        .findings
        .iter()
        .filter(|f| f.code == "idp-sync-no-mapping")
        .flat_map(|f| f.affects.iter().map(|a| a.name.clone()))
        .collect();
    for i in &report.ledger.items {
        let waits_for_the_idp = matches!(i.status, orgsplit::apply::Status::Waiting(_))
            && risky.iter().any(|u| i.key.ends_with(&format!("/member/{u}")));
        assert!(
            waits_for_the_idp
                || matches!(i.status, orgsplit::apply::Status::Done(_) | orgsplit::apply::Status::Pending(_)),
            "{}: {:?}\n{text}",
            i.key,
            i.status
        );
    }
    assert_eq!(report.ledger.count("waiting"), risky.len(), "{text}");
    assert_eq!(report.verification.as_ref().map(|v| v.diff.as_str()), Some(""), "{text}");
    assert_eq!(report.exit_code(), if risky.is_empty() { 0 } else { 3 }, "{text}");
}

/// Nothing left to do: a plan made from the deployment now has only no-ops.
pub fn nothing_left_to_do(fake: &FakeCoder, people: Option<orgsplit::model::People>, split: &str) {
    let (client, _) = fake.client();
    let mut now = orgsplit::import::live::import_live(&client, &Default::default()).unwrap();
    now.people = people;
    let doc = orgsplit::split::load(split, Path::new("split.toml")).unwrap();
    let replan = orgsplit::plan::plan(&now, &doc, split.as_bytes()).unwrap();
    let left: Vec<&str> =
        replan.steps.iter().filter(|s| s.action != orgsplit::plan::Action::NoOp).map(|s| s.key.as_str()).collect();
    assert!(left.is_empty(), "a new plan still has work: {left:?}");
}

/// What an uninterrupted run leaves: the state by names, and how many of
/// each object the server was asked to make (and made).
#[derive(Debug, Clone, PartialEq)]
pub struct EndState {
    pub names: String,
    pub made: Vec<usize>,
}

const CREATES: [&str; 7] = [
    "/api/v2/organizations",
    "/api/v2/organizations/*/groups",
    "/api/v2/organizations/*/templates",
    "/api/v2/organizations/*/templateversions",
    "/api/v2/organizations/*/members/roles",
    "/api/v2/organizations/*/provisionerkeys",
    "/api/v2/organizations/*/members/*",
];

pub fn end_state_of(fake: &FakeCoder) -> EndState {
    EndState { names: end_state(fake), made: CREATES.iter().map(|p| succeeded(fake, "POST", p)).collect() }
}

/// What an uninterrupted apply of MegaCo's split leaves, computed once.
pub fn megaco_calm_end_state() -> EndState {
    static CALM: std::sync::OnceLock<EndState> = std::sync::OnceLock::new();
    CALM.get_or_init(|| {
        let fake = FakeCoder::start(fake_coder::megaco());
        let dir = tempfile::tempdir().unwrap();
        let path = write_plan(dir.path(), &fake_coder::megaco(), &split_text("split.toml"));
        let report = run(&fake, &path, &options(), &mut Admin::new(&fake)).unwrap();
        done_but_the_idp_risk(&report, &read_plan(&path));
        end_state_of(&fake)
    })
    .clone()
}
