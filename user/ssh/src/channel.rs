//! Channel bookkeeping shared by server and client (RFC 4254 §5): numbers, flow-control
//! windows in both directions, and the EOF/CLOSE handshake, plus the encoders for the
//! channel messages both sides send.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::msg;
use crate::names::{CHANNEL_MAX_PACKET, CHANNEL_WINDOW};
use crate::wire::{put_bool, put_string, put_u32, Reader};

/// One open channel.
#[derive(Debug)]
pub struct Channel {
    /// The peer's number for this channel (the recipient field of what we send).
    pub remote_id: u32,
    send_window: u32,
    send_max_packet: u32,
    recv_window: u32,
    unacked: u32,
    /// The peer sent EOF.
    pub eof_received: bool,
    /// We sent EOF.
    pub eof_sent: bool,
    /// The peer sent CLOSE.
    pub close_received: bool,
    /// We sent CLOSE.
    pub close_sent: bool,
    /// A shell or command was started on it (only one per channel).
    pub started: bool,
}

impl Channel {
    /// A channel whose peer advertised `window` and `max_packet`.
    pub fn new(remote_id: u32, window: u32, max_packet: u32) -> Self {
        Channel {
            remote_id,
            send_window: window,
            send_max_packet: max_packet,
            recv_window: CHANNEL_WINDOW,
            unacked: 0,
            eof_received: false,
            eof_sent: false,
            close_received: false,
            close_sent: false,
            started: false,
        }
    }

    /// Bytes of data we may send in one message now.
    pub fn send_capacity(&self) -> usize {
        if self.eof_sent || self.close_sent || self.close_received {
            return 0;
        }
        self.send_window
            .min(self.send_max_packet)
            .min(CHANNEL_MAX_PACKET) as usize
    }

    /// Encodes CHANNEL_DATA (or EXTENDED_DATA for stderr) with as much of `data` as the
    /// window allows; returns the message and the bytes taken.
    pub fn data(&mut self, stderr: bool, data: &[u8]) -> Option<(Vec<u8>, usize)> {
        let n = data.len().min(self.send_capacity());
        if n == 0 {
            return None;
        }
        self.send_window -= n as u32;
        let mut p = Vec::with_capacity(n + 16);
        if stderr {
            p.push(msg::CHANNEL_EXTENDED_DATA);
            put_u32(&mut p, self.remote_id);
            put_u32(&mut p, msg::EXTENDED_DATA_STDERR);
        } else {
            p.push(msg::CHANNEL_DATA);
            put_u32(&mut p, self.remote_id);
        }
        put_string(&mut p, &data[..n]);
        Some((p, n))
    }

    /// Accounts for `len` received data bytes; the peer must stay inside our window.
    pub fn on_data(&mut self, len: usize) -> Result<()> {
        if len > CHANNEL_MAX_PACKET as usize || len > self.recv_window as usize {
            return Err(Error::Protocol("peer exceeded the channel window"));
        }
        self.recv_window -= len as u32;
        Ok(())
    }

    /// The owner has passed `len` received bytes on; returns a WINDOW_ADJUST when half the
    /// window has been used up.
    pub fn consumed(&mut self, len: usize) -> Option<Vec<u8>> {
        self.unacked = self.unacked.saturating_add(len as u32);
        if self.unacked < CHANNEL_WINDOW / 2 || self.close_sent {
            return None;
        }
        let add = core::mem::take(&mut self.unacked);
        self.recv_window = self.recv_window.saturating_add(add);
        let mut p = alloc::vec![msg::CHANNEL_WINDOW_ADJUST];
        put_u32(&mut p, self.remote_id);
        put_u32(&mut p, add);
        Some(p)
    }

    /// Accounts for a WINDOW_ADJUST from the peer.
    pub fn on_window_adjust(&mut self, add: u32) {
        self.send_window = self.send_window.saturating_add(add);
    }

    /// CHANNEL_EOF, unless already sent.
    pub fn eof(&mut self) -> Option<Vec<u8>> {
        if self.eof_sent || self.close_sent {
            return None;
        }
        self.eof_sent = true;
        Some(self.simple(msg::CHANNEL_EOF))
    }

    /// CHANNEL_CLOSE, unless already sent.
    pub fn close(&mut self) -> Option<Vec<u8>> {
        if self.close_sent {
            return None;
        }
        self.close_sent = true;
        Some(self.simple(msg::CHANNEL_CLOSE))
    }

    /// Whether both sides closed, so the number can be reused.
    pub fn is_finished(&self) -> bool {
        self.close_sent && self.close_received
    }

    /// A CHANNEL_REQUEST header; the caller appends the type-specific fields.
    pub fn request(&self, name: &str, want_reply: bool) -> Vec<u8> {
        let mut p = alloc::vec![msg::CHANNEL_REQUEST];
        put_u32(&mut p, self.remote_id);
        put_string(&mut p, name.as_bytes());
        put_bool(&mut p, want_reply);
        p
    }

    /// CHANNEL_SUCCESS or CHANNEL_FAILURE for a request that wanted a reply.
    pub fn reply(&self, ok: bool) -> Vec<u8> {
        self.simple(if ok {
            msg::CHANNEL_SUCCESS
        } else {
            msg::CHANNEL_FAILURE
        })
    }

    fn simple(&self, m: u8) -> Vec<u8> {
        let mut p = alloc::vec![m];
        put_u32(&mut p, self.remote_id);
        p
    }
}

/// The channel table of one connection: our channel number is the index.
pub struct Table {
    slots: Vec<Option<Channel>>,
}

impl Table {
    /// A table with room for `max` channels.
    pub fn new(max: usize) -> Self {
        Table {
            slots: (0..max).map(|_| None).collect(),
        }
    }

    /// Stores a channel in a free slot; `None` when full.
    pub fn insert(&mut self, ch: Channel) -> Option<u32> {
        let i = self.slots.iter().position(Option::is_none)?;
        self.slots[i] = Some(ch);
        Some(i as u32)
    }

    /// The channel with our number `id`; a number the peer made up is a protocol error.
    pub fn get(&mut self, id: u32) -> Result<&mut Channel> {
        self.slots
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(Error::Protocol("unknown channel number"))
    }

    /// Frees `id` if both sides have closed it.
    pub fn reap(&mut self, id: u32) {
        if let Some(slot) = self.slots.get_mut(id as usize) {
            if slot.as_ref().is_some_and(Channel::is_finished) {
                *slot = None;
            }
        }
    }

    /// Whether any channel is in use.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

/// Reads the recipient channel number that starts every channel message after the type.
pub fn recipient(r: &mut Reader<'_>) -> Result<u32> {
    r.u32("recipient channel")
}

/// REQUEST_FAILURE for a global request, if it wanted a reply.
pub fn global_request_reply(payload: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut r = Reader::new(&payload[1..]);
    r.string("global request name")?;
    Ok(r.bool("want reply")?
        .then(|| alloc::vec![msg::REQUEST_FAILURE]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_limits_sending_and_adjust_reopens_it() {
        let mut ch = Channel::new(7, 10, 4);
        let (p, n) = ch.data(false, b"abcdefgh").unwrap();
        assert_eq!(n, 4);
        assert_eq!(p[0], msg::CHANNEL_DATA);
        ch.data(true, b"abcdefgh").unwrap();
        let (_, n) = ch.data(false, b"abcdefgh").unwrap();
        assert_eq!(n, 2);
        assert!(ch.data(false, b"x").is_none());
        ch.on_window_adjust(3);
        assert_eq!(ch.send_capacity(), 3);
        ch.eof().unwrap();
        assert!(ch.eof().is_none());
        assert_eq!(ch.send_capacity(), 0);
    }

    #[test]
    fn receive_window_is_enforced_and_replenished() {
        let mut ch = Channel::new(1, 0, 0);
        let chunk = CHANNEL_MAX_PACKET as usize;
        let mut used = 0;
        while used + chunk <= CHANNEL_WINDOW as usize {
            ch.on_data(chunk).unwrap();
            used += chunk;
        }
        assert!(ch.on_data(1).is_err());
        assert!(ch.consumed(chunk).is_none());
        let adj = ch.consumed(CHANNEL_WINDOW as usize / 2).unwrap();
        assert_eq!(adj[0], msg::CHANNEL_WINDOW_ADJUST);
        ch.on_data(chunk).unwrap();
    }

    #[test]
    fn table_reuses_only_finished_slots() {
        let mut t = Table::new(2);
        let a = t.insert(Channel::new(0, 1, 1)).unwrap();
        let b = t.insert(Channel::new(1, 1, 1)).unwrap();
        assert!(t.insert(Channel::new(2, 1, 1)).is_none());
        assert!(t.get(5).is_err());
        t.get(a).unwrap().close();
        t.reap(a);
        assert!(t.get(a).is_ok());
        t.get(a).unwrap().close_received = true;
        t.reap(a);
        assert!(t.get(a).is_err());
        assert_eq!(t.insert(Channel::new(3, 1, 1)), Some(a));
        assert_ne!(a, b);
    }
}
