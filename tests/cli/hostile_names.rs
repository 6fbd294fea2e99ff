//! Names from the deployment are hostile: Coder users set their own display
//! names, admins set group, template and org names. Each output they reach
//! is checked for what would go wrong there: formula cells in CSV, control
//! sequences on the terminal, broken DOT, Markdown escapes in a plain-text
//! message, a host name that ssh would read as an option.

use std::fs;
use std::path::{Path, PathBuf};

use orgsplit::model::Snapshot;
use orgsplit::plan::{Plan, StepSpec};

use crate::common::*;
use crate::handout::{sample_plan, write_plan};

/// An OSC title, a screen clear, a bell, a line break and a quote.
const OSC: &str = "\u{1b}]0;pwned\u{7}";
const CLEAR: &str = "\u{1b}[2J";

fn no_control_sequences(what: &str, text: &str) {
    assert!(!text.contains(['\u{1b}', '\u{7}', '\u{9b}']), "{what} holds a raw ESC, BEL or CSI: {text:?}");
}

/// A CSV file, read with a CSV reader: header, then rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn assert_no_formula_cells(what: &str, rows: &[Vec<String>]) {
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{what}: a spreadsheet would run {cell:?}");
    }
}

#[test]
fn csv_cells_that_spreadsheets_would_run_get_a_leading_quote() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = sample_plan();
    let link = "=HYPERLINK(\"http://evil.example/\",\"click\")";
    for m in &mut plan.workspace_migrations {
        let (username, name, email) =
            if m.owner.username == "alice" { ("-2", link, "+1") } else { ("\rY", "@SUM(A1)", "\tX") };
        m.owner.username = username.into();
        m.owner.name = name.into();
        m.owner.email = email.into();
    }
    let path = write_plan(dir.path(), &plan);
    let scripts = dir.path().join("scripts");
    orgsplit().arg("scripts").arg(&path).arg("--out-dir").arg(&scripts).assert().success();
    let (header, rows) = read_csv(&scripts.join("index.csv"));
    assert_no_formula_cells("index.csv", &rows);
    let (user, email, name) = (column(&header, "user"), column(&header, "email"), column(&header, "name"));
    let mut cells: Vec<[&str; 3]> = rows.iter().map(|r| [&*r[user], &*r[email], &*r[name]]).collect();
    cells.sort();
    let quoted_link = format!("'{link}");
    assert_eq!(cells, [["'\rY", "'\tX", "'@SUM(A1)"], ["'-2", "'+1", quoted_link.as_str()]]);

    let notices = dir.path().join("notices");
    orgsplit().arg("notices").arg(&path).arg("--out-dir").arg(&notices).assert().success();
    let (header, rows) = read_csv(&notices.join("mailing-list.csv"));
    assert_no_formula_cells("mailing-list.csv", &rows);
    let (user, email, name) = (column(&header, "username"), column(&header, "email"), column(&header, "name"));
    let mut cells: Vec<[&str; 3]> = rows.iter().map(|r| [&*r[user], &*r[email], &*r[name]]).collect();
    cells.sort();
    // Plain text there: tab and carriage return were already spaces.
    assert_eq!(cells, [[" Y", " X", "'@SUM(A1)"], ["'-2", "'+1", quoted_link.as_str()]]);
}

#[test]
fn an_empty_or_odd_ssh_prefix_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &sample_plan());
    for prefix in ["--ssh-prefix=", "--ssh-prefix=-oProxyCommand=x", "--ssh-prefix=coder. "] {
        let out = dir.path().join("scripts");
        let a = orgsplit().arg("scripts").arg(&plan).arg("--out-dir").arg(&out).arg(prefix).assert().code(64);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(stderr.contains("is not a host-name prefix: use letters, digits, `.` and `-`"), "{stderr}");
        assert!(!out.exists(), "nothing is written");
    }
}

/// MegaCo with hostile names on things the split does not move or create:
/// a group (a candidate), a template still in use (a picture edge), a user
/// who moves (migrations, members) and a workspace proxy (a plan warning).
fn hostile_megaco(dir: &Path) -> PathBuf {
    let mut s: Snapshot = orgsplit::fixture::builtin().unwrap();
    let group = format!("java{OSC}\"mono\nlith\\");
    s.groups.iter_mut().find(|g| g.name == "java-monolith").unwrap().name = group;
    let template = format!("k8s{CLEAR}\u{7}\"dev\\\n");
    let t = s.templates.iter_mut().find(|t| t.name == "k8s-dev").unwrap();
    t.name = template.clone();
    let id = t.id.clone();
    for w in s.workspaces.iter_mut().filter(|w| w.template_id == id) {
        w.template_name = template.clone();
    }
    let u = s.users.iter_mut().find(|u| u.username == "karan-banerjee").unwrap();
    u.username = format!("karan{OSC}");
    u.name = format!("{CLEAR}\"Karan\nB\u{7}");
    let (id, username) = (u.id.clone(), u.username.clone());
    for w in s.workspaces.iter_mut().filter(|w| w.owner_id == id) {
        w.owner_name = username.clone();
        w.name = format!("dev{OSC}");
    }
    // Named in a plan warning: the split wants `mumbai`, and these are what the deployment has.
    s.workspace_proxies.iter_mut().find(|p| p.name == "sydney").unwrap().name = format!("syd{OSC}ney");
    let path = dir.join("hostile.json");
    fs::write(&path, s.to_json().unwrap()).unwrap();
    path
}

/// DOT that Graphviz can read: every quoted string closed on its line,
/// backslashes and quotes escaped, no raw control character.
fn assert_balanced_dot(dot: &str) {
    no_control_sequences("the DOT", dot);
    for line in dot.lines() {
        let mut quoted = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if quoted => {
                    chars.next();
                }
                '"' => quoted = !quoted,
                _ => {}
            }
        }
        assert!(!quoted, "an unclosed string in the DOT line {line:?}");
    }
}

fn stdout_of(args: &[&str], snapshot: &Path) -> (String, String) {
    let a = orgsplit().args(args).arg(snapshot).assert();
    let out = a.get_output();
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn no_command_lets_a_name_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = hostile_megaco(dir.path());
    let split = megaco().join("split.toml");
    for format in ["table", "markdown"] {
        let (out, err) = stdout_of(&["score", "-o", format], &snapshot);
        assert!(out.contains("]0;pwned"), "the group is a candidate: {out}");
        no_control_sequences(&format!("score -o {format}"), &(out + &err));
    }
    let (out, err) = stdout_of(&["inventory"], &snapshot);
    assert!(out.contains("]0;pwned"), "{out}");
    no_control_sequences("inventory", &(out + &err));

    let a = orgsplit().arg("report").arg(&snapshot).arg("--split").arg(&split).assert().success();
    let report = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(report.contains("karan \\]0;pwned"), "the user who moves is listed: {report}");
    no_control_sequences("report", &report);
    let dot = report.split("```dot\n").nth(1).and_then(|d| d.split("```").next()).expect("a DOT block");
    assert!(dot.contains(r#"label = "k8s [2J \"dev\\ \lstays""#), "drawn, quote and backslash escaped: {dot}");
    assert_balanced_dot(dot);

    let plan = dir.path().join("plan.json");
    let a = orgsplit().arg("plan").arg(&snapshot).arg("--split").arg(&split).arg("--out").arg(&plan).assert().success();
    let messages = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(messages.contains("missing-workspace-proxy") && messages.contains("syd ]0;pwned ney"), "{messages}");
    no_control_sequences("plan's messages", &messages);
    let a = orgsplit().arg("diff").arg(&plan).arg("--snapshot").arg(&snapshot).assert().code(2);
    let diff = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(diff.contains("karan ]0;pwned "), "{diff}");
    no_control_sequences("diff", &diff);
    let a = orgsplit().arg("diff").arg(&plan).arg("--snapshot").arg(&snapshot).arg("--access").assert().code(2);
    let access = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(access.contains("karan ]0;pwned "), "{access}");
    no_control_sequences("diff --access", &access);
}

#[test]
fn the_deprecation_message_is_plain_text_and_escaped_where_it_is_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.toml");
    fs::write(
        &split,
        "format_version = 1\n[migration]\nwiki = \"https://wiki.example.com/m\"\ndeadline = \"2025-03-31\"\n\
         deprecation_message = \"Moved to {org_display_name} as {new_template}: {wiki}\"\n\
         [[organizations]]\nname = \"raptix\"\ndisplay_name = \"Rap |> `x` *Team*\"\ngroups = [\"raptix\"]\n\
         templates = [\"raptix-*\"]\n",
    )
    .unwrap();
    let path = dir.path().join("plan.json");
    orgsplit().arg("plan").arg("--split").arg(&split).arg("--out").arg(&path).assert().success();
    let plan = Plan::from_json(&fs::read(&path).unwrap(), &path).unwrap();
    let messages: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.spec {
            StepSpec::Deprecation(d) => Some((d.template_name.as_str(), d.message.as_str())),
            _ => None,
        })
        .collect();
    assert!(!messages.is_empty(), "the raptix templates are deprecated");
    let (template, message) = messages[0];
    assert_eq!(message, format!("Moved to Rap |> `x` *Team* as {template}: https://wiki.example.com/m"));

    let notices = dir.path().join("notices");
    orgsplit().arg("notices").arg(&path).arg("--out-dir").arg(&notices).assert().success();
    let stem = notices.join(format!("templates/coder--{template}"));
    assert_eq!(fs::read_to_string(stem.with_extension("message.txt")).unwrap(), format!("{message}\n"));
    let md = fs::read_to_string(stem.with_extension("md")).unwrap();
    assert!(md.contains(&format!("> Moved to Rap \\|\\> \\`x\\` \\*Team\\* as {template}: ")), "{md}");

    let a = orgsplit().arg("report").arg("--split").arg(&split).assert().success();
    let report = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(report.contains(&format!("```text\n{message}\n```")), "shown exactly, in a code block: {report}");
}
