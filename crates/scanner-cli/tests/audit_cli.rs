//! `leakscan audit` end to end (issue 12 item 3): really signed tokens and a real client
//! certificate in scanned files, the report the real `leakscan scan` / `leakscan git`
//! writes, and audit logs in the exact `audit.k8s.io/v1` shape — each kind of credential
//! matched, and not matched by its look-alikes (another Secret of the same account,
//! another jti, another bootstrap id, another certificate).

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_audit;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::fs;
use std::io::Write;

use serde_json::{json, Value};
use support_audit::fixture::{audit_log, fixture, JTI, LEGACY_SECRET, NODE, OTHER_JTI, T0};
use support_audit::{audit, bound_user, no_secret, obj, sa_user, Req};
use support_cli::{json_of, leakscan_in, stderr};

fn credential<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {doc:#}"))
}

fn values(tally: &Value) -> Vec<(String, u64)> {
    tally["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_owned(),
                v["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn each_kind_is_matched_by_its_own_identifier_only() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    let out = audit(
        fx.dir.path(),
        &[
            &fx.s("report.json"),
            "audit.log",
            "--format",
            "json",
            "--leaked-at",
            "2024-06-01T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);

    let legacy = credential(&doc, "k8s-sa-token-legacy");
    assert_eq!(
        legacy["identity"],
        "ci/deployer (Secret deployer-token-7xk2p)"
    );
    assert_eq!(legacy["key"]["by"], "legacy_secret");
    assert_eq!(
        legacy["requests"], 2,
        "the other Secret and the bound token are not it"
    );
    assert_eq!(legacy["used_after_leak"], true);
    assert_eq!(legacy["after_leak"]["total"], 1);
    let after = &legacy["after_leak"]["requests"][0];
    assert_eq!(after["verb"], "get");
    assert_eq!(after["resource"], "secrets");
    assert_eq!(after["namespace"], "kube-system");
    assert_eq!(after["name"], "db-creds");
    assert_eq!(after["source_ips"], json!(["198.51.100.23", "203.0.113.7"]));
    assert_eq!(after["code"], 200);
    assert_eq!(legacy["first_use"], "2024-05-31T00:00:00.611127Z");
    assert_eq!(legacy["last_use"], "2024-06-01T01:00:00.611127Z");
    assert_eq!(legacy["secrets_read"]["total"], 1);
    assert_eq!(
        values(&legacy["source_ips"]),
        [("10.0.0.12".to_owned(), 1), ("203.0.113.7".to_owned(), 1)]
    );
    assert_eq!(
        values(&legacy["forwarded_for"]),
        [("198.51.100.23".to_owned(), 1)]
    );
    assert_eq!(
        values(&legacy["actions"]),
        [("get secrets".to_owned(), 1), ("list pods".to_owned(), 1)]
    );
    assert!(values(&legacy["user_agents"]).contains(&("python-requests/2.31.0".to_owned(), 1)));
    assert_eq!(legacy["invalidated"]["total"], 1);
    assert_eq!(legacy["invalidated"]["requests"][0]["code"], 401);

    let bound = credential(&doc, "k8s-sa-token-bound");
    assert_eq!(bound["key"], json!({"by": "jti", "jti": JTI}));
    assert_eq!(bound["identity"], "apps/web");
    assert_eq!(
        bound["requests"], 2,
        "exec once, the watch once over its three stages"
    );
    assert_eq!(bound["after_leak"]["total"], 2);
    assert_eq!(bound["pods_exec"]["total"], 1);
    assert_eq!(bound["pods_exec"]["requests"][0]["name"], "web-0");
    assert_eq!(bound["pods_exec"]["requests"][0]["stale"], true);
    assert_eq!(bound["stale"], 1);
    assert_eq!(bound["secrets_read"]["requests"][0]["verb"], "watch");
    assert_eq!(bound["minted_by"]["total"], 1);
    let mint = &bound["minted_by"]["requests"][0];
    assert_eq!(mint["user"], format!("system:node:{NODE}"));
    assert_eq!(mint["resource"], "serviceaccounts/token");
    assert_eq!(
        (mint["namespace"].as_str(), mint["name"].as_str()),
        (Some("apps"), Some("web"))
    );

    let boot = credential(&doc, "k8s-bootstrap-token");
    assert_eq!(
        boot["key"],
        json!({"by": "bootstrap_id", "token_id": "x7k2p9"})
    );
    assert_eq!(
        boot["requests"], 1,
        "RequestReceived alone counts when nothing follows"
    );
    assert_eq!(boot["tokens_created"]["total"], 1);
    assert_eq!(
        boot["tokens_created"]["requests"][0]["resource"],
        "certificatesigningrequests"
    );

    let cert = credential(&doc, "kubeconfig-client-key");
    assert_eq!(cert["key"]["sha256"], fx.cert_sha256.as_str());
    assert_eq!(cert["identity"], "client certificate mallory");
    assert_eq!(cert["requests"], 2, "the other certificate is not it");
    assert_eq!(cert["role_bindings"]["total"], 1);
    assert_eq!(cert["impersonated"]["requests"][0]["impersonated"], "jane");
    assert_eq!(cert["secrets_read"]["total"], 1);

    let log = &doc["logs"][0];
    assert_eq!(log["compression"], "none");
    assert_eq!(log["malformed"], 2);
    let lines = audit_log(&fx).lines().count() as u64;
    assert_eq!(log["lines"], lines);
    assert_eq!(log["malformed_lines"], json!([lines - 1, lines]));
    assert_eq!(doc["stats"]["used_after_leak"], 4);
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("X-Forwarded-For"));
    no_secret(&fx, "the JSON audit", &String::from_utf8_lossy(&out.stdout));
}

#[test]
fn without_a_digest_a_client_certificate_is_not_looked_up() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    // A report from a key whose certificate was not beside it (a file path, say).
    let mut report: serde_json::Value =
        serde_json::from_slice(&fs::read(fx.path("report.json")).unwrap()).unwrap();
    for f in report["findings"].as_array_mut().unwrap() {
        if let Some(obj) = f.as_object_mut() {
            obj.remove("certificate");
        }
    }
    fs::write(
        fx.path("report-nocert.json"),
        serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();
    let out = audit(
        fx.dir.path(),
        &[&fx.s("report-nocert.json"), "audit.log", "-f", "json"],
    );
    let doc = json_of(&out);
    let cert = credential(&doc, "kubeconfig-client-key");
    assert!(cert["key"].is_null());
    assert!(cert["not_matchable"]
        .as_str()
        .unwrap()
        .contains("certificate.sha256"));
    assert_eq!(cert["requests"], 0);
}

#[test]
fn uses_before_the_leak_time_do_not_fail_the_run() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    let out = audit(
        fx.dir.path(),
        &[
            &fx.s("report.json"),
            "audit.log",
            "-f",
            "json",
            "--leaked-at",
            "2024-06-02T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_of(&out);
    let legacy = credential(&doc, "k8s-sa-token-legacy");
    assert_eq!(
        (
            legacy["used"].as_bool(),
            legacy["used_after_leak"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(legacy["after_leak"]["total"], 0);

    // No history, no --leaked-at: used, but the leak time is unknown, and the text says so.
    let out = audit(
        fx.dir.path(),
        &[
            &fx.s("report.json"),
            "audit.log",
            "-f",
            "text",
            "--color",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("leak time unknown"), "{text}");
    assert!(text.contains("USED "), "{text}");
    assert!(!text.contains("USED AFTER LEAK"), "{text}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_log_is_read_by_its_magic_whatever_its_name() {
    let fx = fixture();
    let log = audit_log(&fx);
    fs::write(fx.path("plain.log"), &log).unwrap();
    // Two members, as `cat audit.log.1.gz audit.log.2.gz` makes; named like a plain log.
    let half = log.len() / 2;
    let cut = log[..half].rfind('\n').unwrap() + 1;
    let mut gz = gzip(&log.as_bytes()[..cut]);
    gz.extend(gzip(&log.as_bytes()[cut..]));
    fs::write(fx.path("audit.log"), gz).unwrap();
    let run = |name: &str| {
        let out = audit(
            fx.dir.path(),
            &[
                &fx.s("report.json"),
                name,
                "-f",
                "json",
                "--leaked-at",
                "2024-06-01T00:00:00Z",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        json_of(&out)
    };
    let (plain, zipped) = (run("plain.log"), run("audit.log"));
    assert_eq!(zipped["logs"][0]["compression"], "gzip");
    assert_eq!(zipped["logs"][0]["bytes"], log.len() as u64);
    assert_eq!(zipped["credentials"], plain["credentials"]);
    assert_eq!(
        zipped["logs"][0]["malformed_lines"],
        plain["logs"][0]["malformed_lines"]
    );

    // A truncated gzip: what was read counts, and the log is reported unread to its end.
    let gz = fs::read(fx.path("audit.log")).unwrap();
    fs::write(fx.path("cut.log.gz"), &gz[..gz.len() / 3]).unwrap();
    let out = audit(
        fx.dir.path(),
        &[
            &fx.s("report.json"),
            "cut.log.gz",
            "-f",
            "json",
            "--leaked-at",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert!(doc["logs"][0]["error"].is_string(), "{:#}", doc["logs"][0]);
    assert!(
        credential(&doc, "k8s-sa-token-legacy")["requests"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[test]
fn history_findings_leak_at_their_commit_date() {
    let r = support_git::Repo::new();
    r.write("README.md", "# app\n");
    r.commit("initial");
    let token = common::legacy_token("ci", "deployer", LEGACY_SECRET);
    r.write("deploy/ci.env", &format!("KUBE_TOKEN={token}\n"));
    r.commit("add ci env");
    let leaked = r.last_time();
    fs::remove_file(r.join("deploy/ci.env")).unwrap();
    r.commit("remove it");
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("history.json");
    let out = leakscan_in(
        out_dir.path(),
        &[
            "git",
            r.path().to_str().unwrap(),
            "--format",
            "json",
            "--no-progress",
            "-o",
            "history.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let user = sa_user("ci", "deployer");
    let manual = "authentication.k8s.io/legacy-token-manual-secret";
    let before = Req::new(
        "b-1",
        user.clone(),
        "list",
        obj("pods", "", "ci", "", ""),
        leaked - 3_600,
    )
    .annotate(manual, LEGACY_SECRET)
    .lines();
    let after = Req::new(
        "b-2",
        user,
        "get",
        obj("secrets", "", "ci", "registry", ""),
        leaked + 60,
    )
    .from(&["203.0.113.99"])
    .annotate(manual, LEGACY_SECRET)
    .lines();
    fs::write(out_dir.path().join("before.log"), &before).unwrap();
    fs::write(out_dir.path().join("both.log"), format!("{before}{after}")).unwrap();
    let report = report.to_str().unwrap();

    let out = audit(out_dir.path(), &[report, "before.log", "-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_of(&out);
    let c = credential(&doc, "k8s-sa-token-legacy");
    assert_eq!(c["requests"], 1);
    assert_eq!(c["used_after_leak"], false);
    assert!(
        c["leaked_at_source"]
            .as_str()
            .unwrap()
            .starts_with("commit "),
        "{c:#}"
    );
    let expected = time::OffsetDateTime::from_unix_timestamp(leaked)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(c["leaked_at"], expected.as_str());

    let out = audit(
        out_dir.path(),
        &[report, "both.log", "-f", "text", "--color", "never"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("USED AFTER LEAK"), "{text}");
    assert!(text.contains("uses after the leak: 1"), "{text}");
    assert!(
        text.contains("get secrets ci/registry from 203.0.113.99"),
        "{text}"
    );
    assert!(!text.contains(&token), "the token is printed");
}

#[test]
fn errors_exit_2_and_malformed_lines_do_not_stop_the_stream() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    let dir = fx.dir.path();
    let out = audit(dir, &["missing.json", "audit.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));
    fs::write(fx.path("not-a-report.json"), "{\"kind\":\"Event\"}\n").unwrap();
    let out = audit(dir, &["not-a-report.json", "audit.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a leakscan JSON report"),
        "{}",
        stderr(&out)
    );
    let out = audit(
        dir,
        &[
            &fx.s("report.json"),
            "audit.log",
            "--leaked-at",
            "last tuesday",
        ],
    );
    assert_eq!(out.status.code(), Some(2));

    // A missing log beside a readable one: reported, the other still read.
    let out = audit(
        dir,
        &[&fx.s("report.json"), "nope.log", "audit.log", "-f", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert!(doc["logs"][0]["error"].is_string());
    assert_eq!(credential(&doc, "k8s-sa-token-legacy")["requests"], 2);

    // Garbage everywhere between the events: each bad line counted, nothing lost.
    let mut noisy = String::new();
    for l in audit_log(&fx).lines() {
        noisy += "\u{0}\u{1b}[2J{\"half\":\n";
        noisy += l;
        noisy += "\r\n";
    }
    fs::write(fx.path("noisy.log"), noisy).unwrap();
    let out = audit(
        dir,
        &[
            &fx.s("report.json"),
            "noisy.log",
            "-f",
            "json",
            "--leaked-at",
            "2024-06-01T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let lines = audit_log(&fx).lines().count() as u64;
    assert_eq!(doc["logs"][0]["malformed"], lines + 2);
    assert_eq!(doc["logs"][0]["malformed_lines"][0], 1);
    assert_eq!(credential(&doc, "k8s-sa-token-bound")["requests"], 2);
    assert_eq!(credential(&doc, "k8s-sa-token-legacy")["requests"], 2);
}

#[test]
fn no_output_holds_a_secret_and_sarif_is_valid() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    let dir = fx.dir.path();
    let args = |f: &'static str| -> Vec<String> {
        vec![
            fx.s("report.json"),
            "audit.log".into(),
            "-f".into(),
            f.into(),
            "--leaked-at".into(),
            "2024-06-01T00:00:00Z".into(),
        ]
    };
    for f in ["text", "json", "sarif"] {
        let a = args(f);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = audit(dir, &a);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        no_secret(&fx, f, &String::from_utf8_lossy(&out.stdout));
        no_secret(&fx, "stderr", &stderr(&out));
    }
    // -o writes the same report to a file.
    let out = audit(
        dir,
        &[
            &fx.s("report.json"),
            "audit.log",
            "-f",
            "sarif",
            "-o",
            "audit.sarif",
            "--leaked-at",
            "2024-06-01T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&fs::read(fx.path("audit.sarif")).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let legacy = results
        .iter()
        .find(|r| r["properties"]["rule_id"] == "k8s-sa-token-legacy")
        .unwrap();
    assert_eq!(legacy["ruleId"], "used-after-leak");
    assert_eq!(legacy["level"], "error");
    let loc = &legacy["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "ci/deploy.env");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(loc["region"]["startColumn"], 12);
    assert!(legacy["message"]["text"]
        .as_str()
        .unwrap()
        .contains("203.0.113.7 (1)"));
    assert_eq!(
        doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["properties"]["count"],
        2
    );
    // -o onto an input is refused.
    let out = audit(dir, &[&fx.s("report.json"), "audit.log", "-o", "audit.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(fs::read_to_string(fx.path("audit.log"))
        .unwrap()
        .contains("audit.k8s.io/v1"));

    let Some(schema) = common::thirdparty("sarif-schema-2.1.0.json") else {
        return;
    };
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("loud");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn a_log_larger_than_a_chunk_counts_every_use_once() {
    let fx = fixture();
    // ~24 MB of other users' requests (three chunks), the leaked token's uses spread
    // through it, some on chunk boundaries by chance.
    let bound = bound_user("apps", "web", "web-0", JTI);
    let other = bound_user("apps", "web", "web-0", OTHER_JTI);
    let mut log = String::with_capacity(25 << 20);
    let mut uses = 0;
    let mut i = 0u64;
    while log.len() < 24 << 20 {
        i += 1;
        let (user, mine) = if i.is_multiple_of(997) {
            (bound.clone(), true)
        } else {
            (other.clone(), false)
        };
        log += &Req::new(
            &format!("aa{i:030}"),
            user,
            "get",
            obj("configmaps", "", "apps", "cfg", ""),
            T0 + i as i64,
        )
        .lines();
        uses += usize::from(mine);
    }
    fs::write(fx.path("big.log"), &log).unwrap();
    let out = audit(
        fx.dir.path(),
        &[
            &fx.s("report.json"),
            "big.log",
            "-f",
            "json",
            "--leaked-at",
            "2024-06-01T00:00:00Z",
            "--list-limit",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let c = credential(&doc, "k8s-sa-token-bound");
    assert_eq!(c["requests"], uses as u64);
    assert_eq!(c["after_leak"]["total"], uses as u64);
    assert_eq!(c["after_leak"]["requests"].as_array().unwrap().len(), 3);
    assert_eq!(
        c["after_leak"]["requests"][0]["audit_id"],
        format!("aa{:030}", 997)
    );
    assert_eq!(doc["logs"][0]["lines"], 2 * i);
    assert_eq!(doc["logs"][0]["malformed"], 0);
    // Only the lines holding the jti looked for are parsed.
    assert_eq!(doc["logs"][0]["parsed"], 2 * uses as u64);
}
