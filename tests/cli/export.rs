//! `orgsplit export terraform`: the split as coderd Terraform, parsed back
//! with hcl-rs and checked against the plan and the provider schema summary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcl::{Block, Body, Expression};
use orgsplit::plan::{Action, Plan, StepSpec};
use orgsplit::render::terraform::schema;

use crate::common::*;
use crate::plan::{plan_megaco, read_plan, split_file};

fn export(plan: &Path, snapshot: &Path, sources: Option<&Path>, out: &Path) -> assert_cmd::assert::Assert {
    let mut cmd = orgsplit();
    cmd.args(["export", "terraform"]).arg(plan).arg("--snapshot").arg(snapshot).arg("--out-dir").arg(out);
    if let Some(s) = sources {
        cmd.arg("--template-sources").arg(s);
    }
    // A token in the environment must not end up in any file.
    cmd.env("CODER_SESSION_TOKEN", "tok-SECRET-marker").env("CODER_URL", "https://coder.example.com");
    cmd.assert()
}

/// `terraform` or `tofu`, whichever is on PATH. `.ci/run` builds OpenTofu
/// when neither is there, so a missing one is a printed skip locally and a
/// failure under `CI=true`.
pub fn terraform_cli() -> Option<&'static str> {
    let found = ["terraform", "tofu"].into_iter().find(|tool| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "terraform or tofu is required when CI=true (.ci/run builds OpenTofu)"
        );
        eprintln!("skipping `fmt -check`: neither terraform nor tofu is installed");
    }
    found
}

/// The folder is as `terraform fmt` would write it (where the CLI is there).
fn fmt_check(dir: &Path) {
    let Some(tool) = terraform_cli() else { return };
    let out = std::process::Command::new(tool).args(["fmt", "-check", "-no-color"]).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "`{tool} fmt -check` wants to change: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `.tf` file parsed, by name; the schema summary knows all they use;
/// `terraform fmt` would leave them as they are.
fn parse_all(dir: &Path) -> BTreeMap<String, Body> {
    fmt_check(dir);
    let mut out = BTreeMap::new();
    for name in files_in(dir) {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(
            !text.contains("tok-SECRET-marker") && !text.contains("coder.example.com"),
            "{name} holds the URL or token"
        );
        if name.ends_with(".tf") {
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}\n{text}"));
            assert_eq!(schema::unknown(&body), Vec::<String>::new(), "{name}");
            out.insert(name, body);
        }
    }
    out
}

fn blocks<'a>(files: &'a BTreeMap<String, Body>, kind: &'a str, ty: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    files.values().flat_map(|b| b.blocks()).filter(move |b| {
        b.identifier() == kind && (ty.is_empty() || b.labels().first().is_some_and(|l| l.as_str() == ty))
    })
}

fn attr<'a>(b: &'a Block, key: &str) -> Option<&'a Expression> {
    b.body().attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn string(b: &Block, key: &str) -> String {
    match attr(b, key) {
        Some(Expression::String(s)) => s.clone(),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

fn label(b: &Block) -> String {
    b.labels()[1].as_str().to_string()
}

/// `a.b.c` of a traversal expression.
fn path(e: &Expression) -> String {
    hcl::format::to_string(e).unwrap()
}

#[test]
fn megaco_exports_every_planned_object_with_references_and_the_limits_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let plan = read_plan(&p);
    let sources = megaco().join("template-sources");
    let out = dir.path().join("tf");
    export(&p, &s, Some(&sources), &out).success();
    let files = parse_all(&out);

    let mut want: BTreeSet<String> = plan.organizations.iter().map(|o| format!("org_{}.tf", o.name)).collect();
    want.extend(["main.tf".into(), "deployment.tf".into()]);
    assert_eq!(files.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert!(files_in(&out).contains(&"README.md".to_string()));

    // One organization per planned org, with what the plan says.
    let orgs: BTreeMap<String, &Block> =
        blocks(&files, "resource", "coderd_organization").map(|b| (string(b, "name"), b)).collect();
    assert_eq!(
        orgs.keys().cloned().collect::<Vec<_>>(),
        plan.organizations.iter().map(|o| o.name.clone()).collect::<Vec<_>>()
    );
    for o in &plan.organizations {
        assert_eq!(string(orgs[&o.name], "display_name"), o.display_name);
        assert_eq!(string(orgs[&o.name], "description"), o.description);
    }
    let org_ref = |org: &str| format!("coderd_organization.{}.id", label(orgs[org]));

    // Templates: one per planned template, in its org, ACL by references, Everyone kept where granted.
    let mut planned = 0;
    for step in &plan.steps {
        let StepSpec::Template(t) = &step.spec else { continue };
        planned += 1;
        let org = step.org.as_deref().unwrap();
        let b = blocks(&files, "resource", "coderd_template")
            .find(|b| string(b, "name") == t.name && path(attr(b, "organization_id").unwrap()) == org_ref(org))
            .unwrap_or_else(|| panic!("no coderd_template for {}", step.key));
        assert_eq!(string(b, "display_name"), t.settings.display_name);
        let text = hcl::format::to_string(b).unwrap();
        let acl = hcl::format::to_string(attr(b, "acl").unwrap()).unwrap();
        assert_eq!(acl.contains(&format!("id = {}", org_ref(org))), t.acl.groups.contains_key("Everyone"), "{acl}");
        assert_eq!(acl.matches("role = ").count(), t.acl.groups.len() + t.acl.users.len(), "{acl}");
        for u in &t.acl.users {
            assert!(text.contains(&u.user.user_id), "{text}");
        }
        let src = sources.join(&t.source.name).canonicalize().unwrap();
        assert!(text.contains(&format!("directory = \"{}\"", src.display())), "{text}");
        for (k, v) in &t.provisioner_tags {
            assert!(text.contains(&format!("name = \"{k}\"")) && text.contains(&format!("value = \"{v}\"")), "{text}");
        }
    }
    assert!(planned > 0);
    assert_eq!(blocks(&files, "resource", "coderd_template").count(), planned);

    // Provisioner keys: secret only as a sensitive output.
    let keys: Vec<&Block> = blocks(&files, "resource", "coderd_provisioner_key").collect();
    assert_eq!(keys.len(), plan.organizations.iter().filter(|o| o.provisioner_key.is_some()).count());
    for k in &keys {
        let out = blocks(&files, "output", "")
            .find(|o| path(attr(o, "value").unwrap()) == format!("coderd_provisioner_key.{}.key", label(k)))
            .expect("an output for the key");
        assert_eq!(attr(out, "sensitive"), Some(&Expression::Bool(true)));
    }
    // Groups filled by group sync leave members to it; the others list them all.
    for step in &plan.steps {
        let StepSpec::Group(g) = &step.spec else { continue };
        let b = blocks(&files, "resource", "coderd_group").find(|b| string(b, "name") == g.name).unwrap();
        let synced = plan.steps.iter().any(|s| {
            s.org == step.org
                && matches!(&s.spec, StepSpec::GroupSync(gs) if gs.mapping.values().flatten().any(|n| n == &g.name))
        });
        match attr(b, "members") {
            None => assert!(synced, "{}", step.key),
            Some(Expression::Array(ids)) => {
                assert!(!synced);
                assert_eq!(ids.len(), g.members.len());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(blocks(&files, "resource", "coderd_organization_sync_settings").count(), 1);
    // Nothing in MegaCo's new orgs exists yet: nothing to import.
    assert_eq!(blocks(&files, "import", "").count(), 0);

    // The limits, on top of main.tf and in the README.
    let main = std::fs::read_to_string(out.join("main.tf")).unwrap();
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    for text in [&main, &readme] {
        for what in [
            "Organization membership",
            "Organization roles",
            "Custom roles",
            "Default member roles",
            "Deprecating the old templates",
            "Workspace migrations",
            "orgsplit apply",
            "orgsplit scripts",
        ] {
            assert!(text.contains(what), "{what} missing");
        }
    }
    assert!(main.starts_with("# Written by `orgsplit export terraform`"));
    assert!(main.contains("version = \"0.0.23\""));

    // Same input, same bytes.
    let again = dir.path().join("tf2");
    export(&p, &s, Some(&sources), &again).success();
    for name in files_in(&out) {
        assert_eq!(std::fs::read(out.join(&name)).unwrap(), std::fs::read(again.join(&name)).unwrap(), "{name}");
    }
}

#[test]
fn without_template_sources_versions_come_from_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let out = dir.path().join("tf");
    export(&p, &s, None, &out).success();
    let files = parse_all(&out);
    assert_eq!(
        blocks(&files, "variable", "").map(|b| b.labels()[0].as_str().to_string()).collect::<Vec<_>>(),
        ["template_sources"]
    );
    let t = blocks(&files, "resource", "coderd_template").next().unwrap();
    assert!(hcl::format::to_string(t).unwrap().contains("directory = join(\"/\", [var.template_sources, "));
}

#[test]
fn a_template_missing_from_the_sources_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = plan_megaco(dir.path());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = dir.path().join("tf");
    let a = export(&p, &s, Some(&empty), &out).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("no source for template `") && err.contains("coder templates pull"), "{err}");
    assert!(!out.exists(), "nothing is written when the export fails");
}

/// MegaCo with `ml` already there: the org, its group, one template and its group sync.
fn megaco_with_ml(dir: &Path) -> (PathBuf, PathBuf) {
    let s = import_megaco(dir);
    let mut v = read_json(&s);
    let ml = "11111111-1111-4111-8111-111111111111";
    let group = "22222222-2222-4222-8222-222222222222";
    let template = "33333333-3333-4333-8333-333333333333";
    let mut org = v["organizations"][0].clone();
    org["id"] = ml.into();
    org["name"] = "ml".into();
    org["is_default"] = false.into();
    v["organizations"].as_array_mut().unwrap().push(org);
    let mut g = v["groups"][0].clone();
    g["id"] = group.into();
    g["organization_id"] = ml.into();
    g["name"] = "ml".into();
    g["members"] = serde_json::json!([]);
    g["total_member_count"] = 0.into();
    v["groups"].as_array_mut().unwrap().push(g);
    let mut t = v["templates"].as_array().unwrap().iter().find(|t| t["name"] == "mlbox-gpu").unwrap().clone();
    t["id"] = template.into();
    t["organization_id"] = ml.into();
    v["templates"].as_array_mut().unwrap().push(t);
    let mut gs = v["idp_sync"]["groups"][0].clone();
    gs["organization_id"] = ml.into();
    gs["mapping"] = serde_json::json!({ "legacy-ml": [group] });
    v["idp_sync"]["groups"].as_array_mut().unwrap().push(gs);
    let s2 = dir.join("s2.json");
    std::fs::write(&s2, serde_json::to_vec(&v).unwrap()).unwrap();
    let p = dir.join("plan2.json");
    orgsplit().arg("plan").arg(&s2).arg("--split").arg(split_file()).arg("--out").arg(&p).assert().success();
    (s2, p)
}

#[test]
fn objects_that_exist_get_import_blocks_with_the_ids_the_provider_takes() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = megaco_with_ml(dir.path());
    let plan: Plan = read_plan(&p);
    let existing: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter(|s| s.org.as_deref() == Some("ml") && s.action != Action::Create)
        .map(|s| s.key.as_str())
        .collect();
    assert!(existing.contains("ml/organization/ml") && existing.contains("ml/template/mlbox-gpu"), "{existing:?}");
    let out = dir.path().join("tf");
    export(&p, &s, Some(&megaco().join("template-sources")), &out).success();
    let files = parse_all(&out);
    let imports: BTreeMap<String, String> =
        blocks(&files, "import", "").map(|b| (path(attr(b, "to").unwrap()), string(b, "id"))).collect();
    let want: BTreeMap<String, String> = [
        ("coderd_organization.ml", "ml"),
        ("coderd_group.ml_ml", "ml/ml"),
        ("coderd_organization_group_sync.ml", "11111111-1111-4111-8111-111111111111"),
        ("coderd_template.ml_mlbox-gpu", "ml/mlbox-gpu"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(imports, want);
    // The imported template keeps its versions; the new one gets one built from its source.
    let t = |name: &str| blocks(&files, "resource", "coderd_template").find(|b| string(b, "name") == name).unwrap();
    assert!(attr(t("mlbox-gpu"), "versions").is_none());
    assert!(attr(t("mlbox-notebook"), "versions").is_some());
    // The group sync keeps the mapping already there beside the split's.
    let gs = blocks(&files, "resource", "coderd_organization_group_sync").find(|b| label(b) == "ml").unwrap();
    let text = hcl::format::to_string(gs).unwrap();
    assert!(text.contains("\"legacy-ml\"") && text.contains("\"coder-ml\""), "{text}");
}

#[test]
fn a_generated_deployment_exports_and_parses_back() {
    let dir = tempfile::tempdir().unwrap();
    let fx = dir.path().join("fx");
    // What `cargo xtask fixture generate --users 400 --out-dir fx` writes.
    let d = fixtures::generate(400, 1);
    for (path, bytes) in fixtures::export_files(&d) {
        let p = fx.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::write(fx.join("split.toml"), fixtures::generated_split_toml(&d).unwrap()).unwrap();
    let s = dir.path().join("s.json");
    orgsplit()
        .args(["import", "--from-dir"])
        .arg(fx.join("export"))
        .arg("--people")
        .arg(fx.join("people.csv"))
        .arg("--template-sources")
        .arg(fx.join("template-sources"))
        .arg("--out")
        .arg(&s)
        .assert()
        .success();
    let p = dir.path().join("plan.json");
    orgsplit().arg("plan").arg(&s).arg("--split").arg(fx.join("split.toml")).arg("--out").arg(&p).assert().success();
    let plan = read_plan(&p);
    let out = dir.path().join("tf");
    export(&p, &s, Some(&fx.join("template-sources")), &out).success();
    let files = parse_all(&out);
    assert_eq!(blocks(&files, "resource", "coderd_organization").count(), plan.organizations.len());
    let templates = plan.steps.iter().filter(|s| matches!(s.spec, StepSpec::Template(_))).count();
    assert_eq!(blocks(&files, "resource", "coderd_template").count(), templates);
    // Labels are unique per type across all files.
    let mut seen = BTreeSet::new();
    for b in files.values().flat_map(|b| b.blocks()).filter(|b| b.identifier() == "resource") {
        assert!(seen.insert((b.labels()[0].as_str().to_string(), label(b))), "duplicate {:?}", b.labels());
    }
}
