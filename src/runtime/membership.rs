//! What a [`Handle`](crate::events::Handle) does to a room's members on every loop: list
//! them ([`MemberList`], answered once every loop has), make them join or leave another
//! room, or close them. Each loop acts on its own members when it takes the
//! [`Command::Members`](super::Command::Members).

use std::sync::{Arc, Mutex, PoisonError};

use super::commands::SocketId;
use super::rooms::RoomName;
use super::state::LoopState;
use crate::protocol::CloseCode;

/// What is done to the members of a room (or to every connection).
#[derive(Debug, Clone)]
pub(crate) enum MemberAction {
    /// Tell the list who they are.
    List(Arc<MemberList>),
    /// Each joins this room.
    Join(String),
    /// Each leaves this room.
    Leave(String),
    /// Each is closed with this code and reason.
    Close(CloseCode, String),
}

type Answer = Box<dyn FnOnce(Vec<SocketId>) + Send>;

/// The ids gathered from the loops, and what to do with them once the last loop answered.
pub(crate) struct MemberList {
    state: Mutex<Gathering>,
}

struct Gathering {
    ids: Vec<SocketId>,
    loops_left: usize,
    answer: Option<Answer>,
}

impl std::fmt::Debug for MemberList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberList")
    }
}

impl MemberList {
    /// A list that `loops` loops will add to, then `answer` gets.
    pub(crate) fn new(loops: usize, answer: Answer) -> Arc<MemberList> {
        let list = Arc::new(MemberList {
            state: Mutex::new(Gathering {
                ids: Vec::new(),
                loops_left: loops,
                answer: Some(answer),
            }),
        });
        if loops == 0 {
            list.add(Vec::new());
            list.state_mut().loops_left = 0;
        }
        list
    }

    fn state_mut(&self) -> std::sync::MutexGuard<'_, Gathering> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One loop's members (or none, for a loop that is gone); the last call answers, on
    /// its thread.
    pub(crate) fn add(&self, ids: Vec<SocketId>) {
        let done = {
            let mut state = self.state_mut();
            state.ids.extend(ids);
            state.loops_left = state.loops_left.saturating_sub(1);
            match state.loops_left {
                0 => state
                    .answer
                    .take()
                    .map(|answer| (answer, std::mem::take(&mut state.ids))),
                _ => None,
            }
        };
        if let Some((answer, mut ids)) = done {
            ids.sort_unstable();
            answer(ids);
        }
    }
}

impl<D> LoopState<D> {
    /// Does `action` to this loop's open connections in `room` (every one when `None`).
    pub(crate) fn act_on_members(&mut self, room: Option<&RoomName>, action: MemberAction) {
        let keys: Vec<usize> = match room {
            Some(room) => self.rooms_members(room),
            None => self.open_keys(),
        };
        match action {
            MemberAction::List(list) => {
                let ids = keys.iter().filter_map(|&key| self.id_of(key)).collect();
                list.add(ids);
            }
            MemberAction::Join(to) => keys.iter().for_each(|&key| self.join(key, &to)),
            MemberAction::Leave(from) => keys.iter().for_each(|&key| self.leave(key, &from)),
            MemberAction::Close(code, reason) => {
                for key in keys {
                    let _ = self.close(key, code, &reason, true);
                }
            }
        }
    }
}
