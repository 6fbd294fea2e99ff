//! Per-user migration scripts: bash that moves a user's files from each old
//! workspace to its new one with rsync, safely and resumably.
//!
//! The script is a fixed template (`migrate.sh`, checked by shellcheck in the
//! tests) plus a generated data block. Every value that comes from the
//! deployment is shell-quoted (shlex) and only ever used inside quotes, and
//! the comment lines carry no deployment text that could end a comment.
//! Names reach commands after `--`, and the SSH host names are checked
//! (`ssh_hosts`): a move whose host would be odd is refused by the script.

use std::collections::BTreeMap;

use super::file_names;
use crate::error::{Error, Result};
use crate::plan::{Plan, WorkspaceMigration};

const TEMPLATE: &str = include_str!("migrate.sh");

/// What every script of one plan shares.
#[derive(Debug, Clone)]
pub struct ScriptContext<'a> {
    /// The deployment the coder CLI must be logged in to.
    pub deployment_url: &'a str,
    /// Host-name prefix `coder config-ssh` writes (the deployment's
    /// `hostname_prefix`; `coder.` unless changed).
    pub ssh_prefix: &'a str,
    pub wiki: &'a str,
    pub deadline: &'a str,
    /// The plan's fingerprint, so a script can be traced to its plan.
    pub plan: &'a str,
    /// The Coder v2 CLI the script runs (`coder`; `coderv2` where v1's CLI is `coder`).
    pub coder_cli: &'a str,
    /// The old workspaces are Coder v1 ones (each [`Move::old_host`] set).
    pub from_v1: bool,
}

/// One user's workspaces to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMoves {
    pub owner: String,
    pub email: String,
    /// The user's file stem (`<file>.sh`, `users/<file>.md`): the username
    /// when it is a safe file name, else a safe form unique in the plan
    /// (see [`super::file_names`]).
    pub file: String,
    pub items: Vec<Move>,
}

/// One old workspace and the new one its files go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub old_workspace: String,
    pub old_template: String,
    pub new_workspace: String,
    pub new_org: String,
    pub new_template: String,
    /// The old workspace's SSH host when it is not the v2 one
    /// (`coder.<workspace>` for a Coder v1 workspace); empty for v2.
    pub old_host: String,
    /// Parameters to create the new workspace with (`name=value`); empty:
    /// copy the old workspace's (v2).
    pub parameters: Vec<String>,
}

/// The bash script for one user.
pub fn migration_script(ctx: &ScriptContext, user: &UserMoves) -> Result<String> {
    super::ssh_hosts::check_ssh_prefix(ctx.ssh_prefix)?;
    let mut data = String::new();
    let mut assign = |name: &str, value: &str| -> Result<()> {
        data.push_str(&format!("{name}={}\n", quote(value)?));
        Ok(())
    };
    assign("DEPLOYMENT_URL", ctx.deployment_url.trim_end_matches('/'))?;
    assign("OWNER", &user.owner)?;
    assign("SSH_PREFIX", ctx.ssh_prefix)?;
    assign("WIKI", ctx.wiki)?;
    assign("DEADLINE", ctx.deadline)?;
    // Local folder names come from these, never from raw deployment names.
    assign("OWNER_DIR", &user.file)?;
    assign("CODER_CLI", ctx.coder_cli)?;
    data.push_str(&format!("FROM_V1={}\n", u8::from(ctx.from_v1)));
    data.push_str("# One entry per workspace to move; the same position in each list.\n");
    let list = |values: Vec<&str>| -> Result<String> {
        let quoted: Result<Vec<String>> = values.into_iter().map(quote).collect();
        Ok(quoted?.join(" "))
    };
    let field = |f: fn(&Move) -> &str| user.items.iter().map(f).collect::<Vec<_>>();
    data.push_str(&format!("OLD_WS=({})\n", list(field(|m| &m.old_workspace))?));
    data.push_str(&format!("NEW_WS=({})\n", list(field(|m| &m.new_workspace))?));
    data.push_str(&format!("NEW_ORG=({})\n", list(field(|m| &m.new_org))?));
    data.push_str(&format!("NEW_TEMPLATE=({})\n", list(field(|m| &m.new_template))?));
    data.push_str(&format!("OLD_HOST=({})\n", list(field(|m| &m.old_host))?));
    let params: Vec<String> = user.items.iter().map(|m| parameter_words(&m.parameters)).collect::<Result<_>>()?;
    data.push_str(&format!("NEW_PARAMS=({})\n", list(params.iter().map(String::as_str).collect())?));
    let dirs: Vec<String> =
        user.items.iter().enumerate().map(|(i, m)| format!("{}-{i}", file_names::stem(&m.old_workspace))).collect();
    data.push_str(&format!("STAGE_DIR=({})\n", list(dirs.iter().map(String::as_str).collect())?));
    // Why a move is refused (empty: it is not): its host names would not be Coder's.
    let problems: Vec<String> = user
        .items
        .iter()
        .map(|m| super::ssh_hosts::host_problem(&user.owner, &m.old_workspace, &m.new_workspace))
        .collect();
    data.push_str(&format!("HOST_PROBLEM=({})\n", list(problems.iter().map(String::as_str).collect())?));
    data.push_str("export DEADLINE\n");
    let header = format!(
        "orgsplit migration script for {} ({} workspace{}), from plan {}.",
        comment_safe(&user.owner),
        user.items.len(),
        if user.items.len() == 1 { "" } else { "s" },
        comment_safe(ctx.plan)
    );
    Ok(TEMPLATE.replacen("# @@HEADER@@", &format!("# {header}"), 1).replacen("# @@DATA@@\n", &data, 1))
}

/// The plan's workspace migrations, one entry per owner (sorted by
/// username), each owner's moves in the plan's order, each owner with a
/// file name no other owner has. Service accounts are left out: they log in
/// by token, never through the IdP, so no person reads a notice or runs a
/// script for them.
pub fn user_moves(plan: &Plan) -> Vec<UserMoves> {
    let mut by_owner: BTreeMap<&str, Vec<&WorkspaceMigration>> = BTreeMap::new();
    for m in plan.workspace_migrations.iter().filter(|m| !m.owner.is_service_account) {
        by_owner.entry(&m.owner.username).or_default().push(m);
    }
    let files = file_names::unique_stems(&by_owner.keys().collect::<Vec<_>>());
    by_owner
        .into_values()
        .zip(files)
        .map(|(ms, file)| UserMoves {
            owner: ms[0].owner.username.clone(),
            email: ms[0].owner.email.clone(),
            file,
            items: ms
                .iter()
                .map(|m| Move {
                    old_workspace: m.old.name.clone(),
                    old_template: m.old.template.clone(),
                    new_workspace: m.new.workspace_name.clone(),
                    new_org: m.new.org.clone(),
                    new_template: m.new.template.clone(),
                    old_host: String::new(),
                    parameters: Vec::new(),
                })
                .collect(),
        })
        .collect()
}

/// Parameters as one word list the script splits on spaces: each
/// `name=value` must hold no whitespace or quote (orgsplit writes them from
/// numbers, tags and its own names; anything else is refused).
fn parameter_words(parameters: &[String]) -> Result<String> {
    for p in parameters {
        let ok = p.contains('=')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-' | '.' | ':' | '/' | '+'));
        if !ok {
            return Err(Error::Refused(format!(
                "workspace parameter {:?} is not a plain `name=value` word; refusing to write a script",
                super::plain(p)
            )));
        }
    }
    Ok(parameters.join(" "))
}

/// The script's file name for a user: `<file>.sh` (see [`UserMoves::file`]).
pub fn script_name(user: &UserMoves) -> String {
    format!("{}.sh", user.file)
}

/// `index.csv`: one row per user, for whoever hands the scripts out.
pub fn index_csv(plan: &Plan, users: &[UserMoves]) -> Result<String> {
    let names: BTreeMap<&str, (&str, &str)> = plan
        .workspace_migrations
        .iter()
        .map(|m| (m.owner.username.as_str(), (m.owner.name.as_str(), m.owner.status.as_str())))
        .collect();
    let mut w = super::sheet::Sheet::new();
    w.row(["user", "email", "name", "status", "workspaces", "new_workspaces", "script"])?;
    for u in users {
        let (name, status) = names.get(u.owner.as_str()).copied().unwrap_or_default();
        let old: Vec<&str> = u.items.iter().map(|m| m.old_workspace.as_str()).collect();
        let new: Vec<String> = u.items.iter().map(|m| format!("{}/{}", m.new_org, m.new_workspace)).collect();
        w.row([u.owner.as_str(), u.email.as_str(), name, status, &old.join(";"), &new.join(";"), &script_name(u)])?;
    }
    w.finish()
}

/// Quote a value for bash. Only a NUL byte cannot be quoted; no Coder name
/// holds one, so finding one means the plan file was tampered with.
fn quote(value: &str) -> Result<String> {
    shlex::try_quote(value).map(|q| q.into_owned()).map_err(|_| {
        Error::Refused(format!("a name in the plan contains a NUL byte ({value:?}); refusing to write a script"))
    })
}

/// Text for a `#` comment: control characters (a newline would end the
/// comment and start a command) become `?`.
pub fn comment_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ScriptContext<'static> {
        ScriptContext {
            deployment_url: "https://coder.example.com/",
            ssh_prefix: "coder.",
            wiki: "https://wiki.example.com/orgs",
            deadline: "2025-03-31",
            plan: "sha256:abc",
            coder_cli: "coder",
            from_v1: false,
        }
    }

    fn user(owner: &str, ws: &str) -> UserMoves {
        UserMoves {
            owner: owner.into(),
            email: "a@example.com".into(),
            file: owner.into(),
            items: vec![Move {
                old_workspace: ws.into(),
                old_template: "docker".into(),
                new_workspace: format!("{ws}-new"),
                new_org: "data".into(),
                new_template: "docker".into(),
                old_host: String::new(),
                parameters: Vec::new(),
            }],
        }
    }

    #[test]
    fn values_are_quoted_and_the_url_has_no_trailing_slash() {
        let s = migration_script(&ctx(), &user("alice", "it's $(rm -rf ~)")).unwrap();
        assert!(s.contains("DEPLOYMENT_URL=https://coder.example.com\n"), "{s}");
        let line = s.lines().find(|l| l.starts_with("OLD_WS=")).unwrap();
        assert_eq!(
            shlex::split(line.trim_start_matches("OLD_WS=(").trim_end_matches(')')).unwrap(),
            ["it's $(rm -rf ~)"]
        );
        assert!(!s.contains("@@"), "every placeholder filled");
    }

    #[test]
    fn newlines_cannot_escape_the_header_comment() {
        let s = migration_script(&ctx(), &user("alice\ntouch /tmp/pwned", "dev")).unwrap();
        let header = s.lines().nth(1).unwrap();
        assert!(header.starts_with("# orgsplit migration script for alice?touch /tmp/pwned"), "{header}");
        assert!(s.contains("\nOWNER='alice\ntouch /tmp/pwned'\n"), "the value stays inside one quoted word");
    }

    #[test]
    fn v1_moves_carry_their_host_and_parameters_and_odd_parameters_are_refused() {
        let mut u = user("alice", "dev");
        u.items[0].old_host = "coder.dev".into();
        u.items[0].parameters = vec!["cpu=2".into(), "image_tag=1.16".into()];
        let c = ScriptContext { coder_cli: "coderv2", from_v1: true, ..ctx() };
        let s = migration_script(&c, &u).unwrap();
        assert!(s.contains("\nCODER_CLI=coderv2\nFROM_V1=1\n"), "{s}");
        assert!(s.contains("\nOLD_HOST=(coder.dev)\n"), "{s}");
        assert!(s.contains("\nNEW_PARAMS=('cpu=2 image_tag=1.16')\n"), "{s}");
        u.items[0].parameters = vec!["image_tag=$(touch x)".into()];
        assert!(migration_script(&c, &u).is_err());
        u.items[0].parameters = vec!["a=b c".into()];
        assert!(migration_script(&c, &u).is_err());
    }

    #[test]
    fn nul_bytes_are_refused() {
        assert!(migration_script(&ctx(), &user("alice", "a\0b")).is_err());
    }
}
