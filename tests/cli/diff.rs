//! `orgsplit diff`: before vs after, the access view, exit codes, stale plans.

use crate::common::*;
use crate::plan::{plan_megaco, read_plan, read_snapshot, split_file};

fn diff(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = orgsplit().arg("diff").args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    (out.status.code().unwrap(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn megaco_diff_only_adds_and_ends_with_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let (code, out, _) = diff(&[p.as_os_str(), "--snapshot".as_ref(), s.as_os_str()]);
    assert_eq!(code, 2, "changes: exit 2 as terraform's -detailed-exitcode");
    let plan = read_plan(&p);
    let last = out.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "Plan: {} to create, {} to update, {} workspaces to migrate, 0 to delete.",
            plan.summary.create, plan.summary.update, plan.summary.workspaces_to_migrate
        )
    );
    assert_eq!(last, "Plan: 537 to create, 12 to update, 506 workspaces to migrate, 0 to delete.");
    assert!(out.starts_with("--- before (snapshot)\n+++ after (plan applied)\n@@ "), "{}", &out[..200]);
    let removed: Vec<&str> = out.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).collect();
    assert!(removed.is_empty(), "nothing is removed: {removed:?}");
    for line in [
        "+organization raptix",
        "+  provisioner-key raptix-provisioner tags cloud=raptix-aws",
        "+  custom-role template-pusher \"Template Pusher\"",
        "+  map \"coder-raptix\" -> raptix",
        "+  member bianca-das roles organization-admin",
        "+    acl group raptix use",
        "+    provisioner-tags cloud=raptix-aws",
    ] {
        assert!(out.lines().any(|l| l == line), "missing: {line}");
    }
    let deprecated = out.lines().filter(|l| l.starts_with("+    deprecated \"This template moved to the ")).count();
    assert_eq!(deprecated, 11);
    assert!(!out.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn nothing_left_to_do_exits_zero_with_an_empty_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let after = orgsplit::plan::expected_after(&read_snapshot(&s), &read_plan(&p)).unwrap();
    let after_path = dir.path().join("after.json");
    std::fs::write(&after_path, after.to_json().unwrap()).unwrap();
    let again = dir.path().join("again.json");
    orgsplit()
        .arg("plan")
        .arg(&after_path)
        .arg("--split")
        .arg(split_file())
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    for access in [false, true] {
        let mut args = vec![again.as_os_str(), "--snapshot".as_ref(), after_path.as_os_str()];
        if access {
            args.push("--access".as_ref());
        }
        let (code, out, _) = diff(&args);
        assert_eq!(code, 0, "{out}");
        assert_eq!(out, "Plan: 0 to create, 0 to update, 506 workspaces to migrate, 0 to delete.\n");
    }
}

#[test]
fn a_plan_for_another_state_is_refused_naming_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let mut changed = read_json(&s);
    changed["templates"][0]["description"] = serde_json::json!("edited since the plan was made");
    changed["workspaces"].as_array_mut().unwrap().pop();
    let changed_path = dir.path().join("changed.json");
    std::fs::write(&changed_path, serde_json::to_vec(&changed).unwrap()).unwrap();
    let (code, out, err) = diff(&[p.as_os_str(), "--snapshot".as_ref(), changed_path.as_os_str()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "error: the plan was made from another state of the deployment (changed since: templates, workspaces); make \
         the plan again from the current snapshot: `orgsplit plan SNAPSHOT --split FILE --out plan.json`\n"
    );
}

#[test]
fn access_lists_admin_gains_first() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let (code, out, _) = diff(&[p.as_os_str(), "--snapshot".as_ref(), s.as_os_str(), "--access".as_ref()]);
    assert_eq!(code, 2);
    let admins_at = out.find("\nGaining admin-level permissions (").expect("an admin section");
    let others_at = out.find("\nOther changes (").expect("an others section");
    assert!(admins_at < others_at);
    let admins = &out[admins_at..others_at];
    let names: Vec<&str> = admins
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .map(|l| l.trim().split(' ').next().unwrap())
        .collect();
    // Org admins by the split (raptix's two leads are also among its platform team, whom role sync makes admins).
    for n in ["bianca-das", "carlos-jones", "kai-white", "erik-lee", "victor-reyes", "fatima-patel"] {
        assert!(names.contains(&n), "{n} gains admin: {names:?}");
    }
    assert!(admins.contains("    + role ml: template-editor"), "a custom role with write permissions is admin-level");
    assert!(!out[others_at..].contains("organization-admin"), "nobody gains admin outside the first section");
    // A developer who moves: joins the org, can use the copy, and no longer the deprecated original.
    // User blocks: a line indented by two spaces, then their changes indented by four.
    let mut blocks: Vec<String> = Vec::new();
    for line in out[others_at..].lines() {
        if line.starts_with("  ") && !line.starts_with("    ") {
            blocks.push(String::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    let dev = blocks.iter().find(|b| b.contains("    + member of ml\n")).expect("an ML developer");
    assert!(dev.contains("    + template ml/mlbox-gpu (use)"), "{dev}");
    assert!(dev.contains("    - template coder/mlbox-gpu (use): deprecated"), "{dev}");
    assert!(
        out.contains("\n  coder (997 members)\n    - checkout-k8s (use): deprecated\n"),
        "Everyone-level changes per org"
    );
}

#[test]
fn without_a_snapshot_both_use_the_built_in_example_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    let out = orgsplit().arg("plan").arg("--split").arg(split_file()).arg("--out").arg(&p).assert().success();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.starts_with("note: no SNAPSHOT given: using the built-in MegaCo example\n"), "{err}");
    let (code, out, err) = diff(&[p.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.starts_with("note: no SNAPSHOT given: using the built-in MegaCo example"), "{err}");
    assert!(out.ends_with("Plan: 537 to create, 12 to update, 506 workspaces to migrate, 0 to delete.\n"));
    // A plan of the built-in example against an imported copy of it: the same state, so accepted.
    let s = crate::common::import_megaco(dir.path());
    let (code, _, _) = diff(&[p.as_os_str(), "--snapshot".as_ref(), s.as_os_str()]);
    assert_eq!(code, 2);
}

#[test]
fn an_edited_plan_that_does_not_fit_together_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let mut plan = read_json(&p);
    plan["steps"].as_array_mut().unwrap().retain(|step| step["key"] != "ml/organization/ml");
    std::fs::write(&p, serde_json::to_vec(&plan).unwrap()).unwrap();
    let (code, out, err) = diff(&[p.as_os_str(), "--snapshot".as_ref(), s.as_os_str()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(
            "error: the plan does not fit together: step `ml/provisioner-key/ml-provisioner` names org `ml`"
        ),
        "{err}"
    );
    assert!(err.contains("make it again with `orgsplit plan"), "{err}");
}

/// Colour as anstream decides it for stdout: never into a pipe, unless
/// CLICOLOR_FORCE asks for it; never with NO_COLOR set, whatever else is.
#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let run = |env: &[(&str, &str)], access: bool| {
        let mut cmd = orgsplit();
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
        cmd.arg("diff").arg(&p).arg("--snapshot").arg(&s);
        if access {
            cmd.arg("--access");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let piped = run(&[], false);
    assert!(!piped.contains('\u{1b}'), "no colour into a pipe");
    let forced = run(&[("CLICOLOR_FORCE", "1")], false);
    assert!(forced.contains("\u{1b}[1m--- before (snapshot)\u{1b}[0m\n"), "{}", &forced[..200]);
    assert!(forced.contains("\n\u{1b}[32m+"), "added lines are green");
    assert!(forced.contains("\n\u{1b}[36m@@ "), "hunk headers are cyan");
    // Without the escapes, the same text.
    let stripped = forced.replace("\u{1b}[1m", "").replace("\u{1b}[32m", "").replace("\u{1b}[36m", "");
    assert_eq!(stripped.replace("\u{1b}[0m", ""), piped);
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false).contains('\u{1b}'), "NO_COLOR wins");
    let access = run(&[("CLICOLOR_FORCE", "1")], true);
    assert!(access.contains("\u{1b}[32m+"), "the access view is coloured too");
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], true).contains('\u{1b}'));
}
