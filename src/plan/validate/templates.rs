//! The template, provisioner and sync parts of a target org in the split.

use std::collections::BTreeSet;

use globset::Glob;

use super::{Ctx, Target, did_you_mean, item, path, unmatched};
use crate::model::Template;
use crate::plan::{Affected, Finding, Severity};
use crate::split::Seg;

/// Tags Coder sets itself on provisioner jobs and daemons.
const IMPLICIT_TAGS: [&str; 2] = ["scope", "owner"];

impl<'a> Ctx<'a, '_> {
    /// Templates that can be a source (those in orgs the split does not target), by name.
    fn sources(&self) -> impl Iterator<Item = &'a Template> + '_ {
        self.sources.iter().copied()
    }

    /// Source templates whose name starts with `prefix` (a range of the sorted list).
    fn sources_starting<'p>(&'p self, prefix: &'p str) -> impl Iterator<Item = &'a Template> + 'p {
        let from = self.sources.partition_point(|t| t.name.as_str() < prefix);
        self.sources[from..].iter().copied().take_while(move |t| t.name.starts_with(prefix))
    }

    pub(super) fn templates(&mut self, i: usize, t: &mut Target<'a>) {
        let mut picked: Vec<&'a Template> = Vec::new();
        for (j, pattern) in t.spec.templates.iter().enumerate() {
            let (org, name) = pattern.split_once('/').unwrap_or(("", pattern));
            let in_org = |x: &&Template| org.is_empty() || self.ix.org_name(&x.organization_id) == org;
            if name.contains(['*', '?', '[', '{']) {
                let matcher = match Glob::new(name) {
                    Ok(g) => g.compile_matcher(),
                    Err(e) => {
                        let help = "globs use `*`, `?`, `[abc]` and `{a,b}`";
                        self.problem(
                            item(i, "templates", j),
                            format!("`{pattern}` is not a valid glob: {}", e.kind()),
                            help,
                        );
                        continue;
                    }
                };
                // `name-*`, the usual form, is a range of the sorted sources: with
                // hundreds of orgs, testing every template against every org's
                // globs would be a large part of planning. (`*` matches anything.)
                let found: Vec<&'a Template> = match literal_prefix(name) {
                    Some(prefix) => self.sources_starting(prefix).filter(in_org).collect(),
                    None => self.sources().filter(in_org).filter(|x| matcher.is_match(&x.name)).collect(),
                };
                if found.is_empty() {
                    self.findings.push(unmatched(
                        &t.name,
                        &format!("templates `{pattern}`"),
                        "no template has a matching name",
                    ));
                }
                picked.extend(found);
            } else {
                let found: Vec<&'a Template> =
                    self.sources_starting(name).filter(|x| x.name == name).filter(in_org).collect();
                match found.as_slice() {
                    [x] => picked.push(x),
                    [] => {
                        let known = self.sources().map(|x| x.name.as_str());
                        let help = did_you_mean(name, known).unwrap_or_else(|| "see `orgsplit inventory`".into());
                        self.problem(item(i, "templates", j), format!("no template named `{pattern}`"), &help);
                    }
                    several => {
                        let orgs: Vec<&str> = several.iter().map(|x| self.ix.org_name(&x.organization_id)).collect();
                        let help = format!("write `<org>/{name}`, with the org one of: {}", orgs.join(", "));
                        self.problem(item(i, "templates", j), format!("`{name}` is a template in several orgs"), &help);
                    }
                }
            }
        }
        picked.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        picked.dedup_by(|a, b| a.id == b.id);
        for w in picked.windows(2).filter(|w| w[0].name == w[1].name) {
            let orgs = [self.ix.org_name(&w[0].organization_id), self.ix.org_name(&w[1].organization_id)];
            let message = format!(
                "templates `{}/{}` and `{}/{}` would both be re-created as `{}` in `{}`",
                orgs[0], w[0].name, orgs[1], w[1].name, w[0].name, t.name
            );
            self.problem(path(i, "templates"), message, "name one of them with `<org>/<name>` only");
        }
        t.templates = picked;
    }

    pub(super) fn provisioning(&mut self, i: usize, t: &mut Target<'a>) {
        t.key = match &t.spec.provisioner_key {
            None => Some(format!("{}-provisioner", t.name)),
            Some(k) if k.is_empty() => None,
            Some(k) => Some(k.clone()),
        };
        if let Some(k) = t.key.as_deref().filter(|k| !valid_key_name(k)) {
            let help = "at most 64 characters; `built-in`, `user-auth` and `psk` are reserved";
            self.problem(path(i, "provisioner_key"), format!("`{k}` cannot be a provisioner key name"), help);
        }
        for (k, _) in
            t.spec.provisioner_tags.iter().filter(|(k, _)| k.is_empty() || IMPLICIT_TAGS.contains(&k.as_str()))
        {
            let mut at = path(i, "provisioner_tags");
            at.push(k.as_str().into());
            let help = "Coder sets `scope` and `owner` itself; name your own tags (`cloud`, `cluster`, ...)";
            self.problem(at, format!("`{k}` cannot be a provisioner tag here"), help);
        }
        for proxy in &t.spec.workspace_proxies {
            if self.s.workspace_proxies.iter().any(|p| &p.name == proxy && !p.deleted) {
                continue;
            }
            let known: Vec<&str> =
                self.s.workspace_proxies.iter().filter(|p| !p.deleted).map(|p| p.name.as_str()).collect();
            self.findings.push(Finding {
                code: "missing-workspace-proxy".into(),
                severity: Severity::Warning,
                message: format!(
                    "`{}` wants workspace proxy `{proxy}`, which the deployment does not have (it has: {})",
                    t.name,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
                help: Some(format!(
                    "proxies are deployment-wide and not created by this plan: create it with \
                     `coder wsproxy create --name {proxy}` and run it near the org's users"
                )),
                affects: vec![
                    Affected { kind: "organization".into(), org: None, name: t.name.clone(), id: None },
                    Affected { kind: "workspace-proxy".into(), org: None, name: proxy.clone(), id: None },
                ],
            });
        }
    }

    pub(super) fn sync(&mut self, i: usize, t: &Target<'a>) {
        let spec = t.spec;
        let org_sync_on = self.doc.split.org_sync.is_some()
            || self.s.idp_sync.organization.as_ref().is_some_and(|o| !o.field.is_empty());
        if !spec.org_sync_claims.is_empty() && !org_sync_on {
            let help = "add an [org_sync] table with the claim `field` (e.g. `memberOf`)";
            self.problem(
                path(i, "org_sync_claims"),
                "organization sync is not set up in the deployment or the split".into(),
                help,
            );
        }
        let groups: BTreeSet<&str> = t.groups.iter().map(|g| g.name.as_str()).collect();
        for (field, sync) in [("group_sync", &spec.group_sync), ("role_sync", &spec.role_sync)] {
            let Some(sync) = sync else { continue };
            if sync.field.is_empty() {
                self.problem(
                    path(i, field),
                    format!("`{field}` needs the claim `field`"),
                    "e.g. `field = \"memberOf\"`",
                );
            }
            if field != "group_sync" {
                continue;
            }
            for (claim, names) in &sync.mapping {
                for (j, g) in names.iter().enumerate().filter(|(_, g)| !groups.contains(g.as_str())) {
                    let mut at = path(i, field);
                    at.extend([Seg::from("mapping"), claim.as_str().into(), j.into()]);
                    let help = "group sync can only map to groups the org gets: add the group to `groups`";
                    self.problem(
                        at,
                        format!("group sync maps `{claim}` to `{g}`, which `{}` does not get", t.name),
                        help,
                    );
                }
            }
        }
    }
}

/// Provisioner key names: at most 64 characters, not one Coder reserves.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && !["built-in", "user-auth", "psk"].contains(&name.to_lowercase().as_str())
}

/// `prefix` when a glob is a plain prefix followed by one `*`.
fn literal_prefix(glob: &str) -> Option<&str> {
    glob.strip_suffix('*').filter(|p| !p.contains(['*', '?', '[', ']', '{', '}', '\\']))
}

#[cfg(test)]
mod tests {
    use super::literal_prefix;

    #[test]
    fn only_a_plain_prefix_and_one_star_is_a_prefix() {
        assert_eq!(literal_prefix("team-0001-*"), Some("team-0001-"));
        assert_eq!(literal_prefix("*"), Some(""));
        for glob in ["team", "a*b*", "a**", "[ab]*", "{a,b}*", "a?*", "a\\**"] {
            assert_eq!(literal_prefix(glob), None, "{glob}");
        }
    }

    #[test]
    fn a_prefix_matches_what_the_glob_matches() {
        let names = ["", "team", "team-", "team-0001-go", "Team-0001-go", "team-0001/x", "team-00011", "tëam-0001-é"];
        for glob in ["team-0001-*", "*", "team*", "tëam-*", "team-0001/*"] {
            let matcher = globset::Glob::new(glob).unwrap().compile_matcher();
            let prefix = literal_prefix(glob).unwrap();
            for name in names {
                assert_eq!(name.starts_with(prefix), matcher.is_match(name), "{glob} {name}");
            }
        }
    }
}
