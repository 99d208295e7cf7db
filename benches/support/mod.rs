//! The data set shared by the benchmarks: 1M random 8-byte keys with 150-byte values,
//! loaded the same way into eve, LMDB (through heed) and `im`'s heap HashMap.

#![allow(dead_code)]

use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions};
use std::path::Path;

pub const KEYS: usize = 1_000_000;
pub const VALUE_LEN: usize = 150;

pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

pub fn keys() -> Vec<[u8; 8]> {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    (0..KEYS).map(|_| rng.next().to_le_bytes()).collect()
}

pub fn value_for(key: &[u8; 8], version: u8) -> [u8; VALUE_LEN] {
    let mut v = [version; VALUE_LEN];
    v[..8].copy_from_slice(key);
    v
}

pub fn load_eve(path: &Path, keys: &[[u8; 8]]) -> eve::Slab {
    let _ = std::fs::remove_file(path);
    let slab = eve::Slab::open(path).unwrap();
    let map = slab.map("bench").unwrap();
    for chunk in keys.chunks(20_000) {
        map.update(|txn| {
            for k in chunk {
                txn.insert(k, &value_for(k, 0))?;
            }
            Ok(())
        })
        .unwrap();
    }
    slab
}

/// An LMDB environment without fsync (matching eve's commits) and its unnamed database.
pub fn open_lmdb(dir: &Path, map_size: usize) -> (Env, Database<Bytes, Bytes>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut options = EnvOpenOptions::new();
    options.map_size(map_size);
    // SAFETY: NO_SYNC only weakens durability on power loss, which none of the peers here
    // offer either; the directory is private to this benchmark run.
    let env = unsafe {
        options.flags(EnvFlags::NO_SYNC | EnvFlags::NO_META_SYNC);
        options.open(dir).unwrap()
    };
    let mut wtxn = env.write_txn().unwrap();
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None).unwrap();
    wtxn.commit().unwrap();
    (env, db)
}

pub fn load_lmdb(dir: &Path, keys: &[[u8; 8]]) -> (Env, Database<Bytes, Bytes>) {
    let (env, db) = open_lmdb(dir, 8 << 30);
    let mut wtxn = env.write_txn().unwrap();
    for k in keys {
        db.put(&mut wtxn, k, &value_for(k, 0)).unwrap();
    }
    wtxn.commit().unwrap();
    (env, db)
}

pub fn load_im(keys: &[[u8; 8]]) -> im::HashMap<[u8; 8], Vec<u8>> {
    keys.iter()
        .map(|k| (*k, value_for(k, 0).to_vec()))
        .collect()
}
