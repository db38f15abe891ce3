//! Which drivers a reader is shown first: the one choice behind the console
//! summary of `verbatim analyze` and the driver charts of `report.html`.
//!
//! Both used to choose for themselves, with different tie-breaks, and the
//! report ranked small bases among the findings and showed a topic twice
//! ("Wait time" and "Wait time (negative)" on consecutive rows). One function
//! now decides, so the console and the page list the same topics in the same
//! order:
//!
//! * a **side** reads two of the driver tables: the detractor side the
//!   any-mention and negative-mention tables, the promoter side the
//!   any-mention and positive-mention ones;
//! * a row is **ranked** when its interval lies wholly on the side's side of
//!   0 ([`Direction`]) and it rests on at least `min_n` mentions (not
//!   suppressed);
//! * a topic appears **once per side**: of its ranked rows the strongest is
//!   kept (largest |impact|, then more mentions, then any-mention before
//!   polarity);
//! * the order is strongest first, then more mentions, then topic id, so it
//!   is the same on every run;
//! * suppressed rows pointing the side's way are returned apart, once per
//!   topic that is not ranked, as "too few mentions to rank".

use crate::stats::drivers::{Direction, Driver};
use crate::stats::response::{DriverScope, DriverTable};

/// Which way a driver moves NPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Pulls NPS down: any or negative mentions.
    Detractor,
    /// Pulls NPS up: any or positive mentions.
    Promoter,
}

impl Side {
    /// Both sides, detractor first (the order of the console and the page).
    pub const BOTH: [Side; 2] = [Side::Detractor, Side::Promoter];

    /// The driver tables this side reads.
    pub fn admits(self, scope: DriverScope) -> bool {
        match self {
            Side::Detractor => scope != DriverScope::Positive,
            Side::Promoter => scope != DriverScope::Negative,
        }
    }

    /// The direction a ranked driver of this side has.
    pub fn direction(self) -> Direction {
        match self {
            Side::Detractor => Direction::PullsDown,
            Side::Promoter => Direction::PullsUp,
        }
    }

    /// True when `impact` points this side's way.
    fn points_our_way(self, impact: f64) -> bool {
        match self {
            Side::Detractor => impact < 0.0,
            Side::Promoter => impact > 0.0,
        }
    }
}

/// A driver row with the table it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Pick<'a> {
    pub driver: &'a Driver,
    pub scope: DriverScope,
}

impl Pick<'_> {
    fn strength(&self) -> f64 {
        self.driver.impact.map_or(0.0, f64::abs)
    }
}

/// One side's drivers (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct SideDrivers<'a> {
    /// Ranked: significant, not suppressed, one per topic, strongest first.
    pub ranked: Vec<Pick<'a>>,
    /// Suppressed rows pointing this way whose topic is not ranked, one per
    /// topic, most mentions first.
    pub too_few: Vec<Pick<'a>>,
}

/// Any-mention first, then the polarity tables, on ties.
fn scope_rank(s: DriverScope) -> usize {
    DriverScope::ALL.iter().position(|&x| x == s).unwrap_or(0)
}

/// Keeps the first pick of each topic of `picks`, already in order.
fn once_per_topic(picks: Vec<Pick<'_>>) -> Vec<Pick<'_>> {
    let mut seen = std::collections::HashSet::new();
    picks
        .into_iter()
        .filter(|p| seen.insert(p.driver.topic.as_str()))
        .collect()
}

/// The drivers of `side` from the driver tables of a pass (see the module
/// docs). Every row is returned; callers take as many as they show.
pub fn side_drivers(tables: &[DriverTable], side: Side) -> SideDrivers<'_> {
    let rows = tables
        .iter()
        .filter(|t| side.admits(t.scope))
        .flat_map(|t| {
            t.drivers.iter().map(move |d| Pick {
                driver: d,
                scope: t.scope,
            })
        })
        .filter(|p| p.driver.impact.is_some_and(f64::is_finite));
    let (mut ranked, mut small): (Vec<Pick>, Vec<Pick>) = (Vec::new(), Vec::new());
    for p in rows {
        let d = p.driver;
        if d.suppressed {
            if d.mentions > 0 && side.points_our_way(d.impact.unwrap_or(0.0)) {
                small.push(p);
            }
        } else if d.direction == side.direction() {
            ranked.push(p);
        }
    }
    ranked.sort_by(|a, b| {
        b.strength()
            .total_cmp(&a.strength())
            .then(b.driver.mentions.cmp(&a.driver.mentions))
            .then(a.driver.topic.cmp(&b.driver.topic))
            .then(scope_rank(a.scope).cmp(&scope_rank(b.scope)))
    });
    let ranked = once_per_topic(ranked);
    small.retain(|p| !ranked.iter().any(|r| r.driver.topic == p.driver.topic));
    small.sort_by(|a, b| {
        b.driver
            .mentions
            .cmp(&a.driver.mentions)
            .then(a.driver.topic.cmp(&b.driver.topic))
            .then(scope_rank(a.scope).cmp(&scope_rank(b.scope)))
    });
    SideDrivers {
        ranked,
        too_few: once_per_topic(small),
    }
}
