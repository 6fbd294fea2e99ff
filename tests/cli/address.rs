//! The deployment's address: where the plan, scripts and notices say the
//! deployment is, and where `apply` sends the session token (only to an
//! address the admin gave on this run, and only when it is the plan's).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use crate::apply_support::{small, write_plan};
use crate::common::*;
use crate::plan::{plan_megaco, read_plan, split_file};

const TOKEN: &str = "aBcDeFgHiJ-kLmNoPqRsTuVwXyZ012345";

/// A port on 127.0.0.1 that records whether anything connected to it.
struct Listener(TcpListener);

impl Listener {
    fn new() -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Listener(l)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.0.local_addr().unwrap().port())
    }

    /// Connections that arrived (the kernel queues them even unaccepted).
    fn connections(&self) -> Vec<TcpStream> {
        std::iter::from_fn(|| self.0.accept().ok().map(|(s, _)| s)).collect()
    }
}

/// A plan whose recorded deployment address is `url`.
fn plan_for(dir: &Path, url: &str) -> PathBuf {
    let (mut snapshot, split) = small();
    snapshot.source.deployment_url = Some(url.to_string());
    write_plan(dir, &snapshot, &split)
}

#[test]
fn without_url_or_coder_url_apply_sends_nothing_to_the_plans_address() {
    let listener = Listener::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_for(dir.path(), &listener.url());
    let out = orgsplit().arg("apply").arg(&plan).arg("--yes").env("CODER_SESSION_TOKEN", TOKEN).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "say which deployment to change: pass --url {} (the plan's deployment) if that is where you mean to \
             send the session token, or set CODER_URL",
            listener.url()
        )),
        "{err}"
    );
    assert!(listener.connections().is_empty(), "apply connected to the address read from the plan");
    assert!(!err.contains(TOKEN));
}

#[test]
fn a_url_that_is_not_the_plans_deployment_is_refused_naming_both() {
    let (planned, given) = (Listener::new(), Listener::new());
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_for(dir.path(), &planned.url());
    for how in ["--url", "CODER_URL"] {
        let mut cmd = orgsplit();
        cmd.arg("apply").arg(&plan).arg("--yes").env("CODER_SESSION_TOKEN", TOKEN);
        if how == "--url" {
            cmd.args(["--url", &given.url()]);
        } else {
            cmd.env("CODER_URL", given.url());
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{how}: {err}");
        assert!(
            err.contains(&format!(
                "the plan is for `{}`, but this run names `{}`: nothing was sent",
                planned.url(),
                given.url()
            )),
            "{how}: {err}"
        );
    }
    assert!(planned.connections().is_empty() && given.connections().is_empty(), "nothing was contacted");
}

#[test]
fn the_same_address_written_another_way_is_the_plans_deployment() {
    // The check passes (a default port and a trailing slash do not count), so
    // apply goes on to read the deployment: here a listener that never
    // answers, which proves the token went only where it was sent.
    let listener = Listener::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_for(dir.path(), &format!("{}/", listener.url()));
    let out = orgsplit()
        .arg("apply")
        .arg(&plan)
        .args(["--yes", "--timeout", "1", "--retries", "0", "--url", &listener.url()])
        .env("CODER_SESSION_TOKEN", TOKEN)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("the plan is for"), "{err}");
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(!listener.connections().is_empty(), "apply read the deployment it was pointed at: {err}");
}

#[test]
fn the_plan_names_the_deployment_never_the_link_to_coders_source() {
    let export = megaco().join("export/buildinfo.json");
    let info = read_json(&export);
    assert!(info["external_url"].as_str().unwrap().starts_with("https://github.com/coder/coder/"), "as real servers");
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, plan_path) = plan_megaco(dir.path());
    let plan = read_plan(&plan_path);
    assert_eq!(plan.deployment.url, "https://coder.megaco.example");
    let s = read_json(&snapshot);
    assert_eq!(s["source"]["deployment_url"], "https://coder.megaco.example");
    let keys: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            orgsplit::plan::StepSpec::ProvisionerKey(k) => Some(k.start_command.as_str()),
            _ => None,
        })
        .collect();
    assert!(!keys.is_empty());
    for start in keys {
        assert!(start.starts_with("CODER_URL=https://coder.megaco.example "), "{start}");
    }
    let scripts = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&plan_path).arg("--out-dir").arg(&scripts).assert().success();
    let notices = dir.path().join("notices");
    orgsplit().arg("notices").arg(&plan_path).arg("--out-dir").arg(&notices).assert().success();
    let inventory = orgsplit().arg("inventory").arg(&snapshot).output().unwrap();
    let mut texts = vec![std::fs::read_to_string(&plan_path).unwrap(), String::from_utf8(inventory.stdout).unwrap()];
    for folder in [&scripts, &notices] {
        for f in files_in(folder) {
            texts.push(std::fs::read_to_string(folder.join(f)).unwrap());
        }
    }
    assert!(texts.iter().all(|t| !t.contains("github.com")), "the link to Coder's source is named somewhere");
    assert!(texts[2..].iter().any(|t| t.contains("DEPLOYMENT_URL='https://coder.megaco.example'")
        || t.contains("DEPLOYMENT_URL=https://coder.megaco.example")));
}

/// MegaCo's export without `dashboard_url`: the address is unknown, and
/// everything that would name it says so and what to pass.
fn export_without_address(dir: &Path) -> PathBuf {
    let export = dir.join("export");
    for f in files_in(&megaco().join("export")) {
        let to = export.join(&f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(megaco().join("export").join(&f), &to).unwrap();
    }
    let mut info = read_json(&export.join("buildinfo.json"));
    info.as_object_mut().unwrap().remove("dashboard_url");
    std::fs::write(export.join("buildinfo.json"), serde_json::to_vec(&info).unwrap()).unwrap();
    // The primary region's URL is the access URL: without it too.
    std::fs::remove_file(export.join("workspace-proxies.json")).unwrap();
    export
}

#[test]
fn an_export_that_does_not_say_its_address_gets_none_and_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let export = export_without_address(dir.path());
    let snapshot = dir.path().join("s.json");
    let out = orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&snapshot).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("pass --deployment-url URL to import or to plan"), "{err}");
    assert_eq!(read_json(&snapshot)["source"]["deployment_url"], serde_json::Value::Null);

    let plan_path = dir.path().join("plan.json");
    let out =
        orgsplit().arg("plan").arg(&snapshot).arg("--split").arg(split_file()).arg("--out").arg(&plan_path).output();
    let err = String::from_utf8_lossy(&out.unwrap().stderr).into_owned();
    assert!(err.contains("warning: [deployment-url-unknown] the deployment's address is unknown"), "{err}");
    let plan = read_plan(&plan_path);
    assert_eq!(plan.deployment.url, "");
    assert!(!std::fs::read_to_string(&plan_path).unwrap().contains("github.com"));
    let out = orgsplit().arg("notices").arg(&plan_path).arg("--out-dir").arg(dir.path().join("n")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("plan again with `--deployment-url"), "{err}");
    assert!(!dir.path().join("n").exists());
    let out = orgsplit().arg("scripts").arg(&plan_path).arg("--out-dir").arg(dir.path().join("sc")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--deployment-url"), "{err}");
    // `scripts --url` gives it: the scripts and the admins' README name it.
    let sc = dir.path().join("sc");
    orgsplit()
        .arg("scripts")
        .arg(&plan_path)
        .arg("--out-dir")
        .arg(&sc)
        .args(["--url", "https://coder.given.example"])
        .assert()
        .success();
    let readme = std::fs::read_to_string(sc.join("README.md")).unwrap();
    assert!(readme.contains("from the plan for https://coder.given.example"), "{readme}");
    let report = orgsplit().arg("report").arg(&snapshot).arg("--split").arg(split_file()).output().unwrap();
    assert!(String::from_utf8_lossy(&report.stdout).contains("(URL unknown)"));

    // Given on the command line, it is the plan's.
    orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(split_file())
        .arg("--out")
        .arg(&plan_path)
        .args(["--deployment-url", "https://coder.megaco.example/"])
        .assert()
        .success();
    assert_eq!(read_plan(&plan_path).deployment.url, "https://coder.megaco.example");
    let again = dir.path().join("s2.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(&export)
        .arg("--out")
        .arg(&again)
        .args(["--deployment-url", "https://coder.megaco.example"])
        .assert()
        .success();
    assert_eq!(read_json(&again)["source"]["deployment_url"], "https://coder.megaco.example");
    let bad = orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(split_file())
        .args(["--deployment-url", "https://admin:pw@coder.megaco.example"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("must not hold credentials"), "{err}");
}
