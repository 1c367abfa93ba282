//! A line's fingerprint: per part of the record, a hash of what the file said, so the
//! same line again is unchanged and a changed one names the parts that changed.

use super::record::Record;

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The parts of a record a changed line is reported by.
pub const PARTS: [&str; 4] = ["person", "trajectory", "results", "ggc_registrations"];

pub(super) fn fingerprint(record: &Record) -> String {
    let person = Record {
        trajectory: None,
        ggc_registrations: Vec::new(),
        ..record.clone()
    };
    let mut trajectory = record.trajectory.clone();
    let results = trajectory
        .as_mut()
        .map(|t| std::mem::take(&mut t.results))
        .unwrap_or_default();
    let json = |v: &dyn erased::Json| v.json();
    [
        json(&person),
        json(&trajectory),
        json(&results),
        json(&record.ggc_registrations),
    ]
    .iter()
    .map(|s| format!("{:016x}", fnv(s.as_bytes())))
    .collect::<Vec<_>>()
    .join(":")
}

mod erased {
    /// A value serialised the same way every time (struct field order).
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// The parts whose hash differs between two fingerprints.
pub fn changed_parts(stored: &str, now: &str) -> Vec<&'static str> {
    let a: Vec<_> = stored.split(':').collect();
    let b: Vec<_> = now.split(':').collect();
    PARTS
        .iter()
        .enumerate()
        .filter(|(i, _)| a.get(*i) != b.get(*i))
        .map(|(_, p)| *p)
        .collect()
}
