//! `orgsplit report`: on MegaCo with the recommended split and with the
//! hand-written one (JSON decoded into typed structs, checked against the
//! plan and the page), the Markdown and HTML content that matters, names
//! that try to inject markup, the picture at a size that must be
//! aggregated, and bad input.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::common::*;
use crate::plan::{plan_megaco, read_plan, split_file};

#[derive(Debug, Deserialize)]
struct Report {
    format_version: u32,
    split: Split,
    summary: Summary,
    candidates: Vec<Verdict>,
    organizations: Vec<Org>,
    shared_templates: Vec<Shared>,
    deprecations: Vec<Deprecation>,
    migrations: Vec<OrgMigrations>,
    findings: Vec<Finding>,
    picture: Picture,
}

#[derive(Debug, Deserialize)]
struct Split {
    origin: String,
    file: String,
    to_fill_in: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    candidates: usize,
    recommended_organizations: usize,
    organizations: usize,
    new_organizations: usize,
    templates_deprecated: usize,
    users_to_migrate: usize,
    workspaces_to_migrate: usize,
    risks: usize,
}

#[derive(Debug, Deserialize)]
struct Verdict {
    name: String,
    recommendation: String,
    case: Option<String>,
    reasons: Vec<String>,
    agreement: String,
}

#[derive(Debug, Deserialize)]
struct Org {
    name: String,
    members: usize,
    groups: Vec<Group>,
    templates: Vec<Template>,
    provisioner_key: Option<Key>,
    candidates: Vec<String>,
    member_usernames: Vec<String>,
    workspaces_to_migrate: usize,
}

#[derive(Debug, Deserialize)]
struct Group {
    copied_from: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Template {
    name: String,
    recreated_from: String,
}

#[derive(Debug, Deserialize)]
struct Key {
    name: String,
    start_command: String,
}

#[derive(Debug, Deserialize)]
struct Shared {
    template: String,
    copies: Vec<String>,
    deprecated: bool,
}

#[derive(Debug, Deserialize)]
struct Deprecation {
    template: String,
    org: String,
    message: String,
    replacements: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct OrgMigrations {
    org: String,
    users: Vec<UserMigration>,
}

#[derive(Debug, Deserialize)]
struct UserMigration {
    workspaces: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Finding {
    code: String,
    severity: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct Picture {
    clusters: Vec<Cluster>,
    edges: Vec<Edge>,
    omitted: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Cluster {
    id: String,
    org: Option<String>,
    side: String,
    items: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Edge {
    from: String,
    to: String,
    kind: String,
    count: usize,
}

fn report(args: &[&str]) -> (Report, String) {
    let out = orgsplit().arg("report").args(args).args(["-o", "json"]).assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let r = serde_json::from_slice(&out.get_output().stdout).expect("report -o json is JSON of the documented shape");
    (r, stderr)
}

fn text(args: &[&str]) -> String {
    let out = orgsplit().arg("report").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

const PAGE_FITS: [&str; 9] =
    ["checkout", "contractors-apac", "identity", "logistics", "ml", "payments", "raptix", "search", "streaming"];

#[test]
fn megaco_recommended_split_creates_orgs_exactly_for_the_pages_fits() {
    let (r, stderr) = report(&[]);
    assert!(stderr.contains("no SNAPSHOT given: using the built-in MegaCo example"), "{stderr}");
    assert!(stderr.contains("still to be filled in"), "{stderr}");
    assert_eq!(r.format_version, 1);
    assert_eq!(
        (r.split.origin.as_str(), r.split.to_fill_in.clone()),
        ("recommended", vec!["migration wiki".into(), "deadline".into()])
    );
    assert!(r.split.file.contains("recommended"), "{}", r.split.file);
    let names: Vec<&str> = r.organizations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, PAGE_FITS);
    // Each org is its candidate, holds its group and its own templates, and gets a provisioner key.
    for o in &r.organizations {
        assert_eq!(o.candidates.as_slice(), std::slice::from_ref(&o.name), "{}", o.name);
        assert_eq!(o.groups.len(), 1, "{}", o.name);
        assert_eq!(o.groups[0].copied_from.as_deref(), Some(format!("coder/{}", o.name).as_str()));
        assert_eq!(o.member_usernames.len(), o.members, "{}", o.name);
        assert_eq!(o.provisioner_key.as_ref().map(|k| k.name.clone()), Some(format!("{}-provisioner", o.name)));
        assert!(o.provisioner_key.as_ref().unwrap().start_command.contains("coder provisioner start"));
    }
    let org = |n: &str| r.organizations.iter().find(|o| o.name == n).unwrap();
    let templates = |n: &str| org(n).templates.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(templates("raptix"), ["raptix-ec2", "raptix-eks"]);
    assert_eq!(templates("ml"), ["mlbox-gpu", "mlbox-notebook"]);
    assert_eq!(templates("checkout"), ["checkout-k8s", "payments-k8s"], "a copy of the shared template");
    assert_eq!(org("raptix").templates[0].recreated_from, "coder/raptix-ec2");
    // The verdicts: every fit is an organization, every other case stays, and the split agrees.
    let verdict: BTreeMap<&str, &Verdict> = r.candidates.iter().map(|c| (c.name.as_str(), c)).collect();
    for (name, want) in [
        ("raptix", "organization"),
        ("contractors-apac", "organization-with-workspace-proxies"),
        ("java-monolith", "separate-template-or-groups"),
        ("frontend", "parameters-dev-containers-groups"),
        ("devs-us-east", "provisioners-and-workspace-proxies"),
        ("platform", "no-clear-case"),
    ] {
        assert_eq!(verdict[name].recommendation, want, "{name}");
    }
    assert_eq!(verdict["raptix"].case.as_deref(), Some("Mergers and acquisitions"));
    assert!(
        verdict["raptix"].reasons.iter().any(|r| r.contains("an independent cloud account")),
        "{:?}",
        verdict["raptix"].reasons
    );
    assert!(r.candidates.iter().all(|c| c.agreement == "as-recommended"), "the recommended split follows the verdicts");
    assert_eq!((r.summary.candidates, r.summary.recommended_organizations), (20, 9));
    assert_eq!((r.summary.organizations, r.summary.new_organizations), (9, 9));
    // Blank settings are visible in every message, never a made-up value.
    assert_eq!(r.deprecations.len(), r.summary.templates_deprecated);
    for d in &r.deprecations {
        assert!(d.message.contains("[migration wiki: to be filled in]"), "{}", d.message);
        assert!(d.message.contains("[deadline: to be filled in]"), "{}", d.message);
    }
    // Totals agree with the lists.
    let moved: usize = r.migrations.iter().flat_map(|m| &m.users).map(|u| u.workspaces.len()).sum();
    assert_eq!(moved, r.summary.workspaces_to_migrate);
    assert_eq!(r.migrations.iter().map(|m| m.users.len()).sum::<usize>(), r.summary.users_to_migrate);
    for m in &r.migrations {
        let n: usize = m.users.iter().map(|u| u.workspaces.len()).sum();
        assert_eq!(n, org(&m.org).workspaces_to_migrate, "{}", m.org);
    }
    let shared: Vec<(&str, &[String], bool)> =
        r.shared_templates.iter().map(|s| (s.template.as_str(), s.copies.as_slice(), s.deprecated)).collect();
    assert!(
        shared.contains(&("payments-k8s", &["checkout".to_string(), "payments".to_string()][..], true)),
        "{shared:?}"
    );
    assert_eq!(r.summary.risks, r.findings.iter().filter(|f| f.severity == "risk").count());
}

#[test]
fn with_a_split_file_the_report_says_what_the_plan_says() {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, plan_path) = plan_megaco(dir.path());
    let plan = read_plan(&plan_path);
    let split = split_file();
    let (r, _) = report(&[snapshot.to_str().unwrap(), "--split", split.to_str().unwrap()]);
    assert_eq!(r.split.origin, "file");
    assert!(r.split.to_fill_in.is_empty());
    let names: Vec<&str> = r.organizations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, plan.organizations.iter().map(|o| o.name.as_str()).collect::<Vec<_>>());
    for (o, p) in r.organizations.iter().zip(&plan.organizations) {
        assert_eq!(o.members, p.members, "{}", o.name);
        assert_eq!(o.templates.iter().map(|t| t.name.clone()).collect::<Vec<_>>(), p.templates, "{}", o.name);
    }
    // The deprecation messages are exactly the plan's.
    let planned: BTreeMap<String, String> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            orgsplit::plan::StepSpec::Deprecation(d) => Some((d.template_name.clone(), d.message.clone())),
            _ => None,
        })
        .collect();
    let reported: BTreeMap<String, String> =
        r.deprecations.iter().map(|d| (d.template.clone(), d.message.clone())).collect();
    assert_eq!(reported, planned);
    assert!(r.deprecations.iter().all(|d| d.org == "coder" && !d.replacements.is_empty()));
    let codes = |f: &[Finding]| f.iter().map(|f| (f.code.clone(), f.message.clone())).collect::<Vec<_>>();
    let plan_codes: Vec<(String, String)> = plan.findings.iter().map(|f| (f.code.clone(), f.message.clone())).collect();
    assert_eq!(codes(&r.findings), plan_codes, "every finding of the plan, in its order");
    assert_eq!(r.summary.workspaces_to_migrate, plan.workspace_migrations.len());
}

// The Markdown report itself is pinned, byte for byte, by the golden case
// `tests/golden/report` (see `golden.rs`).

#[test]
fn same_input_same_bytes_and_out_writes_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let a = text(&["-o", "html"]);
    orgsplit().args(["report", "-o", "html", "--out"]).arg(&out).assert().success().stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), a);
    assert_eq!(text(&["-o", "html"]), a);
}

/// MegaCo with names that try to become markup.
fn awkward_snapshot(dir: &Path) -> std::path::PathBuf {
    let path = import_megaco(dir);
    let mut s = read_json(&path);
    let evil = "<evil-tag onload=\"x\">R&D 'quoted' \\ | [link](javascript:x)";
    for o in s["organizations"].as_array_mut().unwrap() {
        o["display_name"] = format!("Mega{evil}").into();
    }
    for g in s["groups"].as_array_mut().unwrap().iter_mut().filter(|g| g["name"] == "raptix") {
        g["display_name"] = format!("Raptix{evil}").into();
    }
    for t in s["templates"].as_array_mut().unwrap().iter_mut().filter(|t| t["name"] == "raptix-eks") {
        t["display_name"] = format!("EKS{evil}").into();
    }
    std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
    path
}

#[test]
fn html_is_self_contained_well_formed_and_escapes_every_name() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = awkward_snapshot(dir.path());
    let html = text(&[snapshot.to_str().unwrap(), "-o", "html"]);
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(&html, options).expect("the page is well-formed");
    let names: Vec<&str> = doc.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
    assert!(!names.contains(&"evil-tag"), "a name became an element");
    for n in doc.descendants().filter(|n| n.is_element()) {
        assert!(n.attribute("onload").is_none(), "a name became an attribute");
        assert!(n.attribute("src").is_none() && !["link", "script", "img", "iframe"].contains(&n.tag_name().name()));
        if let Some(href) = n.attribute("href") {
            assert!(href.starts_with('#'), "only links within the page: {href}");
        }
    }
    let all_text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    assert!(all_text.contains("Raptix<evil-tag onload=\"x\">R&D 'quoted'"), "the name is shown as text");
    // The picture is inline SVG inside its section, with the orgs and the edges between them.
    let svg = doc.descendants().find(|n| n.tag_name().name() == "svg").expect("an inline SVG");
    assert_eq!(svg.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(svg.ancestors().find(|n| n.has_tag_name("section")).and_then(|s| s.attribute("id")), Some("picture"));
    let groups = |class: &str| {
        svg.descendants().filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|w| w == class))).count()
    };
    assert_eq!(groups("org"), 10, "the default org and the nine new ones");
    assert!(groups("members") >= 9 && groups("recreated") >= 11, "edges drawn");
    let svg_text: String = svg.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    assert!(svg_text.contains("Mega<evil-tag"), "{svg_text}");
    // Markdown escapes the same names.
    let md = text(&[snapshot.to_str().unwrap()]);
    assert!(md.contains("Raptix\\<evil-tag onload=\"x\"\\>R\\&D 'quoted' \\\\ \\| \\[link\\](javascript:x)"), "{md}");
    // Outside code blocks (where text is literal), no name is raw markup.
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            assert!(!line.replace("\\<evil-tag", "").contains("<evil-tag"), "raw markup in Markdown: {line}");
        }
    }
}

#[test]
fn a_large_split_is_drawn_aggregated_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = fixtures::generate(2000, 7);
    let snapshot = dir.path().join("s.json");
    std::fs::write(&snapshot, d.snapshot.to_json().unwrap()).unwrap();
    let split = dir.path().join("split.toml");
    std::fs::write(&split, fixtures::generated_split_toml(&d).unwrap()).unwrap();
    let (r, _) = report(&[snapshot.to_str().unwrap(), "--split", split.to_str().unwrap()]);
    assert!(r.organizations.len() > 12, "the case needs more orgs than are drawn: {}", r.organizations.len());
    let targets: Vec<&Cluster> = r.picture.clusters.iter().filter(|c| c.side == "target").collect();
    assert_eq!(targets.len(), 13, "twelve orgs and one box for the rest");
    let more = targets.iter().find(|c| c.org.is_none()).expect("a box of merged orgs");
    assert!(more.items.len() <= 2, "its groups and templates are merged too: {:?}", more.items);
    // At most 40 groups and 40 templates a box, and one "more" item of each.
    assert!(r.picture.clusters.iter().all(|c| c.items.len() <= 82));
    assert!(r.picture.clusters.len() <= 2 * 13);
    assert!(!r.picture.omitted.is_empty());
    // Aggregation loses no member: the members edges sum to the members of copied groups.
    let copied: usize = r.organizations.iter().flat_map(|o| &o.groups).filter(|g| g.copied_from.is_some()).count();
    assert!(copied > 0);
    let drawn: usize = r.picture.edges.iter().filter(|e| e.kind == "members").map(|e| e.count).sum();
    let want: usize = r.organizations.iter().map(|o| o.members).sum();
    assert!(drawn > 0 && drawn <= want, "{drawn} of {want}");
    let ids: std::collections::BTreeSet<String> = r
        .picture
        .clusters
        .iter()
        .flat_map(|c| {
            std::iter::once(c.id.clone()).chain(c.items.iter().map(|i| i["id"].as_str().unwrap().to_string()))
        })
        .collect();
    assert!(
        r.picture.edges.iter().all(|e| ids.contains(&e.from) && ids.contains(&e.to)),
        "every edge joins drawn nodes"
    );
}

#[test]
fn a_bad_split_file_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.toml");
    std::fs::write(&split, "format_version = 1\n[[organizations]]\nname = \"x\"\ngroops = []\n").unwrap();
    let out = orgsplit().arg("report").arg("--split").arg(&split).assert().code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("split.toml:4:1: unknown field `groops`"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(!stderr.contains("no SNAPSHOT given"), "the split is checked before the snapshot is read: {stderr}");
    let out = orgsplit().args(["report", "-o", "pdf"]).assert().code(64);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("possible values: markdown, html, json"));
}

/// A generated deployment (issue 14 §4's scenario, seed 3) through the
/// report: each trap says why it has no organization of its own, an
/// umbrella whose people go with its teams agrees with its verdict, the
/// headline gives the shares that move (warning over half), and the central
/// template the new organizations keep using is listed with who uses it.
#[test]
fn a_generated_deployment_report_says_why_overlapping_groups_get_no_organization() {
    let s = fixtures::scenario::scenario(3);
    let snapshot = fixtures::eval::import_scenario(&s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_json().unwrap()).unwrap();
    let path = path.to_str().unwrap();
    let out = orgsplit().args(["report", path, "-o", "json"]).assert().success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let verdict = |name: &str| r["candidates"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
    let truth = |case: &str| s.truth.groups.iter().filter(|e| e.case == case).collect::<Vec<_>>();
    let subset = truth("subset")[0];
    let team = subset.joins.clone().unwrap();
    assert_eq!(verdict(&subset.group)["relation"], format!("subset of `{team}`"));
    let umbrella = verdict(&truth("umbrella")[0].group);
    assert!(umbrella["relation"].as_str().unwrap().starts_with("umbrella over `"), "{umbrella}");
    assert_eq!(umbrella["agreement"], "as-recommended", "{umbrella}");
    let sre = truth("shared-templates")[0];
    assert_eq!(verdict(&sre.group)["relation"], format!("shares its templates with `{}`", sre.joins.clone().unwrap()));
    for region in truth("multiple-regions") {
        assert_eq!(verdict(&region.group)["recommendation"], "provisioners-and-workspace-proxies", "{}", region.group);
    }
    // The central template stays, used by the cloud-native teams' organizations.
    let staying = r["staying_templates"].as_array().unwrap();
    let kept: Vec<&str> = staying
        .iter()
        .flat_map(|t| t["kept_by"].as_array().unwrap().iter().map(|p| p["org"].as_str().unwrap()))
        .collect();
    for team in truth("cloud-native-teams") {
        let holds =
            |o: &&serde_json::Value| o["candidates"].as_array().unwrap().iter().any(|c| c == team.group.as_str());
        let org = r["organizations"].as_array().unwrap().iter().find(holds);
        assert!(org.is_some(), "{} gets an organization", team.group);
    }
    assert!(!kept.is_empty(), "the new organizations keep using a central template: {staying:?}");
    // The headline and its warning line.
    let sum = &r["summary"];
    let n = |k: &str| sum[k].as_u64().unwrap();
    let md = text(&[path]);
    let share = (n("members_placed") * 100 + n("users_total") / 2) / n("users_total");
    assert!(md.contains(&format!("**Headline:** {share}% of the deployment's users")), "{md}");
    let over = n("members_placed") * 100 > n("users_total") * 50
        || n("workspaces_to_migrate") * 100 > n("workspaces_total") * 50;
    assert_eq!(md.contains("this split moves more than 50% of the deployment"), over, "{md}");
    assert!(md.contains("### Templates that stay, still used by new organizations"), "{md}");
    assert!(md.contains(&format!("({})", verdict(&subset.group)["relation"].as_str().unwrap())), "{md}");
}
