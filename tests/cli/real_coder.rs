//! Against a real Coder server: the harness in tests/real-coder (a `go test -c` binary
//! that starts coderd from Coder's own test packages, with PostgreSQL and a Premium
//! license). `cargo test real_coder` selects these tests.
//!
//! The harness binary is taken from $ORGSPLIT_REAL_CODER_HARNESS, else
//! tests/real-coder/realcoder-harness. When it is missing the tests say so and pass,
//! except under CI=true, where they fail.
//!
//! The harness loads MegaCo (the snapshot, by names: the server makes its own IDs),
//! serves through a logging proxy (every request's method, path, status and whether
//! coderd routed it), can save every GET body it passed as an orgsplit envelope, and
//! starts a provisioner daemon for every provisioner key that appears.

use crate::common::{files_in, megaco, orgsplit, read_json, root};
use orgsplit::plan::{Action, Plan};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Harness {
    child: Child,
    url: String,
    token: String,
    log: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Closing stdin tells the harness to stop; then reap it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// One request the proxy passed to coderd.
#[derive(Debug, Clone, serde::Deserialize)]
struct Logged {
    method: String,
    path: String,
    status: u16,
    routed: bool,
}

impl Harness {
    fn requests(&self) -> Vec<Logged> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a request log line")).collect()
    }

    fn orgsplit(&self) -> assert_cmd::Command {
        let mut cmd = orgsplit();
        cmd.env("CODER_SESSION_TOKEN", &self.token);
        cmd
    }

    /// `orgsplit import --url` with MegaCo's people and template sources.
    fn import(&self, out: &Path) {
        self.orgsplit()
            .args(["import", "--url", &self.url, "--people"])
            .arg(megaco().join("people.csv"))
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    }
}

fn harness_path() -> PathBuf {
    std::env::var_os("ORGSPLIT_REAL_CODER_HARNESS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/real-coder/realcoder-harness"))
}

/// What the harness loads and records.
#[derive(Default)]
struct Setup {
    megaco: bool,
    /// Load this state instead of MegaCo (with `megaco` set).
    state: Option<orgsplit::model::Snapshot>,
    bodies: Option<PathBuf>,
}

/// Starts the harness, or returns None (after saying why) when it is not built here.
fn start(dir: &Path, setup: Setup) -> Option<Harness> {
    let bin = harness_path();
    if !bin.is_file() {
        let why =
            format!("real Coder harness not built: {} is missing (see tests/real-coder/README.md)", bin.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipping: {why}");
        return None;
    }
    let log = dir.join("requests.jsonl");
    let mut cmd = Command::new(&bin);
    cmd.args(["-test.run", "^TestServe$", "-test.timeout", "0"])
        .env("ORGSPLIT_REAL_CODER", "1")
        .env("ORGSPLIT_REAL_CODER_REQUEST_LOG", &log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("harness.err")).unwrap());
    if setup.megaco {
        let load = dir.join("load.json");
        let state = setup.state.clone().unwrap_or_else(fake_coder::megaco);
        std::fs::write(&load, state.to_json().unwrap()).unwrap();
        cmd.env("ORGSPLIT_REAL_CODER_LOAD", &load);
    }
    if let Some(bodies) = &setup.bodies {
        std::fs::create_dir_all(bodies).unwrap();
        cmd.env("ORGSPLIT_REAL_CODER_BODIES", bodies);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with('{') => break line,
            Some(Ok(_)) => continue,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let err = std::fs::read_to_string(dir.join("harness.err")).unwrap_or_default();
                let mut tail: Vec<&str> = err
                    .lines()
                    .filter(|l| l.contains("load") || l.contains("FAIL") || l.contains("Error"))
                    .take(20)
                    .collect();
                if tail.is_empty() {
                    // Say why anyway (say, PostgreSQL is not running): the last lines it wrote.
                    let all: Vec<&str> = err.lines().collect();
                    tail = all[all.len().saturating_sub(20)..].to_vec();
                }
                panic!("the harness stopped before printing its URL: {other:?}\n{}", tail.join("\n"));
            }
        }
    };
    let v: serde_json::Value = serde_json::from_str(&ready).expect("the harness's ready line is JSON");
    let url = v["url"].as_str().expect("url").to_string();
    let token = v["token"].as_str().expect("token").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "binds 127.0.0.1 only: {url}");
    // Keep reading stdout so the harness never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Some(Harness { child, url, token, log })
}

#[test]
fn real_coder_import_names_the_owner_and_the_default_org() {
    let dir = tempfile::tempdir().unwrap();
    let Some(h) = start(dir.path(), Setup::default()) else { return };
    let out = dir.path().join("snapshot.json");
    h.orgsplit().args(["import", "--url", &h.url, "--out"]).arg(&out).assert().success();
    let s = read_json(&out);
    let users: Vec<&str> = s["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(users.contains(&"testuser"), "the first owner is in the snapshot: {users:?}");
    let orgs = s["organizations"].as_array().unwrap();
    let default: Vec<&serde_json::Value> = orgs.iter().filter(|o| o["is_default"] == true).collect();
    assert_eq!(default.len(), 1, "exactly one default org: {orgs:?}");
    assert!(!default[0]["name"].as_str().unwrap().is_empty());
    assert_routed(&h.requests());
}

/// `orgsplit import --url` of the harness, and `import --from-dir` of the bodies
/// it passed: the two give the same state. Returns the live snapshot's path.
fn live_equals_offline(h: &Harness, dir: &Path, bodies: &Path) -> PathBuf {
    let live = dir.join("live.json");
    h.import(&live);
    let offline = dir.join("offline.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(bodies)
        .args(["--deployment-url", &h.url, "--people"])
        .arg(megaco().join("people.csv"))
        .arg("--out")
        .arg(&offline)
        .assert()
        .success();
    let (a, b) = (state_of(&live), state_of(&offline));
    if a != b {
        let (a, b) = (serde_json::to_string_pretty(&a).unwrap(), serde_json::to_string_pretty(&b).unwrap());
        let diff = similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(2).to_string();
        panic!("live and offline imports differ:\n{}", &diff[..diff.len().min(6000)]);
    }
    live
}

/// Every request went to a route coderd has (whatever its answer).
fn assert_routed(log: &[Logged]) {
    assert!(!log.is_empty(), "the proxy saw no request");
    let unrouted: Vec<String> =
        log.iter().filter(|r| !r.routed).map(|r| format!("{} {} -> {}", r.method, r.path, r.status)).collect();
    assert!(unrouted.is_empty(), "coderd has no route for: {unrouted:#?}");
}

/// The snapshot without where it was read from (a live import records the URL and
/// kind it read, an offline one the folder), and its warnings by code only (they name
/// the endpoint a body came from, or the file it was saved in).
fn state_of(path: &Path) -> serde_json::Value {
    let mut s = read_json(path);
    s["source"] = serde_json::Value::Null;
    let codes: Vec<serde_json::Value> =
        s["warnings"].as_array().into_iter().flatten().map(|w| w["code"].clone()).collect();
    s["warnings"] = serde_json::Value::Array(codes);
    s
}

#[test]
fn real_coder_live_import_of_megaco_equals_the_offline_import_of_its_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let bodies = dir.path().join("bodies");
    let Some(h) = start(dir.path(), Setup { megaco: true, bodies: Some(bodies.clone()), ..Setup::default() }) else {
        return;
    };
    let live = live_equals_offline(&h, dir.path(), &bodies);
    // The server holds MegaCo, by names.
    let m = fake_coder::megaco();
    let s = read_json(&live);
    let count = |k: &str| s[k].as_array().map_or(0, Vec::len);
    // MegaCo's users and the harness's first owner.
    assert_eq!(count("users"), m.users.len() + 1);
    assert_eq!(count("templates"), m.templates.len());
    // Not the workspaces: coderd v2.30.0 pages `/workspaces` by offset over an order
    // with ties, so a few rows come twice and a few never (the import warns
    // `incomplete-pages`); see the commit that added this test. Not looked at
    // again on v2.36.1.
    assert!(count("workspaces") > m.workspaces.len() * 9 / 10);
    assert_eq!(count("groups"), m.groups.len());
    assert_routed(&h.requests());
}

/// MegaCo's recommended split (`orgsplit score --emit-split` on the live snapshot),
/// with the wiki and deadline the draft leaves to the admin filled in.
fn recommended_split(h: &Harness, snapshot: &Path, dir: &Path) -> PathBuf {
    let draft = dir.join("recommended.toml");
    h.orgsplit()
        .args(["score"])
        .arg(snapshot)
        .arg("--candidates")
        .arg(megaco().join("candidates.toml"))
        .arg("--emit-split")
        .arg(&draft)
        .assert()
        .success();
    let split = std::fs::read_to_string(&draft)
        .unwrap()
        .replace("wiki = \"\"", "wiki = \"https://wiki.megaco.example/orgs\"")
        .replace("deadline = \"\"", "deadline = \"2025-12-31\"");
    std::fs::write(&draft, split).unwrap();
    draft
}

fn plan(h: &Harness, snapshot: &Path, split: &Path, out: &Path) -> Plan {
    h.orgsplit().arg("plan").arg(snapshot).arg("--split").arg(split).arg("--out").arg(out).assert().success();
    Plan::from_json(&std::fs::read(out).unwrap(), out).unwrap()
}

/// `orgsplit apply --yes` without a terminal: exit code and stdout.
fn apply(h: &Harness, plan: &Path) -> (i32, String) {
    let out = h
        .orgsplit()
        .arg("apply")
        .arg(plan)
        .args(["--yes", "--url", &h.url, "--wait-for-provisioners", "60", "--build-timeout", "120"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}\n--- stderr:\n{stderr}"))
}

/// Without a terminal apply shows no key secret, so it makes no key: the admin
/// does (as the plan's create command would), and the harness starts a
/// provisioner daemon for each new key.
fn admin_creates_the_keys(h: &Harness, plan: &Plan) {
    let http = reqwest::blocking::Client::new();
    for step in &plan.steps {
        let orgsplit::plan::StepSpec::ProvisionerKey(k) = &step.spec else { continue };
        let org = step.org.as_deref().expect("a key step names its org");
        let res = http
            .post(format!("{}/api/v2/organizations/{org}/provisionerkeys", h.url))
            .header("Coder-Session-Token", &h.token)
            .json(&serde_json::json!({"name": k.name, "tags": k.tags}))
            .send()
            .unwrap();
        assert!(res.status().is_success(), "create key {} in {org}: {}", k.name, res.text().unwrap_or_default());
    }
}

fn writes(log: &[Logged]) -> Vec<String> {
    log.iter().filter(|r| r.method != "GET" && r.method != "HEAD").map(|r| format!("{} {}", r.method, r.path)).collect()
}

/// Steps of a plan that are not no-ops.
fn left(plan: &Plan) -> Vec<String> {
    plan.steps.iter().filter(|s| s.action != Action::NoOp).map(|s| s.key.clone()).collect()
}

/// A second apply of a converged plan exits as the first did (`code`), finds
/// no drift and writes nothing.
fn apply_again_writes_nothing(h: &Harness, plan: &Path, code: i32) {
    let before = h.requests().len();
    let (again, out) = apply(h, plan);
    assert_eq!(again, code, "{out}");
    assert!(out.contains(NO_DRIFT), "{out}");
    assert_eq!(writes(&h.requests()[before..]), Vec::<String>::new(), "{out}");
}

const NO_DRIFT: &str = "verified: no drift (the deployment is what the plan expects)";

#[test]
fn real_coder_megaco_round_trip_ends_with_no_drift_and_nothing_left_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(h) = start(d, Setup { megaco: true, ..Setup::default() }) else { return };
    h.import(&d.join("before.json"));
    let split = recommended_split(&h, &d.join("before.json"), d);
    // One new org with workspace sharing off (new orgs start with it on): apply
    // sends it, verify reads it back (issue 16 §2).
    let text = std::fs::read_to_string(&split).unwrap();
    let at = text.find("[[organizations]]").expect("an org in the recommended split");
    let name_at = at + text[at..].find("\nname = \"").expect("its name") + 1;
    let line_end = name_at + text[name_at..].find('\n').unwrap() + 1;
    let no_sharing = text[name_at..line_end].trim().trim_start_matches("name = ").trim_matches('"').to_string();
    let text = format!("{}workspace_sharing = \"none\"\n{}", &text[..line_end], &text[line_end..]);
    std::fs::write(&split, text).unwrap();
    let first = plan(&h, &d.join("before.json"), &split, &d.join("plan.json"));
    assert!(!left(&first).is_empty());

    let (code, out) = apply(&h, &d.join("plan.json"));
    assert_eq!(code, 3, "keys wait for the admin: {out}");
    admin_creates_the_keys(&h, &first);
    let (code, out) = apply(&h, &d.join("plan.json"));
    assert!(out.contains(NO_DRIFT), "{out}");
    assert!(code == 0 || code == 3, "{out}");
    let sharing_set = h
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/settings/workspace-sharing") && r.status == 200)
        .count();
    assert_eq!(sharing_set, 1, "sharing turned off once, in {no_sharing}");
    h.import(&d.join("applied.json"));
    let applied = read_json(&d.join("applied.json"));
    let org = applied["organizations"].as_array().unwrap().iter().find(|o| o["name"] == no_sharing.as_str()).unwrap();
    assert_eq!(org["shareable_workspace_owners"], "none", "{org}");

    // A second apply of a converged plan changes nothing.
    apply_again_writes_nothing(&h, &d.join("plan.json"), code);

    // import -> plan: only no-ops.
    h.import(&d.join("after.json"));
    let replan = plan(&h, &d.join("after.json"), &split, &d.join("replan.json"));
    assert_eq!(left(&replan), Vec::<String>::new(), "{out}");
    assert_routed(&h.requests());
}

/// Issue 16 §2 on the real server: MegaCo with workspaces shared with users
/// and groups (through `PATCH /workspaces/{id}/acl`: v2.30.0 needed the
/// `workspace-sharing` experiment, v2.36.1 shares always). The live import reads the shares from
/// the workspace list and each org's sharing setting, and equals the offline
/// import of the bodies it read.
#[test]
fn real_coder_live_import_reads_workspace_shares_and_equals_the_offline_import() {
    use orgsplit::model::{AclEntry, WorkspaceShares};
    let mut state = fake_coder::megaco();
    let id = |n: &str| state.users.iter().find(|u| u.username == n).unwrap().id.clone();
    let (erik, amy) = (id("erik-lee"), id("aaron-ahmed"));
    let design = state.groups.iter().find(|g| g.name == "design").unwrap().id.clone();
    let e = |id: &str, role: &str| AclEntry { id: id.into(), role: role.into() };
    // Several workspaces, by (owner, name): offset paging on v2.30.0 can skip a row.
    let mut planted = Vec::new();
    for w in state.workspaces.iter_mut().filter(|w| w.owner_id != erik && w.owner_id != amy).take(6) {
        w.shares =
            Some(WorkspaceShares { users: vec![e(&erik, "admin"), e(&amy, "use")], groups: vec![e(&design, "use")] });
        planted.push(format!("{}/{}", w.owner_name, w.name));
    }
    let dir = tempfile::tempdir().unwrap();
    let bodies = dir.path().join("bodies");
    let setup = Setup { megaco: true, state: Some(state), bodies: Some(bodies.clone()) };
    let Some(h) = start(dir.path(), setup) else { return };
    let live = live_equals_offline(&h, dir.path(), &bodies);
    let s = read_json(&live);
    // New orgs start letting everyone's workspaces be shared.
    assert_eq!(s["organizations"][0]["shareable_workspace_owners"], "everyone", "{}", s["organizations"]);
    let user_name = |id: &serde_json::Value| {
        s["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| &u["id"] == id)
            .map(|u| u["username"].as_str().unwrap().to_string())
    };
    let group_name = |id: &serde_json::Value| {
        s["groups"].as_array().unwrap().iter().find(|g| &g["id"] == id).map(|g| g["name"].as_str().unwrap().to_string())
    };
    let mut seen = 0;
    for w in s["workspaces"].as_array().unwrap() {
        let name = format!("{}/{}", w["owner_name"].as_str().unwrap(), w["name"].as_str().unwrap());
        let shares = &w["shares"];
        if planted.contains(&name) {
            seen += 1;
            let mut users: Vec<(String, String)> = shares["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (user_name(&e["id"]).unwrap(), e["role"].as_str().unwrap().to_string()))
                .collect();
            users.sort();
            let want =
                vec![("aaron-ahmed".to_string(), "use".to_string()), ("erik-lee".to_string(), "admin".to_string())];
            assert_eq!(users, want, "{name}");
            let groups: Vec<String> =
                shares["groups"].as_array().unwrap().iter().filter_map(|e| group_name(&e["id"])).collect();
            assert_eq!(groups, ["design"], "{name}");
        } else {
            assert_eq!(
                shares,
                &serde_json::json!({"users": [], "groups": []}),
                "{name}: shared with nobody, and known"
            );
        }
    }
    assert!(seen >= planted.len() - 1, "{seen} of {} shared workspaces read", planted.len());

    // `GET /workspaces/{id}/acl` answers in the shape the fake Coder gives (same keys).
    let shared = s["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["shares"]["users"].as_array().is_some_and(|u| !u.is_empty()))
        .unwrap();
    let http = reqwest::blocking::Client::new();
    let get = |base: &str, token: &str, id: &str| -> serde_json::Value {
        let res =
            http.get(format!("{base}/api/v2/workspaces/{id}/acl")).header("Coder-Session-Token", token).send().unwrap();
        assert_eq!(res.status(), 200, "{base}");
        res.json().unwrap()
    };
    let real = get(&h.url, &h.token, shared["id"].as_str().unwrap());
    let mut m = fake_coder::megaco();
    let (user, group) = (m.users[0].id.clone(), m.groups.iter().find(|g| !g.is_everyone()).unwrap().id.clone());
    m.workspaces[0].shares = Some(WorkspaceShares { users: vec![e(&user, "use")], groups: vec![e(&group, "use")] });
    let fake = fake_coder::FakeCoder::start(m.clone());
    let faked = get(&fake.url(), &fake.token(), &m.workspaces[0].id);
    let keys = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&real), keys(&faked));
    for list in ["users", "group"] {
        let (r, f) = (&real[list][0], &faked[list][0]);
        // The fake has no avatars; coderd leaves an empty one out of a MinimalUser too.
        let (mut r, mut f) = (keys(r), keys(f));
        r.remove("avatar_url");
        f.remove("avatar_url");
        assert_eq!(r, f, "{list}: the keys of the real answer, then the fake's");
    }
    assert_routed(&h.requests());
}

/// Issue 16 §1 on the real server: apply killed (SIGKILL) with steps in
/// flight, then run again: it resumes from its journal, and once the admin
/// has made the new orgs' provisioner keys it ends with no drift, and a plan
/// made again from a new import has nothing left to do.
#[test]
fn real_coder_apply_killed_midway_then_resumed_converges() {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(h) = start(d, Setup { megaco: true, ..Setup::default() }) else { return };
    h.import(&d.join("before.json"));
    let split = recommended_split(&h, &d.join("before.json"), d);
    let first = plan(&h, &d.join("before.json"), &split, &d.join("plan.json"));
    let total = left(&first).len();
    assert!(total > 30, "a plan worth killing: {total} steps");

    let mut child = Command::new(assert_cmd::cargo::cargo_bin("orgsplit"))
        .arg("apply")
        .arg(d.join("plan.json"))
        .args(["--yes", "--url", &h.url, "--wait-for-provisioners", "60", "--build-timeout", "120"])
        .env("CODER_SESSION_TOKEN", &h.token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("killed.err")).unwrap())
        .spawn()
        .unwrap();
    let journal = d.join("plan.json.journal");
    let deadline = Instant::now() + Duration::from_secs(300);
    let recorded = || std::fs::read_to_string(&journal).map_or(0, |j| j.matches("\"event\":\"step\"").count());
    // Killed a third of the way, with other steps in flight (8 at once by default).
    while recorded() < total / 3 {
        let err = std::fs::read_to_string(d.join("killed.err")).unwrap_or_default();
        assert!(child.try_wait().unwrap().is_none(), "apply ended before it could be killed: {err}");
        assert!(Instant::now() < deadline, "apply made no progress: {err}");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(9), "killed with SIGKILL");
    let at_kill = recorded();
    assert!(at_kill < total, "killed before the end: {at_kill} of {total}");

    // The rerun resumes; the keys then wait for the admin, as in one go.
    let (code, out) = apply(&h, &d.join("plan.json"));
    assert!(out.contains("resuming: `") && out.contains("records 1 earlier run(s) of this plan"), "{out}");
    assert_eq!(code, 3, "keys wait for the admin: {out}");
    admin_creates_the_keys(&h, &first);
    let (code, out) = apply(&h, &d.join("plan.json"));
    assert!(out.contains(NO_DRIFT), "{out}");
    assert!(code == 0 || code == 3, "{out}");

    h.import(&d.join("after.json"));
    let replan = plan(&h, &d.join("after.json"), &split, &d.join("replan.json"));
    assert_eq!(left(&replan), Vec::<String>::new(), "{out}");
    assert_routed(&h.requests());
}

/// MegaCo as a current release holds it: `aaron-adams` (whose workspaces move
/// to raptix in MegaCo's split) is a service account, and the default org
/// gives its members the auditor role besides workspace access and lets only
/// service accounts' workspaces be shared.
fn megaco_with_current_features() -> orgsplit::model::Snapshot {
    let mut state = fake_coder::megaco();
    let sa = state.users.iter_mut().find(|u| u.username == "aaron-adams").unwrap();
    sa.is_service_account = true;
    let default = state.organizations.iter_mut().find(|o| o.is_default).unwrap();
    default.default_org_member_roles =
        Some(vec!["organization-auditor".into(), "organization-workspace-access".into()]);
    default.shareable_workspace_owners = Some("service_accounts".into());
    state
}

/// Issue 16 §2 on a release that has them (not v2.30.0): the live import
/// reads each org's default member roles, its three-valued sharing setting
/// (sharing is no longer an experiment) and which users are service accounts,
/// and equals the offline import of the bodies it read.
#[test]
fn real_coder_live_import_reads_default_member_roles_and_service_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let bodies = dir.path().join("bodies");
    let setup = Setup { megaco: true, state: Some(megaco_with_current_features()), bodies: Some(bodies.clone()) };
    let Some(h) = start(dir.path(), setup) else { return };
    let live = live_equals_offline(&h, dir.path(), &bodies);
    let s = read_json(&live);
    let org = &s["organizations"][0];
    assert_eq!(org["is_default"], true, "{org}");
    assert_eq!(
        org["default_org_member_roles"],
        serde_json::json!(["organization-auditor", "organization-workspace-access"])
    );
    assert_eq!(org["shareable_workspace_owners"], "service_accounts", "{org}");
    let accounts: Vec<&serde_json::Value> =
        s["users"].as_array().unwrap().iter().filter(|u| u["is_service_account"] == true).collect();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    // coderd makes a service account log in with `none`, and without an email.
    assert_eq!(accounts[0]["username"], "aaron-adams");
    assert_eq!(accounts[0]["login_type"], "none");
    assert_eq!(accounts[0]["email"], "");
    // Sharing is on without an experiment: every workspace's shares are known (none here).
    let unknown = s["workspaces"].as_array().unwrap().iter().filter(|w| w["shares"].is_null()).count();
    assert_eq!(unknown, 0, "shares known for every workspace");
    assert!(!h.requests().iter().any(|r| r.path == "/api/v2/experiments" && r.status != 200));

    // coder/coder#24984: `PATCH /templates/{id}` keeps an omitted field and
    // answers 200 when nothing changes (v2.30.0 zeroed the plain ones and
    // answered 304). The fake, as a release after v2.30.0, does the same.
    let template = s["templates"].as_array().unwrap().iter().find(|t| t["default_ttl_ms"] != 0).unwrap().clone();
    let real = patch_template_twice(&h.url, &h.token, template["id"].as_str().unwrap());
    let mut m = fake_coder::megaco();
    m.build_info.get_or_insert_with(Default::default).version = "v2.36.1".into();
    let faked_id = m.templates.iter().find(|t| t.name == template["name"]).unwrap().id.clone();
    let fake = fake_coder::FakeCoder::start(m);
    let faked = patch_template_twice(&fake.url(), &fake.token(), &faked_id);
    assert_eq!(real, faked, "(status, settings kept) of the real server, then the fake's");
    assert_routed(&h.requests());
}

/// `PATCH /templates/{id}` with only a deprecation message, twice: each
/// answer's status, and whether the template's other settings were kept.
fn patch_template_twice(base: &str, token: &str, id: &str) -> Vec<(u16, bool)> {
    let http = reqwest::blocking::Client::new();
    let url = format!("{base}/api/v2/templates/{id}");
    let get =
        || -> serde_json::Value { http.get(&url).header("Coder-Session-Token", token).send().unwrap().json().unwrap() };
    let settings = |t: &serde_json::Value| {
        ["default_ttl_ms", "activity_bump_ms", "allow_user_autostart", "allow_user_autostop", "display_name", "icon"]
            .map(|k| t[k].clone())
    };
    let was = settings(&get());
    (0..2)
        .map(|_| {
            let res = http
                .patch(&url)
                .header("Coder-Session-Token", token)
                .json(&serde_json::json!({"deprecation_message": "Moved"}))
                .send()
                .unwrap();
            (res.status().as_u16(), settings(&get()) == was)
        })
        .collect()
}

/// Issue 16 §2 on a release that has them: MegaCo's split with raptix given
/// its own default member roles and `service_accounts` sharing, and ml's
/// sharing off. Apply sets both on the new orgs (sharing in the three-valued
/// shape), adds the service account to raptix through the API (never waiting
/// for an IdP login), its workspaces get no notice and no rsync script, and the
/// round trip ends with no drift, a second apply that writes nothing, and a new
/// plan with nothing left but the memberships IdP sync makes at login.
#[test]
fn real_coder_apply_sets_default_member_roles_and_sharing_and_moves_service_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let setup = Setup { megaco: true, state: Some(megaco_with_current_features()), bodies: None };
    let Some(h) = start(d, setup) else { return };
    h.import(&d.join("before.json"));
    let text = std::fs::read_to_string(megaco().join("split.toml")).unwrap();
    let roles = "default_member_roles = [\"organization-workspace-access\", \"organization-user-admin\"]";
    let text = text
        .replacen(
            "\nname = \"raptix\"\n",
            &format!("\nname = \"raptix\"\n{roles}\nworkspace_sharing = \"service_accounts\"\n"),
            1,
        )
        .replacen("\nname = \"ml\"\n", "\nname = \"ml\"\nworkspace_sharing = \"none\"\n", 1);
    assert!(text.contains("service_accounts") && text.contains("\"none\""), "MegaCo's split names raptix and ml");
    let split = d.join("split.toml");
    std::fs::write(&split, text).unwrap();
    let first = plan(&h, &d.join("before.json"), &split, &d.join("plan.json"));
    let p = read_json(&d.join("plan.json"));
    let step = |key: &str| p["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).cloned();
    let member = step("raptix/member/aaron-adams").expect("the service account's membership is planned");
    assert_eq!(member["spec"]["membership_by"]["by"], "api", "{member}");
    let raptix = step("raptix/organization/raptix").unwrap();
    assert_eq!(
        raptix["spec"]["default_member_roles"],
        serde_json::json!(["organization-user-admin", "organization-workspace-access"])
    );
    let moves = p["workspace_migrations"].as_array().unwrap();
    assert!(moves.iter().any(|m| m["owner"]["username"] == "aaron-adams" && m["owner"]["is_service_account"] == true));

    let (code, out) = apply(&h, &d.join("plan.json"));
    assert_eq!(code, 3, "keys wait for the admin: {out}");
    admin_creates_the_keys(&h, &first);
    let (code, out) = apply(&h, &d.join("plan.json"));
    assert!(out.contains(NO_DRIFT), "{out}");
    assert!(code == 0 || code == 3, "{out}");
    let patched = |suffix: &str| {
        h.requests().iter().filter(|r| r.method == "PATCH" && r.status == 200 && r.path.ends_with(suffix)).count()
    };
    // New orgs start letting everyone's workspaces be shared; none of these
    // wants that (the others take the source org's `service_accounts`).
    let created = first
        .steps
        .iter()
        .filter(|s| matches!(s.spec, orgsplit::plan::StepSpec::Organization(_)) && s.action == Action::Create)
        .count();
    assert!(created >= 2);
    assert_eq!(patched("/settings/workspace-sharing"), created, "once per new org");

    h.import(&d.join("applied.json"));
    let applied = read_json(&d.join("applied.json"));
    let org =
        |name: &str| applied["organizations"].as_array().unwrap().iter().find(|o| o["name"] == name).unwrap().clone();
    let (raptix, ml) = (org("raptix"), org("ml"));
    let mut roles: Vec<String> = serde_json::from_value(raptix["default_org_member_roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(roles, ["organization-user-admin", "organization-workspace-access"], "{raptix}");
    assert_eq!(raptix["shareable_workspace_owners"], "service_accounts");
    assert_eq!(ml["shareable_workspace_owners"], "none");
    for o in applied["organizations"].as_array().unwrap() {
        if o["name"] != "raptix" && o["name"] != "ml" {
            assert_eq!(o["shareable_workspace_owners"], "service_accounts", "the source org's: {o}");
        }
    }
    // ml takes the source org's default roles, as it is created with them.
    let mut ml_roles: Vec<String> = serde_json::from_value(ml["default_org_member_roles"].clone()).unwrap();
    ml_roles.sort();
    assert_eq!(ml_roles, ["organization-auditor", "organization-workspace-access"], "{ml}");
    let sa = applied["users"].as_array().unwrap().iter().find(|u| u["username"] == "aaron-adams").unwrap().clone();
    let in_raptix = applied["organization_members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["user_id"] == sa["id"] && m["organization_id"] == raptix["id"]);
    assert!(in_raptix, "the service account is a member of raptix");

    // Its workspaces get no notice and no rsync script; people's do.
    let (notices, scripts) = (d.join("notices"), d.join("scripts"));
    h.orgsplit().arg("notices").arg(d.join("plan.json")).arg("--out-dir").arg(&notices).assert().success();
    h.orgsplit().arg("scripts").arg(d.join("plan.json")).arg("--out-dir").arg(&scripts).assert().success();
    let written: Vec<String> = files_in(&notices).into_iter().chain(files_in(&scripts)).collect();
    assert!(!written.is_empty());
    assert!(!written.iter().any(|f| f.contains("aaron-adams")), "{written:?}");

    // A second apply of a converged plan changes nothing; a new plan has nothing left to do.
    apply_again_writes_nothing(&h, &d.join("plan.json"), code);
    // Left: only the org and group memberships MegaCo's IdP sync makes at
    // each user's next login (nobody logs in here); the service account's is done.
    h.import(&d.join("after.json"));
    plan(&h, &d.join("after.json"), &split, &d.join("replan.json"));
    let replan = read_json(&d.join("replan.json"));
    let left: Vec<&serde_json::Value> =
        replan["steps"].as_array().unwrap().iter().filter(|s| s["action"] != "no-op").collect();
    assert!(!left.is_empty(), "MegaCo's OIDC users wait for their login");
    for s in &left {
        let key = s["key"].as_str().unwrap();
        let by_idp = key.contains("/member/") && s["spec"]["membership_by"]["by"] == "idp-sync";
        let changes: Vec<&str> = s["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        let group_adds =
            key.contains("/group/") && changes.iter().all(|c| c.starts_with("add ") && c.ends_with(" member(s)"));
        assert!(by_idp || group_adds, "{key}: {changes:?}");
        assert!(!key.ends_with("/member/aaron-adams"), "{key}");
    }
    assert_routed(&h.requests());
}
