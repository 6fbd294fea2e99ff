//! One export file -> pieces in the collector.
//!
//! The kind comes from the content (see `probe.rs`); a saved-response
//! envelope `{"endpoint": ..., "body": ...}` adds what a bare body cannot
//! say, such as which template an ACL belongs to.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::collect::{Collected, Owned, merge};
use super::probe::{Element, Kind, Shape, classify, probe};
use crate::coder::types as wire;
use crate::error::Diagnostic;

/// What the envelope's endpoint says about its body's owner.
#[derive(Debug, Default, Clone)]
struct Context {
    org: Option<String>,
    template: Option<String>,
    workspace: Option<String>,
}

/// Where a body starts in its file, so errors inside it point at the file's lines.
#[derive(Debug, Clone, Copy)]
struct Base {
    line: usize,
    column: usize,
}

const TOP: Base = Base { line: 1, column: 1 };

/// Read one file's bytes into the collector. `name` is the file's path
/// relative to the export folder, used in messages and provenance.
#[cfg(test)]
pub fn read_file(name: &str, bytes: &[u8], c: &mut Collected) -> Result<(), Diagnostic> {
    parse_file(name, bytes).map(|steps| steps.apply(c))
}

/// What reading one file does to the collector, in order: the file is
/// decoded on any thread ([`parse_file`]), and its steps are applied in the
/// files' order on one, so an import reads the same whatever thread decoded what.
#[derive(Default)]
pub struct Steps(Vec<Step>);

type Step = Box<dyn FnOnce(&mut Collected) + Send>;

impl Steps {
    pub fn apply(self, c: &mut Collected) {
        for step in self.0 {
            step(c);
        }
    }

    fn then(&mut self, step: impl FnOnce(&mut Collected) + Send + 'static) {
        self.0.push(Box::new(step));
    }

    pub fn warn(&mut self, code: &'static str, message: impl Into<String>) {
        let message = message.into();
        self.then(move |c| c.warn(code, message));
    }

    fn note_file(&mut self, kind: &str, file: &str) {
        let (kind, file) = (kind.to_string(), file.to_string());
        self.then(move |c| c.note_file(&kind, &file));
    }
}

/// Decode one file: [`read_file`] without the collector, its steps to apply.
pub fn parse_file(name: &str, bytes: &[u8]) -> Result<Steps, Diagnostic> {
    let mut steps = Steps::default();
    read_into(name, bytes, &mut steps)?;
    Ok(steps)
}

fn read_into(name: &str, bytes: &[u8], c: &mut Steps) -> Result<(), Diagnostic> {
    let shape = probe(bytes).map_err(|e| Diagnostic::json(name, &e))?;
    if is_empty(&shape) {
        // `[]` or `{}`: nothing to import, whatever list it was.
        c.note_file("empty list", name);
        return Ok(());
    }
    let (kind, array) = match kind_of(&shape) {
        Found::Kind { kind, array, nulls } => {
            warn_nulls(name, nulls, c);
            (kind, array)
        }
        Found::Unknown => {
            c.warn(
                "unknown-file",
                format!(
                    "`{name}`: not a Coder API response or `coder ... -o json` output that orgsplit knows; skipped"
                ),
            );
            return Ok(());
        }
        Found::Odd(why) => {
            c.warn("unknown-file", format!("`{name}`: {why}; skipped"));
            return Ok(());
        }
    };
    match kind {
        Kind::Snapshot => {
            c.warn("unknown-file", format!("`{name}` is an orgsplit snapshot, not an export file; skipped"));
            Ok(())
        }
        Kind::Envelope => read_envelope(name, bytes, c),
        _ => add(kind, array, bytes, &Context::default(), name, TOP, c),
    }
}

fn warn_nulls(name: &str, nulls: usize, c: &mut Steps) {
    if nulls > 0 {
        c.warn("null-elements", format!("`{name}`: {nulls} `null` element(s) of the array passed over"));
    }
}

fn is_empty(shape: &Shape) -> bool {
    match shape {
        Shape::Array(elements) => elements.is_empty(),
        Shape::Object(mask) => *mask == Default::default(),
        Shape::Other => false,
    }
}

/// What a document holds, as far as its shape tells.
enum Found {
    /// A kind orgsplit reads; `array` when the document is an array of it.
    Kind { kind: Kind, array: bool, nulls: usize },
    /// Nothing orgsplit reads.
    Unknown,
    /// A shape orgsplit does not read, for the reason given.
    Odd(String),
}

/// The kind of a document, and whether it is an array of that kind. `null`
/// elements (Go's nil pointers) are passed over; any other element that is
/// not an object, or objects of two kinds, make a shape orgsplit does not read.
fn kind_of(shape: &Shape) -> Found {
    match shape {
        Shape::Object(m) => classify(*m).map_or(Found::Unknown, |kind| Found::Kind { kind, array: false, nulls: 0 }),
        Shape::Other => Found::Unknown,
        Shape::Array(elements) => {
            let mut found: Option<(usize, Kind)> = None;
            let mut not_object = None;
            for (i, e) in elements.iter().enumerate() {
                let mask = match e {
                    Element::Object(mask) => mask,
                    Element::Null => continue,
                    Element::Other => {
                        not_object.get_or_insert(i);
                        continue;
                    }
                };
                let Some(k) = classify(*mask) else { continue };
                match found {
                    None => found = Some((i, k)),
                    Some((first, k0)) if family(k0) != family(k) => {
                        return Found::Odd(format!(
                            "the array mixes kinds (element {first} is {k0}, element {i} is {k}); keep one kind of \
                             object per file"
                        ));
                    }
                    Some(_) => {}
                }
            }
            match (found, not_object) {
                (None, _) => Found::Unknown,
                (Some((_, k)), Some(i)) => Found::Odd(format!(
                    "an array of {k} whose element {i} is not an object; an export file is an API response body: \
                     an object, or an array of objects"
                )),
                (Some((_, kind)), None) => {
                    let nulls = elements.iter().filter(|e| **e == Element::Null).count();
                    Found::Kind { kind, array: true, nulls }
                }
            }
        }
    }
}

/// Page, row and single forms of one kind share a family.
fn family(k: Kind) -> Kind {
    match k {
        Kind::UsersPage => Kind::User,
        Kind::MembersPage => Kind::Member,
        Kind::WorkspacesPage => Kind::Workspace,
        Kind::GroupRow => Kind::Group,
        Kind::TemplateRow => Kind::Template,
        Kind::RegionsPage => Kind::WorkspaceProxy,
        Kind::ProvisionerKeyDaemons => Kind::ProvisionerKey,
        other => other,
    }
}

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    endpoint: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

fn read_envelope(name: &str, bytes: &[u8], c: &mut Steps) -> Result<(), Diagnostic> {
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(name, &e))?;
    let body = env.body.get().as_bytes();
    let base = base_of(bytes, body);
    let (route, ctx) = route(&env.endpoint);
    let shape = probe(body).map_err(|e| shift(Diagnostic::json(name, &e), base))?;
    let found = match kind_of(&shape) {
        Found::Kind { kind, array, nulls } => {
            warn_nulls(name, nulls, c);
            Some((kind, array))
        }
        Found::Unknown => None,
        Found::Odd(why) => {
            c.warn("unknown-file", format!("`{name}`: saved from `{}`: {why}; skipped", env.endpoint));
            return Ok(());
        }
    };
    let (kind, array) = match (route, found) {
        // Kinds told by their endpoint alone: a workspace ACL looks like a
        // template's, and sharing settings have nothing telling.
        (Some(r @ (Kind::WorkspaceAcl | Kind::WorkspaceSharing)), _) if matches!(shape, Shape::Object(_)) => (r, false),
        (Some(Kind::Experiments), _) if matches!(shape, Shape::Array(_)) => (Kind::Experiments, true),
        (Some(r), Some((k, array)))
            if family(k) == r || matches!((r, k), (Kind::ProvisionerKey, Kind::ProvisionerKeyDaemons)) =>
        {
            (k, array)
        }
        (Some(r), Some((k, _))) => {
            c.warn(
                "endpoint-shape-mismatch",
                format!(
                    "`{name}`: saved from `{}`, which answers {r}, but the body looks like {k}; skipped",
                    env.endpoint
                ),
            );
            return Ok(());
        }
        (Some(r), None) => match shape {
            // An empty list (or an object with nothing telling) from a known
            // endpoint: nothing to add, but the file is understood.
            Shape::Array(_) => (r, true),
            _ => {
                c.note_file(&r.to_string(), name);
                return Ok(());
            }
        },
        (None, Some((k, array))) => (k, array),
        (None, None) => {
            c.warn(
                "unknown-file",
                format!("`{name}`: saved from `{}`, which orgsplit does not read; skipped", env.endpoint),
            );
            return Ok(());
        }
    };
    add(kind, array, body, &ctx, name, base, c)
}

/// Line and column where `inner` (a slice of `outer`) starts.
fn base_of(outer: &[u8], inner: &[u8]) -> Base {
    let offset = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize).min(outer.len());
    let before = &outer[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    Base { line, column }
}

/// Move a diagnostic computed on a body to its place in the whole file.
fn shift(mut d: Diagnostic, base: Base) -> Diagnostic {
    if let Some(line) = d.line {
        if line == 1 {
            d.column = d.column.map(|c| c + base.column - 1);
        }
        d.line = Some(line + base.line - 1);
    }
    d
}

fn decode<T: DeserializeOwned>(bytes: &[u8], name: &str, base: Base) -> Result<T, Diagnostic> {
    serde_json::from_slice(bytes).map_err(|e| shift(Diagnostic::json(name, &e), base))
}

/// One object, or an array of them (its `null` elements passed over).
fn decode_many<T: DeserializeOwned>(array: bool, bytes: &[u8], name: &str, base: Base) -> Result<Vec<T>, Diagnostic> {
    if array {
        decode::<Vec<Option<T>>>(bytes, name, base).map(|v| v.into_iter().flatten().collect())
    } else {
        decode::<T>(bytes, name, base).map(|t| vec![t])
    }
}

#[derive(serde::Deserialize)]
struct TemplateRow {
    #[serde(rename = "Template")]
    template: wire::Template,
}

#[derive(serde::Deserialize)]
struct GroupRow {
    #[serde(rename = "Group")]
    group: wire::Group,
}

fn add(
    kind: Kind,
    array: bool,
    bytes: &[u8],
    ctx: &Context,
    name: &str,
    base: Base,
    steps: &mut Steps,
) -> Result<(), Diagnostic> {
    steps.note_file(&family(kind).to_string(), name);
    let (ctx, file) = (ctx.clone(), Arc::<str>::from(name));
    match kind {
        Kind::BuildInfo => {
            let b: wire::BuildInfo = decode(bytes, name, base)?;
            steps.then(move |c| c.build_info = Some(super::collect::Item { value: b, file }));
        }
        Kind::Entitlements => {
            let e: wire::Entitlements = decode(bytes, name, base)?;
            steps.then(move |c| c.entitlements = Some(super::collect::Item { value: e, file }));
        }
        Kind::Organization => {
            let orgs = decode_many::<wire::Organization>(array, bytes, name, base)?;
            steps.then(move |c| {
                for o in orgs {
                    merge(&mut c.organizations, &mut c.warnings, "organization", o.id.clone(), o, &file);
                }
            });
        }
        Kind::UsersPage => {
            let pages = decode_many::<wire::GetUsersResponse>(array, bytes, name, base)?;
            steps.then(move |c| {
                for page in pages {
                    c.note_count("users", page.count, &file);
                    add_users(page.users, &file, c);
                }
            });
        }
        Kind::User => {
            let users = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_users(users, &file, c));
        }
        Kind::MembersPage => {
            let pages = decode_many::<wire::PaginatedMembersResponse>(array, bytes, name, base)?;
            steps.then(move |c| {
                for page in pages {
                    add_members(page.members, &ctx, &file, c);
                }
            });
        }
        Kind::Member => {
            let members = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_members(members, &ctx, &file, c));
        }
        Kind::Group => {
            let groups = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_groups(groups, &ctx, &file, c));
        }
        Kind::GroupRow => {
            let rows: Vec<GroupRow> = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_groups(rows.into_iter().map(|r| r.group).collect(), &ctx, &file, c));
        }
        Kind::Template => {
            let templates = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_templates(templates, &file, c));
        }
        Kind::TemplateRow => {
            let rows: Vec<TemplateRow> = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_templates(rows.into_iter().map(|r| r.template).collect(), &file, c));
        }
        Kind::TemplateVersion => {
            let versions = decode_many::<wire::TemplateVersion>(array, bytes, name, base)?;
            steps.then(move |c| {
                for mut v in versions {
                    if v.template_id.is_empty() {
                        v.template_id = ctx.template.clone().unwrap_or_default();
                    }
                    merge(&mut c.versions, &mut c.warnings, "template version", v.id.clone(), v, &file);
                }
            });
        }
        Kind::TemplateAcl => {
            let acl: wire::TemplateAcl = decode(bytes, name, base)?;
            steps.then(move |c| c.acls.push(Owned { owner: ctx.template, value: acl, file: file.to_string() }));
        }
        Kind::WorkspaceAcl => {
            let acl: wire::WorkspaceAcl = decode(bytes, name, base)?;
            steps.then(move |c| {
                c.workspace_acls.push(Owned { owner: ctx.workspace, value: acl, file: file.to_string() })
            });
        }
        Kind::WorkspaceSharing => {
            let s: wire::WorkspaceSharingSettings = decode(bytes, name, base)?;
            steps.then(move |c| c.workspace_sharing.push(Owned { owner: ctx.org, value: s, file: file.to_string() }));
        }
        Kind::Experiments => {
            let list: Vec<String> = decode(bytes, name, base)?;
            steps.then(move |c| c.experiments.get_or_insert_with(Vec::new).extend(list));
        }
        Kind::WorkspacesPage => {
            let pages = decode_many::<wire::WorkspacesResponse>(array, bytes, name, base)?;
            steps.then(move |c| {
                for page in pages {
                    c.note_count("workspaces", page.count, &file);
                    add_workspaces(page.workspaces, &file, c);
                }
            });
        }
        Kind::Workspace => {
            let workspaces = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_workspaces(workspaces, &file, c));
        }
        Kind::ProvisionerDaemon => {
            let daemons = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_daemons(daemons, &ctx, &file, c));
        }
        Kind::ProvisionerKey => {
            let keys = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_keys(keys, &ctx, &file, c));
        }
        Kind::ProvisionerKeyDaemons => {
            let list = decode_many::<wire::ProvisionerKeyDaemons>(array, bytes, name, base)?;
            steps.then(move |c| {
                for kd in list {
                    // The pseudo keys (built-in, user-auth, psk) have fixed ids and
                    // are not real keys; their daemons still count.
                    if !is_pseudo_key(&kd.key) {
                        add_keys(vec![kd.key], &ctx, &file, c);
                    }
                    add_daemons(kd.daemons, &ctx, &file, c);
                }
            });
        }
        Kind::RegionsPage => {
            // The spec documents an array of these pages (the server sends one).
            let pages = decode_many::<wire::RegionsResponse>(array, bytes, name, base)?;
            steps.then(move |c| {
                for page in pages {
                    add_proxies(page.regions, &file, c);
                }
            });
        }
        Kind::WorkspaceProxy => {
            let proxies = decode_many(array, bytes, name, base)?;
            steps.then(move |c| add_proxies(proxies, &file, c));
        }
        Kind::Role => {
            let roles = decode_many::<wire::Role>(array, bytes, name, base)?;
            steps.then(move |c| {
                for mut r in roles {
                    if r.built_in {
                        continue;
                    }
                    if r.organization_id.is_empty() {
                        r.organization_id = ctx.org.clone().unwrap_or_default();
                    }
                    let key = (r.organization_id.clone(), r.name.clone());
                    merge(&mut c.roles, &mut c.warnings, "custom role", key, r, &file);
                }
            });
        }
        Kind::OrganizationSync => {
            let s: wire::OrganizationSyncSettings = decode(bytes, name, base)?;
            steps.then(move |c| c.org_sync = Some(super::collect::Item { value: s, file }));
        }
        Kind::GroupSync => {
            let s: wire::GroupSyncSettings = decode(bytes, name, base)?;
            steps.then(move |c| c.group_sync.push(Owned { owner: ctx.org, value: s, file: file.to_string() }));
        }
        Kind::RoleSync => {
            let s: wire::RoleSyncSettings = decode(bytes, name, base)?;
            steps.then(move |c| c.role_sync.push(Owned { owner: ctx.org, value: s, file: file.to_string() }));
        }
        Kind::Envelope | Kind::Snapshot => {
            return Err(Diagnostic::new(name, "a saved response cannot hold another saved response or a snapshot"));
        }
    }
    Ok(())
}

const PSEUDO_KEY_IDS: [&str; 3] = [
    "00000000-0000-0000-0000-000000000001",
    "00000000-0000-0000-0000-000000000002",
    "00000000-0000-0000-0000-000000000003",
];

fn is_pseudo_key(k: &wire::ProvisionerKey) -> bool {
    PSEUDO_KEY_IDS.contains(&k.id.as_str()) || matches!(k.name.as_str(), "built-in" | "user-auth" | "psk")
}

fn add_users(users: Vec<wire::User>, name: &Arc<str>, c: &mut Collected) {
    for u in users {
        merge(&mut c.users, &mut c.warnings, "user", u.id.clone(), u, name);
    }
}

fn add_members(members: Vec<wire::OrganizationMember>, ctx: &Context, name: &Arc<str>, c: &mut Collected) {
    if let Some(org) = &ctx.org {
        c.member_lists.insert(org.clone());
    }
    for mut m in members {
        if m.organization_id.is_empty() {
            m.organization_id = ctx.org.clone().unwrap_or_default();
        }
        c.member_lists.insert(m.organization_id.clone());
        let key = (m.organization_id.clone(), m.user_id.clone());
        merge(&mut c.members, &mut c.warnings, "organization member", key, m, name);
    }
}

fn add_groups(groups: Vec<wire::Group>, ctx: &Context, name: &Arc<str>, c: &mut Collected) {
    for mut g in groups {
        if g.organization_id.is_empty() {
            g.organization_id = ctx.org.clone().unwrap_or_default();
        }
        merge(&mut c.groups, &mut c.warnings, "group", g.id.clone(), g, name);
    }
}

fn add_templates(templates: Vec<wire::Template>, name: &Arc<str>, c: &mut Collected) {
    for t in templates {
        merge(&mut c.templates, &mut c.warnings, "template", t.id.clone(), t, name);
    }
}

fn add_workspaces(workspaces: Vec<wire::Workspace>, name: &Arc<str>, c: &mut Collected) {
    for w in workspaces {
        merge(&mut c.workspaces, &mut c.warnings, "workspace", w.id.clone(), w, name);
    }
}

fn add_daemons(daemons: Vec<wire::ProvisionerDaemon>, ctx: &Context, name: &Arc<str>, c: &mut Collected) {
    for mut d in daemons {
        if d.organization_id.is_empty() {
            d.organization_id = ctx.org.clone().unwrap_or_default();
        }
        merge(&mut c.daemons, &mut c.warnings, "provisioner daemon", d.id.clone(), d, name);
    }
}

fn add_keys(keys: Vec<wire::ProvisionerKey>, ctx: &Context, name: &Arc<str>, c: &mut Collected) {
    for mut k in keys {
        if k.organization.is_empty() {
            k.organization = ctx.org.clone().unwrap_or_default();
        }
        merge(&mut c.keys, &mut c.warnings, "provisioner key", k.id.clone(), k, name);
    }
}

fn add_proxies(proxies: Vec<wire::WorkspaceProxy>, name: &Arc<str>, c: &mut Collected) {
    for p in proxies {
        merge(&mut c.proxies, &mut c.warnings, "workspace proxy", p.id.clone(), p, name);
    }
}

/// Which kind an endpoint answers, and the org or template its path names.
/// Accepts a path (`/api/v2/...`) or a whole URL; the query is ignored.
fn route(endpoint: &str) -> (Option<Kind>, Context) {
    let path = endpoint.split(['?', '#']).next().unwrap_or_default();
    let path = match path.find("/api/v2/") {
        Some(i) => &path[i + "/api/v2/".len()..],
        None => path.trim_start_matches('/'),
    };
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let org = |i: usize| Context { org: s.get(i).map(|x| x.to_string()), ..Context::default() };
    let none = Context::default;
    let (kind, ctx) = match s.as_slice() {
        ["buildinfo"] => (Kind::BuildInfo, none()),
        ["entitlements"] => (Kind::Entitlements, none()),
        ["users"] | ["users", _] => (Kind::User, none()),
        ["workspaces"] | ["workspaces", _] | ["users", _, "workspace", _] => (Kind::Workspace, none()),
        ["organizations"] | ["organizations", _] | ["users", _, "organizations"] => (Kind::Organization, none()),
        ["organizations", _, "members" | "paginated-members"] => (Kind::Member, org(1)),
        ["organizations", _, "members", "roles"] => (Kind::Role, org(1)),
        ["organizations", _, "groups"] | ["organizations", _, "groups", _] => (Kind::Group, org(1)),
        ["groups"] | ["groups", _] => (Kind::Group, none()),
        ["templates", id, "acl"] => (Kind::TemplateAcl, Context { template: Some(id.to_string()), ..none() }),
        ["workspaces", id, "acl"] => (Kind::WorkspaceAcl, Context { workspace: Some(id.to_string()), ..none() }),
        ["organizations", _, "settings", "workspace-sharing"] => (Kind::WorkspaceSharing, org(1)),
        ["experiments"] => (Kind::Experiments, none()),
        ["templates", id, "versions"] | ["templates", id, "versions", _] => {
            (Kind::TemplateVersion, Context { template: Some(id.to_string()), ..none() })
        }
        ["templates"] | ["templates", _] => (Kind::Template, none()),
        ["organizations", _, "templates"] | ["organizations", _, "templates", _] => (Kind::Template, org(1)),
        ["templateversions", _] => (Kind::TemplateVersion, none()),
        ["organizations", _, "provisionerkeys"] | ["organizations", _, "provisionerkeys", "daemons"] => {
            (Kind::ProvisionerKey, org(1))
        }
        ["organizations", _, "provisionerdaemons"] => (Kind::ProvisionerDaemon, org(1)),
        ["workspaceproxies"] | ["regions"] => (Kind::WorkspaceProxy, none()),
        ["settings", "idpsync", "organization"] => (Kind::OrganizationSync, none()),
        ["organizations", _, "settings", "idpsync", "groups"] => (Kind::GroupSync, org(1)),
        ["organizations", _, "settings", "idpsync", "roles"] => (Kind::RoleSync, org(1)),
        _ => return (None, none()),
    };
    (Some(kind), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, json: &str) -> Result<Collected, Diagnostic> {
        let mut c = Collected::default();
        read_file(name, json.as_bytes(), &mut c)?;
        Ok(c)
    }

    #[test]
    fn envelope_names_the_template_of_an_acl() {
        let c = read(
            "acl.json",
            r#"{"endpoint": "/api/v2/templates/t1/acl?x=1", "body": {"users": [], "group": [{"id": "g", "role": "use"}]}}"#,
        )
        .unwrap();
        assert_eq!(c.acls.len(), 1);
        assert_eq!(c.acls[0].owner.as_deref(), Some("t1"));
    }

    #[test]
    fn envelope_with_full_url_and_empty_list_is_understood() {
        let c = read(
            "k.json",
            r#"{"endpoint": "https://coder.example.com/api/v2/organizations/o1/provisionerkeys", "body": []}"#,
        )
        .unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.files_per_kind.get("provisioner keys").unwrap(), &["k.json"]);
    }

    #[test]
    fn errors_inside_an_envelope_body_point_at_the_file_line() {
        let json = "{\n  \"endpoint\": \"/api/v2/users\",\n  \"body\": {\"users\": [{\"id\": 5, \"username\": \"a\", \"email\": \"e\"}], \"count\": 1}\n}";
        let err = read("u.json", json).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.column.unwrap() > 20, "{err}");
    }

    #[test]
    fn cli_rows_are_unwrapped() {
        let c = read("t.json", r#"[{"Template": {"id": "t1", "name": "docker", "active_version_id": "v"}}]"#).unwrap();
        assert_eq!(c.templates["t1"].value.name, "docker");
    }

    #[test]
    fn mixed_arrays_are_skipped_with_a_warning() {
        let c = read("m.json", r#"[{"id":"o","is_default":true},{"id":"u","username":"a","email":"b"}]"#).unwrap();
        assert!(c.organizations.is_empty() && c.users.is_empty());
        assert!(c.warnings[0].message.starts_with("`m.json`: the array mixes kinds"), "{:?}", c.warnings);
    }

    #[test]
    fn nulls_in_an_array_are_passed_over_and_other_values_skip_the_file() {
        let c = read("o.json", r#"[null, {"id":"o","is_default":true,"name":"coder"}, null]"#).unwrap();
        assert_eq!(c.organizations.len(), 1);
        assert_eq!(c.warnings[0].message, "`o.json`: 2 `null` element(s) of the array passed over");
        let c = read("o.json", r#"[{"id":"o","is_default":true,"name":"coder"}, [1]]"#).unwrap();
        assert!(c.organizations.is_empty());
        assert!(c.warnings[0].message.contains("element 1 is not an object"), "{:?}", c.warnings);
        for odd in ["[[1], [2]]", "[null]", "[\"a\"]", "7", "null", "\"s\""] {
            let c = read("x.json", odd).unwrap();
            assert_eq!(c.warnings.len(), 1, "{odd}: {:?}", c.warnings);
            assert!(c.warnings[0].message.starts_with("`x.json`: "), "{odd}: {:?}", c.warnings);
        }
    }

    #[test]
    fn conflicting_duplicates_keep_the_later_file_and_warn() {
        let mut c = Collected::default();
        read_file("a.json", br#"[{"id":"u1","username":"a","email":"a@x"}]"#, &mut c).unwrap();
        read_file("b.json", br#"[{"id":"u1","username":"a","email":"new@x"}]"#, &mut c).unwrap();
        read_file("c.json", br#"[{"id":"u1","username":"a","email":"new@x"}]"#, &mut c).unwrap();
        assert_eq!(c.users["u1"].value.email, "new@x");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert_eq!(c.warnings[0].code, "conflicting-duplicate");
    }

    #[test]
    fn pseudo_provisioner_keys_are_not_keys_but_their_daemons_count() {
        let c = read(
            "kd.json",
            r#"[{"key": {"id": "00000000-0000-0000-0000-000000000001", "name": "built-in", "organization": "o", "tags": {}},
                 "daemons": [{"id": "d1", "name": "coder-0", "key_name": "built-in", "organization_id": "o", "provisioners": ["terraform"], "tags": {}}]}]"#,
        )
        .unwrap();
        assert!(c.keys.is_empty());
        assert_eq!(c.daemons.len(), 1);
    }
}
