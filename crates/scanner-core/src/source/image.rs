//! Container images saved as tarballs: `docker save` (the legacy layout of docker < 25,
//! `<id>/layer.tar` + `manifest.json`; and docker >= 25's OCI layout), OCI image layouts
//! (`oci-layout`, `index.json`, `blobs/sha256/<digest>`, as podman, skopeo and buildx write
//! them) and go-containerregistry tarballs (`crane pull`). Layers are ordinary nested
//! tars (gzip'd or not) and are scanned as such; this module only adds what the path
//! cannot say: which image and which layer a finding is in, as finding context
//! (`image`, `layer`, `layer_index`; `config` for the image config, whose `Env` and build
//! history keep `ENV`/`ARG` values).
//!
//! The image's name and its layers' digests are in `manifest.json` / `index.json`, which
//! every tool writes *after* the layers (docker tars up a directory in name order: `blobs/`
//! or `<id>/` sort first). So findings under a tar that looks like an image are held and
//! given their context when the tar ends (a truncated image still has its findings
//! released, without the context that was never read). Held findings are few and small;
//! past [`MAX_HELD`] they pass through at once without context. One mechanism serves a
//! file on disk, a `.tar.gz` and an image inside another archive alike; findings of an
//! image appear when its tar is done rather than as each layer is read.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use crate::finding::Finding;
use crate::origin::Origin;
use crate::problem::Problem;
use crate::source::archive::Budget;
use crate::source::content::{read_up_to, Ctx};

/// Members up to this size are read whole and kept if they are JSON (manifests, index,
/// configs; a config with a long build history is still far below).
pub(crate) const MAX_META: u64 = 1 << 20;

/// Held findings per image beyond which findings are passed on without image context.
const MAX_HELD: usize = 10_000;

/// JSON documents of one image tarball kept for resolving (at most this many bytes).
const MAX_DOCS_BYTES: usize = 64 << 20;

/// The magic number of a zstd frame (`application/vnd.oci.image.layer.v1.tar+zstd`).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Findings held per image tarball, keyed by the `TAR!/` prefix of their paths (and an id:
/// the same tarball named twice is read twice, on two threads).
#[derive(Default)]
pub(crate) struct Holds {
    active: AtomicUsize,
    next: AtomicUsize,
    held: Mutex<Vec<Held>>,
}

/// The findings held for one image tarball being read.
struct Held {
    id: usize,
    prefix: String,
    findings: Vec<Finding>,
}

impl Holds {
    /// Keeps `f` if it lies in an image being read; gives it back otherwise.
    pub(crate) fn hold(&self, f: Finding) -> Option<Finding> {
        if self.active.load(Ordering::Acquire) == 0 {
            return Some(f);
        }
        let Ok(mut held) = self.held.lock() else {
            return Some(f);
        };
        // The innermost image (longest prefix) holds a finding of an image in an image.
        let slot = held
            .iter_mut()
            .filter(|h| f.path.starts_with(h.prefix.as_str()) && h.findings.len() < MAX_HELD)
            .max_by_key(|h| h.prefix.len());
        match slot {
            Some(h) => {
                h.findings.push(f);
                None
            }
            None => Some(f),
        }
    }

    fn start(&self, prefix: String) -> usize {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut held) = self.held.lock() {
            held.push(Held {
                id,
                prefix,
                findings: Vec::new(),
            });
            self.active.fetch_add(1, Ordering::Release);
        }
        id
    }

    fn take(&self, id: usize) -> Vec<Finding> {
        let Ok(mut held) = self.held.lock() else {
            return Vec::new();
        };
        match held.iter().position(|h| h.id == id) {
            Some(i) => {
                self.active.fetch_sub(1, Ordering::Release);
                held.swap_remove(i).findings
            }
            None => Vec::new(),
        }
    }
}

/// What is learnt about one tar while its members are read.
pub(crate) struct Tarball<'c, 'a> {
    ctx: &'c Ctx<'a>,
    prefix: String,
    /// Undecided until a member says whether this is an image.
    decided: bool,
    /// The hold of an image's findings.
    hold: Option<usize>,
    docs: HashMap<String, Value>,
    docs_bytes: usize,
}

impl<'c, 'a> Tarball<'c, 'a> {
    /// Watches the tar `origin` for the signs of an image.
    pub(crate) fn new(ctx: &'c Ctx<'a>, origin: &Origin) -> Self {
        Tarball {
            ctx,
            prefix: format!("{}!/", origin.path),
            decided: false,
            hold: None,
            docs: HashMap::new(),
            docs_bytes: 0,
        }
    }

    /// Looks at the next member's name (directories included); true while this tar is
    /// taken for an image.
    pub(crate) fn member(&mut self, name: &str, regular: bool) -> bool {
        if !self.decided {
            let name = normal(name);
            if looks_like_image(name) {
                self.decided = true;
                self.hold = Some(self.ctx.held.start(self.prefix.clone()));
            } else if regular || !name.is_empty() {
                // `./` alone says nothing; any other first name that is not an image's does.
                self.decided = true;
            }
        }
        self.hold.is_some()
    }

    /// Whether a member of `size` bytes is read whole so it can be kept as a document.
    pub(crate) fn wants(&self, size: u64) -> bool {
        self.hold.is_some() && size <= MAX_META
    }

    /// Keeps a member read whole if it is a JSON document (manifest, index, config).
    pub(crate) fn note(&mut self, name: &str, data: &[u8]) {
        let first = data.iter().find(|b| !b.is_ascii_whitespace());
        if !matches!(first, Some(b'{' | b'[')) || self.docs_bytes + data.len() > MAX_DOCS_BYTES {
            return;
        }
        if let Ok(doc) = serde_json::from_slice::<Value>(data) {
            self.docs_bytes += data.len();
            self.docs.insert(normal(name).to_owned(), doc);
        }
    }

    /// Reports a zstd-compressed layer (not opened); true if `head` starts one.
    pub(crate) fn zstd(&self, head: &[u8], member: &Origin) -> bool {
        if self.hold.is_none() || !head.starts_with(&ZSTD_MAGIC) {
            return false;
        }
        self.ctx.report(
            &member.path,
            Problem::UnsupportedCompression,
            "zstd-compressed layer (application/vnd.oci.image.layer.v1.tar+zstd), not opened",
        );
        true
    }
}

impl Drop for Tarball<'_, '_> {
    /// Gives held findings their image context and passes them on (also after a tar that
    /// ended early: a finding is never lost for want of a manifest).
    fn drop(&mut self) {
        let Some(id) = self.hold else {
            return;
        };
        let held = self.ctx.held.take(id);
        let parts = resolve(&self.docs);
        for mut f in held {
            let rest = &f.path[self.prefix.len().min(f.path.len())..];
            let name = normal(rest.split("!/").next().unwrap_or(rest));
            if let Some(ctx) = parts.get(name) {
                for (k, v) in ctx {
                    f.context.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            self.ctx.finding(f);
        }
    }
}

/// Scans one regular member of an image tarball: small ones whole (and kept if they are
/// JSON), zstd layers reported, the rest streamed like any tar member.
pub(crate) fn scan_member(
    ctx: &Ctx<'_>,
    image: &mut Tarball<'_, '_>,
    (entry, size): (&mut dyn Read, u64),
    member: &Origin,
    depth: usize,
    budget: &Budget,
) {
    let whole = image.wants(size);
    let mut head = Vec::new();
    let want = if whole { MAX_META as usize + 1 } else { 4 };
    if let Err(e) = read_up_to(entry, &mut head, want) {
        return ctx.read_failed(member, depth, Some(budget), &e);
    }
    if image.zstd(&head, member) {
        return;
    }
    if whole {
        let name = member.path.strip_prefix(&image.prefix[..]).unwrap_or("");
        image.note(name, &head);
        return ctx.scan_buffer(&head, member, depth, Some(budget));
    }
    let mut body = io::Cursor::new(&head[..]).chain(entry);
    ctx.scan_stream(&mut body, member, depth, Some(budget));
}

/// A member name without a leading `./` (`tar -C dir .` writes them).
fn normal(name: &str) -> &str {
    let mut n = name;
    while let Some(rest) = n.strip_prefix("./") {
        n = rest;
    }
    n
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The names an image tarball's members start with, whichever tool wrote it.
fn looks_like_image(name: &str) -> bool {
    let first = name.split('/').next().unwrap_or(name);
    matches!(
        first,
        "blobs" | "oci-layout" | "index.json" | "manifest.json" | "repositories"
    ) || first.strip_prefix("sha256:").is_some_and(is_hex64)
        || is_hex64(first.split('.').next().unwrap_or(first))
}

/// The digest a member is named by: `blobs/sha256/<hex>`, `<hex>.json` (legacy config),
/// `<hex>.tar[.gz]` (crane layers), `sha256:<hex>` (crane config).
fn digest_of(name: &str) -> Option<String> {
    let name = normal(name);
    if let Some(rest) = name.strip_prefix("blobs/") {
        let (alg, hex) = rest.split_once('/')?;
        return Some(format!("{alg}:{hex}"));
    }
    if let Some(hex) = name.strip_prefix("sha256:") {
        return is_hex64(hex).then(|| name.to_owned());
    }
    let stem = name.split('.').next()?;
    (is_hex64(stem) && !name.contains('/')).then(|| format!("sha256:{stem}"))
}

/// The member holding the blob of `digest` in an OCI layout.
fn blob_member(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    Some(format!("blobs/{alg}/{hex}"))
}

/// One image of the tarball.
#[derive(Default)]
struct Image {
    names: Vec<String>,
    config_member: String,
    config: String,
    /// (member, digest) per layer, base first.
    layers: Vec<(String, Option<String>)>,
}

/// What one member is to the images that use it.
#[derive(Default)]
struct Part {
    names: Vec<String>,
    config: Option<String>,
    layer: Option<String>,
    /// The layer's place, base first; `None` when images disagree.
    index: Option<usize>,
}

impl Part {
    fn context(self) -> BTreeMap<String, String> {
        let mut c = BTreeMap::new();
        c.insert("image".to_owned(), self.names.join(", "));
        if let Some(d) = self.config {
            c.insert("config".to_owned(), d);
        }
        if let Some(d) = self.layer {
            c.insert("layer".to_owned(), d);
        }
        if let Some(i) = self.index {
            c.insert("layer_index".to_owned(), i.to_string());
        }
        c
    }
}

/// The part `member` plays, with `label` added to the images it belongs to.
fn part<'p>(parts: &'p mut HashMap<String, Part>, member: &str, label: &[String]) -> &'p mut Part {
    let p = parts.entry(normal(member).to_owned()).or_default();
    for n in label {
        if !p.names.contains(n) {
            p.names.push(n.clone());
        }
    }
    p
}

/// The context of each member that belongs to an image (layers and configs).
fn resolve(docs: &HashMap<String, Value>) -> HashMap<String, BTreeMap<String, String>> {
    let mut images = docker_images(docs);
    if let Some(index) = docs.get("index.json") {
        oci_images(docs, index, None, 0, &mut images);
    }
    let mut parts: HashMap<String, Part> = HashMap::new();
    for img in &images {
        // An untagged image goes by its ID, as `docker images` shows it.
        let label = if img.names.is_empty() {
            std::slice::from_ref(&img.config)
        } else {
            &img.names[..]
        };
        part(&mut parts, &img.config_member, label).config = Some(img.config.clone());
        for (i, (member, digest)) in img.layers.iter().enumerate() {
            let first = !parts.contains_key(normal(member));
            let p = part(&mut parts, member, label);
            if first {
                p.layer.clone_from(digest);
                p.index = Some(i);
            } else if p.index != Some(i) {
                p.index = None;
            }
        }
    }
    parts.into_iter().map(|(m, p)| (m, p.context())).collect()
}

/// Images listed in docker's `manifest.json` (`docker save`, `crane pull`, podman's
/// docker-archive): `[{"Config": ..., "RepoTags": [...], "Layers": [...]}]`.
fn docker_images(docs: &HashMap<String, Value>) -> Vec<Image> {
    let Some(items) = docs.get("manifest.json").and_then(Value::as_array) else {
        return Vec::new();
    };
    let strs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    items
        .iter()
        .filter_map(|item| {
            let config_member = item.get("Config")?.as_str()?.to_owned();
            let config = digest_of(&config_member).unwrap_or_else(|| config_member.clone());
            // Legacy `<id>/layer.tar` names carry no digest: the config's diff_ids do.
            let diff_ids = strs(
                docs.get(normal(&config_member))
                    .and_then(|c| c.get("rootfs"))
                    .and_then(|r| r.get("diff_ids")),
            );
            let layers = strs(item.get("Layers"))
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let d = digest_of(&m).or_else(|| diff_ids.get(i).cloned());
                    (m, d)
                })
                .collect();
            Some(Image {
                names: strs(item.get("RepoTags")),
                config_member,
                config,
                layers,
            })
        })
        .collect()
}

/// Images reachable from an OCI index (`index.json`, or a nested index blob of a
/// multi-platform image), named by their annotations.
fn oci_images(
    docs: &HashMap<String, Value>,
    index: &Value,
    name: Option<&str>,
    depth: usize,
    images: &mut Vec<Image>,
) {
    let Some(manifests) = index.get("manifests").and_then(Value::as_array) else {
        return;
    };
    for desc in manifests {
        let notes = desc.get("annotations");
        let note = |k: &str| notes.and_then(|a| a.get(k)).and_then(Value::as_str);
        let own = note("io.containerd.image.name").or(note("org.opencontainers.image.ref.name"));
        let name = own.or(name);
        let Some(blob) = desc
            .get("digest")
            .and_then(Value::as_str)
            .and_then(blob_member)
            .and_then(|m| docs.get(&m))
        else {
            continue;
        };
        if blob.get("manifests").is_some() {
            if depth < 4 {
                oci_images(docs, blob, name, depth + 1, images);
            }
            continue;
        }
        let digest_at = |v: Option<&Value>| {
            v.and_then(|d| d.get("digest"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let Some(config) = digest_at(blob.get("config")) else {
            continue;
        };
        let names: Vec<String> = name.map(str::to_owned).into_iter().collect();
        // docker >= 25 lists each image in manifest.json too, named as the user typed it.
        if let Some(img) = images.iter_mut().find(|i| i.config == config) {
            if img.names.is_empty() {
                img.names = names;
            }
            continue;
        }
        let layers = blob
            .get("layers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|l| digest_at(Some(l)))
                    .filter_map(|d| Some((blob_member(&d)?, Some(d))))
                    .collect()
            })
            .unwrap_or_default();
        images.push(Image {
            names,
            config_member: blob_member(&config).unwrap_or_default(),
            config,
            layers,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_and_digests() {
        let hex = "a".repeat(64);
        assert!(looks_like_image("blobs/"));
        assert!(looks_like_image(&format!("{hex}/layer.tar")));
        assert!(looks_like_image(&format!("{hex}.json")));
        assert!(looks_like_image(&format!("sha256:{hex}")));
        assert!(!looks_like_image("etc/passwd"));
        assert!(!looks_like_image("aaaa/layer.tar"));
        assert_eq!(
            digest_of(&format!("./blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_of(&format!("{hex}.tar.gz")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_of(&format!("{hex}/layer.tar")), None);
    }

    /// go-containerregistry's tarball (`crane pull`): config `sha256:<hex>`, layers
    /// `<hex>.tar.gz`; two images sharing their base layer.
    #[test]
    fn crane_tarball_and_a_shared_layer() {
        let (a, b, c1, c2) = (
            "a".repeat(64),
            "b".repeat(64),
            "c".repeat(64),
            "d".repeat(64),
        );
        let manifest = serde_json::json!([
            {"Config": format!("sha256:{c1}"), "RepoTags": ["ghcr.io/ops/tools:1"],
             "Layers": [format!("{a}.tar.gz"), format!("{b}.tar.gz")]},
            {"Config": format!("sha256:{c2}"), "RepoTags": null,
             "Layers": [format!("{a}.tar.gz")]},
        ]);
        let docs = HashMap::from([("manifest.json".to_owned(), manifest)]);
        let parts = resolve(&docs);
        let base = &parts[&format!("{a}.tar.gz")];
        assert_eq!(base["image"], format!("ghcr.io/ops/tools:1, sha256:{c2}"));
        assert_eq!(base["layer"], format!("sha256:{a}"));
        assert_eq!(base["layer_index"], "0");
        let top = &parts[&format!("{b}.tar.gz")];
        assert_eq!(top["image"], "ghcr.io/ops/tools:1");
        assert_eq!(top["layer_index"], "1");
        assert_eq!(
            parts[&format!("sha256:{c2}")]["config"],
            format!("sha256:{c2}")
        );
    }
}
