//! The lane's health beyond its devices: free disk under the store, and
//! how far the central system is behind. Pure: the runtime samples, this
//! decides, once per change.
//!
//! A store that is about to fill closes the lane *before* a record could
//! be lost (the state machine's `DeviceFault(Store)`: out of service, an
//! officer alert, the gate shut) and reopens it when space returns. A store
//! that refused a write as full (a page limit or a quota the free-space
//! reading does not see) keeps the lane closed until the store itself says
//! it has room again ([`Health::store_room`]), so the lane never flaps open
//! onto a store that cannot write.

use std::time::Duration;

use crate::lane::LaneEvent;
use crate::session::{Device, Event};
use crate::sync::SyncStatus;

/// When the lane closes or alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthLimits {
    /// Close the lane below this much free space under the store, in bytes.
    pub min_free_bytes: u64,
    /// Alert the officer above this many unsynced records.
    pub alert_backlog: u64,
    /// Alert the officer when the oldest unsynced record waits longer.
    pub alert_age: Duration,
}

/// What the lane last concluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    disk_low: bool,
    store_full: bool,
    sync_behind: bool,
}

impl Health {
    /// Takes a sample (free bytes under the store, `None` when unknown; the
    /// sync worker's status, `None` without sync); returns the state
    /// machine's events and the lane events for what changed.
    pub fn sample(
        &mut self,
        free_bytes: Option<u64>,
        sync: Option<&SyncStatus>,
        limits: &HealthLimits,
    ) -> (Vec<Event>, Vec<LaneEvent>) {
        let mut events = Vec::new();
        let mut notices = Vec::new();
        if let Some(free) = free_bytes {
            let low = free < limits.min_free_bytes;
            if low != self.disk_low {
                let was_closed = self.closed();
                self.disk_low = low;
                if self.closed() != was_closed {
                    events.push(if low {
                        Event::DeviceFault(Device::Store)
                    } else {
                        Event::DeviceRestored(Device::Store)
                    });
                }
                notices.push(LaneEvent::DiskSpace {
                    free_bytes: free,
                    low,
                });
            }
        }
        if let Some(s) = sync {
            let behind = s.backlog > limits.alert_backlog
                || s.oldest_unsynced_age.is_some_and(|a| a > limits.alert_age);
            if behind != self.sync_behind {
                self.sync_behind = behind;
                notices.push(LaneEvent::Sync {
                    behind,
                    backlog: s.backlog,
                    oldest_unsynced_s: s.oldest_unsynced_age.map_or(0, |a| a.as_secs()),
                    last_error: s.last_error.clone(),
                });
            }
        }
        (events, notices)
    }

    /// The store refused a write for lack of space: the lane is closed
    /// (the state machine already took it out of service) until the store
    /// has room again ([`Health::store_room`]) and the disk is not low.
    pub fn store_full(&mut self) {
        self.store_full = true;
    }

    /// Whether the store must be asked if it has room ([`Health::store_room`]).
    #[must_use]
    pub fn awaits_store_room(&self) -> bool {
        self.store_full
    }

    /// The store's answer to that question; the state machine's event when
    /// the lane may reopen.
    pub fn store_room(&mut self, room: bool) -> Vec<Event> {
        if !self.store_full || !room {
            return Vec::new();
        }
        self.store_full = false;
        if self.closed() {
            Vec::new()
        } else {
            vec![Event::DeviceRestored(Device::Store)]
        }
    }

    /// The lane is kept closed for the store.
    fn closed(&self) -> bool {
        self.disk_low || self.store_full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HealthLimits = HealthLimits {
        min_free_bytes: 1000,
        alert_backlog: 10,
        alert_age: Duration::from_secs(60),
    };

    fn sync(backlog: u64, age_s: u64) -> SyncStatus {
        SyncStatus {
            backlog,
            oldest_unsynced_age: (backlog > 0).then_some(Duration::from_secs(age_s)),
            last_error: Some("503".into()),
            ..SyncStatus::default()
        }
    }

    #[test]
    fn low_disk_closes_the_lane_once_and_space_returning_reopens_it() {
        let mut h = Health::default();
        assert_eq!(h.sample(Some(5000), None, &LIMITS), (vec![], vec![]));
        let (e, n) = h.sample(Some(999), None, &LIMITS);
        assert_eq!(e, vec![Event::DeviceFault(Device::Store)]);
        assert_eq!(
            n,
            vec![LaneEvent::DiskSpace {
                free_bytes: 999,
                low: true
            }]
        );
        assert_eq!(h.sample(Some(10), None, &LIMITS), (vec![], vec![]), "once");
        assert_eq!(h.sample(None, None, &LIMITS), (vec![], vec![]), "unknown");
        let (e, _) = h.sample(Some(1000), None, &LIMITS);
        assert_eq!(e, vec![Event::DeviceRestored(Device::Store)]);
    }

    #[test]
    fn a_full_store_stays_closed_until_the_store_and_the_disk_have_room() {
        let mut h = Health::default();
        h.store_full();
        assert!(h.awaits_store_room());
        // The disk reading goes low then recovers: the store still has not said it has room.
        let (e, _) = h.sample(Some(10), None, &LIMITS);
        assert!(e.is_empty(), "already closed: {e:?}");
        let (e, _) = h.sample(Some(2000), None, &LIMITS);
        assert!(e.is_empty(), "a page limit the disk does not show: {e:?}");
        assert_eq!(h.store_room(false), vec![]);
        assert_eq!(
            h.store_room(true),
            vec![Event::DeviceRestored(Device::Store)]
        );
        assert!(!h.awaits_store_room());
        assert_eq!(h.store_room(true), vec![], "once");
    }

    #[test]
    fn room_in_the_store_does_not_reopen_a_lane_whose_disk_is_low() {
        let mut h = Health::default();
        let (e, _) = h.sample(Some(10), None, &LIMITS);
        assert_eq!(e, vec![Event::DeviceFault(Device::Store)]);
        h.store_full();
        assert_eq!(h.store_room(true), vec![], "the disk is still low");
        let (e, _) = h.sample(Some(2000), None, &LIMITS);
        assert_eq!(e, vec![Event::DeviceRestored(Device::Store)]);
    }

    #[test]
    fn a_full_store_on_a_healthy_disk_reopens_only_with_room() {
        let mut h = Health::default();
        assert_eq!(h.sample(Some(5000), None, &LIMITS), (vec![], vec![]));
        h.store_full();
        assert_eq!(h.sample(Some(5000), None, &LIMITS), (vec![], vec![]));
        let (e, _) = h.sample(Some(10), None, &LIMITS);
        assert!(e.is_empty(), "already closed by the store");
        let (e, _) = h.sample(Some(5000), None, &LIMITS);
        assert!(e.is_empty(), "the store has not said it has room");
        assert_eq!(
            h.store_room(true),
            vec![Event::DeviceRestored(Device::Store)]
        );
    }

    #[test]
    fn the_officer_hears_when_sync_falls_behind_and_when_it_catches_up() {
        let mut h = Health::default();
        assert_eq!(
            h.sample(None, Some(&sync(10, 59)), &LIMITS),
            (vec![], vec![])
        );
        let (e, n) = h.sample(None, Some(&sync(11, 1)), &LIMITS);
        assert!(e.is_empty(), "sync never closes the lane");
        assert_eq!(
            n,
            vec![LaneEvent::Sync {
                behind: true,
                backlog: 11,
                oldest_unsynced_s: 1,
                last_error: Some("503".into())
            }]
        );
        // Still behind, now by age: no repeat.
        assert!(h.sample(None, Some(&sync(3, 61)), &LIMITS).1.is_empty());
        let (_, n) = h.sample(None, Some(&sync(0, 0)), &LIMITS);
        assert!(matches!(n[..], [LaneEvent::Sync { behind: false, .. }]));
    }
}
