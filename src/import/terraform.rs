//! Infrastructure signals in a template's Terraform source.
//!
//! This is not an HCL parser: it is a scanner that follows blocks (`resource
//! "aws_instance" "dev" {`), skips comments, strings and heredocs (startup
//! scripts are full of braces), and reads literal attribute values. That is
//! enough to say which providers, accounts, clusters, namespaces, regions,
//! GPUs, images and modules a template uses, with the file and line of each.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Signal;

/// Providers that say nothing about infrastructure.
const UTILITY_PROVIDERS: &[&str] =
    &["null", "random", "local", "time", "terraform", "template", "archive", "external", "http", "tls"];

const VM_TYPES: &[&str] = &[
    "aws_instance",
    "aws_spot_instance_request",
    "google_compute_instance",
    "azurerm_linux_virtual_machine",
    "azurerm_windows_virtual_machine",
    "azurerm_virtual_machine",
    "vsphere_virtual_machine",
    "proxmox_vm_qemu",
    "libvirt_domain",
    "digitalocean_droplet",
    "hcloud_server",
];

const CONTAINER_TYPES: &[&str] = &[
    "docker_container",
    "kubernetes_pod",
    "kubernetes_pod_v1",
    "kubernetes_deployment",
    "kubernetes_deployment_v1",
    "kubernetes_stateful_set",
    "kubernetes_stateful_set_v1",
];

const CLUSTER_TYPES: &[&str] =
    &["google_container_cluster", "aws_eks_cluster", "aws_eks_cluster_auth", "azurerm_kubernetes_cluster"];

/// Instance types with GPUs (AWS p/g families, GCP a2/a3/g2, Azure N-series).
static GPU_MACHINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(p2|p3|p3dn|p4d|p4de|p5|p5e|g3|g4dn|g4ad|g5|g5g|g6|g6e|gr6)\.|^(a2|a3|g2)-|^Standard_N[CDV]").unwrap()
});
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*([A-Za-z_][\w-]*)((?:\s+"[^"]*")*)\s*\{"#).unwrap());
static OBJECT_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*([A-Za-z_][\w-]*)\s*=\s*\{").unwrap());
static ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[\s{,])([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^\s,}\]][^,}]*)"#).unwrap()
});
static STRING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap());
static HEREDOC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$").unwrap());
/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (IAM roles, EKS clusters, ...).
static ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^arn:aws[\w-]*:([\w-]+):([a-z0-9-]*):(\d{12})?:(.*)$").unwrap());
/// An ECR registry host: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/...`.
static ECR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:https?://)?(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:/|$)").unwrap()
});
/// Artifact Registry (`REGION-docker.pkg.dev/PROJECT/...`) and Container Registry (`gcr.io/PROJECT/...`).
static GCP_REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:https?://)?(?:([a-z0-9-]+)-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io)/([a-z][a-z0-9-]{4,28}[a-z0-9])/")
        .unwrap()
});
/// An Azure Container Registry host.
static ACR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:https?://)?([a-z0-9]{5,50}\.azurecr\.io)(?:/|$)").unwrap());
/// An EKS API endpoint: it names a region, not the cluster.
static EKS_ENDPOINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^https://[0-9A-Fa-f]+\.[a-z0-9]+\.([a-z0-9-]+)\.eks\.amazonaws\.com/?$").unwrap());
/// A GKE kube context: `gke_PROJECT_LOCATION_CLUSTER`.
static GKE_CONTEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^gke_([a-z][a-z0-9-]{4,28}[a-z0-9])_([a-z0-9-]+)_([A-Za-z0-9_-]+)$").unwrap());
/// An Azure resource id of an AKS cluster:
/// `/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME`.
static AKS_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^/subscriptions/([0-9a-f-]{36})/resourcegroups/[^/]+/providers/microsoft\.containerservice/managedclusters/([A-Za-z0-9_-]+)$",
    )
    .unwrap()
});
/// `"key" = "value"`: quoted keys (labels, annotations, node selectors, GPU limits).
static QUOTED_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"]+)"\s*=\s*"((?:[^"\\]|\\.)*)""#).unwrap());

#[derive(Debug, Clone)]
struct Block {
    /// `resource`, `provider`, `variable`, ... or the key of an object attribute.
    keyword: String,
    labels: Vec<String>,
    /// Brace depth inside this block.
    depth: usize,
}

/// What a scan found in one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    pub signals: Vec<Signal>,
    /// Where the file stops making sense (unbalanced braces, a string,
    /// heredoc or comment that never ends): the line and what is wrong.
    /// Signals on and after that line are not kept, since the scanner may
    /// have misread them; the ones before it are.
    pub problem: Option<(u64, String)>,
}

/// Scan one Terraform file. `file` is its path relative to the template folder.
pub fn scan(file: &str, text: &str) -> Scan {
    let mut out = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut depth = 0usize;
    let mut in_comment = false;
    let mut heredoc: Option<(String, u64)> = None;
    let mut comment_line = 0;
    // The line of each brace still open, innermost last.
    let mut open_lines: Vec<u64> = Vec::new();
    let mut problem = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if let Some((marker, _)) = &heredoc {
            if raw.trim() == marker {
                heredoc = None;
            }
            continue;
        }
        let was_in_comment = in_comment;
        let (code, delta_open, delta_close, open_string) = clean(raw, &mut in_comment);
        if in_comment && !was_in_comment {
            comment_line = line_no;
        }
        if open_string {
            problem = Some((line_no, "a string that does not end on its line".to_string()));
            break;
        }
        if delta_close > depth + delta_open {
            problem = Some((line_no, "a `}` that closes no block".to_string()));
            break;
        }
        let mut sig = |kind: &str, value: &str| {
            if !value.is_empty() && !is_blob(value) {
                out.push(Signal { kind: kind.into(), value: value.into(), file: file.into(), line: line_no });
            }
        };
        if let Some(c) = HEADER.captures(&code) {
            let keyword = c[1].to_string();
            let labels: Vec<String> = STRING.captures_iter(&c[2]).map(|l| l[1].to_string()).collect();
            on_block(&keyword, &labels, &blocks, &mut sig);
            blocks.push(Block { keyword, labels, depth: depth + 1 });
        } else if let Some(c) = OBJECT_ATTR.captures(&code) {
            let keyword = c[1].to_string();
            on_block(&keyword, &[], &blocks, &mut sig);
            blocks.push(Block { keyword, labels: Vec::new(), depth: depth + 1 });
        }
        for c in ATTR.captures_iter(&code) {
            on_attribute(&c[1], &c[2], &blocks, &mut sig);
        }
        for c in QUOTED_ATTR.captures_iter(&code) {
            on_quoted_attribute(&c[1], &c[2], &mut sig);
        }
        // ARNs, registry hosts and kube contexts say where things are, whatever the key.
        for c in STRING.captures_iter(&code).filter(|c| !c[1].contains("${")) {
            structured(&c[1], &mut sig);
        }
        if code.contains("nvidia.com/gpu") || code.contains("amd.com/gpu") {
            let which = if code.contains("nvidia.com/gpu") { "nvidia.com/gpu" } else { "amd.com/gpu" };
            sig("gpu", which);
        }
        open_lines.extend(std::iter::repeat_n(line_no, delta_open));
        open_lines.truncate(open_lines.len().saturating_sub(delta_close));
        depth = (depth + delta_open).saturating_sub(delta_close);
        while blocks.last().is_some_and(|b| b.depth > depth) {
            blocks.pop();
        }
        if let Some(c) = HEREDOC.captures(&code) {
            heredoc = Some((c[1].to_string(), line_no));
        }
    }
    if problem.is_none() {
        problem = if let Some((marker, line)) = heredoc {
            Some((line, format!("a heredoc that never ends (no line `{marker}` closes it)")))
        } else if in_comment {
            Some((comment_line, "a `/*` comment that never ends".to_string()))
        } else {
            open_lines.first().map(|line| (*line, "a `{` that is never closed".to_string()))
        };
    }
    if let Some((line, _)) = &problem {
        out.retain(|s| s.line < *line);
    }
    out.sort();
    out.dedup();
    Scan { signals: out, problem }
}

/// Strip comments and string contents from a line, and count the braces
/// that open and close blocks. String contents are kept (they carry the
/// values) but their braces do not count.
/// The last value says whether the line ends inside a string.
fn clean(raw: &str, in_comment: &mut bool) -> (String, usize, usize, bool) {
    let mut code = String::with_capacity(raw.len());
    let (mut open, mut close) = (0, 0);
    let chars: Vec<char> = raw.chars().collect();
    // Each entry: true = inside a string, false = inside `${ ... }`.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let next = chars.get(i + 1).copied();
        if *in_comment {
            if ch == '*' && next == Some('/') {
                *in_comment = false;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        let in_string = stack.last() == Some(&true);
        if in_string {
            code.push(ch);
            match (ch, next) {
                ('\\', Some(n)) => {
                    code.push(n);
                    i += 2;
                    continue;
                }
                ('"', _) => {
                    stack.pop();
                }
                ('$', Some('{')) => {
                    code.push('{');
                    stack.push(false);
                    i += 2;
                    continue;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match (ch, next) {
            ('#', _) | ('/', Some('/')) => break,
            ('/', Some('*')) => {
                *in_comment = true;
                i += 2;
                continue;
            }
            ('"', _) => stack.push(true),
            ('{', _) => {
                if stack.is_empty() {
                    open += 1;
                } else {
                    stack.push(false);
                }
            }
            ('}', _) => {
                if stack.is_empty() {
                    close += 1;
                } else {
                    stack.pop();
                }
            }
            _ => {}
        }
        code.push(ch);
        i += 1;
    }
    (code, open, close, stack.last() == Some(&true))
}

/// The innermost labelled block (resource, data, provider, module, variable).
fn owner(blocks: &[Block]) -> Option<&Block> {
    blocks.iter().rev().find(|b| !b.labels.is_empty())
}

fn provider_of_type(t: &str) -> &str {
    t.split('_').next().unwrap_or(t)
}

fn on_block(keyword: &str, labels: &[String], blocks: &[Block], sig: &mut impl FnMut(&str, &str)) {
    match (keyword, labels) {
        ("resource" | "data", [t, ..]) => {
            let p = provider_of_type(t);
            if !UTILITY_PROVIDERS.contains(&p) {
                sig("provider", p);
            }
            if VM_TYPES.contains(&t.as_str()) {
                sig("vm", t);
            }
            if CONTAINER_TYPES.contains(&t.as_str()) {
                sig("container", t);
            }
        }
        ("provider", [p, ..]) if !UTILITY_PROVIDERS.contains(&p.as_str()) => sig("provider", p),
        ("guest_accelerator", _) => sig("gpu", "guest_accelerator"),
        (name, [])
            if blocks.last().is_some_and(|b| b.keyword == "required_providers")
                && !UTILITY_PROVIDERS.contains(&name) =>
        {
            sig("provider", name)
        }
        _ => {}
    }
}

/// The literal strings of a value: `"x"` gives one, `["a", "b"]` gives two,
/// an expression (`var.region`) gives none.
fn literals(value: &str) -> Vec<String> {
    let v = value.trim();
    if v.starts_with('"') || v.starts_with('[') {
        STRING.captures_iter(v).map(|c| c[1].to_string()).filter(|s| !s.contains("${")).collect()
    } else {
        Vec::new()
    }
}

fn on_attribute(key: &str, value: &str, blocks: &[Block], sig: &mut impl FnMut(&str, &str)) {
    let owner = owner(blocks);
    let kind = owner.map_or("", |b| b.keyword.as_str());
    let label0 = owner.and_then(|b| b.labels.first()).map_or("", String::as_str);
    let provider = match kind {
        "provider" => label0,
        "resource" | "data" => provider_of_type(label0),
        _ => "",
    };
    let values = literals(value);
    for v in &values {
        let v = v.as_str();
        match key {
            "source" if kind == "module" => sig("module", v),
            "region" | "availability_zone" | "zone" => sig("region", v),
            "location" if matches!(provider, "google" | "azurerm") => sig("region", v),
            "namespace" => sig("namespace", v),
            "config_context" | "config_context_cluster" | "cluster_name" if !is_structured(v) => sig("cluster", v),
            "host" if matches!(provider, "kubernetes" | "helm") && !is_structured(v) => sig("cluster", v),
            "name" if CLUSTER_TYPES.contains(&label0) => sig("cluster", v),
            "project" if provider == "google" || label0.starts_with("google") => {
                sig("cloud_account", &format!("gcp:{v}"))
            }
            "allowed_account_ids" | "account_id" if provider == "aws" => sig("cloud_account", &format!("aws:{v}")),
            "subscription_id" => sig("cloud_account", &format!("azure:{v}")),
            "image" | "ami" | "source_image" | "image_id" => sig("image", v),
            "instance_type" | "machine_type" | "vm_size" => {
                sig("instance_type", v);
                if GPU_MACHINE.is_match(v) {
                    sig("gpu", v);
                }
            }
            "size" if GPU_MACHINE.is_match(v) => sig("gpu", v),
            "gpus" => sig("gpu", &format!("gpus={v}")),
            "default" if kind == "variable" => on_variable_default(label0, v, sig),
            // `locals { cluster_name = "x" }`: read like a variable's default of that name.
            _ if blocks.last().is_some_and(|b| b.keyword == "locals") => on_variable_default(key, v, sig),
            // A region parameter's default and options are regions.
            "default" | "value" if is_region_parameter(owner) => sig("region", v),
            "args" => on_cli_args(&values, sig),
            _ => {}
        }
    }
    if key == "command" && values.len() == 1 {
        let words: Vec<String> = values[0].split_whitespace().map(str::to_string).collect();
        on_cli_args(&words, sig);
    }
    if key == "gpus" && values.is_empty() && kind == "resource" {
        sig("gpu", "gpus");
    }
}

/// `variable "region" { default = "us-east-1" }`: the default is what the
/// template uses unless told otherwise, so it is a signal too.
fn on_variable_default(name: &str, v: &str, sig: &mut impl FnMut(&str, &str)) {
    let n = name.to_lowercase();
    // Certificates, keys and tokens are never names, whatever their variable says.
    if ["certificate", "cert", "_ca", "ca_", "key", "token", "secret", "password"].iter().any(|w| n.contains(w)) {
        return;
    }
    if is_structured(v) {
        return; // `structured` reads it on its own
    }
    if n.contains("region") || n == "zone" || n.ends_with("_zone") || n == "location" {
        sig("region", v);
    } else if n.contains("namespace") {
        sig("namespace", v);
    } else if n.contains("image") || n == "ami" {
        sig("image", v);
    } else if n.contains("project") {
        sig("cloud_account", &format!("gcp:{v}"));
    } else if n.contains("subscription") {
        sig("cloud_account", &format!("azure:{v}"));
    } else if n.contains("account") && v.chars().all(|c| c.is_ascii_digit()) && v.len() == 12 {
        sig("cloud_account", &format!("aws:{v}"));
    } else if n.contains("cluster") || n.contains("kube_context") || n == "context" {
        sig("cluster", v);
    } else if n.contains("instance_type") || n.contains("machine_type") {
        sig("instance_type", v);
        if GPU_MACHINE.is_match(v) {
            sig("gpu", v);
        }
    }
}

/// `"node.kubernetes.io/instance-type" = "g5.xlarge"` and the like.
fn on_quoted_attribute(key: &str, v: &str, sig: &mut impl FnMut(&str, &str)) {
    if v.contains("${") {
        return;
    }
    let k = key.to_ascii_lowercase();
    if k.ends_with("/instance-type") || k.ends_with("/machine-type") || k == "cloud.google.com/gke-machine-type" {
        sig("instance_type", v);
        if GPU_MACHINE.is_match(v) {
            sig("gpu", v);
        }
    } else if k.ends_with("/gke-accelerator") || k.ends_with("/gpu.product") {
        sig("gpu", v);
    }
}

/// `aws eks get-token --cluster-name X --region R`, `gcloud ... --project P`.
fn on_cli_args(words: &[String], sig: &mut impl FnMut(&str, &str)) {
    for (i, w) in words.iter().enumerate() {
        let (flag, v) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (w.as_str(), words.get(i + 1).map(String::as_str)),
        };
        let Some(v) = v.filter(|v| !v.contains("${") && !v.starts_with("--")) else { continue };
        match flag {
            "--cluster-name" | "--cluster" | "--cluster-id" => sig("cluster", v),
            "--region" | "--zone" | "--location" => sig("region", v),
            "--project" => sig("cloud_account", &format!("gcp:{v}")),
            "--subscription" => sig("cloud_account", &format!("azure:{v}")),
            _ => {}
        }
    }
}

/// A `coder_parameter` about regions: its default and options are regions.
fn is_region_parameter(owner: Option<&Block>) -> bool {
    owner.is_some_and(|b| {
        b.keyword == "data"
            && b.labels.first().is_some_and(|t| t == "coder_parameter")
            && b.labels.get(1).is_some_and(|n| n.to_lowercase().contains("region"))
    })
}

/// Whether `structured` reads this value (an ARN, a registry host, a kube context, an EKS endpoint).
fn is_structured(v: &str) -> bool {
    ARN.is_match(v) || EKS_ENDPOINT.is_match(v) || GKE_CONTEXT.is_match(v) || AKS_ID.is_match(v)
}

/// Accounts, regions and clusters inside a structured string.
fn structured(v: &str, sig: &mut impl FnMut(&str, &str)) {
    if let Some(c) = ARN.captures(v) {
        if let Some(account) = c.get(3) {
            sig("cloud_account", &format!("aws:{}", account.as_str()));
        }
        sig("region", &c[2]);
        if &c[1] == "eks" {
            let name = c[4].strip_prefix("cluster/").unwrap_or("");
            sig("cluster", name.split('/').next().unwrap_or(""));
        }
    } else if let Some(c) = ECR.captures(v) {
        sig("cloud_account", &format!("aws:{}", &c[1]));
        sig("region", &c[2]);
    } else if let Some(c) = GCP_REGISTRY.captures(v) {
        sig("cloud_account", &format!("gcp:{}", &c[2]));
    } else if let Some(c) = ACR.captures(v) {
        sig("registry", &c[1]);
    } else if let Some(c) = EKS_ENDPOINT.captures(v) {
        sig("region", &c[1]);
    } else if let Some(c) = GKE_CONTEXT.captures(v) {
        sig("cloud_account", &format!("gcp:{}", &c[1]));
        sig("region", &c[2]);
        sig("cluster", &c[3]);
    } else if let Some(c) = AKS_ID.captures(v) {
        sig("cloud_account", &format!("azure:{}", c[1].to_ascii_lowercase()));
        sig("cluster", &c[2]);
    }
}

/// A certificate, key or base64 blob: never a name.
fn is_blob(v: &str) -> bool {
    let v = v.trim();
    v.starts_with("-----BEGIN")
        || v.starts_with("LS0t")
        || v.starts_with("MII")
        || (v.len() >= 40 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(signals: &[Signal]) -> Vec<(String, String, u64)> {
        signals.iter().map(|s| (s.kind.clone(), s.value.clone(), s.line)).collect()
    }

    fn has(signals: &[Signal], kind: &str, value: &str) -> bool {
        signals.iter().any(|s| s.kind == kind && s.value == value)
    }

    #[test]
    fn kubernetes_template_signals_with_lines() {
        let tf = r#"terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
    kubernetes = {
      source = "hashicorp/kubernetes"
    }
  }
}

provider "kubernetes" {
  config_context = "payments-dev" # the team's own cluster
}

resource "kubernetes_deployment" "main" {
  metadata {
    name      = "coder-${data.coder_workspace.me.name}"
    namespace = "payments"
  }
  spec {
    template {
      spec {
        container {
          image = "registry.payments.megaco.example/dev:2024"
          resources {
            limits = { "nvidia.com/gpu" = 1 }
          }
        }
      }
    }
  }
}
"#;
        let s = scan("main.tf", tf).signals;
        assert!(has(&s, "provider", "kubernetes"));
        assert!(has(&s, "provider", "coder"));
        assert!(has(&s, "cluster", "payments-dev"));
        assert!(has(&s, "namespace", "payments"));
        assert!(has(&s, "container", "kubernetes_deployment"));
        assert!(has(&s, "image", "registry.payments.megaco.example/dev:2024"));
        assert!(has(&s, "gpu", "nvidia.com/gpu"));
        let cluster = s.iter().find(|x| x.kind == "cluster").unwrap();
        assert_eq!((cluster.file.as_str(), cluster.line), ("main.tf", 13));
        assert!(!s.iter().any(|x| x.value.contains("${")), "interpolated values are not literals: {:?}", kinds(&s));
    }

    #[test]
    fn heredoc_braces_and_comments_do_not_confuse_blocks() {
        let tf = r#"resource "coder_agent" "main" {
  startup_script = <<-EOT
    if [ -d ~/x ]; then { echo "}"; }; fi
    region = "not-a-signal"
  EOT
}
/* provider "google" { project = "commented-out" } */
provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["111122223333"]
  assume_role {
    role_arn = "arn:aws:iam::444455556666:role/coder"
  }
}
"#;
        let s = scan("main.tf", tf).signals;
        assert!(!has(&s, "region", "not-a-signal"), "{:?}", kinds(&s));
        assert!(!has(&s, "cloud_account", "gcp:commented-out"), "{:?}", kinds(&s));
        assert!(has(&s, "region", "eu-west-1"));
        assert!(has(&s, "cloud_account", "aws:111122223333"));
        assert!(has(&s, "cloud_account", "aws:444455556666"));
        assert!(has(&s, "provider", "aws"));
    }

    #[test]
    fn vms_modules_gpu_machines_and_variable_defaults() {
        let tf = r#"variable "region" {
  default = "ap-southeast-2"
}
variable "gcp_project" {
  default = "megaco-ml-prod"
}
module "workspace" {
  source  = "git::https://git.raptix.example/platform/terraform-modules.git//coder-workspace?ref=v3.2.0"
}
resource "google_compute_instance" "dev" {
  machine_type = "a2-highgpu-1g"
  zone         = "us-central1-a"
  guest_accelerator {
    type  = "nvidia-tesla-a100"
    count = 1
  }
  boot_disk {
    initialize_params {
      image = "projects/megaco-images/global/images/java-vm"
    }
  }
}
resource "random_string" "x" {
  length = 4
}
"#;
        let s = scan("vm.tf", tf).signals;
        assert!(has(&s, "region", "ap-southeast-2"));
        assert!(has(&s, "cloud_account", "gcp:megaco-ml-prod"));
        assert!(has(
            &s,
            "module",
            "git::https://git.raptix.example/platform/terraform-modules.git//coder-workspace?ref=v3.2.0"
        ));
        assert!(has(&s, "vm", "google_compute_instance"));
        assert!(has(&s, "gpu", "a2-highgpu-1g"));
        assert!(has(&s, "gpu", "guest_accelerator"));
        assert!(has(&s, "region", "us-central1-a"));
        assert!(has(&s, "image", "projects/megaco-images/global/images/java-vm"));
        assert!(!has(&s, "provider", "random"));
    }

    #[test]
    fn arns_registries_cli_arguments_and_interpolated_locals() {
        let tf = r#"locals {
  account_id   = "111122223333"
  cluster_name = "orders-dev"
}
provider "kubernetes" {
  config_context = "arn:aws:eks:eu-central-1:444455556666:cluster/billing-eks"
  exec {
    args = ["eks", "get-token", "--cluster-name", "routing-dev", "--region=sa-east-1"]
  }
}
provider "kubernetes" {
  alias          = "gke"
  config_context = "gke_acme-ml-prod_us-central1_ml-gke"
  host           = "https://0A1B2C3D.gr7.us-west-2.eks.amazonaws.com"
}
resource "kubernetes_service_account" "ws" {
  metadata {
    annotations = {
      "eks.amazonaws.com/role-arn" = "arn:aws:iam::777788889999:role/coder"
    }
  }
}
resource "kubernetes_pod" "a" {
  spec {
    node_selector = {
      "node.kubernetes.io/instance-type" = "g5.xlarge"
    }
    container {
      image = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/team/dev:1"
    }
    container {
      image = "europe-west4-docker.pkg.dev/acme-data-prod/nb/jupyter:1"
    }
  }
}
resource "aws_instance" "vm" {
  instance_type = "m6i.2xlarge"
}
"#;
        let s = scan("main.tf", tf).signals;
        for (kind, value) in [
            ("cloud_account", "aws:111122223333"),
            ("cluster", "orders-dev"),
            ("cloud_account", "aws:444455556666"),
            ("region", "eu-central-1"),
            ("cluster", "billing-eks"),
            ("cluster", "routing-dev"),
            ("region", "sa-east-1"),
            ("cloud_account", "gcp:acme-ml-prod"),
            ("region", "us-central1"),
            ("cluster", "ml-gke"),
            ("region", "us-west-2"),
            ("cloud_account", "aws:777788889999"),
            ("instance_type", "g5.xlarge"),
            ("gpu", "g5.xlarge"),
            ("cloud_account", "aws:123456789012"),
            ("region", "ap-southeast-2"),
            ("cloud_account", "gcp:acme-data-prod"),
            ("instance_type", "m6i.2xlarge"),
        ] {
            assert!(has(&s, kind, value), "{kind} {value}: {:?}", kinds(&s));
        }
        let clusters: Vec<&str> = s.iter().filter(|x| x.kind == "cluster").map(|x| x.value.as_str()).collect();
        assert_eq!(clusters.len(), 4, "ARNs, contexts and endpoints are read, not taken whole: {clusters:?}");
    }

    #[test]
    fn certificates_and_blobs_are_never_names_and_region_parameters_are_regions() {
        let tf = r#"variable "cluster_ca_certificate" {
  default = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcw"
}
variable "cluster" {
  default = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0"
}
data "coder_parameter" "region" {
  default = "us-east-1"
  option {
    name  = "Frankfurt"
    value = "eu-central-1"
  }
}
data "coder_parameter" "cpu" {
  option {
    value = "4"
  }
}
"#;
        let s = scan("main.tf", tf).signals;
        assert!(!s.iter().any(|x| x.kind == "cluster"), "{:?}", kinds(&s));
        assert!(has(&s, "region", "us-east-1") && has(&s, "region", "eu-central-1"), "{:?}", kinds(&s));
        assert!(!has(&s, "region", "4"));
    }

    #[test]
    fn aks_cluster_ids_acr_hosts_and_gpu_limits() {
        let tf = r#"data "azurerm_kubernetes_cluster" "aks" {
  name                = "payments-aks"
  resource_group_name = "payments-rg"
}
resource "kubernetes_pod" "ws" {
  metadata {
    annotations = {
      "cluster-id" = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/payments-rg/providers/Microsoft.ContainerService/managedClusters/payments-aks-weu"
    }
  }
  spec {
    container {
      image = "paymentsacr01.azurecr.io/dev/base:1"
      resources {
        limits = {
          "nvidia.com/gpu" = "1"
        }
      }
    }
  }
}
variable "kube_ca_certificate" {
  default = "-----BEGIN CERTIFICATE-----MIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl"
}
"#;
        let s = scan("aks.tf", tf).signals;
        for (kind, value, line) in [
            ("cluster", "payments-aks", 2),
            ("cloud_account", "azure:0b1f6471-1bf0-4dda-aec3-111122223333", 8),
            ("cluster", "payments-aks-weu", 8),
            ("registry", "paymentsacr01.azurecr.io", 13),
            ("gpu", "nvidia.com/gpu", 16),
        ] {
            assert!(
                s.iter().any(|x| x.kind == kind && x.value == value && x.line == line),
                "{kind} {value} at line {line}: {:?}",
                kinds(&s)
            );
        }
        assert!(!s.iter().any(|x| x.value.contains("BEGIN") || x.value.starts_with("MII")), "{:?}", kinds(&s));
    }

    #[test]
    fn unbalanced_or_garbage_input_does_not_panic() {
        for text in ["}}}}", "{{{{", "\"unterminated", "<<EOT\nnever ends", "resource \"x\" {\n  a = \"b\\"] {
            assert!(scan("x.tf", text).problem.is_some(), "{text:?}");
        }
        assert_eq!(scan("x.tf", "\u{0}\u{ffff}").problem, None, "odd characters are not a structure problem");
    }

    #[test]
    fn a_file_that_does_not_parse_keeps_the_signals_before_its_problem() {
        let head = "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n";
        let cases = [
            ("}\nprovider \"google\" {\n  project = \"p\"\n}\n", 4, "a `}` that closes no block"),
            ("resource \"x\" \"y\" {\n  name = \"oops\n  region = \"us-east-1\"\n}\n", 5, "a string that does not end"),
            (
                "resource \"x\" \"y\" {\n  script = <<EOT\n  region = \"x\"\n",
                5,
                "a heredoc that never ends (no line `EOT`",
            ),
            ("/* provider \"google\" {\n  project = \"p\"\n", 4, "a `/*` comment that never ends"),
            ("provider \"google\" {\n  project = \"p\"\n", 4, "a `{` that is never closed"),
        ];
        for (tail, line, says) in cases {
            let s = scan("main.tf", &format!("{head}{tail}"));
            let (at, what) = s.problem.clone().unwrap_or_else(|| panic!("{tail}"));
            assert_eq!(at, line, "{tail}");
            assert!(what.starts_with(says), "{what}");
            assert!(has(&s.signals, "region", "eu-west-1"), "signals before the problem are kept: {tail}");
            assert!(s.signals.iter().all(|x| x.line < line), "none from the problem on: {:?}", kinds(&s.signals));
        }
        let fine = scan("main.tf", head);
        assert_eq!(fine.problem, None);
    }
}
