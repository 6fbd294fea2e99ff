//! Names read from a deployment are not trusted: a name Coder itself would
//! refuse is flagged at import, naming the object, and the plan never sends
//! it back to Coder as it is.

use std::fs;
use std::path::Path;

use orgsplit::plan::{Action, StepSpec};

use crate::common::*;
use crate::plan::{read_plan, split_file};

/// MegaCo's export with `payments-k8s` renamed `--yes` (display name on two lines).
fn export_with_refused_names(dir: &Path) -> std::path::PathBuf {
    let mut d = fixtures::megaco();
    let s = &mut d.snapshot;
    let t = s.templates.iter_mut().find(|t| t.name == "payments-k8s").unwrap();
    t.name = "--yes".into();
    t.display_name = "Payments\nK8s".into();
    let id = t.id.clone();
    for w in s.workspaces.iter_mut().filter(|w| w.template_id == id) {
        w.template_name = "--yes".into();
    }
    let export = dir.join("export");
    for (path, bytes) in fixtures::export_files(&d) {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    export
}

#[test]
fn names_coder_refuses_are_flagged_at_import_and_never_planned_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let export = export_with_refused_names(dir.path());
    let snapshot = dir.path().join("s.json");
    orgsplit().args(["import", "--from-dir"]).arg(&export).arg("--out").arg(&snapshot).assert().success();
    let s = read_json(&snapshot);
    let warnings: Vec<String> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "name-refused")
        .map(|w| w["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        warnings,
        [
            "template `coder/--yes`: display name \"Payments\\nK8s\" has a name Coder refuses (holds a line break)",
            "template of `coder` \"--yes\" has a name Coder refuses (not letters and digits in groups joined by \
             single hyphens)",
        ]
    );

    let split = dir.path().join("split.toml");
    let text = fs::read_to_string(split_file()).unwrap().replace("[\"payments-k8s\"]", "[\"--yes\"]");
    fs::write(&split, text).unwrap();
    let plan_path = dir.path().join("plan.json");
    orgsplit().arg("plan").arg(&snapshot).arg("--split").arg(&split).arg("--out").arg(&plan_path).assert().success();
    let plan = read_plan(&plan_path);
    let copies: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|st| st.action == Action::Create)
        .filter_map(|st| match &st.spec {
            StepSpec::Template(t) if t.source.name == "--yes" => {
                Some((t.name.as_str(), t.settings.display_name.as_str()))
            }
            _ => None,
        })
        .collect();
    // In `payments`, and in the orgs of its other users (`duplicate`).
    assert!(!copies.is_empty() && copies.iter().all(|c| *c == ("yes-coder", "Payments K8s")), "{copies:?}");
    let adjusted: Vec<&str> =
        plan.findings.iter().filter(|f| f.code == "template-name-adjusted").map(|f| f.message.as_str()).collect();
    assert!(
        adjusted.contains(
            &"the copy of `coder/--yes` in `payments` is named `yes-coder`: Coder refuses the name (not letters and \
              digits in groups joined by single hyphens)"
        ),
        "{adjusted:?}"
    );
    let migrated: Vec<&str> = plan
        .workspace_migrations
        .iter()
        .filter(|m| m.old.template == "--yes")
        .map(|m| m.new.template.as_str())
        .collect();
    assert!(!migrated.is_empty() && migrated.iter().all(|t| *t == "yes-coder"), "{migrated:?}");
}

/// MegaCo as `import --url --skip-acls` sees it: no template's access list
/// is known. No copy is opened to its new org's `Everyone`, and each says why.
#[test]
fn a_template_whose_acl_is_unknown_is_not_opened_to_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = crate::plan::read_snapshot(&import_megaco(dir.path()));
    for t in &mut s.templates {
        t.acl = None;
    }
    let snapshot = dir.path().join("no-acls.json");
    fs::write(&snapshot, s.to_json().unwrap()).unwrap();
    let plan_path = dir.path().join("plan.json");
    orgsplit()
        .arg("plan")
        .arg(&snapshot)
        .arg("--split")
        .arg(split_file())
        .arg("--out")
        .arg(&plan_path)
        .assert()
        .success();
    let plan = read_plan(&plan_path);
    let mut copies = 0;
    for st in &plan.steps {
        if let StepSpec::Template(t) = &st.spec {
            copies += 1;
            assert!(!t.acl.groups.contains_key("Everyone"), "{} grants Everyone: {:?}", st.key, t.acl.groups);
            assert!(t.settings.disable_everyone_group_access, "{}", st.key);
            let named = |f: &&orgsplit::plan::Finding| {
                f.code == "acl-unknown" && f.affects.iter().any(|a| a.kind == "template" && a.name == t.source.name)
            };
            assert!(plan.findings.iter().any(|f| named(&f)), "no acl-unknown for {}", st.key);
        }
    }
    assert!(copies > 0);
    let payments = plan.steps.iter().find(|st| st.key == "payments/template/payments-k8s").unwrap();
    let StepSpec::Template(t) = &payments.spec else { unreachable!() };
    assert_eq!(t.acl.groups.keys().collect::<Vec<_>>(), ["payments"], "the split's group whose people use it");
}
