//! The scoring's recommended split: one organization per candidate whose
//! verdict is an organization, with its groups, dedicated templates,
//! provisioner tags, workspace proxies and IdP sync, as a `SplitFile`; and
//! that file as commented TOML (`score --emit-split`), each org saying why
//! it is there. The dry-run report reuses both.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value as Toml};

use super::candidates::attribute_values;
use super::derive::{Context, job_tags};
use super::facts::Value;
use super::people::serves;
use super::rule::Verdict;
use super::score::Recommendation;
use super::{Scored, Scoring};
use crate::split::{FORMAT_VERSION, Migration, OrgSpec, OrgSync, SplitFile, SyncMapping};

/// A claim value held by at least this share of a candidate's members (and
/// by nobody else) identifies it for organization sync.
const CLAIM_COVERAGE: usize = 90;

/// The recommended split: organizations exactly for the candidates whose
/// recommendation is an organization, in the report's (name) order.
pub fn recommend_split(ctx: &Context, report: &Scoring) -> SplitFile {
    let org_sync = ctx.index.snapshot.idp_sync.organization.as_ref().filter(|o| !o.field.is_empty());
    let claims = org_sync.and_then(|o| attribute_values(ctx.index.snapshot, &o.field, true).ok()).unwrap_or_default();
    let mut used = BTreeSet::new();
    let organizations = recommended(report)
        .into_iter()
        .map(|s| {
            let name = unique(&mut used, &slug(&s.candidate.name));
            let joined: Vec<&Scored> =
                report.candidates.iter().filter(|o| o.merged_into.as_deref() == Some(&s.candidate.name)).collect();
            org_for(ctx, s, &joined, name, org_sync.map(|o| o.field.as_str()), &claims)
        })
        .collect();
    SplitFile {
        format_version: FORMAT_VERSION,
        migration: Migration::default(),
        org_sync: org_sync.map(|o| OrgSync { field: o.field.clone(), assign_default: o.organization_assign_default }),
        organizations,
        custom_roles: Vec::new(),
    }
}

/// The candidates that get an organization of their own, in the report's
/// order: those recommended as one, less those that join an overlapping one.
fn recommended(report: &Scoring) -> Vec<&Scored> {
    report
        .candidates
        .iter()
        .filter(|s| s.decision.recommendation.is_organization() && s.merged_into.is_none())
        .collect()
}

/// Everyone's selectors together: a candidate's, then those joining it.
fn union_selector(all: &[&Scored]) -> super::candidates::Selector {
    let mut sel = super::candidates::Selector::default();
    let add = |to: &mut Vec<String>, from: &[String]| {
        for x in from {
            if !to.contains(x) {
                to.push(x.clone());
            }
        }
    };
    for s in all {
        let from = &s.candidate.selector;
        add(&mut sel.groups, &from.groups);
        add(&mut sel.users, &from.users);
        for (k, v) in &from.claims {
            add(sel.claims.entry(k.clone()).or_default(), v);
        }
        for (k, v) in &from.people {
            add(sel.people.entry(k.clone()).or_default(), v);
        }
    }
    sel
}

fn org_for(
    ctx: &Context,
    s: &Scored,
    joined: &[&Scored],
    name: String,
    claim_field: Option<&str>,
    claims: &BTreeMap<String, BTreeSet<String>>,
) -> OrgSpec {
    let all: Vec<&Scored> = std::iter::once(s).chain(joined.iter().copied()).collect();
    let sel = &union_selector(&all);
    let mut dedicated: Vec<&super::TemplateUse> = Vec::new();
    for t in all.iter().flat_map(|x| x.templates.iter().filter(|t| t.dedicated)) {
        if !dedicated.iter().any(|d| d.name == t.name) {
            dedicated.push(t);
        }
    }
    let templates: Vec<String> = dedicated.iter().map(|t| t.name.clone()).collect();
    let mut authors: Vec<String> = dedicated
        .iter()
        .filter(|t| all.iter().any(|x| x.templates.iter().any(|u| u.name == t.name && u.by_member)))
        .map(|t| t.author.clone())
        .collect();
    authors.sort();
    authors.dedup();
    let mut roles = BTreeMap::new();
    if !authors.is_empty() {
        roles.insert("organization-template-admin".to_string(), authors);
    }
    let members: BTreeSet<&str> = all.iter().flat_map(|x| x.candidate.members.iter().map(String::as_str)).collect();
    let org_sync_claims = claims
        .iter()
        .filter(|(_, holders)| {
            let inside = holders.iter().filter(|h| members.contains(h.as_str())).count();
            inside == holders.len() && inside * 100 >= CLAIM_COVERAGE * members.len().max(1)
        })
        .map(|(v, _)| v.clone())
        .collect();
    OrgSpec {
        name,
        display_name: s.candidate.display_name.clone(),
        description: s.decision.best.as_ref().map_or(String::new(), |b| format!("{} (orgsplit score)", b.title)),
        groups: sel.groups.clone(),
        users: sel.users.clone(),
        claims: sel.claims.clone(),
        people: sel.people.clone(),
        templates,
        provisioner_tags: provisioner_tags(ctx, &dedicated),
        org_sync_claims: if claim_field.is_some() { org_sync_claims } else { Vec::new() },
        group_sync: group_sync(ctx, &sel.groups),
        roles,
        workspace_proxies: proxies(ctx, s),
        ..Default::default()
    }
}

/// Tags (other than owner and scope) that every dedicated template's active
/// version carries with one value, and no other template does.
fn provisioner_tags(ctx: &Context, dedicated: &[&super::TemplateUse]) -> BTreeMap<String, String> {
    let names: BTreeSet<&str> = dedicated.iter().map(|t| t.name.as_str()).collect();
    let mut out: BTreeMap<&str, &str> = BTreeMap::new();
    let mut clash = BTreeSet::new();
    for t in names.iter().flat_map(|n| ctx.templates_named(n)) {
        for (k, v) in job_tags(ctx.index, t) {
            if out.insert(k, v).is_some_and(|old| old != v) {
                clash.insert(k);
            }
        }
    }
    out.retain(|k, v| !clash.contains(k) && !ctx.tag_elsewhere((k, v), |t| !names.contains(t.name.as_str())));
    out.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The snapshot's group sync entries that map claims to these groups.
fn group_sync(ctx: &Context, groups: &[String]) -> Option<SyncMapping> {
    let ids: BTreeMap<&str, &str> = ctx
        .index
        .snapshot
        .groups
        .iter()
        .filter(|g| groups.contains(&g.name))
        .map(|g| (g.id.as_str(), g.name.as_str()))
        .collect();
    for sync in &ctx.index.snapshot.idp_sync.groups {
        let mapping: BTreeMap<String, Vec<String>> = sync
            .mapping
            .iter()
            .filter_map(|(claim, gids)| {
                let names: Vec<String> =
                    gids.iter().filter_map(|g| ids.get(g.as_str()).map(|n| n.to_string())).collect();
                (!names.is_empty()).then(|| (claim.clone(), names))
            })
            .collect();
        if !mapping.is_empty() {
            return Some(SyncMapping { field: sync.field.clone(), mapping });
        }
    }
    None
}

/// For "organization + workspace proxies": the proxies serving its region,
/// or the region's name when none does yet (the planner reports it).
fn proxies(ctx: &Context, s: &Scored) -> Vec<String> {
    if s.decision.recommendation != Recommendation::Case(Verdict::OrganizationWithWorkspaceProxies) {
        return Vec::new();
    }
    let Some(Value::Text(region)) = s.facts.get("dominant_region").and_then(|f| f.value.clone()) else {
        return Vec::new();
    };
    let serving: Vec<String> = ctx
        .index
        .snapshot
        .workspace_proxies
        .iter()
        .filter(|p| !p.deleted && serves(p, &region))
        .map(|p| p.name.clone())
        .collect();
    if serving.is_empty() { vec![region] } else { serving }
}

/// A valid Coder name: lowercase letters, digits, single hyphens, at most 32 characters.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(32).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "org".into() } else { out }
}

fn unique(used: &mut BTreeSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while !used.insert(name.clone()) {
        let suffix = format!("-{n}");
        name = format!("{}{suffix}", &base[..base.len().min(32 - suffix.len())]);
        n += 1;
    }
    name
}

/// The split as commented TOML: why each organization is there, and what to
/// check before planning. `orgsplit::split::parse` reads it back unchanged.
/// Built with `toml_edit`, which owns the quoting of names and values; the
/// comments ride on the items they precede or follow.
pub fn render_split(split: &SplitFile, report: &Scoring) -> String {
    let mut doc = DocumentMut::new();
    doc["format_version"] = toml_edit::value(i64::from(split.format_version));
    comment_before(
        &mut doc,
        "format_version",
        "# Draft split file written by `orgsplit score --emit-split`.\n\
         # One organization per candidate that a case of Coder's \"Organizations - best practices\" page\n\
         # calls a good fit. Review it, fill in [migration], then give it to `orgsplit plan`.\n",
    );

    let m = &split.migration;
    let mut migration = Table::new();
    migration["wiki"] = commented(
        m.wiki.as_str().into(),
        "  # the page that tells users how to move (linked from deprecation messages)",
    );
    migration["deadline"] = commented(m.deadline.as_str().into(), "  # YYYY-MM-DD");
    migration["deprecation_message"] = toml_edit::value(m.deprecation_message.as_str());
    migration["shared_templates"] = toml_edit::value(shared(split));
    migration.decor_mut().set_prefix("\n");
    doc["migration"] = Item::Table(migration);

    if let Some(sync) = &split.org_sync {
        let mut table = Table::new();
        table["field"] = toml_edit::value(sync.field.as_str());
        table["assign_default"] = toml_edit::value(sync.assign_default);
        table.decor_mut().set_prefix(format!(
            "\n# The deployment already syncs organizations from the IdP claim `{}`.\n",
            sync.field
        ));
        doc["org_sync"] = Item::Table(table);
    }

    let recommended = recommended(report);
    let mut organizations = ArrayOfTables::new();
    // A comment written after an org's last line goes before what follows.
    let mut after = String::new();
    for (i, org) in split.organizations.iter().enumerate() {
        // `recommend_split` keeps the report's order, so the i-th org is the i-th recommended candidate.
        let scored = recommended.get(i).copied().filter(|s| s.candidate.display_name == org.display_name);
        let (mut table, left) = org_table(split, org, scored, &recommended, report);
        let prefix = table.decor().prefix().and_then(|p| p.as_str()).unwrap_or("").to_string();
        table.decor_mut().set_prefix(format!("{after}{prefix}"));
        after = left;
        organizations.push(table);
    }
    if !organizations.is_empty() {
        doc["organizations"] = Item::ArrayOfTables(organizations);
    }
    doc.set_trailing(after);
    doc.to_string()
}

/// One `[[organizations]]` entry, preceded by why it is there, and any
/// comment left to write after its last line.
fn org_table(
    split: &SplitFile,
    org: &OrgSpec,
    scored: Option<&Scored>,
    orgs: &[&Scored],
    report: &Scoring,
) -> (Table, String) {
    let mut t = Table::new();
    let mut why_text = String::from("\n");
    if let Some(s) = scored {
        why(&mut why_text, s, orgs, report);
    }
    t.decor_mut().set_prefix(why_text);
    t["name"] = toml_edit::value(org.name.as_str());
    t["display_name"] = toml_edit::value(org.display_name.as_str());
    t["description"] = toml_edit::value(org.description.as_str());
    list(&mut t, "groups", &org.groups);
    list(&mut t, "users", &org.users);
    table_of_lists(&mut t, "claims", &org.claims);
    table_of_lists(&mut t, "people", &org.people);
    list(&mut t, "templates", &org.templates);
    let tags: InlineTable = org.provisioner_tags.iter().map(|(k, v)| (k.as_str(), Toml::from(v.as_str()))).collect();
    t["provisioner_tags"] = inline(tags);
    if org.provisioner_tags.is_empty() {
        comment_before(
            &mut t,
            "provisioner_tags",
            "# no provisioner tags are dedicated to it today: its own provisioner key serves its jobs\n",
        );
    }
    t["admins"] = commented(Array::new().into(), "  # choose who administers it");
    table_of_lists(&mut t, "roles", &org.roles);
    list(&mut t, "org_sync_claims", &org.org_sync_claims);
    // Said where `org_sync_claims` would be; as it is empty, before the next line.
    let mut pending = match (&split.org_sync, org.org_sync_claims.is_empty()) {
        (Some(sync), true) => format!(
            "# no `{}` value is held by {CLAIM_COVERAGE}% of its members and by nobody else: organization sync needs one\n",
            sync.field
        ),
        _ => String::new(),
    };
    if let Some(g) = &org.group_sync {
        let mapping: InlineTable = g.mapping.iter().map(|(k, v)| (k.as_str(), Toml::Array(array(v)))).collect();
        let mut sync = InlineTable::new();
        sync.insert("field", g.field.as_str().into());
        sync.insert("mapping", Toml::InlineTable(mapping));
        t["group_sync"] = inline(sync);
        comment_before(&mut t, "group_sync", &std::mem::take(&mut pending));
    }
    if !org.workspace_proxies.is_empty() {
        proxy_note(&mut pending, org, scored);
        list(&mut t, "workspace_proxies", &org.workspace_proxies);
        comment_before(&mut t, "workspace_proxies", &std::mem::take(&mut pending));
    }
    (t, pending)
}
fn why(out: &mut String, s: &Scored, orgs: &[&Scored], report: &Scoring) {
    let Some(best) = &s.decision.best else { return };
    let joined = report.candidates.iter().filter(|o| o.merged_into.as_deref() == Some(&s.candidate.name));
    let becomes_org = |name: &String| orgs.iter().any(|o| o.candidate.name == *name);
    let _ = writeln!(
        out,
        "# {}: {} ({} of {} conditions met).",
        s.candidate.display_name, best.title, best.met, best.total
    );
    for c in best.conditions.iter().filter(|c| c.status == super::score::Status::Met) {
        let _ = writeln!(out, "#   - {}", c.reason);
    }
    for j in joined {
        let _ = writeln!(
            out,
            "#   also holds `{}` ({} members), which overlaps it (shared members or templates) and agrees",
            j.candidate.name, j.members
        );
    }
    let shared = &s.conflicts.shared_templates;
    for t in shared.iter().filter(|t| !t.dedicated_to.contains(&s.candidate.name)) {
        let owners: Vec<String> = t.dedicated_to.iter().filter(|d| becomes_org(d)).map(|d| format!("`{d}`")).collect();
        if !owners.is_empty() {
            let _ = writeln!(
                out,
                "#   note: {} of its members use `{}`, which goes to {}; add it to `templates` to re-create it here too",
                t.members,
                t.template,
                owners.join(", ")
            );
        }
    }
    for t in shared.iter().filter(|t| t.dedicated_to.contains(&s.candidate.name)) {
        let who: Vec<String> =
            t.other_candidates.iter().take(5).map(|o| format!("{} {}", o.candidate, o.users)).collect();
        let _ = writeln!(
            out,
            "#   note: `{}` is also used by (or granted to) {} people outside it: {}",
            t.template,
            t.outside_users,
            if who.is_empty() { "in no candidate".to_string() } else { who.join(", ") }
        );
    }
}

fn proxy_note(out: &mut String, org: &OrgSpec, scored: Option<&Scored>) {
    let fact = scored.and_then(|s| s.facts.get("region_has_proxy"));
    if fact.and_then(|f| f.value.clone()) == Some(Value::Bool(false)) {
        let seen = fact.and_then(|f| f.evidence.first()).map_or(String::new(), |e| format!(" ({})", e.text));
        let _ = writeln!(
            out,
            "# workspace proxies near its users answer the latency; none serves {} yet{seen}:\n\
             # deploy one there and put its name here (until then this names the region)",
            org.workspace_proxies.join(", ")
        );
    }
}

fn shared(split: &SplitFile) -> &'static str {
    match split.migration.shared_templates {
        crate::split::SharedTemplates::Duplicate => "duplicate",
        crate::split::SharedTemplates::KeepInDefault => "keep-in-default",
    }
}

/// `value` with a comment after it on its line.
fn commented(mut value: Toml, comment: &str) -> Item {
    value.decor_mut().set_suffix(comment);
    Item::Value(value)
}

/// Comment lines (each ending in a newline) before the line of `key`.
fn comment_before(table: &mut Table, key: &str, comment: &str) {
    if let Some(mut k) = table.key_mut(key) {
        let before = k.leaf_decor().prefix().and_then(|p| p.as_str()).unwrap_or("").to_string();
        k.leaf_decor_mut().set_prefix(format!("{before}{comment}"));
    }
}

fn array(items: &[String]) -> Array {
    let mut a: Array = items.iter().map(String::as_str).collect();
    a.fmt();
    a
}

fn inline(mut t: InlineTable) -> Item {
    t.fmt();
    Item::Value(Toml::InlineTable(t))
}

fn list(table: &mut Table, name: &str, items: &[String]) {
    if !items.is_empty() {
        table[name] = Item::Value(Toml::Array(array(items)));
    }
}

fn table_of_lists(table: &mut Table, name: &str, map: &BTreeMap<String, Vec<String>>) {
    if !map.is_empty() {
        let entries: InlineTable = map.iter().map(|(k, v)| (k.as_str(), Toml::Array(array(v)))).collect();
        table[name] = inline(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_coder_names() {
        assert_eq!(slug("Raptix Engineering"), "raptix-engineering");
        assert_eq!(slug("--Off-shore / APAC--"), "off-shore-apac");
        assert_eq!(slug("a".repeat(40).as_str()).len(), 32);
        assert_eq!(slug("???"), "org");
        let mut used = BTreeSet::new();
        assert_eq!(unique(&mut used, "x"), "x");
        assert_eq!(unique(&mut used, "x"), "x-2");
    }

    #[test]
    fn awkward_names_read_back_as_they_were() {
        let mut t = Table::new();
        let awkward = ["a \"b\" \\ c\n", "it's", "tab\there", "\u{7}bell", "'''"];
        list(&mut t, "groups", &awkward.map(String::from));
        let roles: BTreeMap<String, Vec<String>> =
            [("a b".to_string(), vec!["x\"y".to_string()]), ("memberOf".to_string(), vec![])].into();
        table_of_lists(&mut t, "roles", &roles);
        let mut doc = DocumentMut::new();
        doc["o"] = Item::Table(t);
        let text = doc.to_string();
        let back: toml::Table = toml::from_str(&text).unwrap();
        let groups: Vec<&str> = back["o"]["groups"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(groups, awkward);
        assert_eq!(back["o"]["roles"]["a b"][0].as_str(), Some("x\"y"));
        assert!(text.contains("memberOf = []"), "{text}");
        assert!(!text.contains('\u{7}'), "a control character is escaped: {text}");
    }
}
