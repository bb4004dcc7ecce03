//! [`Rooms`]: which of a loop's connections are in which room.
//!
//! Rooms are per loop: a broadcast to a room reaches every loop (through its command
//! channel), and each loop fans out to its own members. A connection lists its rooms too,
//! so leaving them all on close costs one lookup per room.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A room's name, shared between the index and the members' lists.
pub(crate) type RoomName = Arc<str>;

#[derive(Debug, Default)]
pub(crate) struct Rooms {
    members: HashMap<RoomName, HashSet<usize>>,
}

impl Rooms {
    /// Adds `key` to `room`; returns the shared name if it was not a member yet.
    pub(crate) fn join(&mut self, room: &str, key: usize) -> Option<RoomName> {
        let name = match self.members.get_key_value(room) {
            Some((name, _)) => name.clone(),
            None => RoomName::from(room),
        };
        let members = self.members.entry(name.clone()).or_default();
        members.insert(key).then_some(name)
    }

    /// Removes `key` from `room`; returns true if it was a member.
    pub(crate) fn leave(&mut self, room: &str, key: usize) -> bool {
        let Some(members) = self.members.get_mut(room) else {
            return false;
        };
        let was_member = members.remove(&key);
        if members.is_empty() {
            self.members.remove(room);
        }
        was_member
    }

    /// The members of `room` on this loop.
    pub(crate) fn members(&self, room: &str) -> impl Iterator<Item = usize> + '_ {
        self.members.get(room).into_iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_leave() {
        let mut rooms = Rooms::default();
        assert!(rooms.join("a", 1).is_some());
        assert!(rooms.join("a", 1).is_none(), "already a member");
        assert!(rooms.join("a", 2).is_some());
        assert_eq!(rooms.members("a").count(), 2);
        assert!(rooms.leave("a", 1));
        assert!(!rooms.leave("a", 1));
        assert_eq!(rooms.members("a").collect::<Vec<_>>(), [2]);
        assert!(rooms.leave("a", 2));
        assert_eq!(rooms.members("a").count(), 0);
        assert!(rooms.members.is_empty(), "empty rooms are dropped");
    }
}
