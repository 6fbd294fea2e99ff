//! Recognise what a JSON file holds from its shape, not its name.
//!
//! A first pass reads the document without building it: for the top-level
//! object, or for each element of a top-level array, it notes which of a fixed
//! set of telling keys are present (a bit mask). `classify` turns a mask into
//! a kind. The second pass (`parse.rs`) then decodes into the kind's wire type.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The keys that tell kinds apart. Their position is their bit.
const KEYS: &[&str] = &[
    "users",                       // 0
    "count",                       // 1
    "workspaces",                  // 2
    "members",                     // 3
    "regions",                     // 4
    "features",                    // 5
    "version",                     // 6
    "external_url",                // 7
    "dashboard_url",               // 8
    "agent_api_version",           // 9
    "field",                       // 10
    "mapping",                     // 11
    "organization_assign_default", // 12
    "auto_create_missing_groups",  // 13
    "regex_filter",                // 14
    "legacy_group_name_mapping",   // 15
    "group",                       // 16
    "endpoint",                    // 17
    "body",                        // 18
    "is_default",                  // 19
    "username",                    // 20
    "email",                       // 21
    "user_id",                     // 22
    "organization_id",             // 23
    "source",                      // 24
    "quota_allowance",             // 25
    "total_member_count",          // 26
    "active_version_id",           // 27
    "job",                         // 28
    "template_id",                 // 29
    "latest_build",                // 30
    "owner_id",                    // 31
    "provisioners",                // 32
    "key_id",                      // 33
    "key_name",                    // 34
    "organization",                // 35
    "tags",                        // 36
    "key",                         // 37
    "daemons",                     // 38
    "wildcard_hostname",           // 39
    "path_app_url",                // 40
    "derp_enabled",                // 41
    "organization_permissions",    // 42
    "site_permissions",            // 43
    "built_in",                    // 44
    "format_version",              // 45
    "has_license",                 // 46
    "Template",                    // 47: `coder templates list -o json` rows
    "Group",                       // 48: `coder groups list -o json` rows
    "id",                          // 49
    "global_roles",                // 50
    "roles",                       // 51
    "organization_ids",            // 52
];

/// Set for any key not in `KEYS`, so `{}` and `{"hello": 1}` differ.
const OTHER_KEY: u64 = 1 << 63;

fn bit(key: &str) -> Option<u64> {
    KEYS.iter().position(|k| *k == key).map(|i| 1u64 << i)
}

/// A set of telling keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mask(u64);

impl Mask {
    fn has(self, key: &str) -> bool {
        bit(key).is_some_and(|b| self.0 & b != 0)
    }

    fn has_any(self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.has(k))
    }
}

/// What a document is, before decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Object(Mask),
    /// One entry per element.
    Array(Vec<Element>),
    Other,
}

/// An element of a top-level array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Element {
    Object(Mask),
    /// Go writes a nil pointer in a slice as `null`.
    Null,
    /// A string, number, bool or array: nothing orgsplit reads is made of these.
    Other,
}

/// Keys that name a list of objects in the bodies orgsplit reads: they tell
/// only when their value is an array (`GET /deployment/stats` has a
/// `workspaces` object that is not a workspaces page).
const LIST_KEYS: &[&str] = &["users", "workspaces", "members", "regions", "group", "daemons"];

/// The kinds of document the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    BuildInfo,
    Entitlements,
    Organization,
    User,
    UsersPage,
    Member,
    MembersPage,
    Group,
    /// A `coder groups list -o json` row: `{"Group": {...}}`.
    GroupRow,
    Template,
    /// A `coder templates list -o json` row: `{"Template": {...}}`.
    TemplateRow,
    TemplateVersion,
    TemplateAcl,
    Workspace,
    WorkspacesPage,
    ProvisionerDaemon,
    ProvisionerKey,
    ProvisionerKeyDaemons,
    WorkspaceProxy,
    RegionsPage,
    Role,
    OrganizationSync,
    GroupSync,
    RoleSync,
    /// `GET /workspaces/{id}/acl`: read by its endpoint only (its shape is a template ACL's).
    WorkspaceAcl,
    /// `GET /organizations/{org}/settings/workspace-sharing`: read by its endpoint only.
    WorkspaceSharing,
    /// `GET /experiments`: the enabled experiments, a list of strings, read by its endpoint only.
    Experiments,
    /// `{"endpoint": "/api/v2/...", "body": ...}`: a response saved with the path it came from.
    Envelope,
    /// An orgsplit snapshot, not an export file.
    Snapshot,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Kind::BuildInfo => "build info",
            Kind::Entitlements => "entitlements",
            Kind::Organization => "organization",
            Kind::User | Kind::UsersPage => "users",
            Kind::Member | Kind::MembersPage => "organization members",
            Kind::Group | Kind::GroupRow => "groups",
            Kind::Template | Kind::TemplateRow => "templates",
            Kind::TemplateVersion => "template versions",
            Kind::TemplateAcl => "template ACL",
            Kind::Workspace | Kind::WorkspacesPage => "workspaces",
            Kind::ProvisionerDaemon => "provisioner daemons",
            Kind::ProvisionerKey => "provisioner keys",
            Kind::ProvisionerKeyDaemons => "provisioner keys with daemons",
            Kind::WorkspaceProxy | Kind::RegionsPage => "workspace proxies",
            Kind::Role => "organization roles",
            Kind::OrganizationSync => "organization sync settings",
            Kind::GroupSync => "group sync settings",
            Kind::RoleSync => "role sync settings",
            Kind::WorkspaceAcl => "workspace shares",
            Kind::WorkspaceSharing => "workspace sharing settings",
            Kind::Experiments => "experiments",
            Kind::Envelope => "saved response",
            Kind::Snapshot => "orgsplit snapshot",
        };
        f.write_str(s)
    }
}

/// Classify one object by its telling keys. The order of the tests matters:
/// more specific shapes first.
pub fn classify(m: Mask) -> Option<Kind> {
    let kind = if m.has("format_version") {
        Kind::Snapshot
    } else if m.has("endpoint") && m.has("body") {
        Kind::Envelope
    } else if m.has("users") && !m.has("id") && !m.has("group") {
        Kind::UsersPage
    } else if m.has("workspaces") && !m.has("id") {
        Kind::WorkspacesPage
    } else if m.has("members") && m.has("count") && !m.has("id") {
        Kind::MembersPage
    } else if m.has("regions") {
        Kind::RegionsPage
    } else if m.has("features") || m.has("has_license") {
        Kind::Entitlements
    } else if m.has("version") && m.has_any(&["external_url", "dashboard_url", "agent_api_version"]) {
        Kind::BuildInfo
    } else if m.has("field") && m.has("mapping") && m.has("organization_assign_default") {
        Kind::OrganizationSync
    } else if m.has("field")
        && m.has("mapping")
        && m.has_any(&["auto_create_missing_groups", "regex_filter", "legacy_group_name_mapping"])
    {
        Kind::GroupSync
    } else if m.has("field") && m.has("mapping") {
        Kind::RoleSync
    } else if m.has("group") && m.has("users") {
        Kind::TemplateAcl
    } else if m.has("key") && m.has("daemons") {
        Kind::ProvisionerKeyDaemons
    } else if m.has("Template") {
        Kind::TemplateRow
    } else if m.has("Group") {
        Kind::GroupRow
    } else if m.has("is_default") {
        Kind::Organization
    } else if m.has("latest_build") || (m.has("owner_id") && m.has("template_id")) {
        Kind::Workspace
    } else if m.has("active_version_id") {
        Kind::Template
    } else if m.has("job") && m.has_any(&["template_id", "organization_id"]) {
        Kind::TemplateVersion
    } else if m.has("user_id") && m.has("organization_id") {
        Kind::Member
    } else if m.has("members") && m.has("organization_id") {
        Kind::Group
    } else if m.has_any(&["organization_permissions", "site_permissions", "built_in"]) {
        Kind::Role
    } else if m.has_any(&["provisioners", "key_id", "key_name"]) {
        Kind::ProvisionerDaemon
    } else if m.has("organization") && m.has("tags") && !m.has("organization_id") {
        Kind::ProvisionerKey
    } else if m.has_any(&["wildcard_hostname", "path_app_url", "derp_enabled"]) {
        Kind::WorkspaceProxy
    } else if m.has("username") && m.has("email") {
        Kind::User
    } else {
        return None;
    };
    Some(kind)
}

/// Read a document's shape. Errors are serde_json's, with line and column.
pub fn probe(bytes: &[u8]) -> Result<Shape, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let shape = de.deserialize_any(TopVisitor)?;
    de.end()?;
    Ok(shape)
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shape, A::Error> {
        Ok(Shape::Object(read_mask(map)?))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut elements = Vec::new();
        while let Some(m) = seq.next_element_seed(ElementSeed)? {
            elements.push(m);
        }
        Ok(Shape::Array(elements))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Other)
    }
}

fn read_mask<'de, A: MapAccess<'de>>(mut map: A) -> Result<Mask, A::Error> {
    let mut mask = 0u64;
    while let Some(key) = map.next_key::<KeyBit>()? {
        let is_list_key = LIST_KEYS.iter().any(|k| bit(k) == Some(key.0));
        if is_list_key {
            let is_array = map.next_value_seed(IsArray)?;
            mask |= if is_array { key.0 } else { OTHER_KEY };
        } else {
            mask |= key.0;
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(Mask(mask))
}

/// Whether a value is an array (its content skipped).
struct IsArray;

impl<'de> DeserializeSeed<'de> for IsArray {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(IsArray)
    }
}

impl<'de> Visitor<'de> for IsArray {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(true) // Go writes an empty (nil) slice as `null`
    }
}

struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
        read_mask(map).map(Element::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Null)
    }
}

/// A key, reduced to its bit (`OTHER_KEY` for keys that tell nothing).
struct KeyBit(u64);

impl<'de> de::Deserialize<'de> for KeyBit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyBit, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyBit, E> {
                Ok(KeyBit(bit(v).unwrap_or(OTHER_KEY)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(json: &str) -> Option<Kind> {
        match probe(json.as_bytes()).unwrap() {
            Shape::Object(m) => classify(m),
            Shape::Array(v) => match v.first() {
                Some(Element::Object(m)) => classify(*m),
                _ => None,
            },
            Shape::Other => None,
        }
    }

    #[test]
    fn recognises_api_bodies_by_shape() {
        let cases = [
            (r#"{"users":[],"count":0}"#, Kind::UsersPage),
            (r#"{"workspaces":[],"count":3}"#, Kind::WorkspacesPage),
            (r#"{"members":[],"count":3}"#, Kind::MembersPage),
            (r#"{"regions":[]}"#, Kind::RegionsPage),
            (r#"{"features":{},"has_license":true}"#, Kind::Entitlements),
            (r#"{"version":"v2","external_url":"x"}"#, Kind::BuildInfo),
            (r#"{"field":"g","mapping":{},"organization_assign_default":true}"#, Kind::OrganizationSync),
            (r#"{"field":"g","mapping":{},"regex_filter":null}"#, Kind::GroupSync),
            (r#"{"field":"r","mapping":{}}"#, Kind::RoleSync),
            (r#"{"users":[],"group":[]}"#, Kind::TemplateAcl),
            (r#"[{"id":"o","is_default":true,"name":"coder"}]"#, Kind::Organization),
            (r#"[{"id":"u","username":"a","email":"a@x"}]"#, Kind::User),
            (r#"[{"user_id":"u","organization_id":"o","roles":[]}]"#, Kind::Member),
            (r#"[{"id":"g","organization_id":"o","members":[],"source":"user"}]"#, Kind::Group),
            (r#"[{"id":"t","active_version_id":"v"}]"#, Kind::Template),
            (r#"[{"Template":{"id":"t"}}]"#, Kind::TemplateRow),
            (r#"[{"Group":{"id":"g"}}]"#, Kind::GroupRow),
            (r#"{"id":"v","template_id":"t","job":{}}"#, Kind::TemplateVersion),
            (r#"{"id":"w","owner_id":"u","template_id":"t","latest_build":{}}"#, Kind::Workspace),
            (r#"[{"id":"d","key_name":"built-in","provisioners":[],"tags":{}}]"#, Kind::ProvisionerDaemon),
            (r#"[{"id":"k","name":"n","organization":"o","tags":{}}]"#, Kind::ProvisionerKey),
            (r#"[{"key":{},"daemons":[]}]"#, Kind::ProvisionerKeyDaemons),
            (r#"[{"name":"r","organization_permissions":[],"built_in":false}]"#, Kind::Role),
            (r#"[{"id":"p","name":"sydney","path_app_url":"x","wildcard_hostname":""}]"#, Kind::WorkspaceProxy),
            (r#"{"endpoint":"/api/v2/users","body":{}}"#, Kind::Envelope),
            (r#"{"format_version":1}"#, Kind::Snapshot),
        ];
        for (json, want) in cases {
            assert_eq!(kind_of(json), Some(want), "{json}");
        }
    }

    #[test]
    fn unknown_shapes_are_none() {
        assert_eq!(kind_of(r#"{"hello":"world"}"#), None);
        assert_eq!(kind_of("[1,2,3]"), None);
        assert_eq!(kind_of("42"), None);
        assert_eq!(kind_of(r#"{"workspaces":{"building":1},"collected_at":"x"}"#), None, "deployment stats");
        assert_eq!(kind_of(r#"{"users":null,"count":0}"#), Some(Kind::UsersPage), "Go's nil slice");
    }

    #[test]
    fn array_elements_say_what_they_are() {
        let Shape::Array(v) = probe(br#"[null, {"id": "o"}, "s", [1]]"#).unwrap() else { panic!("an array") };
        assert_eq!(v[0], Element::Null);
        assert!(matches!(v[1], Element::Object(_)));
        assert_eq!((v[2], v[3]), (Element::Other, Element::Other));
    }

    #[test]
    fn broken_json_reports_line_and_column() {
        let err = probe(b"[\n {\"id\": 1,\n").unwrap_err();
        assert_eq!(err.line(), 3);
    }
}
