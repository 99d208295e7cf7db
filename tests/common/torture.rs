//! What the torture tests share: a seeded random generator, the knobs that make runs
//! longer, self-checking DaoDB batches, and the checks that a database holds whole
//! transactions only (see RELIABILITY.md).
//!
//! Every batch carries a marker datom naming its writer, its sequence number, how many
//! other datoms it holds and a checksum of them. A reader of the transaction log can
//! therefore tell, for every `t`, whether the transaction is whole, without knowing who
//! wrote it or whether the writer lived to acknowledge it.

use eve::dao::{Change, DbSnapshot, Index, Value, View};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// splitmix64: small, fast, and the same on every run for the same seed.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A number from the environment, or `default`.
pub fn knob(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}

/// `EVE_TORTURE_ROUNDS`, or `default`.
pub fn rounds(default: u64) -> u64 {
    knob("EVE_TORTURE_ROUNDS", default)
}

/// `EVE_TORTURE_SECONDS`, or `default`.
pub fn seconds(default: u64) -> u64 {
    knob("EVE_TORTURE_SECONDS", default)
}

/// `EVE_TORTURE_SEED`, or one taken from the clock; printed so that a failure reproduces.
pub fn seed(test: &str) -> u64 {
    let seed = knob(
        "EVE_TORTURE_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    eprintln!("{test}: EVE_TORTURE_SEED={seed}");
    seed
}

/// Prints a figure line the way RELIABILITY.md quotes them.
pub fn figure(test: &str, text: &str) {
    eprintln!("FIGURES {test}: {text}");
}

/// FNV-1a, enough to tell batches apart.
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

pub const FNV_START: u64 = 0xCBF2_9CE4_8422_2325;

// Attribute ids of the raw (schema-less) batches. Ids below 16 are reserved.
pub const A_MARK: u64 = 20;
pub const A_LONG: u64 = 21;
pub const A_STRING: u64 = 22;
pub const A_REF: u64 = 23;
pub const A_BYTES: u64 = 24;
pub const A_DOUBLE: u64 = 25;
pub const A_KEYWORD: u64 = 26;

/// The entities batches write to: few, so that later batches retract what earlier ones
/// asserted and the indexes see every kind of edit.
pub const POOL_START: u64 = 1000;
pub const POOL: u64 = 48;

/// The entity holding the marker of batch `seq` of writer `uid`: unique per batch.
pub fn marker_entity(uid: u64, seq: u64) -> u64 {
    assert!(uid < 1 << 22 && seq < 1 << 24);
    (1 << 50) | (uid << 24) | seq
}

/// The checksum of a batch's datoms (marker excluded), in order.
pub fn datom_sum<'v>(datoms: impl IntoIterator<Item = (u64, u64, &'v Value, u64)>) -> u64 {
    datoms.into_iter().fold(FNV_START, |h, (e, a, v, m)| {
        let h = fnv(h, &e.to_le_bytes());
        let h = fnv(h, &a.to_le_bytes());
        let h = fnv(h, &v.to_bytes());
        fnv(h, &m.to_le_bytes())
    })
}

fn random_value(rng: &mut Rng, a: u64) -> Value {
    match a {
        A_LONG => Value::Long(rng.below(40) as i64 - 20),
        A_STRING => Value::String(format!("s{}", rng.below(40))),
        A_REF => Value::Ref(POOL_START + rng.below(POOL)),
        A_BYTES => {
            // Now and then longer than 512 bytes: index keys that live in key blocks.
            let len = if rng.chance(10) {
                rng.range(500, 900)
            } else {
                rng.below(40)
            };
            Value::Bytes(vec![rng.below(6) as u8; len as usize])
        }
        A_DOUBLE => Value::Double(rng.below(40) as f64 * 0.5),
        _ => Value::Keyword(format!("k/w{}", rng.below(20))),
    }
}

/// One self-describing transaction.
pub struct Batch {
    pub uid: u64,
    pub seq: u64,
    pub changes: Vec<Change>,
    /// The checksum of every change but the marker.
    pub sum: u64,
}

impl Batch {
    /// A batch of up to `max` changes (assertions, and retractions of values earlier
    /// batches may have asserted), no `[e a v]` twice, plus its marker last.
    pub fn random(rng: &mut Rng, uid: u64, seq: u64, max: u64) -> Batch {
        let n = rng.range(1, max + 1);
        let mut seen = HashSet::new();
        let mut changes = Vec::with_capacity(n as usize + 1);
        while (changes.len() as u64) < n {
            let e = POOL_START + rng.below(POOL);
            let a = A_LONG + rng.below(6);
            let v = random_value(rng, a);
            if !seen.insert((e, a, v.to_bytes())) {
                continue;
            }
            changes.push(if rng.chance(30) {
                Change::Retract { e, a, v }
            } else {
                Change::Add { e, a, v }
            });
        }
        let sum = datom_sum(changes.iter().map(|c| match c {
            Change::Add { e, a, v } => (*e, *a, v, 1),
            Change::Retract { e, a, v } => (*e, *a, v, 0),
        }));
        changes.push(Change::Add {
            e: marker_entity(uid, seq),
            a: A_MARK,
            v: Value::String(format!("{uid} {seq} {n} {sum:x}")),
        });
        Batch {
            uid,
            seq,
            changes,
            sum,
        }
    }

    pub fn marker(&self) -> Marker {
        Marker {
            uid: self.uid,
            seq: self.seq,
            n: self.changes.len() as u64 - 1,
            sum: self.sum,
        }
    }
}

/// What a batch's marker says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    pub uid: u64,
    pub seq: u64,
    pub n: u64,
    pub sum: u64,
}

impl Marker {
    fn parse(text: &str) -> Option<Marker> {
        let mut words = text.split(' ');
        let marker = Marker {
            uid: words.next()?.parse().ok()?,
            seq: words.next()?.parse().ok()?,
            n: words.next()?.parse().ok()?,
            sum: u64::from_str_radix(words.next()?, 16).ok()?,
        };
        words.next().is_none().then_some(marker)
    }

    /// How a child acknowledges a commit on stdout: `ack <t> <uid> <seq> <n> <sum>`.
    pub fn ack_line(&self, t: u64) -> String {
        format!(
            "ack {t} {} {} {} {:x}",
            self.uid, self.seq, self.n, self.sum
        )
    }

    /// Reads an `ack_line` (without its leading `ack`): `(t, marker)`.
    pub fn from_ack(rest: &str) -> (u64, Marker) {
        let (t, marker) = rest.split_once(' ').expect("an ack line");
        (
            t.parse().expect("a t"),
            Marker::parse(marker).expect("an ack marker"),
        )
    }
}

/// Checks the transaction log from `from` to the basis: `t` runs without a gap, and each
/// transaction is exactly one whole batch (its marker, and the datoms the marker counts
/// and sums). Returns each transaction's marker.
pub fn verify_log(db: &DbSnapshot<'_>, from: u64) -> Result<BTreeMap<u64, Marker>, String> {
    let basis = db.basis_t();
    let mut found = BTreeMap::new();
    let mut current: Option<(u64, Vec<eve::dao::Datom>)> = None;
    let mut finish = |t: u64, datoms: Vec<eve::dao::Datom>| -> Result<(), String> {
        let marks: Vec<&eve::dao::Datom> = datoms.iter().filter(|d| d.a == A_MARK).collect();
        if marks.len() != 1 {
            return Err(format!("t {t}: {} markers in one transaction", marks.len()));
        }
        let Value::String(text) = &marks[0].v else {
            return Err(format!("t {t}: marker value {:?}", marks[0].v));
        };
        let marker = Marker::parse(text).ok_or(format!("t {t}: bad marker {text:?}"))?;
        if marks[0].e != marker_entity(marker.uid, marker.seq) {
            return Err(format!("t {t}: marker on entity {}", marks[0].e));
        }
        let rest: Vec<_> = datoms.iter().filter(|d| d.a != A_MARK).collect();
        let sum = datom_sum(rest.iter().map(|d| (d.e, d.a, &d.v, d.m)));
        if rest.len() as u64 != marker.n || sum != marker.sum {
            return Err(format!(
                "t {t} is not whole: its marker {marker:?} counts {} datoms summing to {:x}, \
                 the log holds {} summing to {sum:x}",
                marker.n,
                marker.sum,
                rest.len()
            ));
        }
        found.insert(t, marker);
        Ok(())
    };
    for datom in db.log_from(from.max(1)) {
        let datom = datom.map_err(|e| format!("reading the log: {e}"))?;
        if datom.t > basis {
            return Err(format!(
                "the log holds t {} past the basis {basis}",
                datom.t
            ));
        }
        match &mut current {
            Some((t, datoms)) if *t == datom.t => datoms.push(datom),
            _ => {
                if let Some((t, datoms)) = current.take() {
                    finish(t, datoms)?;
                }
                current = Some((datom.t, vec![datom]));
            }
        }
    }
    if let Some((t, datoms)) = current.take() {
        finish(t, datoms)?;
    }
    let expected: Vec<u64> = (from.max(1)..=basis).collect();
    let got: Vec<u64> = found.keys().copied().collect();
    if got != expected {
        let missing: Vec<u64> = expected
            .iter()
            .filter(|t| !found.contains_key(t))
            .copied()
            .collect();
        return Err(format!(
            "the log from t {from} to the basis {basis} misses t {:?}",
            &missing[..missing.len().min(10)]
        ));
    }
    Ok(found)
}

/// `[e a v]` as comparable bytes.
type Eav = (u64, u64, Vec<u8>);

/// Replays the whole log and compares every index with it: the current view of EAVT,
/// AEVT and AVET (and VAET for references) holds exactly the replayed state, and each
/// index's history holds exactly the log's datoms. Returns the number of datoms.
pub fn verify_indexes(db: &DbSnapshot<'_>) -> Result<u64, String> {
    let mut log: Vec<(Eav, u64, u64)> = Vec::new();
    let mut refs: HashSet<Vec<u8>> = HashSet::new();
    for datom in db.log_from(1) {
        let d = datom.map_err(|e| format!("reading the log: {e}"))?;
        let v = d.v.to_bytes();
        if matches!(d.v, Value::Ref(_)) {
            refs.insert(v.clone());
        }
        log.push(((d.e, d.a, v), d.t, d.m));
    }
    // Within one t an assertion wins over a retraction of the same [e a v] (the index
    // orders it after), so replay retractions of a t before its assertions.
    let mut replay = log.clone();
    replay.sort_by_key(|(_, t, m)| (*t, *m));
    let mut state: BTreeSet<Eav> = BTreeSet::new();
    for (eav, _, m) in &replay {
        if *m == 0 {
            state.remove(eav);
        } else {
            state.insert(eav.clone());
        }
    }
    let mut history: Vec<(Eav, u64, u64)> = log;
    history.sort();
    let is_ref = |eav: &Eav| refs.contains(&eav.2);
    for index in Index::ALL {
        let mut current = BTreeSet::new();
        for datom in db.range(index, View::Current, &[], None) {
            let d = datom.map_err(|e| format!("reading {index:?}: {e}"))?;
            if !current.insert((d.e, d.a, d.v.to_bytes())) {
                return Err(format!("{index:?} shows [{} {} {:?}] twice", d.e, d.a, d.v));
            }
        }
        let expected: BTreeSet<Eav> = if index == Index::Vaet {
            state.iter().filter(|x| is_ref(x)).cloned().collect()
        } else {
            state.clone()
        };
        if current != expected {
            let extra = current.difference(&expected).next().cloned();
            let missing = expected.difference(&current).next().cloned();
            return Err(format!(
                "{index:?}'s current view ({} datoms) differs from the replayed log ({}): \
                 extra {extra:?}, missing {missing:?}",
                current.len(),
                expected.len()
            ));
        }
        let mut raw = Vec::new();
        for datom in db.range(index, View::History, &[], None) {
            let d = datom.map_err(|e| format!("reading {index:?}: {e}"))?;
            raw.push(((d.e, d.a, d.v.to_bytes()), d.t, d.m));
        }
        raw.sort();
        let expected: Vec<_> = if index == Index::Vaet {
            history.iter().filter(|x| is_ref(&x.0)).cloned().collect()
        } else {
            history.clone()
        };
        if raw != expected {
            return Err(format!(
                "{index:?}'s history ({} datoms) differs from the log ({})",
                raw.len(),
                expected.len()
            ));
        }
    }
    Ok(history.len() as u64)
}
