//! v1 API bodies -> a [`V1Snapshot`]. Bodies are recognised by their shape,
//! as v2 bodies are: a bare array, a paged envelope (`{"data": [...],
//! "pager": ...}`), the providers' `{"kubernetes": [...]}` or one object.
//! Each element's kind comes from the fields it has; workspaces are read
//! under either name (environments before 1.20). Unknown fields are kept.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::model::{DevUrl, ImageTag, User, V1Snapshot, V1Source};
use crate::error::{Diagnostic, Result};
use crate::model::Warning;

/// The kinds of v1 object orgsplit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Org,
    User,
    Member,
    Image,
    Tag,
    Registry,
    Workspace,
    Provider,
    DevUrl,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Org => "organization",
            Kind::User => "user",
            Kind::Member => "organization member",
            Kind::Image => "image",
            Kind::Tag => "image tag",
            Kind::Registry => "registry",
            Kind::Workspace => "workspace",
            Kind::Provider => "workspace provider",
            Kind::DevUrl => "dev URL",
        }
    }

    /// Kinds only v1 has: one of them makes a folder a v1 export. (Users
    /// alone could be either.)
    fn only_v1(self) -> bool {
        !matches!(self, Kind::User)
    }
}

/// The kind of one object, from the fields it has.
pub fn classify(o: &Map<String, Value>) -> Option<Kind> {
    let has = |k: &str| o.contains_key(k);
    if has("envproxy_access_url") || (has("built_in") && has("config")) {
        Some(Kind::Provider)
    } else if has("image_id") && has("user_id") {
        Some(Kind::Workspace)
    } else if has("repository") && (has("default_tag") || has("default_cpu_cores") || has("registry")) {
        Some(Kind::Image)
    } else if has("image_id") && o.get("tag").is_some_and(Value::is_string) {
        Some(Kind::Tag)
    } else if has("friendly_name") && o.get("registry").is_some_and(Value::is_string) {
        Some(Kind::Registry)
    } else if has("port") && has("access") && has("scheme") {
        Some(Kind::DevUrl)
    } else if has("organization_roles") {
        Some(Kind::Member)
    } else if o.get("members").is_some_and(Value::is_array) && o.get("default").is_some_and(Value::is_boolean) {
        Some(Kind::Org)
    } else if has("username") && has("email") && o.get("roles").is_some_and(strings) {
        Some(Kind::User)
    } else {
        None
    }
}

fn strings(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// The objects of a body: its list, whatever shape holds it.
fn elements(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut o) => {
            if let Some(Value::Array(a)) = o.remove("data") {
                a
            } else if let Some(Value::Array(a)) = o.remove("kubernetes") {
                a
            } else {
                vec![Value::Object(o)]
            }
        }
        _ => Vec::new(),
    }
}

fn parse(name: &str, bytes: &[u8]) -> std::result::Result<Value, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // What PowerShell's `>` writes: the same error as a v2 export gets.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Diagnostic::new(
            name,
            "this file is UTF-16 text (what PowerShell's `>` writes); JSON must be UTF-8",
        )
        .help(
            "convert it to UTF-8 (`iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8`, or in PowerShell save it with \
                 `Out-File -Encoding utf8`) and import again",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| Diagnostic::json(name, &e))
}

/// Whether a file's bytes are a body only a v1 deployment serves.
pub fn is_v1_body(bytes: &[u8]) -> bool {
    // Most v2 files hold none of these keys: skip parsing them (a large v2
    // export is hundreds of megabytes).
    const V1_KEYS: [&str; 6] = [
        "\"image_id\"",
        "\"repository\"",
        "\"envproxy_access_url\"",
        "\"friendly_name\"",
        "\"organization_roles\"",
        "\"scheme\"",
    ];
    if !V1_KEYS.iter().any(|k| memchr::memmem::find(bytes, k.as_bytes()).is_some()) {
        return false;
    }
    let Ok(v) = parse("", bytes) else { return false };
    elements(v).iter().filter_map(Value::as_object).filter_map(classify).any(Kind::only_v1)
}

/// Collects v1 objects one file at a time; a later file wins a conflict.
pub struct V1Importer {
    snap: V1Snapshot,
    tags: Vec<ImageTag>,
}

impl V1Importer {
    pub fn new(source: V1Source) -> V1Importer {
        let snap = V1Snapshot { coder_v1_snapshot: super::model::FORMAT, source, ..V1Snapshot::default() };
        V1Importer { snap, tags: Vec::new() }
    }

    /// Read one body. `name` is the file's name (or the endpoint) for messages.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> std::result::Result<(), Diagnostic> {
        let body = parse(name, bytes)?;
        for (i, element) in elements(body).into_iter().enumerate() {
            let Some(kind) = element.as_object().and_then(classify) else {
                self.warn(
                    "unknown-v1-object",
                    format!("`{name}`: item {} is not a v1 object orgsplit knows; skipped", i + 1),
                );
                continue;
            };
            self.add_one(name, i, kind, element)?;
        }
        Ok(())
    }

    fn add_one(&mut self, name: &str, i: usize, kind: Kind, element: Value) -> std::result::Result<(), Diagnostic> {
        match kind {
            Kind::Org => self.snap.organizations.push(decode(name, i, kind, element)?),
            Kind::User => self.snap.users.push(decode(name, i, kind, element)?),
            Kind::Image => self.snap.images.push(decode(name, i, kind, element)?),
            Kind::Tag => self.tags.push(decode(name, i, kind, element)?),
            Kind::Registry => self.snap.registries.push(decode(name, i, kind, element)?),
            Kind::Workspace => self.snap.workspaces.push(decode(name, i, kind, element)?),
            Kind::Provider => self.snap.providers.push(decode(name, i, kind, element)?),
            Kind::DevUrl => {
                let mut element = element;
                if let Value::Object(o) = &mut element
                    && !o.contains_key("workspace_id")
                {
                    let id = o.remove("environment_id").or_else(|| devurl_owner(name).map(Value::String));
                    let Some(id) = id else {
                        return Err(Diagnostic::new(name, "dev URLs without the workspace they belong to").help(
                            "save each workspace's `/devurls` answer as `devurls-<workspace id>.json`, or add a \
                             `workspace_id` field",
                        ));
                    };
                    o.insert("workspace_id".into(), id);
                }
                self.snap.devurls.push(decode::<DevUrl>(name, i, kind, element)?);
            }
            Kind::Member => self.warn(
                "v1-members-alone",
                format!(
                    "`{name}`: a list of organization members without its organization; skipped (export \
                     `/api/v0/orgs`, which embeds the members)"
                ),
            ),
        }
        Ok(())
    }

    fn warn(&mut self, code: &str, message: String) {
        self.snap.warnings.push(Warning::new(code, message));
    }

    /// Join what was read: tags onto their images, users known only as
    /// members added, the last of several objects with one id kept, and
    /// warnings for references to objects the export does not hold.
    pub fn finish(mut self) -> V1Snapshot {
        let mut s = std::mem::take(&mut self.snap);
        dedup_last(&mut s.organizations, |o| o.id.clone());
        dedup_last(&mut s.users, |u| u.id.clone());
        dedup_last(&mut s.images, |i| i.id.clone());
        dedup_last(&mut s.registries, |r| r.id.clone());
        dedup_last(&mut s.workspaces, |w| w.id.clone());
        dedup_last(&mut s.providers, |p| p.id.clone());
        for tag in std::mem::take(&mut self.tags) {
            match s.images.iter_mut().find(|i| i.id == tag.image_id) {
                Some(image) => image.tags.push(tag),
                None => s.warnings.push(Warning::new(
                    "dangling-v1-tag",
                    format!("tag `{}` of image `{}`, which the export does not hold; skipped", tag.tag, tag.image_id),
                )),
            }
        }
        users_from_members(&mut s);
        s.canonicalize();
        dangling(&mut s);
        s
    }
}

fn decode<T: DeserializeOwned>(name: &str, i: usize, kind: Kind, v: Value) -> std::result::Result<T, Diagnostic> {
    serde_json::from_value(v).map_err(|e| {
        Diagnostic::new(name, format!("item {} is a v1 {} but {e}", i + 1, kind.word()))
            .help("export it again from the v1 deployment (fields must have the types of the v1 API)")
    })
}

/// `devurls-<id>.json` (or `devurls_<id>.json`) names the workspace, as does
/// the path a live import read them from (`.../workspaces/<id>/devurls`).
fn devurl_owner(name: &str) -> Option<String> {
    let path = name.split('?').next().unwrap_or(name);
    if let Some(rest) = path.strip_suffix("/devurls") {
        let (parent, id) = rest.rsplit_once('/')?;
        if (parent.ends_with("/workspaces") || parent.ends_with("/environments")) && !id.is_empty() {
            return Some(id.to_string());
        }
    }
    let file = name.rsplit('/').next()?;
    let stem = file.strip_suffix(".json").unwrap_or(file);
    let id = stem.strip_prefix("devurls-").or_else(|| stem.strip_prefix("devurls_"))?;
    (!id.is_empty()).then(|| id.to_string())
}

fn dedup_last<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut last: BTreeMap<K, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    let keep: std::collections::BTreeSet<usize> = last.into_values().collect();
    let mut i = 0;
    items.retain(|_| {
        let k = keep.contains(&i);
        i += 1;
        k
    });
}

fn users_from_members(s: &mut V1Snapshot) {
    let known: std::collections::BTreeSet<String> = s.users.iter().map(|u| u.id.clone()).collect();
    let mut added = BTreeMap::new();
    for m in s.organizations.iter().flat_map(|o| &o.members) {
        if known.contains(&m.id) || m.username.is_empty() {
            continue;
        }
        let mut extra = m.extra.clone();
        let text = |k: &str, extra: &mut super::model::Extra| {
            extra.remove(k).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        };
        let user = User {
            id: m.id.clone(),
            username: m.username.clone(),
            email: text("email", &mut extra),
            name: text("name", &mut extra),
            login_type: text("login_type", &mut extra),
            roles: extra.remove("roles").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
            extra: BTreeMap::new(),
        };
        added.entry(m.id.clone()).or_insert(user);
    }
    s.users.extend(added.into_values());
    s.users.sort_by(|a, b| a.id.cmp(&b.id));
}

fn dangling(s: &mut V1Snapshot) {
    let mut warnings = Vec::new();
    for w in &s.workspaces {
        let what = format!("workspace `{}` ({})", w.name, w.id);
        if s.user(&w.user_id).is_none() {
            warnings.push(Warning::new(
                "dangling-v1-workspace",
                format!("{what}: its owner `{}` is not in the export", w.user_id),
            ));
        }
        if s.org(&w.organization_id).is_none() {
            warnings.push(Warning::new(
                "dangling-v1-workspace",
                format!("{what}: its organization `{}` is not in the export", w.organization_id),
            ));
        }
        if s.image(&w.image_id).is_none() {
            warnings.push(Warning::new(
                "dangling-v1-workspace",
                format!("{what}: its image `{}` is not in the export (no template can be made for it)", w.image_id),
            ));
        }
    }
    s.warnings.extend(warnings);
}

/// Import v1 bodies given as (name, bytes), in the order given.
pub fn import_files<'a>(files: impl IntoIterator<Item = (String, &'a [u8])>, source: V1Source) -> Result<V1Snapshot> {
    let mut importer = V1Importer::new(source);
    for (name, bytes) in files {
        if !looks_like_json(&name, bytes) {
            importer.warn("unknown-file", format!("`{name}` is not a JSON file; skipped"));
            continue;
        }
        importer.add(&name, bytes)?;
    }
    Ok(importer.finish())
}

fn looks_like_json(name: &str, bytes: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(".json")
        || matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> V1Snapshot {
        import_files([("x.json".to_string(), body.as_bytes())], V1Source::default()).unwrap()
    }

    #[test]
    fn shapes_are_recognised_by_their_fields() {
        let s = one(
            r#"{"kubernetes":[{"id":"p","name":"built-in","built_in":true,"envproxy_access_url":"https://c","org_allowlist":["default"],"config":{"default_namespace":"coder","x":1}}]}"#,
        );
        assert_eq!(s.providers[0].org_whitelist, ["default"]);
        assert_eq!(s.providers[0].config.extra["x"], 1);
        let s = one(
            r#"{"data":[{"id":"w","name":"dev","user_id":"u","organization_id":"default","image_id":"i","image_tag":"latest","cpu_cores":2,"new_field":true}],"pager":{"next":null}}"#,
        );
        assert_eq!(s.workspaces[0].name, "dev");
        assert_eq!(s.workspaces[0].extra["new_field"], true);
        assert!(s.warnings.iter().any(|w| w.code == "dangling-v1-workspace"));
    }

    #[test]
    fn a_wrong_type_names_the_file_item_and_field() {
        let err = import_files(
            [(
                "w.json".to_string(),
                br#"[{"id":"w","name":"dev","user_id":"u","organization_id":"o","image_id":"i","cpu_cores":"two"}]"#
                    .as_slice(),
            )],
            V1Source::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("w.json: item 1 is a v1 workspace but invalid type: string \"two\""), "{err}");
    }

    #[test]
    fn only_v1_bodies_are_v1() {
        assert!(is_v1_body(br#"[{"id":"i","organization_id":"o","repository":"r","default_tag":null}]"#));
        assert!(!is_v1_body(br#"[{"id":"u","username":"a","email":"e","roles":[]}]"#));
        assert!(!is_v1_body(br#"[{"id":"t","name":"x","organization_id":"o","active_version_id":"v"}]"#));
    }

    #[test]
    fn image_tags_join_their_image_and_strays_are_warned() {
        let s = import_files(
            [
                (
                    "images.json".to_string(),
                    br#"[{"id":"i","organization_id":"o","repository":"r","default_tag":{"image_id":"i","tag":"latest"}}]"#
                        .as_slice(),
                ),
                (
                    "tags-i.json".to_string(),
                    br#"[{"image_id":"i","tag":"v2","latest_hash":"sha256:ab","decommissioned":true},{"image_id":"gone","tag":"x"}]"#
                        .as_slice(),
                ),
            ],
            V1Source::default(),
        )
        .unwrap();
        let tags: Vec<&str> = s.images[0].tags.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(tags, ["v2"]);
        assert_eq!(s.images[0].tags[0].extra["decommissioned"], true, "unknown tag fields are kept");
        assert!(s.warnings.iter().any(|w| w.code == "dangling-v1-tag" && w.message.contains("`gone`")));
    }

    #[test]
    fn devurls_take_their_workspace_from_the_file_name() {
        let s = import_files(
            [(
                "devurls-w1.json".to_string(),
                br#"[{"id":"d","port":8080,"access":"ORG","scheme":"http","name":"web"}]"#.as_slice(),
            )],
            V1Source::default(),
        )
        .unwrap();
        assert_eq!(s.devurls[0].workspace_id, "w1");
        assert_eq!(devurl_owner("/api/v0/workspaces/w2/devurls").as_deref(), Some("w2"));
        assert_eq!(devurl_owner("/api/private/environments/w3/devurls").as_deref(), Some("w3"));
        assert_eq!(devurl_owner("/api/v0/devurls"), None);
    }
}
