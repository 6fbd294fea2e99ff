//! The part of the coderd provider's schema (v0.0.23, summarised in
//! `../shared/coderd-provider/RESOURCES.md`) that the export writes, as
//! data: every block type, its arguments and the keys of its object
//! arguments. The export checks its own output against it before writing,
//! so a misspelt argument is a bug caught here, not at `terraform plan`.

use hcl::{Body, Expression};

/// The provider release the export pins (`version = "..."`, an exact pin:
/// breaking changes ship inside 0.0.x bumps).
pub const PROVIDER_VERSION: &str = "0.0.23";
/// `import {}` blocks need Terraform 1.5 or newer.
pub const TERRAFORM_VERSION: &str = ">= 1.5.0";

/// (block kind, type, arguments). Block arguments (e.g. `role_sync`) are
/// listed like the others and described under their own `kind` below.
pub const SCHEMA: &[(&str, &str, &[&str])] = &[
    (
        "resource",
        "coderd_organization",
        &["name", "display_name", "description", "icon", "workspace_sharing", "org_sync_idp_groups", "role_sync"],
    ),
    ("block", "role_sync", &["field", "mapping"]),
    ("resource", "coderd_organization_sync_settings", &["field", "assign_default", "mapping"]),
    (
        "resource",
        "coderd_organization_group_sync",
        &["organization_id", "field", "regex_filter", "auto_create_missing", "mapping"],
    ),
    (
        "resource",
        "coderd_group",
        &["name", "display_name", "avatar_url", "quota_allowance", "organization_id", "members"],
    ),
    ("resource", "coderd_provisioner_key", &["organization_id", "name", "tags"]),
    (
        "resource",
        "coderd_template",
        &[
            "name",
            "display_name",
            "description",
            "organization_id",
            "icon",
            "default_ttl_ms",
            "activity_bump_ms",
            "auto_stop_requirement",
            "auto_start_permitted_days_of_week",
            "allow_user_cancel_workspace_jobs",
            "allow_user_auto_start",
            "allow_user_auto_stop",
            "failure_ttl_ms",
            "time_til_dormant_ms",
            "time_til_dormant_autodelete_ms",
            "require_active_version",
            "max_port_share_level",
            "deprecation_message",
            "cors_behavior",
            "use_classic_parameter_flow",
            "acl",
            "versions",
            "depends_on",
        ],
    ),
    ("object", "coderd_template.auto_stop_requirement", &["days_of_week", "weeks"]),
    ("object", "coderd_template.acl", &["users", "groups"]),
    ("object", "coderd_template.acl.users", &["id", "role"]),
    ("object", "coderd_template.acl.groups", &["id", "role"]),
    ("object", "coderd_template.versions", &["name", "message", "directory", "active", "tf_vars", "provisioner_tags"]),
    ("object", "coderd_template.versions.tf_vars", &["name", "value"]),
    ("object", "coderd_template.versions.provisioner_tags", &["name", "value"]),
    ("data", "coderd_organization", &["id", "name", "is_default"]),
    ("data", "coderd_group", &["id", "name", "organization_id"]),
    ("data", "coderd_user", &["id", "username", "email"]),
    ("terraform", "", &["required_version", "required_providers"]),
    ("block", "required_providers", &["coderd"]),
    ("provider", "coderd", &["url", "token", "default_organization_id", "headers"]),
    ("import", "", &["to", "id"]),
    ("output", "", &["value", "sensitive", "description"]),
    ("variable", "", &["type", "description"]),
];

fn arguments(kind: &str, name: &str) -> Option<&'static [&'static str]> {
    SCHEMA.iter().find(|(k, n, _)| *k == kind && *n == name).map(|(_, _, a)| *a)
}

/// Every block, argument and object key of `body` that the schema does not
/// know, as `kind type.argument` lines (empty when all are known).
pub fn unknown(body: &Body) -> Vec<String> {
    let mut out = Vec::new();
    for block in body.blocks() {
        let kind = block.identifier();
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        let name = match kind {
            "resource" | "data" | "provider" => labels.first().copied().unwrap_or(""),
            _ => "",
        };
        let Some(args) = arguments(kind, name) else {
            out.push(format!("{kind} {name}"));
            continue;
        };
        check_body(block.body(), args, kind, name, &mut out);
    }
    out
}

fn check_body(body: &Body, args: &[&str], kind: &str, name: &str, out: &mut Vec<String>) {
    for attr in body.attributes() {
        let key = attr.key();
        if !args.contains(&key) {
            out.push(format!("{kind} {name}.{key}"));
            continue;
        }
        check_objects(&format!("{name}.{key}"), attr.expr(), out);
    }
    for inner in body.blocks() {
        let key = inner.identifier();
        match (args.contains(&key), arguments("block", key)) {
            (true, Some(inner_args)) => check_body(inner.body(), inner_args, "block", key, out),
            _ => out.push(format!("{kind} {name}.{key}")),
        }
    }
}

/// Object values of a known object argument: their keys must be known too.
/// Maps (tags, mappings) are not described here, so their keys are free.
fn check_objects(path: &str, expr: &Expression, out: &mut Vec<String>) {
    let Some(keys) = arguments("object", path) else { return };
    match expr {
        Expression::Array(items) => items.iter().for_each(|i| check_objects(path, i, out)),
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                let key = match key {
                    hcl::ObjectKey::Identifier(i) => i.to_string(),
                    hcl::ObjectKey::Expression(Expression::String(s)) => s.clone(),
                    other => format!("{other:?}"),
                };
                if !keys.contains(&key.as_str()) {
                    out.push(format!("object {path}.{key}"));
                }
                check_objects(&format!("{path}.{key}"), value, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_arguments_are_known_and_a_misspelling_is_not() {
        let good = hcl::parse(
            r#"
resource "coderd_template" "t" {
  name = "x"
  allow_user_auto_start = true
  acl = { groups = [{ id = "g", role = "use" }], users = [] }
  versions = [{ directory = "d", active = true, provisioner_tags = [{ name = "a", value = "b" }] }]
}
resource "coderd_organization" "o" {
  name = "o"
  role_sync {
    field = "roles"
    mapping = { "x" = ["organization-admin"] }
  }
}
"#,
        )
        .unwrap();
        assert_eq!(unknown(&good), Vec::<String>::new());
        let bad = hcl::parse(
            r#"
resource "coderd_template" "t" {
  allow_user_autostart = true
  acl = { groups = [{ id = "g", rol = "use" }], users = [] }
}
resource "coderd_organisation" "o" {}
resource "coderd_organization" "p" {
  group_sync {}
}
"#,
        )
        .unwrap();
        assert_eq!(
            unknown(&bad),
            [
                "resource coderd_template.allow_user_autostart",
                "object coderd_template.acl.groups.rol",
                "resource coderd_organisation",
                "resource coderd_organization.group_sync",
            ]
        );
    }
}
