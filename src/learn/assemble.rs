//! The proposal assembled from the first pass's table: ports sorted by bus
//! name, each bus's ids sorted by kind then value, the signal statistics of
//! messages of identical layout pooled, every route named uniquely.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::cycle::{BurstMeter, CycleCandidate};
use super::dbcs::BusCodecs;
use super::observe::IdStats;
use super::propose::{PortProposal, Proposal};
use super::route::{self, Pool, RouteContext};
use super::scan::{BusNames, FileSummary};
use super::signals::SignalStats;
use super::table::IdTable;
use super::{LearnError, LearnOptions, output_dir, paths};
use crate::frame::CanId;
use crate::rules::Trust;

/// The proposal for everything `table` saw.
pub fn propose_all(
    options: &LearnOptions,
    names: &BusNames,
    table: &IdTable,
    meters: &HashMap<(usize, CanId), (CycleCandidate, BurstMeter)>,
    files: Vec<FileSummary>,
) -> Result<Proposal, LearnError> {
    let out_dir = output_dir(&options.output);
    // Buses by name; ids by kind then value.
    let mut by_bus: BTreeMap<&str, Vec<&IdStats>> = BTreeMap::new();
    for s in &table.stats {
        by_bus.entry(names.name(s.bus)).or_default().push(s);
    }
    let capture_end = table.stats.iter().map(|s| s.last).max().unwrap_or_default();
    let mut ports = Vec::new();
    let mut routes = Vec::new();
    let mut taken = BTreeSet::new();
    for (bus, mut ids) in by_bus {
        ids.sort_by_key(|s| (s.id.is_extended(), s.id.raw()));
        let bus_index = ids.first().map_or(0, |s| s.bus);
        let codecs = table.codecs.get(bus_index).cloned().flatten().unwrap_or_else(|| Arc::new(BusCodecs::empty()));
        let (frames, error_frames) = table.buses.get(bus_index).copied().unwrap_or((0, 0));
        let dbc = codecs.files.iter().map(|f| paths::relative(&out_dir, f)).collect::<Result<Vec<_>, _>>()?;
        let in_dbc: Vec<&&IdStats> = ids.iter().filter(|s| s.message.is_some()).collect();
        ports.push(PortProposal {
            name: bus.to_owned(),
            medium: if ids.iter().any(|s| s.fd_frames > 0) { "can-fd" } else { "can" },
            trust: if options.hostile.iter().any(|h| h == bus) { Trust::Hostile } else { Trust::Trusted },
            dbc,
            remote_frames: ids.iter().any(|s| s.remote_frames > 0),
            frames,
            error_frames,
            ids: ids.len(),
            ids_in_dbc: in_dbc.len(),
            frames_in_dbc: in_dbc.iter().map(|s| s.frames).sum(),
        });
        let to: Vec<String> = options.forward.iter().filter(|(f, _)| f == bus).map(|(_, t)| t.clone()).collect();
        let (pool_list, pools) = pools(&ids);
        for s in ids {
            let cx = RouteContext {
                bus,
                codecs: &codecs,
                to: &to,
                minimal_burst: meters.get(&(s.bus, s.id)).map(|(_, m)| m.minimal_burst()),
                margins: &options.margins,
                pool: pools.get(&s.id).and_then(|i| pool_list.get(*i)),
                capture_end,
            };
            let mut route = route::route(s, &cx);
            route.name = route::unique_name(bus, &route, s.id, &mut taken);
            routes.push(route);
        }
    }
    let name = match files.first() {
        Some(f) => format!(
            "learned from {}",
            f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned())
        ),
        None => "learned".to_owned(),
    };
    Ok(Proposal { name, files, ports, routes })
}

/// Signal statistics pooled per layout over the decodable messages of one
/// bus (groups of two or more), and each member's pool.
fn pools(ids: &[&IdStats]) -> (Vec<Pool>, HashMap<CanId, usize>) {
    let mut groups: BTreeMap<String, Vec<&IdStats>> = BTreeMap::new();
    for s in ids {
        if let Some(m) = s.message.as_ref().filter(|m| m.too_short == 0) {
            groups.entry(m.layout_key()).or_default().push(s);
        }
    }
    let mut list = Vec::new();
    let mut by_id = HashMap::new();
    for members in groups.into_values().filter(|g| g.len() > 1) {
        let mut signals: Vec<SignalStats> = Vec::new();
        for m in members.iter().filter_map(|s| s.message.as_ref()) {
            if signals.is_empty() {
                signals = m.signals.clone();
            } else {
                for (into, from) in signals.iter_mut().zip(&m.signals) {
                    into.merge(from);
                }
            }
        }
        for s in &members {
            by_id.insert(s.id, list.len());
        }
        list.push(Pool {
            members: members.iter().filter_map(|s| s.message.as_ref()).map(|m| m.codec.name().to_owned()).collect(),
            signals,
        });
    }
    (list, by_id)
}
