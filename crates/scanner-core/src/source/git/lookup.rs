//! Objects out of the packs one at a time (the walk's trees, tags of refs): each delta
//! chain is built from the nearest object a per-thread cache of built objects holds, and
//! every object built on the way is kept there (LRU, bounded in bytes), so the next version
//! of the same directory usually costs one delta.
//!
//! Why not libgit2's reads: on git/git (203k commits, 382k trees, 5.8 GB of them built),
//! the walk took 10.1 s reading trees through libgit2 (under its pack lock, with its object
//! cache per handle) and 5.4 s reading them here, with the same diff.

use std::sync::{Arc, Mutex};

use git2::Oid;
use hashlink::LruCache;

use super::pack::{PackForest, MAX_DEPTH};

/// Bytes of built objects each thread keeps.
/// (On git/git: 16 MB a thread walks as fast as 48 MB, with 120 MB less peak RSS.)
const CACHE_BUDGET: usize = 16 << 20;

/// Built objects by (pack, entry), least recently used first out.
struct Cache {
    lru: LruCache<(u32, u32), Arc<[u8]>>,
    bytes: usize,
}

impl Cache {
    fn put(&mut self, key: (u32, u32), data: Arc<[u8]>) {
        // One object bigger than an eighth of the budget would push out all the rest.
        if data.len() > CACHE_BUDGET / 8 {
            return;
        }
        self.bytes += data.len();
        if let Some(old) = self.lru.insert(key, data) {
            self.bytes -= old.len();
        }
        while self.bytes > CACHE_BUDGET {
            match self.lru.remove_lru() {
                Some((_, d)) => self.bytes -= d.len(),
                None => break,
            }
        }
    }
}

/// One-by-one reads of the objects of some packs, with a cache per rayon thread.
pub(crate) struct Lookup<'f> {
    forests: &'f [PackForest],
    /// One per worker thread of the pool, and one for other threads.
    caches: Vec<Mutex<Cache>>,
}

impl<'f> Lookup<'f> {
    /// Reads from `forests`, for the current rayon pool's threads.
    pub(crate) fn new(forests: &'f [PackForest]) -> Lookup<'f> {
        let slots = rayon::current_num_threads() + 1;
        Lookup {
            forests,
            caches: (0..slots)
                .map(|_| {
                    Mutex::new(Cache {
                        lru: LruCache::new_unbounded(),
                        bytes: 0,
                    })
                })
                .collect(),
        }
    }

    /// Object `id` if one of the packs holds it as a `kind` that can be built; `None`
    /// sends the caller to libgit2, which says what is wrong with it.
    pub(crate) fn get(&self, id: Oid, kind: u8) -> Option<Arc<[u8]>> {
        let (no, f, e) = self.forests.iter().enumerate().find_map(|(no, f)| {
            let e = f.find(id)?;
            Some((no as u32, f, e))
        })?;
        if f.kind(e) != kind {
            return None;
        }
        let slot = rayon::current_thread_index()
            .map_or(self.caches.len() - 1, |i| i.min(self.caches.len() - 1));
        let mut cache = self.caches[slot].lock().unwrap_or_else(|e| e.into_inner());
        // Up the chain to the nearest built object (or the whole object at its root)...
        let mut chain = Vec::new();
        let mut at = e;
        let mut built = None;
        loop {
            if let Some(d) = cache.lru.get(&(no, at)) {
                built = Some(d.clone());
                break;
            }
            chain.push(at);
            if chain.len() as u32 > MAX_DEPTH + 1 {
                return None;
            }
            match f.base(at) {
                Some(b) => at = b,
                None => break,
            }
        }
        // ...then down, keeping each object built.
        for &x in chain.iter().rev() {
            let data = f.inflate_entry(x)?;
            let next: Arc<[u8]> = match &built {
                None => data.into(),
                Some(base) => super::pack::apply_delta(base, &data)?.into(),
            };
            cache.put((no, x), next.clone());
            built = Some(next);
        }
        built
    }
}
