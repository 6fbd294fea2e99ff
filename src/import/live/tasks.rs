//! The requests of a live import. Each task fetches one endpoint, decodes it
//! into its wire type as it streams in (so the members lists inside a
//! template ACL are skipped, never held), and yields the decoded body as a
//! saved-response envelope for the offline importer, plus the tasks its
//! answer leads to (the other pages of a list, an org's lists, a template's
//! version and ACL).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::coder::types as wire;
use crate::coder::{ApiError, Client, Endpoint};
use crate::endpoint;
use crate::model::Warning;

/// `provisionerdaemons` has no offset and no count, and answers 50 daemons
/// unless asked for more (its `limit` defaults to 50 in coderd).
pub const DAEMON_LIMIT: usize = 1000;

/// One request. The order of the variants (then of their fields) is the
/// order the answers are fed to the importer, so later pages come later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    BuildInfo,
    Me,
    Entitlements,
    /// `GET /experiments`: whether workspaces say who they are shared with,
    /// and whether to ask each org for its sharing setting.
    Experiments,
    Organizations,
    Users {
        offset: usize,
    },
    Workspaces {
        offset: usize,
    },
    Templates {
        deprecated: bool,
    },
    Proxies,
    OrgSync,
    Members {
        org: String,
        offset: usize,
    },
    /// The whole member list, for servers without `paginated-members`.
    AllMembers {
        org: String,
    },
    Groups {
        org: String,
    },
    Roles {
        org: String,
    },
    Keys {
        org: String,
    },
    Daemons {
        org: String,
    },
    GroupSync {
        org: String,
    },
    RoleSync {
        org: String,
    },
    /// v2.30.0 routes it only with the `workspace-sharing` experiment on
    /// (403 without it), and only in its Premium build (404 without it).
    WorkspaceSharing {
        org: String,
    },
    Version {
        id: String,
    },
    Acl {
        template: String,
    },
}

/// What a finished task gives.
#[derive(Debug, Default)]
pub struct Done {
    /// `{"endpoint": ..., "body": ...}`, or None when there is nothing to import.
    pub envelope: Option<Vec<u8>>,
    pub spawn: Vec<Task>,
    /// Rows and the total a page reported (`count`), for paged lists.
    pub page: Option<(usize, i64)>,
    /// Site roles of the token's user (`Me`).
    pub me: Option<(String, Vec<String>)>,
    /// The decoded entitlements (`Entitlements`).
    pub entitlements: Option<wire::Entitlements>,
    pub warnings: Vec<Warning>,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    endpoint: &'a str,
    body: &'a T,
}

impl Task {
    pub fn endpoint(&self, page_size: usize) -> Endpoint {
        let paged = |e: Endpoint, offset: &usize| e.query("limit", page_size).query("offset", offset);
        match self {
            Task::BuildInfo => endpoint!["buildinfo"],
            Task::Me => endpoint!["users", "me"],
            Task::Entitlements => endpoint!["entitlements"],
            Task::Experiments => endpoint!["experiments"],
            Task::Organizations => endpoint!["organizations"],
            Task::Users { offset } => paged(endpoint!["users"], offset),
            Task::Workspaces { offset } => paged(endpoint!["workspaces"], offset),
            // `/templates` hides deprecated templates unless asked (ENDPOINTS.md section 7).
            Task::Templates { deprecated } => endpoint!["templates"].query("q", format!("deprecated:{deprecated}")),
            Task::Proxies => endpoint!["workspaceproxies"],
            Task::OrgSync => endpoint!["settings", "idpsync", "organization"],
            Task::Members { org, offset } => paged(endpoint!["organizations", org, "paginated-members"], offset),
            Task::AllMembers { org } => endpoint!["organizations", org, "members"],
            Task::Groups { org } => endpoint!["organizations", org, "groups"],
            Task::Roles { org } => endpoint!["organizations", org, "members", "roles"],
            Task::Keys { org } => endpoint!["organizations", org, "provisionerkeys"],
            Task::Daemons { org } => endpoint!["organizations", org, "provisionerdaemons"].query("limit", DAEMON_LIMIT),
            Task::GroupSync { org } => endpoint!["organizations", org, "settings", "idpsync", "groups"],
            Task::RoleSync { org } => endpoint!["organizations", org, "settings", "idpsync", "roles"],
            Task::WorkspaceSharing { org } => endpoint!["organizations", org, "settings", "workspace-sharing"],
            Task::Version { id } => endpoint!["templateversions", id],
            Task::Acl { template } => endpoint!["templates", template, "acl"],
        }
    }

    /// For endpoints a deployment may lack (an older release, a feature
    /// outside its license): what is missing from the snapshot without it,
    /// and the licensed feature it needs. A 404 from these is a warning, not
    /// an error; so is a 403 when the license lacks the feature.
    pub fn optional(&self) -> Option<(String, Option<&'static str>)> {
        let (what, feature) = match self {
            Task::Entitlements => ("the license entitlements".to_string(), None),
            Task::Proxies => ("workspace proxies".to_string(), Some("workspace_proxy")),
            Task::OrgSync => ("organization sync settings".to_string(), Some("multiple_organizations")),
            Task::Groups { org } => (format!("groups of organization `{org}`"), Some("template_rbac")),
            Task::Roles { org } => (format!("custom roles of organization `{org}`"), Some("custom_roles")),
            Task::Keys { org } => {
                (format!("provisioner keys of organization `{org}`"), Some("external_provisioner_daemons"))
            }
            Task::Daemons { org } => (format!("provisioner daemons of organization `{org}`"), None),
            Task::GroupSync { org } => (format!("group sync settings of organization `{org}`"), None),
            Task::RoleSync { org } => (format!("role sync settings of organization `{org}`"), None),
            Task::Version { id } => (format!("template version `{id}`"), None),
            Task::Acl { template } => (format!("the ACL of template `{template}`"), Some("template_rbac")),
            _ => return None,
        };
        Some((what, feature))
    }

    /// Fetch and decode; what the answer leads to.
    pub fn run(&self, client: &Client, page_size: usize, skip_acls: bool) -> Result<Done, ApiError> {
        let e = self.endpoint(page_size);
        let pages = |offset: usize, rows: usize, count: i64, make: &dyn Fn(usize) -> Task| -> Vec<Task> {
            // A server that answers fewer rows than asked (a cap on `limit`)
            // sets the step; stepping by what was asked would skip rows.
            let step = if rows < page_size && (rows as i64) < count { rows } else { page_size };
            if offset != 0 || step == 0 {
                return Vec::new();
            }
            // Only offsets below `count`: a page past the end of
            // paginated-members makes the server fail (ENDPOINTS.md section 0).
            (1..).map(|i| i * step).take_while(|o| (*o as i64) < count).map(make).collect()
        };
        Ok(match self {
            Task::BuildInfo => fetch::<wire::BuildInfo>(client, &e)?.0,
            Task::Me => {
                let (_, me) = fetch::<wire::User>(client, &e)?;
                let roles = me.roles.iter().filter(|r| r.organization_id.is_empty()).map(|r| r.name.clone()).collect();
                Done { me: Some((me.username, roles)), ..Done::default() }
            }
            Task::Entitlements => {
                let (done, value) = fetch::<wire::Entitlements>(client, &e)?;
                Done { entitlements: Some(value), ..done }
            }
            Task::Organizations => {
                let (mut done, orgs) = fetch::<Vec<wire::Organization>>(client, &e)?;
                for o in orgs {
                    let org = o.id;
                    done.spawn.extend([
                        Task::Members { org: org.clone(), offset: 0 },
                        Task::Groups { org: org.clone() },
                        Task::Roles { org: org.clone() },
                        Task::Keys { org: org.clone() },
                        Task::Daemons { org: org.clone() },
                        Task::GroupSync { org: org.clone() },
                        Task::RoleSync { org },
                    ]);
                }
                done
            }
            Task::Users { offset } => {
                let (mut done, page) = fetch::<wire::GetUsersResponse>(client, &e)?;
                done.spawn = pages(*offset, page.users.len(), page.count, &|offset| Task::Users { offset });
                done.page = Some((page.users.len(), page.count));
                done
            }
            Task::Workspaces { offset } => {
                let (mut done, page) = fetch::<wire::WorkspacesResponse>(client, &e)?;
                done.spawn = pages(*offset, page.workspaces.len(), page.count, &|offset| Task::Workspaces { offset });
                done.page = Some((page.workspaces.len(), page.count));
                done
            }
            Task::Templates { .. } => {
                let (mut done, templates) = fetch::<Vec<wire::Template>>(client, &e)?;
                for t in templates {
                    if !t.active_version_id.is_empty() {
                        done.spawn.push(Task::Version { id: t.active_version_id });
                    }
                    if !skip_acls {
                        done.spawn.push(Task::Acl { template: t.id });
                    }
                }
                done
            }
            Task::Members { org, offset } => {
                let (mut done, page) = fetch::<wire::PaginatedMembersResponse>(client, &e)?;
                done.spawn = pages(*offset, page.members.len(), page.count, &|offset| Task::Members {
                    org: org.clone(),
                    offset,
                });
                done.page = Some((page.members.len(), page.count));
                done
            }
            Task::AllMembers { .. } => fetch::<Vec<wire::OrganizationMember>>(client, &e)?.0,
            Task::Proxies => fetch::<wire::RegionsResponse>(client, &e)?.0,
            Task::Groups { .. } => fetch::<Vec<wire::Group>>(client, &e)?.0,
            Task::Roles { .. } => fetch::<Vec<wire::Role>>(client, &e)?.0,
            Task::Keys { .. } => fetch::<Vec<wire::ProvisionerKey>>(client, &e)?.0,
            Task::Daemons { org } => {
                let (mut done, daemons) = fetch::<Vec<wire::ProvisionerDaemon>>(client, &e)?;
                if daemons.len() >= DAEMON_LIMIT {
                    done.warnings.push(Warning::new(
                        "incomplete-pages",
                        format!(
                            "organization `{org}` answered the {DAEMON_LIMIT} provisioner daemons asked for, the most \
                             `GET {}` gives: there may be more",
                            e.path()
                        ),
                    ));
                }
                done
            }
            Task::Version { .. } => fetch::<wire::TemplateVersion>(client, &e)?.0,
            // Unknown, not an error, where the release, the license or the
            // experiments do not have them: the snapshot then says nothing.
            // With sharing on (the `workspace-sharing` experiment of v2.30.0,
            // which refuses the settings with 403 when it is off, or a newer
            // release: `wire::sharing_on`), each org's sharing setting too.
            Task::Experiments => match fetch::<Vec<String>>(client, &e) {
                Ok((mut done, list)) => {
                    let orgs: Vec<wire::Organization> = client.get(&endpoint!["organizations"])?;
                    if wire::sharing_on(Some(&list), &orgs) {
                        done.spawn = orgs.into_iter().map(|o| Task::WorkspaceSharing { org: o.id }).collect();
                    }
                    done
                }
                Err(e) if matches!(e.status(), Some(403 | 404)) => Done::default(),
                Err(e) => return Err(e),
            },
            Task::WorkspaceSharing { .. } => or_unknown(fetch::<wire::WorkspaceSharingSettings>(client, &e))?,
            Task::Acl { .. } => fetch::<wire::TemplateAcl>(client, &e)?.0,
            // Settings nobody configured come back as an empty claim field
            // and mapping: nothing to import, as an export would not hold them.
            Task::OrgSync => unless(fetch::<wire::OrganizationSyncSettings>(client, &e)?, |s| {
                s.field.is_empty() && s.mapping.is_empty()
            }),
            Task::GroupSync { .. } => unless(fetch::<wire::GroupSyncSettings>(client, &e)?, |s| {
                s.field.is_empty() && s.mapping.is_empty() && s.legacy_group_name_mapping.is_empty()
            }),
            Task::RoleSync { .. } => {
                unless(fetch::<wire::RoleSyncSettings>(client, &e)?, |s| s.field.is_empty() && s.mapping.is_empty())
            }
        })
    }
}

/// GET, decode as `T`, and wrap the decoded body in an envelope.
fn fetch<T: DeserializeOwned + Serialize>(client: &Client, e: &Endpoint) -> Result<(Done, T), ApiError> {
    let value: T = client.get(e)?;
    let path = e.path();
    let envelope = serde_json::to_vec(&Envelope { endpoint: &path, body: &value }).ok();
    Ok((Done { envelope, ..Done::default() }, value))
}

/// A 403 or 404 gives nothing to import.
fn or_unknown<T>(answer: Result<(Done, T), ApiError>) -> Result<Done, ApiError> {
    match answer {
        Ok((done, _)) => Ok(done),
        Err(e) if matches!(e.status(), Some(403 | 404)) => Ok(Done::default()),
        Err(e) => Err(e),
    }
}

fn unless<T>((done, value): (Done, T), empty: impl Fn(&T) -> bool) -> Done {
    if empty(&value) { Done::default() } else { done }
}
