//! Container images saved as tarballs, built here member by member in the layouts the real
//! tools write: docker >= 25 `docker save` (OCI layout plus `manifest.json`), an OCI
//! archive as skopeo/podman write it (gzip'd layers, `index.json` only, the whole thing
//! gzip'd), and the legacy `docker save` of docker < 25 (`<id>/layer.tar`). Findings must
//! name the layer in their path and the image and layer digest in their context; a layer
//! with whiteouts, symlinks and hard links must not upset anything; a zstd layer is
//! reported, a truncated image keeps its findings.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const LIMIT: Duration = Duration::from_secs(120);
const NAME: &str = "registry.example.com/platform/kube-tools:1.29.3";
const SA_TOKEN: &str = "var/run/secrets/kubernetes.io/serviceaccount/token";
const ADMIN_CONF: &str = "etc/kubernetes/admin.conf";

fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap()
}

/// One entry of a tar, as docker's archive package writes them (no `./`, dirs end in `/`).
enum Node<'a> {
    Dir(&'a str),
    File(&'a str, Vec<u8>),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

fn tar_of(nodes: &[Node<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for node in nodes {
        let mut h = tar::Header::new_ustar();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_710_000_000);
        h.set_size(0);
        match node {
            Node::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            Node::File(p, data) => {
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, &data[..]).unwrap();
            }
            Node::Symlink(p, target) | Node::Hardlink(p, target) => {
                let kind = match node {
                    Node::Symlink(..) => tar::EntryType::Symlink,
                    _ => tar::EntryType::Link,
                };
                h.set_entry_type(kind);
                h.set_mode(0o777);
                b.append_link(&mut h, p, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A kubeadm `admin.conf`: real CA and client certificates, the client's real key.
fn admin_conf() -> (String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "kubernetes-admin");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "kubeadm:cluster-admins");
    let cert = client.signed_by(&key, &issuer).unwrap().pem();
    let key_data = B64.encode(key.serialize_pem());
    let conf = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.0.10:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {key_data}\n",
        B64.encode(ca_pem),
        B64.encode(cert),
    );
    (conf, key_data)
}

/// What the test image holds, and where.
struct Image {
    /// The base layer (plain tar) with `admin.conf`.
    base: Vec<u8>,
    /// The app layer with the service-account token (gzip'd where the layout allows).
    app: Vec<u8>,
    config: Vec<u8>,
    admin_key: String,
    sa_token: String,
    env_token: String,
}

fn image_contents() -> Image {
    let (conf, admin_key) = admin_conf();
    let base = tar_of(&[
        Node::Dir("bin/"),
        Node::File("bin/busybox", b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec()),
        Node::Symlink("bin/sh", "/bin/busybox"),
        Node::Dir("etc/"),
        Node::File("etc/hostname", b"kube-tools\n".to_vec()),
        Node::Dir("etc/kubernetes/"),
        Node::File(ADMIN_CONF, conf.into_bytes()),
        Node::Symlink("etc/mtab", "/proc/mounts"),
        Node::Dir("var/"),
        Node::Dir("var/cache/"),
        Node::File("var/cache/apk.cache", b"old".to_vec()),
    ]);
    let now = 1_710_000_000;
    let iss = "https://kubernetes.default.svc.cluster.local";
    let sa_token = common::bound_token("ci", "deployer", "kube-tools-7d9f", iss, now, 31_536_000);
    let app = tar_of(&[
        // The admin.conf removed in this layer is still in the base layer: still leaked.
        Node::Dir("etc/"),
        Node::Dir("etc/kubernetes/"),
        Node::File("etc/kubernetes/.wh.admin.conf", Vec::new()),
        Node::Dir("var/"),
        Node::Dir("var/cache/"),
        Node::File("var/cache/.wh..wh..opq", Vec::new()),
        Node::Dir("var/run/"),
        Node::Dir("var/run/secrets/"),
        Node::Dir("var/run/secrets/kubernetes.io/"),
        Node::Dir("var/run/secrets/kubernetes.io/serviceaccount/"),
        Node::File(
            "var/run/secrets/kubernetes.io/serviceaccount/namespace",
            b"ci".to_vec(),
        ),
        Node::File(SA_TOKEN, sa_token.clone().into_bytes()),
        Node::Dir("root/"),
        Node::Hardlink("root/token", SA_TOKEN),
    ]);
    let env_token = common::legacy_token("kube-system", "ci-bot", "ci-bot-token-x7k2p");
    let config = json!({
        "architecture": "amd64",
        "config": {
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                format!("KUBE_TOKEN={env_token}"),
            ],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "created": "2024-03-09T16:00:00Z",
        "history": [
            {"created": "2024-03-09T15:59:00Z", "created_by": "/bin/sh -c #(nop) ADD file:3c5ae1a1f7c0e4bd in / "},
            {"created": "2024-03-09T16:00:00Z", "created_by": format!("ENV KUBE_TOKEN={env_token}"), "comment": "buildkit.dockerfile.v0", "empty_layer": true},
            {"created": "2024-03-09T16:00:00Z", "created_by": "COPY token /var/run/secrets/kubernetes.io/serviceaccount/token # buildkit", "comment": "buildkit.dockerfile.v0"},
        ],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(&base), sha256(&app)]},
    });
    Image {
        base,
        app,
        config: serde_json::to_vec(&config).unwrap(),
        admin_key,
        sa_token,
        env_token,
    }
}

/// Digests of what an OCI layout tarball holds.
struct Oci {
    tar: Vec<u8>,
    base: String,
    app: String,
    config: String,
}

/// An OCI image layout tarball: blobs first, in name order, then `index.json` and (as
/// docker >= 25 writes it) `manifest.json`, `oci-layout`, `repositories`. The app layer is
/// `app_blob`, with `app_type` as its media type.
fn oci_tarball(img: &Image, app_blob: &[u8], app_type: &str, docker: bool) -> Oci {
    let (base, app, config) = (sha256(&img.base), sha256(app_blob), sha256(&img.config));
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": img.config.len()},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": base, "size": img.base.len()},
            {"mediaType": app_type, "digest": app, "size": app_blob.len()},
        ],
    }))
    .unwrap();
    let man = sha256(&manifest);
    let annotations = if docker {
        json!({"io.containerd.image.name": NAME, "org.opencontainers.image.ref.name": "1.29.3"})
    } else {
        json!({"org.opencontainers.image.ref.name": NAME})
    };
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man,
                       "size": manifest.len(), "annotations": annotations,
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    });
    let mut blobs = [
        (format!("blobs/sha256/{}", hex(&base)), img.base.clone()),
        (format!("blobs/sha256/{}", hex(&app)), app_blob.to_vec()),
        (format!("blobs/sha256/{}", hex(&config)), img.config.clone()),
        (format!("blobs/sha256/{}", hex(&man)), manifest),
    ];
    blobs.sort();
    let mut nodes = vec![Node::Dir("blobs/"), Node::Dir("blobs/sha256/")];
    nodes.extend(blobs.iter().map(|(n, d)| Node::File(n, d.clone())));
    let index = serde_json::to_vec(&index).unwrap();
    nodes.push(Node::File("index.json", index));
    if docker {
        let manifest_json = format!(
            "[{}]\n",
            json!({"Config": format!("blobs/sha256/{}", hex(&config)), "RepoTags": [NAME],
                   "Layers": [format!("blobs/sha256/{}", hex(&base)), format!("blobs/sha256/{}", hex(&app))]})
        );
        nodes.push(Node::File("manifest.json", manifest_json.into_bytes()));
    }
    nodes.push(Node::File(
        "oci-layout",
        br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec(),
    ));
    if docker {
        let repositories = format!(
            "{}\n",
            json!({"registry.example.com/platform/kube-tools": {"1.29.3": hex(&sha256(&img.app))}})
        );
        nodes.push(Node::File("repositories", repositories.into_bytes()));
    }
    Oci {
        tar: tar_of(&nodes),
        base,
        app,
        config,
    }
}

fn scan(dir: &Path, file: &str) -> (i32, Value) {
    support_cli::scan_json(dir, &["--now", "2024-06-01T00:00:00Z", file], LIMIT)
}

/// The one finding at `path`.
fn at<'d>(doc: &'d Value, path: &str) -> &'d Value {
    let all: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .collect();
    assert_eq!(all.len(), 1, "one finding at {path}: {doc:#}");
    all[0]
}

fn line_col(f: &Value) -> (u64, u64) {
    (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap())
}

/// 1-based (line, column) of `needle` in `text`.
fn position(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).unwrap();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (
        text[..at].matches('\n').count() as u64 + 1,
        (at - line_start + 1) as u64,
    )
}

/// Checks the findings every layout must give: the admin.conf key in the base layer, the
/// service-account token in the app layer (once: its hard link is not read twice) and the
/// token in the config's Env and build history, each with its image context.
fn check(
    doc: &Value,
    top: &str,
    img: &Image,
    image: &str,
    layers: [(&str, &str); 2],
    config: (&str, &str),
) {
    let [(base_member, base), (app_member, app)] = layers;
    let key = at(doc, &format!("{top}!/{base_member}!/{ADMIN_CONF}"));
    assert_eq!(key["rule_id"], "kubeconfig-client-key");
    let conf = String::from_utf8_lossy(&img.base);
    let conf = &conf[conf.find("apiVersion").unwrap()..];
    assert_eq!(line_col(key), position(conf, &img.admin_key));
    let want = |layer: &str, i: &str| json!({"image": image, "layer": layer, "layer_index": i});
    assert_eq!(key["context"], want(base, "0"));

    let sa = at(doc, &format!("{top}!/{app_member}!/{SA_TOKEN}"));
    assert_eq!(sa["rule_id"], "k8s-sa-token-bound");
    assert_eq!(line_col(sa), (1, 1));
    assert_eq!(sa["token"]["namespace"], "ci");
    assert_eq!(sa["token"]["service_account"], "deployer");
    assert_eq!(sa["token"]["pod"], "kube-tools-7d9f");
    assert_eq!(sa["context"], want(app, "1"));

    let (config_member, config_digest) = config;
    let cfg: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == format!("{top}!/{config_member}"))
        .collect();
    let text = String::from_utf8_lossy(&img.config);
    let env = position(&text, &format!("KUBE_TOKEN={}\"]", img.env_token));
    let history = position(&text, &format!("ENV KUBE_TOKEN={}", img.env_token));
    let mut got: Vec<(u64, u64)> = cfg.iter().map(|f| line_col(f)).collect();
    got.sort();
    let mut expected = vec![(1, env.1 + 11), (1, history.1 + 15)];
    expected.sort();
    assert_eq!(got, expected, "Env and history: {doc:#}");
    for f in cfg {
        assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
        assert_eq!(f["token"]["namespace"], "kube-system");
        assert_eq!(f["token"]["service_account"], "ci-bot");
        assert_eq!(
            f["context"],
            json!({"image": image, "config": config_digest})
        );
    }
    assert!(
        !doc.to_string().contains(&img.sa_token[..40]),
        "token not redacted"
    );
}

#[test]
fn docker_25_save_oci_layout_names_image_and_layers() {
    let dir = tempfile::tempdir().unwrap();
    let img = image_contents();
    let app_gz = gzip(&img.app);
    let oci = oci_tarball(
        &img,
        &app_gz,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        true,
    );
    std::fs::write(dir.path().join("image.tar"), &oci.tar).unwrap();
    let (code, doc) = scan(dir.path(), "image.tar");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 4, "{doc:#}");
    let blob = |d: &str| format!("blobs/sha256/{}", hex(d));
    check(
        &doc,
        "image.tar",
        &img,
        NAME,
        [(&blob(&oci.base), &oci.base), (&blob(&oci.app), &oci.app)],
        (&blob(&oci.config), &oci.config),
    );
    assert_eq!(doc["stats"]["complete"], true, "{doc:#}");
    assert_eq!(doc["errors"], json!([]));
}

/// `docker save` of docker < 25: `<v1 id>/{VERSION,json,layer.tar}`, `<config>.json`,
/// `manifest.json`, `repositories`, in name order. Layer paths carry no digest: the
/// context gives the layer's diff_id from the config.
#[test]
fn legacy_docker_save_layer_tar_gets_diff_id_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let img = image_contents();
    let config = sha256(&img.config);
    let id1 = hex(&sha256(b"v1 base")).to_owned();
    let id2 = hex(&sha256(b"v1 app")).to_owned();
    let v1 = |id: &str, parent: Option<&str>| {
        let mut j = json!({"id": id, "created": "1970-01-01T00:00:00Z", "os": "linux",
                           "container_config": {"Hostname": "", "Env": null, "Cmd": null}});
        if let Some(p) = parent {
            j["parent"] = json!(p);
        }
        serde_json::to_vec(&j).unwrap()
    };
    let (d1, d2) = (format!("{id1}/"), format!("{id2}/"));
    let files = [
        (format!("{id1}/VERSION"), b"1.0".to_vec()),
        (format!("{id1}/json"), v1(&id1, None)),
        (format!("{id1}/layer.tar"), img.base.clone()),
        (format!("{id2}/VERSION"), b"1.0".to_vec()),
        (format!("{id2}/json"), v1(&id2, Some(&id1))),
        (format!("{id2}/layer.tar"), img.app.clone()),
        (format!("{}.json", hex(&config)), img.config.clone()),
    ];
    let manifest = format!(
        "[{}]\n",
        json!({"Config": format!("{}.json", hex(&config)), "RepoTags": [NAME],
               "Layers": [format!("{id1}/layer.tar"), format!("{id2}/layer.tar")]})
    );
    let repositories = format!(
        "{}\n",
        json!({"registry.example.com/platform/kube-tools": {"1.29.3": id2}})
    );
    let mut nodes: Vec<Node<'_>> = Vec::new();
    let mut named: Vec<(&str, Option<&Vec<u8>>)> = vec![(&d1, None), (&d2, None)];
    named.extend(files.iter().map(|(n, d)| (n.as_str(), Some(d))));
    named.sort();
    for (n, d) in named {
        nodes.push(match d {
            None => Node::Dir(n),
            Some(d) => Node::File(n, d.clone()),
        });
    }
    nodes.push(Node::File("manifest.json", manifest.into_bytes()));
    nodes.push(Node::File("repositories", repositories.into_bytes()));
    std::fs::write(dir.path().join("kube-tools.tar"), tar_of(&nodes)).unwrap();
    let (code, doc) = scan(dir.path(), "kube-tools.tar");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 4, "{doc:#}");
    let (l1, l2) = (format!("{id1}/layer.tar"), format!("{id2}/layer.tar"));
    check(
        &doc,
        "kube-tools.tar",
        &img,
        NAME,
        [(&l1, &sha256(&img.base)), (&l2, &sha256(&img.app))],
        (&format!("{}.json", hex(&config)), &config),
    );
    assert_eq!(doc["errors"], json!([]));
}

/// An OCI archive as skopeo and podman write it (gzip'd layers, `index.json` naming the
/// image, no docker manifest), gzip'd as a whole: every member is behind two gzip streams
/// and the index comes last, yet findings get their image context.
#[test]
fn oci_archive_tar_gz_named_by_index_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let img = image_contents();
    let app_gz = gzip(&img.app);
    let oci = oci_tarball(
        &img,
        &app_gz,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        false,
    );
    std::fs::write(dir.path().join("kube-tools.tar.gz"), gzip(&oci.tar)).unwrap();
    let (code, doc) = scan(dir.path(), "kube-tools.tar.gz");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 4, "{doc:#}");
    let blob = |d: &str| format!("blobs/sha256/{}", hex(d));
    check(
        &doc,
        "kube-tools.tar.gz",
        &img,
        NAME,
        [(&blob(&oci.base), &oci.base), (&blob(&oci.app), &oci.app)],
        (&blob(&oci.config), &oci.config),
    );
}

/// A zstd layer (`tar+zstd`, made by the real `zstd`) is not opened: it is reported as
/// `unsupported-compression` and the scan is incomplete; the other layer's findings stand.
#[test]
fn zstd_layer_is_reported_unsupported_and_others_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let img = image_contents();
    std::fs::write(dir.path().join("app.tar"), &img.app).unwrap();
    let out = std::process::Command::new("zstd")
        .args(["-q", "-19", "app.tar", "-o", "app.tar.zst"])
        .current_dir(dir.path())
        .output()
        .expect("running zstd");
    assert!(out.status.success(), "{out:?}");
    let zst = std::fs::read(dir.path().join("app.tar.zst")).unwrap();
    let oci = oci_tarball(
        &img,
        &zst,
        "application/vnd.oci.image.layer.v1.tar+zstd",
        true,
    );
    std::fs::write(dir.path().join("image.tar"), &oci.tar).unwrap();
    let (code, doc) = scan(dir.path(), "image.tar");
    assert_eq!(code, 1, "{doc:#}");
    let app = format!("image.tar!/blobs/sha256/{}", hex(&oci.app));
    assert_eq!(
        support_cli::error_kinds(&doc),
        vec![(app, "unsupported-compression".to_owned())]
    );
    assert_eq!(doc["stats"]["complete"], false);
    let base = format!("image.tar!/blobs/sha256/{}!/{ADMIN_CONF}", hex(&oci.base));
    assert_eq!(at(&doc, &base)["context"]["image"], NAME);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 3, "{doc:#}");
}

/// An image cut short before its index and manifest (a failed `docker save`, a partial
/// download) keeps every finding made before the cut, without the context never read,
/// and says the archive is corrupt.
#[test]
fn truncated_image_keeps_findings_without_context() {
    let dir = tempfile::tempdir().unwrap();
    let img = image_contents();
    let oci = oci_tarball(
        &img,
        &img.app,
        "application/vnd.oci.image.layer.v1.tar",
        true,
    );
    let cut = find(&oci.tar, b"index.json") - 100;
    std::fs::write(dir.path().join("image.tar"), &oci.tar[..cut]).unwrap();
    let (code, doc) = scan(dir.path(), "image.tar");
    assert_eq!(code, 1, "{doc:#}");
    let kinds = support_cli::error_kinds(&doc);
    assert!(
        kinds.iter().any(|(_, k)| k == "corrupt-archive"),
        "{kinds:?}"
    );
    let sa = format!("image.tar!/blobs/sha256/{}!/{SA_TOKEN}", hex(&oci.app));
    let f = at(&doc, &sa);
    assert_eq!(f["rule_id"], "k8s-sa-token-bound");
    assert_eq!(f["context"], Value::Null);
    let base = format!("image.tar!/blobs/sha256/{}!/{ADMIN_CONF}", hex(&oci.base));
    assert_eq!(at(&doc, &base)["rule_id"], "kubeconfig-client-key");
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}
