//! The DBC files of each bus: those given for one bus (`--bus-dbc BUS=FILE`)
//! first, then those given for every bus (`--dbc FILE`), in the order given.
//! The rule file lists them in the same order, so the first definition of an
//! id wins in learning exactly as it will in the compiled rules.
//!
//! Invariant: each file is read and parsed once, however many buses use it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::LearnError;
use crate::codec::CodecTable;
use crate::dbc::{self, Dbc};

/// The DBC files of one bus and the codecs they give.
#[derive(Debug)]
pub struct BusCodecs {
    /// The files, in the order the port will list them.
    pub files: Vec<PathBuf>,
    /// The parsed files, same order.
    pub dbcs: Vec<Arc<Dbc>>,
    /// Their messages by id.
    pub table: CodecTable,
}

impl BusCodecs {
    /// A bus without DBC files.
    pub fn empty() -> Self {
        BusCodecs { files: Vec::new(), dbcs: Vec::new(), table: CodecTable::new(std::iter::empty()) }
    }

    /// The model signals of the message the table holds under `key`.
    pub fn model(&self, key: crate::codec::MessageKey) -> &[crate::dbc::Signal] {
        self.dbcs.get(key.dbc).and_then(|d| d.messages.get(key.message)).map_or(&[], |m| m.signals.as_slice())
    }
}

/// Every DBC file given, parsed, with the bus each applies to.
#[derive(Debug, Default)]
pub struct DbcSet {
    all_buses: Vec<Loaded>,
    per_bus: BTreeMap<String, Vec<Loaded>>,
}

/// A file as given, its canonical path (to spot the same file given twice) and its content.
#[derive(Debug)]
struct Loaded {
    given: PathBuf,
    canonical: PathBuf,
    dbc: Arc<Dbc>,
}

impl DbcSet {
    /// Loads `all_buses` (for every bus) and `per_bus` (`(bus, file)` pairs).
    pub fn load(all_buses: &[PathBuf], per_bus: &[(String, PathBuf)]) -> Result<Self, LearnError> {
        let mut cache: BTreeMap<PathBuf, Arc<Dbc>> = BTreeMap::new();
        let mut get = |path: &PathBuf| -> Result<Loaded, LearnError> {
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let dbc = match cache.get(&canonical) {
                Some(d) => Arc::clone(d),
                None => {
                    let parsed = Arc::new(dbc::load(path)?);
                    cache.insert(canonical.clone(), Arc::clone(&parsed));
                    parsed
                }
            };
            Ok(Loaded { given: path.clone(), canonical, dbc })
        };
        let mut set = DbcSet::default();
        for path in all_buses {
            set.all_buses.push(get(path)?);
        }
        for (bus, path) in per_bus {
            let loaded = get(path)?;
            set.per_bus.entry(bus.clone()).or_default().push(loaded);
        }
        Ok(set)
    }

    /// The buses named by per-bus DBC files.
    pub fn named_buses(&self) -> impl Iterator<Item = &str> {
        self.per_bus.keys().map(String::as_str)
    }

    /// The codecs for bus `name`.
    /// A file given twice for a bus counts once, at its first place.
    pub fn for_bus(&self, name: &str) -> BusCodecs {
        let mut files: Vec<&Loaded> = Vec::new();
        for loaded in self.per_bus.get(name).into_iter().flatten().chain(self.all_buses.iter()) {
            if !files.iter().any(|f| f.canonical == loaded.canonical) {
                files.push(loaded);
            }
        }
        let table = CodecTable::new(files.iter().map(|f| f.dbc.as_ref()));
        BusCodecs {
            files: files.iter().map(|f| f.given.clone()).collect(),
            dbcs: files.iter().map(|f| Arc::clone(&f.dbc)).collect(),
            table,
        }
    }
}
