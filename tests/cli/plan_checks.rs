//! The planning checks MegaCo's own split does not trigger, each on MegaCo
//! with a split (or a snapshot change) that does.

use std::collections::BTreeSet;
use std::path::Path;

use orgsplit::model::Snapshot;
use orgsplit::plan::{Action, Finding, Plan, Severity, StepSpec};

fn megaco() -> Snapshot {
    orgsplit::fixture::builtin().unwrap()
}

fn plan(s: &Snapshot, orgs: &str) -> Plan {
    plan_with(s, "", orgs)
}

/// Plan `orgs` (TOML `[[organizations]]`) with extra `[migration]` settings.
fn plan_with(s: &Snapshot, migration: &str, orgs: &str) -> Plan {
    let text = format!(
        "format_version = 1\n[migration]\nwiki = \"https://wiki.example.com/m\"\ndeadline = \"2025-03-31\"\n{migration}\n{orgs}"
    );
    let doc = orgsplit::split::load(&text, Path::new("split.toml")).unwrap();
    orgsplit::plan::plan(s, &doc, text.as_bytes()).unwrap()
}

fn findings<'p>(p: &'p Plan, code: &str) -> Vec<&'p Finding> {
    p.findings.iter().filter(|f| f.code == code).collect()
}

fn deprecates(p: &Plan, template: &str) -> bool {
    p.steps.iter().any(|s| matches!(&s.spec, StepSpec::Deprecation(d) if d.template_name == template))
}

#[test]
fn users_left_behind_keep_the_template_and_dormancy_is_flagged() {
    // The platform team takes the shared k8s-dev template with it: everyone else still uses it.
    let s = megaco();
    let p = plan(&s, "[[organizations]]\nname = \"platform\"\ngroups = [\"platform\"]\ntemplates = [\"k8s-dev\"]\n");
    assert!(!deprecates(&p, "k8s-dev"), "never deprecated while people stay behind on it");
    let left = findings(&p, "users-left-behind");
    assert_eq!(left.len(), 1);
    // Those left behind: everyone with a live k8s-dev workspace who is not in the platform team
    // (the template's other grantees are the platform team and a site-admin bot without workspaces).
    let platform = &s.groups.iter().find(|g| g.name == "platform").unwrap().members;
    let want: BTreeSet<&str> = s
        .workspaces
        .iter()
        .filter(|w| w.template_name == "k8s-dev" && !w.is_deleted_or_deleting() && !platform.contains(&w.owner_id))
        .map(|w| w.owner_name.as_str())
        .collect();
    let have: BTreeSet<&str> = left[0].affects.iter().filter(|a| a.kind == "user").map(|a| a.name.as_str()).collect();
    assert_eq!(have, want);
    // The platform team's own k8s-dev workspaces still move, and auto-delete could take them meanwhile.
    assert_eq!(p.workspace_migrations.len(), 12);
    let dormancy = findings(&p, "dormancy-auto-delete");
    assert_eq!((dormancy.len(), dormancy[0].severity), (1, Severity::Risk));
    assert!(
        dormancy[0].message.contains("after 30 days idle and deletes them 14 days later"),
        "{}",
        dormancy[0].message
    );
    assert!(
        dormancy[0]
            .help
            .as_deref()
            .unwrap()
            .contains("coder templates edit --dormancy-auto-deletion 0 -O coder -y -- k8s-dev")
    );
}

#[test]
fn keep_in_default_leaves_the_shared_template_where_it_is() {
    let s = megaco();
    let orgs = "[[organizations]]\nname = \"payments\"\ngroups = [\"payments\"]\ntemplates = [\"payments-k8s\"]\n\
                [[organizations]]\nname = \"checkout\"\ngroups = [\"checkout\"]\ntemplates = [\"checkout-k8s\"]\n";
    let duplicate = plan(&s, orgs);
    assert!(deprecates(&duplicate, "payments-k8s"));
    assert!(duplicate.step("checkout/template/payments-k8s").is_some());
    let keep = plan_with(&s, "shared_templates = \"keep-in-default\"", orgs);
    assert!(!deprecates(&keep, "payments-k8s"), "checkout's developers keep using it in the default org");
    assert!(keep.step("checkout/template/payments-k8s").is_none(), "no copy for checkout");
    assert!(keep.step("payments/template/payments-k8s").is_some());
    assert_eq!(findings(&keep, "shared-template").len(), 1);
    let sandboxes = keep.workspace_migrations.iter().filter(|m| m.old.name == "payments-sandbox").count();
    assert_eq!(sandboxes, 0, "checkout's sandboxes stay");
}

#[test]
fn role_sync_owns_the_roles_of_oidc_users() {
    let p = plan(
        &megaco(),
        "[[organizations]]\nname = \"ml\"\ngroups = [\"ml\"]\nadmins = [\"erik-lee\"]\n\
         role_sync = { field = \"memberOf\", mapping = { coder-nobody = [\"organization-auditor\"] } }\n",
    );
    let refused = findings(&p, "idp-sync-owns-roles");
    assert_eq!((refused.len(), refused[0].severity), (1, Severity::Risk));
    assert_eq!(refused[0].affects[0].name, "erik-lee");
    let step = p.step("ml/member/erik-lee").unwrap();
    let StepSpec::Member(m) = &step.spec else { unreachable!() };
    assert!(m.roles.is_empty(), "the server would refuse organization-admin: the plan does not pretend");
    assert!(matches!(m.roles_by, orgsplit::plan::ManagedBy::IdpSync { .. }));
    assert!(matches!(m.membership_by, orgsplit::plan::ManagedBy::IdpSync { .. }), "MegaCo runs org sync");
}

#[test]
fn an_org_without_a_provisioner_key_is_a_risk() {
    let p = plan(
        &megaco(),
        "[[organizations]]\nname = \"raptix\"\ngroups = [\"raptix\"]\ntemplates = [\"raptix-*\"]\nprovisioner_key = \"\"\n",
    );
    assert!(p.steps.iter().all(|s| !matches!(s.spec, StepSpec::ProvisionerKey(_))));
    let none = findings(&p, "no-provisioner-key");
    assert_eq!((none.len(), none[0].severity), (1, Severity::Risk));
    assert!(none[0].message.contains("raptix-ec2, raptix-eks"), "{}", none[0].message);
}

#[test]
fn new_workspace_names_avoid_the_owners_other_workspaces() {
    let mut s = megaco();
    // A Raptix developer already has a workspace named what the plan would pick.
    let owner =
        s.workspaces.iter().find(|w| w.template_name == "raptix-eks" && w.name == "dev").unwrap().owner_id.clone();
    let other = s.workspaces.iter_mut().find(|w| w.owner_id == owner && w.name != "dev").unwrap();
    other.name = "dev-raptix".into();
    let other_id = other.id.clone();
    s.canonicalize();
    let p = plan(&s, "[[organizations]]\nname = \"raptix\"\ngroups = [\"raptix\"]\ntemplates = [\"raptix-*\"]\n");
    let mine: Vec<_> = p.workspace_migrations.iter().filter(|m| m.owner.user_id == owner).collect();
    let dev = mine.iter().find(|m| m.old.name == "dev").unwrap();
    assert_eq!(dev.new.workspace_name, "dev-raptix-2");
    assert!(dev.new.name_note.as_deref().unwrap().contains("is taken by another of the owner's workspaces"));
    if let Some(m) = mine.iter().find(|m| m.old.workspace_id == other_id) {
        assert_eq!(m.new.workspace_name, "dev-raptix-raptix");
    }
    assert_eq!(findings(&p, "workspace-name-adjusted").len(), 1);
}

#[test]
fn an_existing_org_and_group_are_updated_never_recreated() {
    let s = megaco();
    let first = plan(&s, "[[organizations]]\nname = \"ml\"\ngroups = [\"ml\"]\ntemplates = [\"mlbox-*\"]\n");
    let mut after = orgsplit::plan::expected_after(&s, &first).unwrap();
    // Someone renamed the org's display name meanwhile: the plan sets it back, as an update.
    after.organizations.iter_mut().find(|o| o.name == "ml").unwrap().display_name = "Renamed".into();
    let again = plan(&after, "[[organizations]]\nname = \"ml\"\ngroups = [\"ml\"]\ntemplates = [\"mlbox-*\"]\n");
    let org = again.step("ml/organization/ml").unwrap();
    assert_eq!(org.action, Action::Update);
    assert_eq!(org.changes, ["display name: `Renamed` -> `ml`"]);
    assert!(again.steps.iter().filter(|s| s.key != org.key).all(|s| s.action == Action::NoOp));
    assert_eq!(findings(&again, "org-exists").len(), 1);
    assert_eq!(findings(&again, "group-exists").len(), 1);
}

#[test]
fn changing_the_org_sync_claim_is_a_risk_and_assign_default_stays_on() {
    let s = megaco();
    let text = "format_version = 1\n[migration]\nwiki = \"https://wiki.example.com/m\"\ndeadline = \"2025-03-31\"\n\
                [org_sync]\nfield = \"groups\"\nassign_default = false\n\
                [[organizations]]\nname = \"ml\"\ngroups = [\"ml\"]\norg_sync_claims = [\"coder-ml\"]\n";
    let doc = orgsplit::split::load(text, Path::new("split.toml")).unwrap();
    let p = orgsplit::plan::plan(&s, &doc, text.as_bytes()).unwrap();
    assert_eq!(findings(&p, "org-sync-field-changes")[0].severity, Severity::Risk);
    assert_eq!(findings(&p, "org-sync-assign-default-kept")[0].severity, Severity::Risk);
    let step = p.step("(deployment)/organization-sync/groups").unwrap();
    let StepSpec::OrganizationSync(o) = &step.spec else { unreachable!() };
    assert!(o.assign_default, "never turned off: users would leave the org their old workspaces are in");
    assert_eq!(o.add["coder-ml"], ["ml"]);
    assert!(step.changes.contains(&"claim field `memberOf` -> `groups`".to_string()), "{:?}", step.changes);
}

#[test]
fn a_user_in_two_new_orgs_has_each_workspace_follow_its_template() {
    // `aaa` sorts first and holds one checkout developer who also works on a
    // payments-k8s sandbox; payments-k8s goes to `payments` and is duplicated
    // for `checkout`, where most of its other users are.
    let s = megaco();
    let checkout = &s.groups.iter().find(|g| g.name == "checkout").unwrap().members;
    let w = s
        .workspaces
        .iter()
        .find(|w| w.template_name == "payments-k8s" && !w.is_deleted_or_deleting() && checkout.contains(&w.owner_id))
        .unwrap();
    let orgs = format!(
        "[[organizations]]\nname = \"aaa\"\nusers = [\"{}\"]\n\
         [[organizations]]\nname = \"payments\"\ngroups = [\"payments\"]\ntemplates = [\"payments-k8s\"]\n\
         [[organizations]]\nname = \"checkout\"\ngroups = [\"checkout\"]\ntemplates = [\"checkout-k8s\"]\n",
        w.owner_name
    );
    let p = plan(&s, &orgs);
    let moved = p.workspace_migrations.iter().find(|m| m.old.workspace_id == w.id).unwrap();
    assert_eq!(moved.new.org, "checkout", "where the template's users are, not the org that sorts first");
    // Their checkout-k8s workspaces go to checkout, the org listing it.
    for m in p.workspace_migrations.iter().filter(|m| m.owner.username == w.owner_name) {
        assert_ne!(m.new.org, "aaa", "{m:?}");
    }
    let follow = findings(&p, "workspaces-follow-templates");
    assert_eq!(follow.len(), 1);
    assert!(follow[0].affects.iter().any(|a| a.name == w.owner_name), "{:?}", follow[0].affects);
    // Every deprecation message names exactly one destination.
    let names = ["aaa", "payments", "checkout"];
    for step in &p.steps {
        if let StepSpec::Deprecation(d) = &step.spec {
            let named = names.iter().filter(|n| d.message.to_lowercase().contains(&format!("the {n} "))).count();
            assert_eq!(named, 1, "{}", d.message);
            assert!(!d.message.contains(" or "), "{}", d.message);
        }
    }
    assert!(deprecates(&p, "payments-k8s"));
}
