//! `SOCK_STREAM` data (Linux's `unix_stream_sendmsg`, `unix_stream_read_generic`): the
//! sender cuts its bytes into segments of at most half its `SO_SNDBUF` and waits while the
//! peer holds `SO_SNDBUF` of them unread; a reader takes bytes across segments, copies
//! before it consumes (a fault leaves the data queued), and stops after a segment that
//! carried files.
use alloc::vec::Vec;

use linux_raw_sys::errno as e;
use linux_raw_sys::general::{POLLIN, POLLRDNORM};

use super::{Msg, Rights, State, UnixSocket};
use crate::fs::socket::wait_for;
use crate::fs::socket::{MsgSink, Received, RecvFlags, SendMsg, Ucred};
use crate::syscall::Errno;

fn pipe_error(nosignal: bool) -> Errno {
    if !nosignal {
        crate::process::send_sigpipe();
    }
    Errno::EPIPE
}

impl UnixSocket {
    pub(super) fn send_stream(&self, msg: SendMsg<'_>) -> Result<usize, Errno> {
        let (peer, shut_wr, sndbuf, timeout) = {
            let s = self.inner.lock();
            if msg.addr.is_some() {
                return Err(Errno(if s.state == State::Connected {
                    e::EISCONN
                } else {
                    e::EOPNOTSUPP
                }));
            }
            if s.state != State::Connected {
                return Err(Errno(e::ENOTCONN));
            }
            (s.peer.clone(), s.shut_wr, s.sndbuf, s.sndtimeo)
        };
        let nosignal = msg.nosignal;
        let peer = match peer.and_then(|p| p.upgrade()) {
            Some(p) if !shut_wr => p,
            _ => return Err(pipe_error(nosignal)),
        };
        let data = msg.data;
        let mut rights = Some(msg.rights);
        let cred = msg.cred.unwrap_or_else(Ucred::current);
        let from = self.name_addr();
        let mut sent = 0;
        let total = data.remaining();
        let step = (sndbuf / 2).saturating_sub(64).max(1);
        while sent < total {
            // Wait for room: the peer holds less than our send buffer of our bytes.
            let waited = UnixSocket::wait_or(&peer.room, msg.nonblocking, timeout, || {
                let s = peer.inner.lock();
                s.dead || s.shut_rd || s.rx_bytes < sndbuf
            });
            if let Err(err) = waited {
                return if sent > 0 { Ok(sent) } else { Err(err) };
            }
            let bytes = match data.read(step.min(total - sent)) {
                Ok(b) => b,
                Err(err) => return if sent > 0 { Ok(sent) } else { Err(err) },
            };
            let len = bytes.len();
            let m = Msg {
                data: bytes,
                off: 0,
                rights: Rights::queued(rights.take().unwrap_or_default()),
                from: from.clone(),
                cred,
            };
            {
                let mut s = peer.inner.lock();
                if s.dead || s.shut_rd {
                    drop(s);
                    drop(m);
                    return if sent > 0 {
                        Ok(sent)
                    } else {
                        Err(pipe_error(nosignal))
                    };
                }
                s.rx_bytes += len;
                s.rx.push_back(m);
            }
            peer.readable.wake_all();
            peer.poll_queue.wake(POLLIN | POLLRDNORM);
            sent += len;
        }
        Ok(sent)
    }

    /// A stream read (Linux's `unix_stream_read_generic`).
    pub(super) fn recv_stream(
        &self,
        sink: &mut dyn MsgSink,
        flags: RecvFlags,
    ) -> Result<Received, Errno> {
        if self.inner.lock().state != State::Connected {
            return Err(Errno::EINVAL);
        }
        let _reader = self.reader.lock();
        let target = if flags.wait_all {
            sink.room().max(1)
        } else {
            1
        };
        let mut got = Received::default();
        let mut copied = 0usize;
        // Bytes of the queue already looked at by this peek.
        let mut skip = 0usize;
        loop {
            let mut s = self.inner.lock();
            // Find the segment at `skip` bytes into the queue.
            let mut at = skip;
            let mut index = None;
            for (i, m) in s.rx.iter().enumerate() {
                let left = m.data.len() - m.off;
                if at < left {
                    index = Some(i);
                    break;
                }
                at -= left;
            }
            let Some(i) = index else {
                if copied >= target || (copied > 0 && sink.room() == 0) {
                    break;
                }
                if let Some(err) = s.error.take() {
                    if copied == 0 {
                        return Err(err);
                    }
                    break;
                }
                if s.shut_rd {
                    break;
                }
                let timeout = s.rcvtimeo;
                drop(s);
                let waited = if flags.nonblocking {
                    Err(Errno::EAGAIN)
                } else {
                    wait_for(&self.readable, timeout, || {
                        let s = self.inner.lock();
                        s.rx_bytes > skip || s.shut_rd || s.error.is_some()
                    })
                };
                match waited {
                    Ok(()) => continue,
                    Err(_) if copied > 0 => break,
                    Err(err) => return Err(err),
                }
            };
            let m = &mut s.rx[i];
            let start = m.off + at;
            let n = (m.data.len() - start).min(sink.room());
            let chunk = m.data[start..start + n].to_vec();
            if copied == 0 {
                got.addr = m.from.clone();
                got.cred = Some(m.cred);
            }
            let carried_files = !m.rights.is_empty();
            let files = if flags.peek {
                let files = m.rights.peek();
                drop(s);
                files
            } else {
                // Counted in flight until out of the queue and its lock.
                let taken = core::mem::take(&mut m.rights);
                drop(s);
                taken.into_files()
            };
            got.rights.extend(files);
            if let Err(err) = sink.write(&chunk) {
                if copied == 0 {
                    return Err(err);
                }
                break;
            }
            copied += n;
            if flags.peek {
                skip += n;
            } else {
                self.consume(n);
            }
            if carried_files || sink.room() == 0 {
                break;
            }
        }
        got.len = copied;
        Ok(got)
    }

    /// Drops `n` bytes from the front of the queue (a stream read took them).
    fn consume(&self, mut n: usize) {
        let mut done = Vec::new();
        {
            let mut s = self.inner.lock();
            s.rx_bytes -= n;
            while n > 0 {
                let Some(m) = s.rx.front_mut() else { break };
                let take = (m.data.len() - m.off).min(n);
                m.off += take;
                n -= take;
                if m.off == m.data.len() {
                    done.extend(s.rx.pop_front());
                }
            }
            while s
                .rx
                .front()
                .is_some_and(|m| m.off == m.data.len() && m.rights.is_empty())
            {
                done.extend(s.rx.pop_front());
            }
        }
        drop(done);
        self.room_freed();
    }
}
