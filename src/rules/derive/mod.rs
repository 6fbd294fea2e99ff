//! Facts about candidates, derived from the snapshot with their evidence:
//! size, which templates they use and who wrote them, the infrastructure in
//! those templates' sources compared with the rest of the deployment, and
//! (in `people.rs`) what the people attributes say. Declared facts from a
//! candidates file are applied last, with a warning where they contradict.

use foldhash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};

use super::candidates::Candidate;
use super::facts::{Evidence, Fact, Facts, Value, sample};
use crate::model::Signal;

/// How a candidate uses one template.
#[derive(Debug, Clone)]
pub struct Usage {
    pub template: String,
    /// Members among the template's users.
    pub members: usize,
    /// All the template's users.
    pub users: usize,
    pub dedicated: bool,
}

/// A template whose users are at least this share (%) of the deployment's
/// template users is central: nobody's own.
pub const CENTRAL_SHARE: usize = 50;
/// A candidate's own template: its members are more than this share (%) of the template's users...
pub const OWN_SHARE: usize = 50;
/// ...and that share is at least this many times its share of the deployment's template users (lift).
pub const OWN_LIFT: usize = 2;

/// A template several candidates would own goes to the smallest of those
/// holding at least this share (%) of the users the best-covering one holds.
pub const COVER_SHARE: usize = 67;

/// A template whose users come from at least this many departments (people
/// CSV), each at least `SPREAD_SHARE` (%) of its users, none of them half or
/// more, is central: nobody's own (a team's template its neighbours also use
/// stays the team's).
pub const SPREAD_DEPARTMENTS: usize = 3;
pub const SPREAD_SHARE: usize = 10;

/// How `orgsplit rules explain` states the definition.
pub const DEDICATION: &str = "A candidate's own (dedicated) template: its members are more than 50% of the \
template's users (live workspace owners and ACL grants), and that share is at least twice the candidate's share of \
all users who use a template (a lift of 2), so a group holding half the deployment owns no template by being \
large. A template is central and nobody's own when at least 50% of those users use it, or when its users come from \
at least 3 departments (the people CSV's `department` column) that are each at least 10% of them and none half of \
them: a group cut across teams (a region, a guild) then owns no template the teams share. A variant of another template (the same \
source except variable and parameter defaults, tags and names) is nobody's own either: it inherits the other's \
infrastructure. When a template is the own template of several candidates (a team and a group containing it), it \
is credited to the smallest of those holding at least 67% as many of its users as the one holding most: a team \
rather than the department around it, and rather than its on-call group holding half of its users. Own platform team: its members wrote templates that are its own, or it is the smallest \
candidate holding the author of a central template (the central platform team); a variant's author, or a larger \
group around the central team, has none.";

/// Whether a template with `users` users, `members` of them a candidate's
/// (of `size` members), is the candidate's own among `active` template users.
pub fn is_own(members: usize, users: usize, size: usize, active: usize) -> bool {
    let central = active > 0 && users * 100 >= CENTRAL_SHARE * active;
    // members / users >= OWN_LIFT * size / active, without division.
    let lift = members * active >= OWN_LIFT * size * users;
    members * 100 > OWN_SHARE * users && lift && !central
}

mod context;
pub use context::{Context, Variant, job_tags};

/// Derive every fact for one candidate. `dedicated_anywhere` holds the
/// templates dedicated to some candidate (for `shared_templates`).
/// `central_written` holds the central templates (nobody's own, not
/// variants) whose authors this candidate is the smallest to hold (see
/// [`central_authors`]).
pub fn facts(
    ctx: &Context,
    c: &Candidate,
    usage: &[Usage],
    dedicated_anywhere: &BTreeSet<String>,
    central_written: &[&str],
) -> Facts {
    let mut f = Facts::new();
    let members = Members(&c.members);
    size_facts(ctx, &members, &mut f);
    template_facts(ctx, &members, usage, dedicated_anywhere, central_written, &mut f);
    let dedicated: Vec<&str> = usage.iter().filter(|u| u.dedicated).map(|u| u.template.as_str()).collect();
    source_facts(ctx, &dedicated, &mut f);
    acl_facts(ctx, &members, &dedicated, &mut f);
    idp_fact(ctx, c, &mut f);
    ctx.people.facts(&c.members, &ctx.index.snapshot.workspace_proxies, &mut f);
    for name in ["acquired", "data_sovereignty", "privacy_concerns"] {
        f.insert(name.into(), Fact::unknown("no export shows it: declare it in a candidates file"));
    }
    f
}

/// A candidate's members (user ids, sorted and unique, as candidates keep
/// them), looked up by binary search: a set built for each of a thousand
/// candidates cost more than the lookups it saved.
pub struct Members<'a>(pub &'a [String]);

impl<'a> Members<'a> {
    pub fn contains(&self, id: &str) -> bool {
        self.0.binary_search_by(|m| m.as_str().cmp(id)).is_ok()
    }

    /// In id order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.0.iter().map(String::as_str)
    }
}

fn number(f: &mut Facts, name: &str, n: usize, evidence: Vec<Evidence>) {
    f.insert(name.into(), Fact::derived(Value::Number(n as i64), evidence));
}

fn size_facts(ctx: &Context, members: &Members, f: &mut Facts) {
    let names: Vec<&str> = members.iter().map(|m| ctx.index.username(m)).collect();
    let active: Vec<&str> = members
        .iter()
        .filter(|m| ctx.index.user_by_id.get(*m).is_some_and(|u| u.is_active()))
        .map(|m| ctx.index.username(m))
        .collect();
    let active_names: HashSet<&str> = active.iter().copied().collect();
    let inactive: Vec<&str> = names.iter().copied().filter(|n| !active_names.contains(n)).collect();
    number(f, "members", names.len(), vec![Evidence::new(format!("users: {}", sample(&names, 5)))]);
    number(f, "active_members", active.len(), vec![]);
    let ev = if inactive.is_empty() {
        vec![]
    } else {
        vec![Evidence::new(format!("suspended or dormant: {}", sample(&inactive, 5)))]
    };
    number(f, "inactive_members", inactive.len(), ev);
}

fn template_facts(
    ctx: &Context,
    members: &Members,
    usage: &[Usage],
    dedicated_anywhere: &BTreeSet<String>,
    central_written: &[&str],
    f: &mut Facts,
) {
    let line = |u: &Usage| {
        let t = ctx.template(&u.template);
        let author = t.map_or("?", |t| t.created_by_name.as_str());
        Evidence::new(format!(
            "`{}`: {} of its {} users are members; written by `{author}`",
            ctx.template_name(&u.template),
            u.members,
            u.users
        ))
    };
    let authored_by_member =
        |u: &Usage| ctx.template(&u.template).is_some_and(|t| members.contains(t.created_by_id.as_str()));
    let used_names: Vec<String> = usage.iter().map(|u| ctx.template_name(&u.template)).collect();
    number(f, "templates_used", usage.len(), vec![Evidence::new(format!("templates: {}", sample(&used_names, 8)))]);
    let dedicated: Vec<&Usage> = usage.iter().filter(|u| u.dedicated).collect();
    number(f, "dedicated_templates", dedicated.len(), dedicated.iter().map(|u| line(u)).collect());
    let own: Vec<&Usage> = dedicated.iter().copied().filter(|u| authored_by_member(u)).collect();
    number(f, "own_templates", own.len(), own.iter().map(|u| line(u)).collect());
    let central: Vec<&Usage> = dedicated.iter().copied().filter(|u| !authored_by_member(u)).collect();
    number(f, "central_dedicated_templates", central.len(), central.iter().map(|u| line(u)).collect());
    let shared: Vec<String> = usage
        .iter()
        .filter(|u| !dedicated_anywhere.contains(&u.template))
        .map(|u| ctx.template_name(&u.template))
        .collect();
    number(
        f,
        "shared_templates",
        shared.len(),
        vec![Evidence::new(if shared.is_empty() {
            "no deployment-wide template".to_string()
        } else {
            format!("deployment-wide templates: {}", sample(&shared, 8))
        })],
    );
    // A platform team of its own writes templates that are its own, or is the
    // team writing the central templates (credited to the smallest candidate
    // holding their authors). Writing a variant, or a central template as a
    // few members of a larger group, is not running its own infrastructure.
    let mut ev: Vec<Evidence> = own.iter().map(|u| line(u)).collect();
    for t in central_written.iter().take(5) {
        let author = ctx.template(t).map_or("?", |t| t.created_by_name.as_str());
        ev.push(Evidence::new(format!(
            "`{}`: a central template (nobody's own) written by `{author}`, of no smaller candidate",
            ctx.template_name(t)
        )));
    }
    let yes = !own.is_empty() || !central_written.is_empty();
    if !yes {
        for u in usage.iter().filter(|u| authored_by_member(u)).take(3) {
            let mut e = line(u);
            let why = match ctx.variants.get(u.template.as_str()) {
                Some(v) => format!(", a variant of `{}`, so not its own", ctx.template_name(&v.of)),
                None => ", not its own".to_string(),
            };
            e.text.push_str(&why);
            ev.push(e);
        }
    }
    f.insert("own_platform_team".into(), Fact::derived(Value::Bool(yes), ev));
    variant_fact(ctx, usage, f);
    // Workspaces on templates that people outside the candidate also use.
    let outside: HashSet<&str> = usage.iter().filter(|u| u.users > u.members).map(|u| u.template.as_str()).collect();
    let (mut total, mut on_shared) = (0usize, 0usize);
    for m in members.iter() {
        for w in ctx.index.workspaces_of_user.get(m).into_iter().flatten().filter(|w| !w.is_deleted_or_deleting()) {
            total += 1;
            on_shared += usize::from(outside.contains(w.template_id.as_str()));
        }
    }
    let ev = Evidence::new(format!("{on_shared} of its members' {total} live workspaces"));
    number(f, "shared_workspace_share", percent(on_shared, total), vec![ev]);
}

/// For each candidate, the central templates whose authors it is the smallest
/// (then first by name) to hold: templates with users, dedicated to nobody,
/// not variants. The central platform team is then the team that writes the
/// central templates, not every group that happens to include one author.
pub fn central_authors<'a>(
    ctx: &Context<'a>,
    candidates: &[Candidate],
    of_user: &HashMap<&str, Vec<usize>>,
    dedicated_anywhere: &BTreeSet<String>,
) -> Vec<Vec<&'a str>> {
    let mut out = vec![Vec::new(); candidates.len()];
    for t in &ctx.index.snapshot.templates {
        let id = t.id.as_str();
        let used = ctx.template_users.get(id).is_some_and(|u| !u.is_empty());
        if !used || dedicated_anywhere.contains(id) || ctx.variants.contains_key(id) {
            continue;
        }
        let holders = of_user.get(t.created_by_id.as_str()).into_iter().flatten();
        if let Some(&i) = holders.min_by_key(|&&i| (candidates[i].members.len(), &candidates[i].name)) {
            out[i].push(id);
        }
    }
    out
}

/// Templates its members use that are variants of another template.
fn variant_fact(ctx: &Context, usage: &[Usage], f: &mut Facts) {
    let mut ev = Vec::new();
    for u in usage {
        if let Some(v) = ctx.variants.get(u.template.as_str()) {
            let differs = if v.lines.is_empty() { "nothing but names".to_string() } else { v.lines.join("; ") };
            ev.push(Evidence::new(format!(
                "`{}` is a variant of `{}` (differs in {differs})",
                ctx.template_name(&u.template),
                ctx.template_name(&v.of)
            )));
        }
    }
    number(f, "variant_templates", ev.len(), ev);
}

/// Signal kind -> the fact counting the candidate's own values of it.
const OWN_SIGNALS: &[(&str, &str)] = &[
    ("cloud_account", "own_cloud_accounts"),
    ("cluster", "own_clusters"),
    ("namespace", "own_namespaces"),
    ("image", "own_images"),
    ("module", "own_modules"),
    ("region", "own_regions"),
    ("provider", "own_providers"),
];

fn source_facts(ctx: &Context, dedicated: &[&str], f: &mut Facts) {
    if ctx.sources.is_empty() {
        for name in OWN_SIGNALS.iter().map(|s| s.1).chain(["gpu_templates", "vm_templates"]) {
            f.insert(
                name.into(),
                Fact::unknown("no template sources in the snapshot: import with `--template-sources DIR`"),
            );
        }
        return;
    }
    let mine: BTreeSet<&str> = dedicated.iter().copied().collect();
    let at = |t: &str, s: &Signal| {
        let folder = ctx.sources.get(t).map_or("", |src| src.path.as_str());
        format!("{folder}/{}:{}", s.file, s.line)
    };
    for (kind, fact) in OWN_SIGNALS {
        let mut values: BTreeMap<&str, Vec<Evidence>> = BTreeMap::new();
        for t in dedicated {
            for s in ctx.sources.get(t).map(|s| s.signals.as_slice()).unwrap_or_default() {
                if s.kind != *kind || (*kind == "module" && is_public_module(&s.value)) {
                    continue;
                }
                let users = &ctx.signal_templates[&(s.kind.as_str(), s.value.as_str())];
                if users.iter().all(|u| mine.contains(u)) {
                    let text = format!(
                        "{} `{}` in `{}`, in no other template",
                        kind.replace('_', " "),
                        s.value,
                        ctx.template_name(t)
                    );
                    values.entry(&s.value).or_default().push(Evidence::at(text, at(t, s)));
                }
            }
        }
        let evidence = values.values().flat_map(|e| e.first().cloned()).take(8).collect();
        number(f, fact, values.len(), evidence);
    }
    for (kind, fact) in [("gpu", "gpu_templates"), ("vm", "vm_templates")] {
        let mut evidence = Vec::new();
        for t in dedicated {
            let sigs = ctx.sources.get(t).map(|s| s.signals.as_slice()).unwrap_or_default();
            if let Some(s) = sigs.iter().find(|s| s.kind == kind) {
                evidence.push(Evidence::at(format!("`{}`: {kind} `{}`", ctx.template_name(t), s.value), at(t, s)));
            }
        }
        number(f, fact, evidence.len(), evidence);
    }
    let missing: Vec<String> =
        dedicated.iter().filter(|t| !ctx.sources.contains_key(*t)).map(|t| ctx.template_name(t)).collect();
    if !missing.is_empty() {
        let note = Evidence::new(format!("no source for dedicated templates {}", sample(&missing, 5)));
        for (_, fact) in OWN_SIGNALS {
            if let Some(x) = f.get_mut(*fact) {
                x.evidence.push(note.clone());
            }
        }
    }
}

/// Modules from a public registry say nothing about a team's own Terraform.
fn is_public_module(source: &str) -> bool {
    let parts: Vec<&str> = source.split('/').collect();
    source.starts_with("registry.")
        || (parts.len() == 3
            && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')))
}

fn acl_facts(ctx: &Context, members: &Members, dedicated: &[&str], f: &mut Facts) {
    let mut restricted = Vec::new();
    let mut unknown = 0;
    for t in dedicated.iter().filter_map(|t| ctx.template(t)) {
        let Some(acl) = &t.acl else {
            unknown += 1;
            continue;
        };
        let groups_inside = acl.group.iter().filter(|e| e.role == "use").all(|e| {
            ctx.index
                .group_by_id
                .get(e.id.as_str())
                .is_some_and(|g| !g.is_everyone() && g.members.iter().all(|m| members.contains(m.as_str())))
        });
        let everyone =
            acl.group.iter().any(|e| ctx.index.group_by_id.get(e.id.as_str()).is_none_or(|g| g.is_everyone()));
        let users_inside = acl.users.iter().filter(|e| e.role == "use").all(|e| members.contains(e.id.as_str()));
        if groups_inside && users_inside && !everyone {
            let granted: Vec<String> = acl
                .group
                .iter()
                .filter_map(|e| ctx.index.group_by_id.get(e.id.as_str()).map(|g| format!("{} ({})", g.name, e.role)))
                .collect();
            restricted.push(Evidence::new(format!(
                "`{}`: its ACL grants use only to its members (groups: {})",
                t.name,
                granted.join(", ")
            )));
        }
    }
    if unknown > 0 && unknown == dedicated.len() {
        f.insert("restricted_templates".into(), Fact::unknown("the export holds no ACL for its dedicated templates"));
    } else {
        number(f, "restricted_templates", restricted.len(), restricted);
    }
    // Provisioner tags on its dedicated templates' active versions and on no other template.
    let mut mine: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for t in dedicated.iter().filter_map(|t| ctx.template(t)) {
        for tag in job_tags(ctx.index, t) {
            mine.entry(tag).or_default().push(&t.name);
        }
    }
    let ids: HashSet<&str> = dedicated.iter().copied().collect();
    mine.retain(|tag, _| !ctx.tag_elsewhere(*tag, |t| !ids.contains(t.id.as_str())));
    let evidence = mine.iter().map(|((k, v), ts)| Evidence::new(format!("`{k}={v}` on {}", sample(ts, 5)))).collect();
    number(f, "dedicated_provisioner_tags", mine.len(), evidence);
}

fn idp_fact(ctx: &Context, c: &Candidate, f: &mut Facts) {
    // The groups a selector names: `name`, or `org/name` (any suffix after a `/`), in snapshot order.
    let mut at: BTreeSet<usize> = BTreeSet::new();
    for n in &c.selector.groups {
        let suffixes = n.match_indices('/').map(|(i, _)| &n[i + 1..]);
        for name in std::iter::once(n.as_str()).chain(suffixes) {
            at.extend(ctx.groups_by_name.get(name).into_iter().flatten());
        }
    }
    let all = &ctx.index.snapshot.groups;
    let groups: Vec<(&str, &str)> = at.iter().map(|&i| (all[i].name.as_str(), all[i].source.as_str())).collect();
    let claims = !c.selector.claims.is_empty();
    let synced = claims || (!groups.is_empty() && groups.iter().all(|g| g.1 == "oidc"));
    let mut ev: Vec<Evidence> =
        groups.iter().map(|(n, s)| Evidence::new(format!("group `{n}` has source `{s}`"))).collect();
    if claims {
        ev.push(Evidence::new("its members are chosen by IdP claim values"));
    }
    f.insert("idp_synced".into(), Fact::derived(Value::Bool(synced), ev));
}

/// Whole percent, rounded; 0 of 0 is 0.
pub fn percent(part: usize, whole: usize) -> usize {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_templates_need_a_lift_and_central_ones_are_nobodys() {
        // 1,000 template users. A 40-person team with 35 of a template's 40 users owns it.
        assert!(is_own(35, 40, 40, 1000));
        // A group of 540 (54% of users) holding 300 of a template's 400 users does not: lift 1.4.
        assert!(!is_own(300, 400, 540, 1000));
        // ...nor a template 600 people use (central), whatever the share.
        assert!(!is_own(590, 600, 900, 1000));
        // Half of the users is not more than half.
        assert!(!is_own(20, 40, 40, 1000));
        // Lift exactly 2 counts: 100 of 200 users... not more than half; 101 of 200 with 250 members of 1000.
        assert!(is_own(101, 200, 250, 1000) && !is_own(101, 200, 260, 1000));
    }

    #[test]
    fn public_modules_are_told_apart_from_private_ones() {
        assert!(is_public_module("registry.coder.com/modules/code-server/coder"));
        assert!(is_public_module("terraform-aws-modules/vpc/aws"));
        assert!(!is_public_module(
            "git::https://git.raptix.example/platform/terraform-modules.git//coder-ec2?ref=v3.4.1"
        ));
        assert!(!is_public_module("./modules/workspace"));
    }

    #[test]
    fn percent_rounds_and_survives_zero() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(0, 0), 0);
    }
}
