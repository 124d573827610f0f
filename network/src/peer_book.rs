//! The peer book (`specs/09-p2p.md`, "Peer scoring"): how each peer behaved, and who is banned.
//!
//! Sans-IO: the book never reads a clock, every method that depends on time takes `now`, so the
//! scoring rules are unit-tested by passing instants. The event loop owns one book, reports
//! offences to it, enforces the bans it decides (libp2p's block list) and calls
//! [`PeerBook::expire`] on a periodic tick to end them.
//!
//! # Model
//! - A score starts at 0 and decays exponentially toward 0 with a half-life of
//!   [`SCORE_HALF_LIFE`]: an offence is forgiven over time, and an honest peer that times out now
//!   and then never accumulates a ban.
//! - Offences subtract their [`Offence::cost`]. Timeouts only lower a score down to
//!   [`TIMEOUT_FLOOR`]: a timeout may be our own congestion or a slow link, so timeouts alone never
//!   ban; they only leave less room for real offences.
//! - A peer whose score, rounded to the nearest integer, reaches [`BAN_SCORE`] is banned. Its
//!   `n`-th ban lasts [`FIRST_BAN`]` · 2^(n−1)`, at most [`MAX_BAN`]. While banned the score does
//!   not decay; when the ban ends the score restarts at [`PROBATION_SCORE`], so one more invalid
//!   message bans again, for twice as long.
//! - A peer's record is forgotten once its score has decayed to 0 and, if it was ever banned,
//!   [`BAN_MEMORY`] has passed since its last ban ended. At most [`MAX_PEER_RECORDS`] records are
//!   kept (see [`PeerBook::report`] for who makes room).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use libp2p::PeerId;

/// Score at or below which a peer is banned.
pub const BAN_SCORE: i32 = -100;
/// Time for a score to decay halfway to 0.
pub const SCORE_HALF_LIFE: Duration = Duration::from_secs(10 * 60);
/// Timeouts never lower a score below this.
pub const TIMEOUT_FLOOR: i32 = -50;
/// Score of a peer whose ban just ended.
pub const PROBATION_SCORE: i32 = -50;
/// Length of a peer's first ban; each further ban doubles it.
pub const FIRST_BAN: Duration = Duration::from_secs(10 * 60);
/// Longest ban.
pub const MAX_BAN: Duration = Duration::from_secs(24 * 60 * 60);
/// How long after its last ban ended a peer's ban count is remembered.
pub const BAN_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);
/// Most peers the book keeps a record of.
pub const MAX_PEER_RECORDS: usize = 10_000;

/// What a peer did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offence {
    /// A message that does not decode or breaks a bound (−25).
    Malformed,
    /// A cell proof or header signature that does not verify (−50).
    InvalidData,
    /// No answer in time (−5, never below [`TIMEOUT_FLOOR`]).
    Timeout,
}

impl Offence {
    /// Points the offence costs.
    pub fn cost(self) -> i32 {
        match self {
            Self::Malformed => 25,
            Self::InvalidData => 50,
            Self::Timeout => 5,
        }
    }
}

/// Scoring and ban parameters; [`Default`] is the constants of this module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerBookConfig {
    /// Time for a score to decay halfway to 0 (zero = offences are forgotten at once).
    pub half_life: Duration,
    /// Score at or below which a peer is banned.
    pub ban_score: i32,
    /// Timeouts never lower a score below this.
    pub timeout_floor: i32,
    /// Score of a peer whose ban just ended.
    pub probation_score: i32,
    /// Length of the first ban, doubled by each further ban.
    pub first_ban: Duration,
    /// Longest ban.
    pub max_ban: Duration,
    /// How long after its last ban a peer's ban count is remembered.
    pub ban_memory: Duration,
    /// Most records kept.
    pub max_records: usize,
}

impl Default for PeerBookConfig {
    fn default() -> Self {
        Self {
            half_life: SCORE_HALF_LIFE,
            ban_score: BAN_SCORE,
            timeout_floor: TIMEOUT_FLOOR,
            probation_score: PROBATION_SCORE,
            first_ban: FIRST_BAN,
            max_ban: MAX_BAN,
            ban_memory: BAN_MEMORY,
            max_records: MAX_PEER_RECORDS,
        }
    }
}

/// A ban an offence just caused; the caller enforces it until [`PeerBook::expire`] ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ban {
    /// When it ends (at the first [`PeerBook::expire`] at or after this instant).
    pub until: Instant,
    /// How long it lasts.
    pub duration: Duration,
    /// Which ban of this peer it is (1 = first).
    pub nth: u32,
}

/// One peer's record.
#[derive(Clone, Debug)]
struct Record {
    /// Score at `at` (frozen while banned).
    score: f64,
    at: Instant,
    /// End of the current ban.
    banned_until: Option<Instant>,
    /// Bans so far (remembered for `ban_memory` after the last one ended).
    bans: u32,
    /// When the last ban ended.
    last_ban_end: Option<Instant>,
}

/// Scores and bans of the peers we have seen misbehave.
#[derive(Clone, Debug, Default)]
pub struct PeerBook {
    config: PeerBookConfig,
    peers: HashMap<PeerId, Record>,
}

impl PeerBook {
    /// An empty book with these parameters.
    pub fn new(config: PeerBookConfig) -> Self {
        Self {
            config,
            peers: HashMap::new(),
        }
    }

    /// `record`'s score at `now`: decayed toward 0 since it was last updated, frozen while banned.
    fn current(&self, record: &Record, now: Instant) -> f64 {
        if record.banned_until.is_some() {
            return record.score;
        }
        let elapsed = now.saturating_duration_since(record.at);
        if self.config.half_life.is_zero() {
            return 0.0;
        }
        record.score * 0.5f64.powf(elapsed.as_secs_f64() / self.config.half_life.as_secs_f64())
    }

    /// `peer`'s score at `now`, rounded (0 for a peer without a record).
    pub fn score(&self, peer: &PeerId, now: Instant) -> i32 {
        self.peers
            .get(peer)
            .map_or(0, |r| self.current(r, now).round() as i32)
    }

    /// Whether `peer` is banned (from the offence that banned it until [`PeerBook::expire`]
    /// ends the ban, so the book and the enforcing block list always agree).
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|r| r.banned_until.is_some())
    }

    /// Number of peers with a record.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer has a record.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Records `offence` by `peer` at `now`; returns the ban it causes, if any.
    ///
    /// An offence by a banned peer (e.g. a gossip verdict arriving after the ban) lowers its
    /// frozen score but does not ban it again. When the book is full, a new peer's record
    /// replaces the unbanned record with the highest score; if every record is a ban, the
    /// offence is not recorded (an attacker needs [`MAX_PEER_RECORDS`] identities banned at
    /// once for that, and it escapes only the bookkeeping: its data was still refused).
    pub fn report(&mut self, peer: PeerId, offence: Offence, now: Instant) -> Option<Ban> {
        if !self.peers.contains_key(&peer) && !self.make_room(now) {
            return None;
        }
        let config = &self.config;
        let current = self.peers.get(&peer).map_or(0.0, |r| self.current(r, now));
        let record = self.peers.entry(peer).or_insert_with(|| Record {
            score: 0.0,
            at: now,
            banned_until: None,
            bans: 0,
            last_ban_end: None,
        });
        let floor = f64::from(config.timeout_floor);
        let cost = f64::from(offence.cost());
        record.score = match offence {
            Offence::Timeout if current > floor => (current - cost).max(floor),
            Offence::Timeout => current,
            Offence::Malformed | Offence::InvalidData => current - cost,
        };
        record.at = now;
        if record.banned_until.is_some() || record.score.round() > f64::from(config.ban_score) {
            return None;
        }
        record.bans = record.bans.saturating_add(1);
        let duration = config
            .first_ban
            .saturating_mul(2u32.saturating_pow(record.bans - 1))
            .min(config.max_ban);
        let until = now + duration;
        record.banned_until = Some(until);
        Some(Ban {
            until,
            duration,
            nth: record.bans,
        })
    }

    /// Evicts the unbanned record with the highest score if the book is full; false when it is
    /// full of bans.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.peers.len() < self.config.max_records {
            return true;
        }
        let victim = self
            .peers
            .iter()
            .filter(|(_, r)| r.banned_until.is_none())
            .map(|(p, r)| (*p, self.current(r, now)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, _)| p);
        victim.is_some_and(|p| self.peers.remove(&p).is_some())
    }

    /// Ends the bans due at `now` (their peers restart at the probation score) and forgets the
    /// records with nothing left to remember. Returns the peers whose ban ended, for the caller
    /// to stop enforcing it.
    pub fn expire(&mut self, now: Instant) -> Vec<PeerId> {
        let probation = f64::from(self.config.probation_score);
        let mut ended = Vec::new();
        for (peer, r) in &mut self.peers {
            if r.banned_until.is_some_and(|until| until <= now) {
                r.banned_until = None;
                r.last_ban_end = Some(now);
                r.score = probation;
                r.at = now;
                ended.push(*peer);
            }
        }
        let memory = self.config.ban_memory;
        let forgotten: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, r)| {
                r.banned_until.is_none()
                    && self.current(r, now).round() == 0.0
                    && r.last_ban_end
                        .is_none_or(|end| now.saturating_duration_since(end) >= memory)
            })
            .map(|(p, _)| *p)
            .collect();
        for p in forgotten {
            self.peers.remove(&p);
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn book() -> PeerBook {
        PeerBook::new(PeerBookConfig::default())
    }

    #[test]
    fn unknown_peers_score_zero_and_are_not_banned() {
        let b = book();
        let p = PeerId::random();
        assert_eq!(b.score(&p, Instant::now()), 0);
        assert!(!b.is_banned(&p));
        assert!(b.is_empty());
    }

    #[test]
    fn scores_decay_toward_zero_and_are_then_forgotten() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        assert_eq!(b.report(p, Offence::InvalidData, t0), None);
        assert_eq!(b.score(&p, t0), -50);
        assert_eq!(b.score(&p, t0 + 10 * MIN), -25);
        assert_eq!(b.score(&p, t0 + 20 * MIN), -13);
        assert_eq!(b.score(&p, t0 + 60 * MIN), -1);
        assert!(b.expire(t0 + 60 * MIN).is_empty());
        assert_eq!(b.len(), 1, "a score of -1 is still remembered");
        assert_eq!(b.score(&p, t0 + 90 * MIN), 0);
        assert!(b.expire(t0 + 90 * MIN).is_empty());
        assert!(b.is_empty(), "a record decayed to 0 is forgotten");
    }

    #[test]
    fn occasional_timeouts_never_ban() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        // 20 timeouts over an hour.
        for i in 0..20 {
            assert_eq!(b.report(p, Offence::Timeout, t0 + i * 3 * MIN), None);
        }
        let s = b.score(&p, t0 + 57 * MIN);
        assert!((-30..0).contains(&s), "{s}");
        // A day of one timeout every 30 s.
        for i in 0..2880u32 {
            let now = t0 + MIN * 60 + Duration::from_secs(30) * i;
            assert_eq!(b.report(p, Offence::Timeout, now), None);
            b.expire(now);
        }
        assert!(!b.is_banned(&p));
    }

    #[test]
    fn timeouts_alone_never_ban_but_leave_less_room() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        for _ in 0..100 {
            assert_eq!(b.report(p, Offence::Timeout, t0), None);
        }
        assert_eq!(b.score(&p, t0), TIMEOUT_FLOOR);
        assert!(!b.is_banned(&p));
        // A peer already below the floor is not lowered further by timeouts.
        let q = PeerId::random();
        b.report(q, Offence::InvalidData, t0);
        b.report(q, Offence::Malformed, t0);
        b.report(q, Offence::Timeout, t0);
        assert_eq!(b.score(&q, t0), -75);
        // One invalid message on top of the floor bans.
        let ban = b.report(p, Offence::InvalidData, t0).expect("banned");
        assert_eq!((ban.nth, ban.duration), (1, FIRST_BAN));
    }

    #[test]
    fn bursts_of_invalid_data_ban_and_spread_ones_do_not() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        assert_eq!(b.report(p, Offence::InvalidData, t0), None);
        let ban = b
            .report(p, Offence::InvalidData, t0 + Duration::from_secs(1))
            .expect("two invalid messages in a second ban");
        assert_eq!(ban.until, t0 + Duration::from_secs(1) + FIRST_BAN);
        assert!(b.is_banned(&p));
        assert!(
            b.score(&p, t0 + 5 * MIN) <= BAN_SCORE,
            "frozen while banned"
        );
        // Four malformed frames ban too.
        let q = PeerId::random();
        for _ in 0..3 {
            assert_eq!(b.report(q, Offence::Malformed, t0), None);
        }
        assert!(b.report(q, Offence::Malformed, t0).is_some());
        // One invalid message every 30 minutes settles near -57 and never bans.
        let r = PeerId::random();
        for i in 0..48 {
            assert_eq!(b.report(r, Offence::InvalidData, t0 + i * 30 * MIN), None);
        }
        assert!(!b.is_banned(&r));
    }

    #[test]
    fn bans_end_on_the_tick_after_their_end_on_probation() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        b.report(p, Offence::InvalidData, t0);
        let ban = b.report(p, Offence::InvalidData, t0).expect("banned");
        // A late verdict on a banned peer does not ban it twice.
        assert_eq!(b.report(p, Offence::InvalidData, t0 + MIN), None);
        assert_eq!(b.score(&p, t0 + MIN), -150);
        assert!(b.expire(ban.until - Duration::from_millis(1)).is_empty());
        assert!(b.is_banned(&p), "the ban lasts until the tick at its end");
        assert_eq!(b.expire(ban.until), vec![p]);
        assert!(!b.is_banned(&p));
        assert_eq!(b.score(&p, ban.until), PROBATION_SCORE);
        assert!(b.expire(ban.until + MIN).is_empty(), "ended only once");
    }

    #[test]
    fn repeated_bans_double_up_to_the_cap() {
        let mut b = book();
        let (p, mut now) = (PeerId::random(), Instant::now());
        b.report(p, Offence::InvalidData, now);
        let mut expected = FIRST_BAN;
        for nth in 1..=10 {
            // On probation (or fresh with one offence), one more invalid message bans.
            let ban = b.report(p, Offence::InvalidData, now).expect("banned");
            assert_eq!((ban.nth, ban.duration), (nth, expected), "ban {nth}");
            now = ban.until;
            assert_eq!(b.expire(now), vec![p]);
            expected = (expected * 2).min(MAX_BAN);
        }
        assert_eq!(expected, MAX_BAN);
    }

    #[test]
    fn ban_history_is_forgotten_after_a_quiet_day() {
        let mut b = book();
        let (p, t0) = (PeerId::random(), Instant::now());
        b.report(p, Offence::InvalidData, t0);
        let ban = b.report(p, Offence::InvalidData, t0).expect("banned");
        b.expire(ban.until);
        // Decayed to 0 after a few hours, but the ban is remembered for a day.
        b.expire(ban.until + 12 * 60 * MIN);
        assert_eq!(b.len(), 1);
        assert_eq!(b.score(&p, ban.until + 12 * 60 * MIN), 0);
        let later = ban.until + BAN_MEMORY;
        b.expire(later);
        assert!(b.is_empty());
        b.report(p, Offence::InvalidData, later);
        let again = b.report(p, Offence::InvalidData, later).expect("banned");
        assert_eq!((again.nth, again.duration), (1, FIRST_BAN));
    }

    #[test]
    fn the_book_is_bounded_and_keeps_bans() {
        let mut b = PeerBook::new(PeerBookConfig {
            max_records: 3,
            ..PeerBookConfig::default()
        });
        let t0 = Instant::now();
        let peers: Vec<PeerId> = (0..5).map(|_| PeerId::random()).collect();
        b.report(peers[0], Offence::InvalidData, t0);
        b.report(peers[1], Offence::Timeout, t0);
        b.report(peers[2], Offence::Malformed, t0);
        // Full: the newcomer replaces the least bad record (the one timeout).
        b.report(peers[3], Offence::Malformed, t0);
        assert_eq!(b.len(), 3);
        assert_eq!(b.score(&peers[1], t0), 0);
        assert_eq!(b.score(&peers[0], t0), -50);
        // Full of bans: a new offender is not recorded and no ban is lost.
        for p in [peers[0], peers[2], peers[3]] {
            assert!((0..3).any(|_| b.report(p, Offence::InvalidData, t0).is_some()));
        }
        assert_eq!(b.report(peers[4], Offence::InvalidData, t0), None);
        assert_eq!(b.len(), 3);
        assert!([peers[0], peers[2], peers[3]]
            .iter()
            .all(|p| b.is_banned(p)));
    }
}
