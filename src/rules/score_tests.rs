//! Each built-in rule on its own: facts in, verdict out. A candidate is
//! described by the facts the page gives for its case; every required
//! condition is then knocked out in turn to show the rule stops applying.

use super::*;
use crate::rules::candidates::Suppression;
use crate::rules::facts::{Fact, Facts, Value};

fn n(x: i64) -> Value {
    Value::Number(x)
}
fn b(x: bool) -> Value {
    Value::Bool(x)
}

/// A plain team: central templates only, one department, one employer, the main region.
fn plain() -> Vec<(&'static str, Value)> {
    vec![
        ("members", n(40)),
        ("own_platform_team", b(false)),
        ("templates_used", n(2)),
        ("dedicated_templates", n(0)),
        ("own_templates", n(0)),
        ("central_dedicated_templates", n(0)),
        ("shared_templates", n(2)),
        ("own_cloud_accounts", n(0)),
        ("own_clusters", n(0)),
        ("own_namespaces", n(0)),
        ("own_images", n(0)),
        ("own_modules", n(0)),
        ("gpu_templates", n(0)),
        ("vm_templates", n(0)),
        ("restricted_templates", n(0)),
        ("region_share", n(60)),
        ("deployment_regions", n(3)),
        ("department_share", n(100)),
        ("other_employer", b(false)),
        ("contractor_share", n(0)),
        ("away_from_main_region", b(false)),
        ("region_has_proxy", b(true)),
    ]
}

/// `plain()` with some facts changed.
fn facts(changes: &[(&'static str, Value)]) -> Facts {
    let mut all: Vec<(&str, Value)> = plain();
    for (k, v) in changes {
        all.retain(|(name, _)| name != k);
        all.push((k, v.clone()));
    }
    all.into_iter().map(|(k, v)| (k.to_string(), Fact::derived(v, vec![]))).collect()
}

fn catalogue() -> Catalogue {
    Catalogue::builtin().unwrap()
}

/// The case's facts give the case's rule and verdict; knocking out any
/// required condition's fact makes that rule stop applying.
fn check_case(rule: &str, verdict: Verdict, case: &[(&'static str, Value)], knockouts: &[(&'static str, Value)]) {
    let c = catalogue();
    let d = decide(&c, &facts(case), &[]);
    assert_eq!(d.best.as_ref().map(|m| m.rule.as_str()), Some(rule), "{d:#?}");
    assert_eq!(d.recommendation, Recommendation::Case(verdict));
    for (fact, value) in knockouts {
        let mut changed = case.to_vec();
        changed.push((fact, value.clone()));
        let m = evaluate(c.get(rule).unwrap(), &facts(&changed));
        assert!(!m.applies, "`{rule}` still applies with {fact} = {value}");
    }
}

#[test]
fn mergers_and_acquisitions() {
    let case = [
        ("acquired", b(true)),
        ("own_platform_team", b(true)),
        ("own_templates", n(2)),
        ("dedicated_templates", n(2)),
        ("own_cloud_accounts", n(1)),
        ("own_modules", n(2)),
        ("other_employer", b(true)),
    ];
    check_case(
        "mergers-and-acquisitions",
        Verdict::Organization,
        &case,
        &[("own_platform_team", b(false)), ("own_cloud_accounts", n(0))],
    );
    // Neither acquired nor another employer: not this case.
    let mut not_acquired = case.to_vec();
    not_acquired.retain(|(k, _)| *k != "acquired");
    not_acquired.push(("other_employer", b(false)));
    let m = evaluate(catalogue().get("mergers-and-acquisitions").unwrap(), &facts(&not_acquired));
    assert!(!m.applies);
}

#[test]
fn cloud_native_teams() {
    let case = [
        ("own_platform_team", b(true)),
        ("own_templates", n(1)),
        ("dedicated_templates", n(1)),
        ("own_clusters", n(2)),
        ("own_namespaces", n(2)),
        ("own_images", n(1)),
    ];
    check_case("cloud-native-teams", Verdict::Organization, &case, &[("own_templates", n(0)), ("own_clusters", n(0))]);
}

#[test]
fn java_monolith() {
    let case = [("dedicated_templates", n(1)), ("central_dedicated_templates", n(1)), ("vm_templates", n(1))];
    check_case(
        "java-monolith",
        Verdict::SeparateTemplateOrGroups,
        &case,
        &[("own_platform_team", b(true)), ("central_dedicated_templates", n(0)), ("other_employer", b(true))],
    );
}

#[test]
fn offshore_contractors() {
    let case = [
        ("contractor_share", n(100)),
        ("other_employer", b(true)),
        ("privacy_concerns", b(true)),
        ("data_sovereignty", b(true)),
        ("away_from_main_region", b(true)),
        ("region_share", n(100)),
        ("region_has_proxy", b(false)),
        ("dedicated_templates", n(1)),
        ("central_dedicated_templates", n(1)),
    ];
    check_case(
        "offshore-contractors",
        Verdict::OrganizationWithWorkspaceProxies,
        &case,
        &[("contractor_share", n(10))],
    );
}

#[test]
fn dev_teams() {
    check_case(
        "dev-teams",
        Verdict::ParametersDevContainersGroups,
        &[("shared_templates", n(3))],
        &[("own_platform_team", b(true)), ("dedicated_templates", n(1)), ("contractor_share", n(100))],
    );
}

#[test]
fn ml_platform_team() {
    let case = [
        ("own_platform_team", b(true)),
        ("own_templates", n(2)),
        ("dedicated_templates", n(2)),
        ("gpu_templates", n(1)),
        ("own_clusters", n(1)),
        ("own_cloud_accounts", n(1)),
        ("restricted_templates", n(2)),
    ];
    check_case("ml-platform-team", Verdict::Organization, &case, &[("own_templates", n(0)), ("gpu_templates", n(0))]);
    // Its own cloud account alone (no cluster) is enough for "its own cluster or cloud accounts".
    let mut account_only = case.to_vec();
    account_only.push(("own_clusters", n(0)));
    assert!(evaluate(catalogue().get("ml-platform-team").unwrap(), &facts(&account_only)).applies);
    account_only.push(("own_cloud_accounts", n(0)));
    assert!(!evaluate(catalogue().get("ml-platform-team").unwrap(), &facts(&account_only)).applies);
}

#[test]
fn multiple_regions() {
    let case = [("region_share", n(100)), ("department_share", n(30)), ("shared_templates", n(3))];
    check_case(
        "multiple-regions",
        Verdict::ProvisionersAndWorkspaceProxies,
        &case,
        &[
            ("region_share", n(50)),
            ("deployment_regions", n(1)),
            ("department_share", n(100)),
            ("dedicated_templates", n(1)),
        ],
    );
}

#[test]
fn maintenance_overhead_is_a_warning_and_turns_an_organization_into_review() {
    let c = catalogue();
    let small_team = facts(&[("members", n(8))]);
    let d = decide(&c, &small_team, &[]);
    assert_eq!(d.warnings.iter().map(|w| w.rule.as_str()).collect::<Vec<_>>(), ["maintenance-overhead"]);
    assert_eq!(d.recommendation, Recommendation::Case(Verdict::ParametersDevContainersGroups), "not an org anyway");
    // A small group that another case calls an organization: a person must decide.
    let small_org = facts(&[
        ("members", n(8)),
        ("own_templates", n(1)),
        ("dedicated_templates", n(1)),
        ("own_platform_team", b(true)),
        ("own_clusters", n(1)),
    ]);
    assert!(decide(&c, &small_org, &[]).warnings.is_empty(), "it has a platform team of its own");
    let mut small_org = small_org;
    small_org.insert("own_platform_team".into(), Fact::derived(b(false), vec![]));
    let d = decide(&c, &small_org, &[]);
    assert_eq!(d.best.as_ref().unwrap().rule, "cloud-native-teams");
    assert_eq!(d.recommendation, Recommendation::Review);
    assert!(d.notes[0].contains("`maintenance-overhead`"), "{:?}", d.notes);
    assert!(
        d.notes[0].ends_with("the facts that decide: `members` = 8, `own_platform_team` = false"),
        "the warning's facts are named: {:?}",
        d.notes
    );
}

#[test]
fn a_candidate_that_fits_no_case_gets_no_clear_case_with_the_nearest() {
    // Its own platform team, but no dedicated template, cluster or cloud: no case of the page.
    let d = decide(&catalogue(), &facts(&[("own_platform_team", b(true))]), &[]);
    assert_eq!(d.recommendation, Recommendation::NoClearCase);
    assert!(d.best.is_none());
    let nearest = d.nearest.expect("the nearest case is shown");
    assert!(!nearest.applies);
    assert!(nearest.conditions.iter().any(|c| c.required && c.status == Status::NotMet));
}

#[test]
fn unknown_facts_are_unknown_not_false() {
    let mut f = facts(&[("contractor_share", n(100))]);
    f.insert("privacy_concerns".into(), Fact::unknown("declare it"));
    let m = evaluate(catalogue().get("offshore-contractors").unwrap(), &f);
    let privacy = m.conditions.iter().find(|c| c.reason == "privacy concerns").unwrap();
    assert_eq!(privacy.status, Status::Unknown);
    assert_eq!(privacy.tests[0].value, None);
    f.remove("contractor_share");
    assert!(!evaluate(catalogue().get("offshore-contractors").unwrap(), &f).applies, "unknown required fact");
}

#[test]
fn a_suppressed_rule_is_not_considered() {
    let ml = [
        ("own_platform_team", b(true)),
        ("own_templates", n(2)),
        ("dedicated_templates", n(2)),
        ("gpu_templates", n(1)),
        ("own_clusters", n(1)),
    ];
    let s = Suppression { rule: "ml-platform-team".into(), because: "we know better".into(), at: "c.toml:3:8".into() };
    let d = decide(&catalogue(), &facts(&ml), std::slice::from_ref(&s));
    assert_eq!(d.best.unwrap().rule, "cloud-native-teams", "the next best case");
}

#[test]
fn equally_good_cases_with_different_verdicts_ask_for_review() {
    let c = Catalogue::load(
        &[],
        &[
            ("a.toml".into(), rule("a", "organization")),
            ("b.toml".into(), rule("b", "dev-teams-nope").replace("dev-teams-nope", "separate-template-or-groups")),
        ],
    )
    .unwrap();
    let d = decide(&c, &facts(&[]), &[]);
    assert_eq!(d.recommendation, Recommendation::Review);
    assert_eq!(
        d.notes,
        ["`a` and `b` fit equally well (1 of 1); every condition of both holds, so no fact decides: a person does"]
    );
    // With an optional condition unmet in each, those facts are named.
    let optional = |id: &str, verdict: &str, fact: &str| {
        format!(
            "{}[[conditions]]\nreason = \"r\"\nrequired = false\nfact = \"{fact}\"\nop = \">=\"\nvalue = 1\n",
            rule(id, verdict)
        )
    };
    let c = Catalogue::load(
        &[],
        &[
            ("a.toml".into(), optional("a", "organization", "own_clusters")),
            ("b.toml".into(), optional("b", "separate-template-or-groups", "vm_templates")),
        ],
    )
    .unwrap();
    let d = decide(&c, &facts(&[]), &[]);
    assert_eq!(d.recommendation, Recommendation::Review);
    assert_eq!(
        d.notes,
        [
            "`a` and `b` fit equally well (1 of 2); the facts that would decide (conditions not met): `own_clusters` = 0, \
          `vm_templates` = 0"
        ]
    );
}

fn rule(id: &str, verdict: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"{id}\"\nverdict = \"{verdict}\"\ncase = \"c\"\nrationale = \"r\"\nreference = \"u\"\n\
         [[conditions]]\nreason = \"big\"\nfact = \"members\"\nop = \">\"\nvalue = 10\n"
    )
}

#[test]
fn declared_facts_win_and_contradictions_name_both_sources() {
    use crate::rules::candidates::{Candidate, Declared};
    let c = Candidate {
        name: "ml".into(),
        display_name: "ML".into(),
        source: "group `ml`".into(),
        selector: Default::default(),
        members: vec![],
        declared: vec![
            Declared {
                fact: "own_platform_team".into(),
                value: b(false),
                because: "they left".into(),
                at: "c.toml:4:8".into(),
            },
            Declared {
                fact: "acquired".into(),
                value: b(true),
                because: "bought in 2024".into(),
                at: "c.toml:9:8".into(),
            },
        ],
        suppressed: vec![],
    };
    let mut f = facts(&[("own_platform_team", b(true))]);
    f.get_mut("own_platform_team")
        .unwrap()
        .evidence
        .push(crate::rules::facts::Evidence::new("`mlbox-gpu` written by `erik`"));
    f.insert("acquired".into(), Fact::unknown("declare it"));
    let contradictions = super::super::apply_declared(&c, &mut f);
    assert_eq!(contradictions.len(), 1, "only the fact whose derived value differs: {contradictions:?}");
    assert_eq!(
        contradictions[0].line(),
        "`own_platform_team` declared `false` at c.toml:4:8, derived `true` from the snapshot: \
         `mlbox-gpu` written by `erik`; the verdict uses the declared `false`"
    );
    assert_eq!(contradictions[0].because, "they left");
    // The derived evidence moves to the contradiction: the fact shows only what supports the value used.
    assert_eq!(contradictions[0].derived_evidence[0].text, "`mlbox-gpu` written by `erik`");
    assert_eq!(f["own_platform_team"].evidence.len(), 1);
    assert_eq!(f["own_platform_team"].evidence[0].at.as_deref(), Some("c.toml:4:8"));
    assert_eq!(f["own_platform_team"].value, Some(b(false)));
    assert_eq!(f["acquired"].value, Some(b(true)));
    assert_eq!(f["acquired"].evidence[0].at.as_deref(), Some("c.toml:9:8"));
}

/// A rule whose conditions all hold for the `regional` facts below, with more
/// of them than the multiple-regions case: alone it would win on count.
fn regional_org_rule() -> String {
    let mut text = rule("regional-org", "organization");
    for (fact, op, value) in [
        ("region_share", ">=", "90"),
        ("deployment_regions", ">=", "2"),
        ("contractor_share", "==", "0"),
        ("own_platform_team", "==", "false"),
        ("dedicated_templates", "==", "0"),
        ("shared_templates", ">=", "1"),
        ("restricted_templates", "==", "0"),
    ] {
        text.push_str(&format!(
            "[[conditions]]\nreason = \"{fact}\"\nfact = \"{fact}\"\nop = \"{op}\"\nvalue = {value}\n"
        ));
    }
    text
}

#[test]
fn region_shaped_candidates_are_scored_against_multiple_regions_first() {
    let c =
        Catalogue::load(&crate::rules::catalogue::builtin_files(), &[("x.toml".into(), regional_org_rule())]).unwrap();
    // Three departments' developers in one region (92%): region-shaped.
    let regional = [("region_share", n(92)), ("department_share", n(30)), ("members", n(300))];
    assert!(region_shaped(&facts(&regional)));
    let d = decide(&c, &facts(&regional), &[]);
    assert_eq!(d.best.as_ref().map(|m| m.rule.as_str()), Some("multiple-regions"), "{d:#?}");
    assert_eq!(d.recommendation, Recommendation::Case(Verdict::ProvisionersAndWorkspaceProxies));
    assert!(d.also.iter().any(|a| a.rule == "regional-org"), "the other case is still shown: {:?}", d.also);
    assert!(d.notes.iter().any(|n| n.contains("region-shaped") && n.contains("`regional-org`")), "{:?}", d.notes);
    // One team in one region is not region-shaped: the case with most conditions met wins.
    let team = [("region_share", n(92)), ("department_share", n(80)), ("members", n(300))];
    assert!(!region_shaped(&facts(&team)));
    assert_eq!(decide(&c, &facts(&team), &[]).best.unwrap().rule, "regional-org");
    // No region dominates (60%): not region-shaped either, whatever its departments.
    assert!(!region_shaped(&facts(&[("region_share", n(60)), ("department_share", n(30))])));
    // Unknown facts (no people CSV) are not region-shaped.
    let mut unknown = facts(&regional);
    unknown.insert("region_share".into(), Fact::unknown("no people"));
    assert!(!region_shaped(&unknown));
}

#[test]
fn a_region_shaped_candidate_that_fits_no_case_is_shown_the_multiple_regions_case_as_closest() {
    // 80% in one region, several departments, but one template of its own: no
    // case applies; the closest is multiple-regions, missing the template condition.
    let f = facts(&[
        ("region_share", n(80)),
        ("department_share", n(30)),
        ("dedicated_templates", n(1)),
        ("own_templates", n(1)),
        ("own_platform_team", b(true)),
    ]);
    let d = decide(&catalogue(), &f, &[]);
    assert_eq!(d.recommendation, Recommendation::NoClearCase, "{d:#?}");
    let nearest = d.nearest.expect("a closest case");
    assert_eq!(nearest.rule, "multiple-regions");
    let missing: Vec<&str> =
        nearest.conditions.iter().filter(|c| c.status != Status::Met).map(|c| c.reason.as_str()).collect();
    assert!(missing.contains(&"its members connect from one region"), "{missing:?}");
    assert!(missing.contains(&"on the same templates as everyone else"), "{missing:?}");
}
