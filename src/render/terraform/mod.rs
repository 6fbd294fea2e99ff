//! A plan -> a Terraform configuration for the coderd provider that declares
//! the split's target layout: one file per organization (organization, its
//! groups, group sync, provisioner key, templates with their ACLs), plus
//! `main.tf` (provider, what Terraform cannot express) and `deployment.tf`
//! (organization sync settings). Objects the plan finds already there get
//! `import {}` blocks so `terraform plan` adopts them instead of duplicating.
//! HCL is built as `hcl::Body` values and written by hcl-rs: names from the
//! deployment are always string values, never spliced into syntax.

mod align;
mod labels;
mod notes;
mod org;
pub mod schema;

use std::collections::BTreeMap;

use hcl::expr::{Traversal, Variable};
use hcl::{Block, Body, Expression, Identifier, ObjectKey};

use crate::error::{Error, Result};
use crate::model::Snapshot;
use crate::plan::{Plan, StepSpec, TemplateSource};
use labels::Labels;

pub use notes::readme;

/// Where each created template's version is built from: a directory for
/// its source template, or `None` to leave it to `var.template_sources`.
pub type ResolveSource<'a> = dyn Fn(&TemplateSource) -> Result<Option<String>> + 'a;

/// The files of the export, by name: `main.tf`, `deployment.tf`,
/// `org_<label>.tf` per organization and `README.md`.
pub fn export(plan: &Plan, snapshot: &Snapshot, resolve: &ResolveSource) -> Result<BTreeMap<String, String>> {
    let mut labels = Labels::default();
    let mut files = BTreeMap::new();
    let mut gaps = notes::Gaps::default();
    let mut needs_sources_var = false;
    for summary in &plan.organizations {
        let built = org::build(plan, snapshot, summary, &mut labels, resolve, &mut gaps)?;
        needs_sources_var |= built.needs_sources_var;
        files.insert(format!("org_{}.tf", built.label), write(&built.body, "")?);
    }
    let deployment = deployment_body(plan);
    if deployment.iter().next().is_some() {
        files.insert("deployment.tf".into(), write(&deployment, "")?);
    }
    gaps.count_plan(plan);
    let header = notes::header(&gaps);
    files.insert("main.tf".into(), write(&main_body(needs_sources_var), &header)?);
    files.insert("README.md".into(), notes::readme(plan, &gaps, &files));
    Ok(files)
}

/// The body as HCL, after checking it against the provider schema summary.
fn write(body: &Body, header: &str) -> Result<String> {
    let unknown = schema::unknown(body);
    if !unknown.is_empty() {
        return Err(Error::Bug(format!(
            "the Terraform export uses arguments the provider lacks: {}",
            unknown.join(", ")
        )));
    }
    let text = hcl::format::to_string(body).map_err(|e| Error::Bug(format!("writing HCL: {e}")))?;
    Ok(format!("{header}{}", align::align(&text)))
}

fn main_body(needs_sources_var: bool) -> Body {
    let provider = hcl::Expression::from_iter([
        (ident("source"), Expression::from("coder/coderd")),
        (ident("version"), Expression::from(schema::PROVIDER_VERSION)),
    ]);
    let mut body = Body::builder()
        .add_block(
            Block::builder("terraform")
                .add_attribute(("required_version", schema::TERRAFORM_VERSION))
                .add_block(Block::builder("required_providers").add_attribute(("coderd", provider)).build())
                .build(),
        )
        // URL and token come from CODER_URL and CODER_SESSION_TOKEN: never written.
        .add_block(Block::builder("provider").add_label("coderd").build());
    if needs_sources_var {
        body = body.add_block(
            Block::builder("variable")
                .add_label("template_sources")
                .add_attribute(("type", reference(&["string"])))
                .add_attribute((
                    "description",
                    "Folder of template sources, one subfolder per template (what `coder templates pull` writes).",
                ))
                .build(),
        );
    }
    body.build()
}

fn deployment_body(plan: &Plan) -> Body {
    let mut body = Body::builder();
    for step in &plan.steps {
        if let StepSpec::OrganizationSync(spec) = &step.spec {
            // No `mapping`: each organization's `org_sync_idp_groups` writes its
            // own entries, and a mapping here would replace the whole map.
            body = body.add_block(
                Block::builder("resource")
                    .add_label("coderd_organization_sync_settings")
                    .add_label("this")
                    .add_attribute(("field", spec.field.as_str()))
                    .add_attribute(("assign_default", spec.assign_default))
                    .build(),
            );
        }
    }
    body.build()
}

fn ident(name: &str) -> ObjectKey {
    ObjectKey::Identifier(Identifier::unchecked(name))
}

/// `a.b.c` as a traversal (labels are sanitised identifiers).
fn reference(parts: &[&str]) -> Expression {
    let (first, rest) = parts.split_first().expect("a reference has a root");
    if rest.is_empty() {
        return Expression::Variable(Variable::unchecked(*first));
    }
    let mut t = Traversal::builder(Variable::unchecked(*first));
    for p in rest {
        t = t.attr(Identifier::unchecked(*p));
    }
    Expression::from(t.build())
}

/// An object with identifier keys, e.g. `{ id = ..., role = "use" }`.
fn object(fields: Vec<(&str, Expression)>) -> Expression {
    Expression::from_iter(fields.into_iter().map(|(k, v)| (ident(k), v)))
}

/// A map with string keys (tags, claim mappings), in key order.
fn map<V: Into<Expression>>(entries: impl IntoIterator<Item = (String, V)>) -> Expression {
    Expression::from_iter(entries.into_iter().map(|(k, v)| (ObjectKey::Expression(Expression::String(k)), v.into())))
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Expression {
    Expression::Array(items.into_iter().map(|s| Expression::String(s.clone())).collect())
}

fn import_block(to: Expression, id: &str) -> Block {
    Block::builder("import").add_attribute(("to", to)).add_attribute(("id", id)).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_values_never_syntax() {
        let nasty = "a\"b ${var.x} %{ if } \\ \n";
        let body = Body::builder()
            .add_block(
                Block::builder("resource")
                    .add_label("coderd_group")
                    .add_label("g")
                    .add_attribute(("name", nasty))
                    .build(),
            )
            .build();
        let text = write(&body, "").unwrap();
        let back = hcl::parse(&text).unwrap();
        let block = back.blocks().next().unwrap();
        let attr = block.body().attributes().next().unwrap();
        assert_eq!(attr.expr(), &Expression::String(nasty.into()), "{text}");
    }

    #[test]
    fn an_unknown_argument_is_refused_before_writing() {
        let body = Body::builder()
            .add_block(
                Block::builder("resource").add_label("coderd_group").add_label("g").add_attribute(("nme", "x")).build(),
            )
            .build();
        assert!(write(&body, "").unwrap_err().to_string().contains("coderd_group.nme"));
    }
}
