//! The inventory as a terminal table, Markdown or JSON.

use super::{Format, heading, plain_text, plural, table, truncated};
use crate::error::Result;
use crate::inventory::Inventory;

const MAX_ROWS: usize = 200;

pub fn render(inv: &Inventory, format: Format) -> Result<String> {
    if format == Format::Json {
        return crate::json::pretty(inv).map(|b| String::from_utf8_lossy(&b).into_owned());
    }
    let mut out = String::new();
    let t = &inv.totals;
    let title = match format {
        Format::Markdown => "# Inventory\n\n".to_string(),
        _ => String::new(),
    };
    out.push_str(&title);
    out.push_str(&format!(
        "Deployment {} ({}), snapshot from {} `{}`{}.\n",
        inv.deployment_url.as_deref().unwrap_or("(URL unknown)"),
        inv.version.as_deref().unwrap_or("version unknown"),
        inv.source.kind,
        inv.source.location,
        inv.source.taken_at.as_deref().map(|t| format!(", taken {t}")).unwrap_or_default(),
    ));
    out.push_str(&format!(
        "{}, {} ({} active, {} suspended, {} dormant), {}, {} ({} deprecated), {}, {}, {}, {}.\n",
        plural(t.organizations, "organization", "organizations"),
        plural(t.users, "user", "users"),
        t.active_users,
        t.suspended_users,
        t.dormant_users,
        plural(t.groups, "group", "groups"),
        plural(t.templates, "template", "templates"),
        t.deprecated_templates,
        plural(t.workspaces, "workspace", "workspaces"),
        plural(t.provisioner_daemons, "provisioner daemon", "provisioner daemons"),
        plural(t.provisioner_keys, "provisioner key", "provisioner keys"),
        plural(t.workspace_proxies, "workspace proxy", "workspace proxies"),
    ));
    match inv.multiple_organizations {
        Some(true) => out.push_str("The license allows multiple organizations.\n"),
        Some(false) => out.push_str(
            "The license does NOT allow multiple organizations (`multiple_organizations` is not entitled): \
             a split cannot be applied until it is.\n",
        ),
        None => out.push_str("The snapshot holds no entitlements: whether organizations are licensed is unknown.\n"),
    }

    out.push('\n');
    out.push_str(&heading(format, "Organizations"));
    let rows = inv
        .organizations
        .iter()
        .map(|o| {
            vec![
                o.name.clone(),
                if o.is_default { "yes".into() } else { String::new() },
                format!("{} ({} active)", o.members, o.active_members),
                o.groups.len().to_string(),
                o.templates.to_string(),
                o.workspaces.to_string(),
                o.workspaces_by_status.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", "),
                o.provisioner_daemons.len().to_string(),
                o.provisioner_keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>().join(", "),
            ]
        })
        .collect();
    out.push_str(&table(
        format,
        &[
            "organization",
            "default",
            "members",
            "groups",
            "templates",
            "workspaces",
            "by status",
            "provisioners",
            "provisioner keys",
        ],
        rows,
    ));
    out.push_str("\n\n");

    out.push_str(&heading(format, "Groups"));
    let groups: Vec<Vec<String>> = inv
        .organizations
        .iter()
        .flat_map(|o| {
            o.groups.iter().map(move |g| vec![o.name.clone(), g.name.clone(), g.source.clone(), g.members.to_string()])
        })
        .collect();
    let (shown, more) = truncated(&groups, MAX_ROWS);
    out.push_str(&table(format, &["organization", "group", "source", "members"], shown.to_vec()));
    out.push('\n');
    if let Some(more) = more {
        out.push_str(&more);
        out.push('\n');
    }
    out.push('\n');

    out.push_str(&heading(format, "Templates by use"));
    let rows: Vec<Vec<String>> = inv
        .templates
        .iter()
        .map(|t| {
            let (groups, more) = truncated(&t.groups, 4);
            let mut g = groups.iter().map(|g| format!("{} ({})", g.name, g.users)).collect::<Vec<_>>().join(", ");
            if more.is_some() {
                g.push_str(&format!(", +{}", t.groups.len() - 4));
            }
            vec![
                t.organization.clone(),
                t.name.clone(),
                t.users.to_string(),
                t.workspaces.to_string(),
                g,
                t.created_by.clone(),
                if t.deprecated { "deprecated".into() } else { String::new() },
            ]
        })
        .collect();
    let (shown, more) = truncated(&rows, MAX_ROWS);
    out.push_str(&table(
        format,
        &["organization", "template", "users", "workspaces", "groups (users)", "created by", ""],
        shown.to_vec(),
    ));
    out.push('\n');
    if let Some(more) = more {
        out.push_str(&more);
        out.push('\n');
    }
    out.push('\n');

    out.push_str(&heading(format, "Users in several organizations"));
    if inv.users_in_several_orgs.is_empty() {
        out.push_str("None.\n");
    } else {
        let rows: Vec<Vec<String>> =
            inv.users_in_several_orgs.iter().map(|u| vec![u.username.clone(), u.organizations.join(", ")]).collect();
        let (shown, more) = truncated(&rows, MAX_ROWS);
        out.push_str(&table(format, &["user", "organizations"], shown.to_vec()));
        out.push('\n');
        if let Some(more) = more {
            out.push_str(&more);
            out.push('\n');
        }
    }
    out.push('\n');

    out.push_str(&heading(format, &format!("Warnings ({})", inv.warnings.len())));
    if inv.warnings.is_empty() {
        out.push_str("None.\n");
    } else {
        let (shown, more) = truncated(&inv.warnings, MAX_ROWS);
        for w in shown {
            let line = match format {
                Format::Markdown => format!("- `{}`: {}\n", w.code, w.message),
                _ => format!("- {}: {}\n", w.code, w.message),
            };
            out.push_str(&line);
        }
        if let Some(more) = more {
            out.push_str(&more);
            out.push('\n');
        }
    }
    // Names from the deployment go to a terminal: no control character of theirs gets through.
    Ok(plain_text(&out).into_owned())
}
