//! The HTML report opened in headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs): it renders, the picture has its boxes and edges,
//! nothing is fetched, and the page prints nothing to the console. Skips
//! with a reason when Chromium is absent; fails when CI=true.
//!
//! Requests are caught with a proxy: Chromium sends every request to a
//! listener of this test on 127.0.0.1 (loopback included), which records the
//! first line and closes. Chromium's own services (Google's update, time
//! and account hosts) are not the page's and are left out. Console output
//! (including Content-Security-Policy violations) is read from Chromium's
//! log. A control page that fetches an image and logs an error shows both
//! are caught.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::orgsplit;

const CHROMIUM: &str = "/usr/bin/chromium";

fn have_chromium() -> bool {
    let found = Path::new(CHROMIUM).exists();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{CHROMIUM} is required when CI=true (.ci/run installs it)"
        );
        eprintln!("skipping: {CHROMIUM} is not installed (apt-get install chromium)");
    }
    found
}

/// A proxy that answers nothing: it records each request's first line.
struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let mut line = String::new();
                        let _ = BufReader::new(conn).read_line(&mut line);
                        s.lock().unwrap().push(line.trim_end().to_string());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Proxy { port, seen, stop }
    }

    /// The requests that are not Chromium's own services.
    fn page_requests(&self) -> Vec<String> {
        let own = ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"];
        let host = |line: &str| {
            let target = line.split(' ').nth(1).unwrap_or("");
            let target = target.trim_start_matches("http://").trim_start_matches("https://");
            target.split(['/', ':']).next().unwrap_or("").to_string()
        };
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|l| !own.iter().any(|o| host(l) == *o || host(l).ends_with(&format!(".{o}"))))
            .cloned()
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Chromium's stdout and its console lines, for `page` opened with `args`.
fn chromium(profile: &Path, proxy: &Proxy, page: &Path, args: &[&str]) -> (String, Vec<String>) {
    let (out_path, err_path) = (profile.with_extension("stdout"), profile.with_extension("stderr"));
    let mut child = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        // Files, not pipes: Chromium's log would fill a pipe nobody reads yet.
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    assert!(status.success(), "chromium failed: {stderr}");
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    (String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned(), console)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn report_html_in_chromium() {
    if !have_chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report: PathBuf = dir.path().join("report.html");
    orgsplit().args(["report", "-o", "html", "--out"]).arg(&report).assert().success();
    let proxy = Proxy::start();
    let profile = dir.path().join("profile");

    // The control: a fetch and a console error are both seen.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><img src=\"http://fetch-me.invalid/x.png\"/>\
         <script>console.error(\"control-error\")</script></body></html>",
    )
    .unwrap();
    let (_, console) = chromium(&profile, &proxy, &control, &["--dump-dom"]);
    assert!(console.iter().any(|l| l.contains("control-error")), "console not caught: {console:?}");
    let fetched = |p: &Proxy| p.page_requests().iter().any(|l| l.contains("fetch-me.invalid"));
    let waited = Instant::now();
    while !fetched(&proxy) && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(fetched(&proxy), "the control's fetch was not caught: {:?}", proxy.seen.lock().unwrap());
    proxy.seen.lock().unwrap().clear();

    // The report, as Chromium parsed it.
    let (dom, console) = chromium(&profile, &proxy, &report, &["--dump-dom"]);
    assert!(console.is_empty(), "the page printed to the console: {console:#?}");
    assert!(dom.contains("<h1>Dry-run org split report</h1>"), "{}", &dom[..dom.len().min(2000)]);
    assert!(dom.contains("default-src 'none'"), "the page forbids fetching");
    let svg = &dom[dom.find("<svg").expect("the picture is in the page")..];
    let svg = &svg[..svg.find("</svg>").expect("the picture is closed")];
    assert_eq!(count(svg, "<g class=\"org\">"), 10, "the default org and the nine new ones");
    assert!(count(svg, "<rect") >= 10, "boxes drawn");
    assert!(count(svg, "<g class=\"edge ") >= 20 && count(svg, "<path d=\"M") >= 20, "edges drawn");

    // It paints: a screenshot of the report is far from blank (a page with
    // one word is about 10 KB; the report's first screen about 360 KB).
    let shot = dir.path().join("shot.png");
    let (_, console) =
        chromium(&profile, &proxy, &report, &["--window-size=1280,1600", &format!("--screenshot={}", shot.display())]);
    assert!(console.is_empty(), "the page printed to the console: {console:#?}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 100_000, "a blank page? {} bytes", png.len());

    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(proxy.page_requests(), Vec::<String>::new(), "the page fetched something");
}
