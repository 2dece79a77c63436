//! A limit on the size of each message the server sends, enforced while it arrives.
//!
//! tokio-postgres reads a whole protocol message (a `DataRow` holding every cell of a row) into memory
//! before handing it on, so `SELECT repeat('x', 100000000)` would have the host buffer 100 MB (290 MB at
//! the peak, as the buffer grows) for a result it then cuts. [`Limited`] sits between the driver and the
//! socket (or the TLS session, on the decrypted side), reads each message's 5-byte header as it passes,
//! and fails the read as soon as a header announces a message larger than the limit. The session is
//! then closed. The driver only reports "connection closed" to the waiting query, so the refusal is also
//! written to the session's [`Oversized`] slot, where the query's error mapping finds it.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsConnect, TlsStream};

/// A message larger than the limit: the error inside the `io::Error` the read fails with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageTooLarge {
    /// The size the header announced.
    pub(crate) size: usize,
    /// The limit.
    pub(crate) limit: usize,
}

impl std::fmt::Display for MessageTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server sent a message of {} bytes, more than the {} a connector reads",
            self.size, self.limit
        )
    }
}

impl std::error::Error for MessageTooLarge {}

/// Where a session's stream records the message it refused, for the query that was waiting on it.
pub(crate) type Oversized = Arc<OnceLock<MessageTooLarge>>;

/// Where the reader is in the server's byte stream.
#[derive(Debug, Clone, Copy)]
enum State {
    /// The one-byte answer to an `SSLRequest`: `S` (TLS follows, judged on the decrypted side) or `N`.
    SslAnswer,
    /// Within a message header (type byte and 4-byte length), `have` bytes of it seen.
    Header { bytes: [u8; 5], have: usize },
    /// Within a message body, `left` bytes to go.
    Body { left: usize },
    /// Encrypted bytes: the TLS session's own [`Limited`] judges what they carry.
    Passthrough,
}

/// A stream whose incoming messages are limited to `limit` bytes each.
#[derive(Debug)]
pub(crate) struct Limited<S> {
    inner: S,
    state: State,
    limit: usize,
    seen: Oversized,
}

impl<S> Limited<S> {
    /// A plain session's stream: messages from the first byte.
    pub(crate) fn messages(inner: S, limit: usize, seen: Oversized) -> Limited<S> {
        Limited {
            inner,
            state: State::Header {
                bytes: [0; 5],
                have: 0,
            },
            limit,
            seen,
        }
    }

    /// A session that asks for TLS first: the answer byte, then messages if the server says `N`.
    pub(crate) fn after_ssl_request(inner: S, limit: usize, seen: Oversized) -> Limited<S> {
        Limited {
            inner,
            state: State::SslAnswer,
            limit,
            seen,
        }
    }

    /// Follows the message framing over `data`, the bytes just read.
    fn follow(&mut self, data: &[u8]) -> std::io::Result<()> {
        let mut at = 0;
        while at < data.len() {
            self.state = match self.state {
                State::Passthrough => return Ok(()),
                State::SslAnswer => {
                    at += 1;
                    if data[at - 1] == b'S' {
                        State::Passthrough
                    } else {
                        State::Header {
                            bytes: [0; 5],
                            have: 0,
                        }
                    }
                }
                State::Header { mut bytes, have } => {
                    let take = (5 - have).min(data.len() - at);
                    bytes[have..have + take].copy_from_slice(&data[at..at + take]);
                    at += take;
                    if have + take < 5 {
                        State::Header {
                            bytes,
                            have: have + take,
                        }
                    } else {
                        let length = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
                        let body = length.saturating_sub(4);
                        if body > self.limit {
                            let refused = MessageTooLarge {
                                size: body,
                                limit: self.limit,
                            };
                            let _ = self.seen.set(refused);
                            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, refused));
                        }
                        State::Body { left: body }
                    }
                }
                State::Body { left } => {
                    let take = left.min(data.len() - at);
                    at += take;
                    if left == take {
                        State::Header {
                            bytes: [0; 5],
                            have: 0,
                        }
                    } else {
                        State::Body { left: left - take }
                    }
                }
            };
        }
        // A body of zero bytes ends where its header does.
        if let State::Body { left: 0 } = self.state {
            self.state = State::Header {
                bytes: [0; 5],
                have: 0,
            };
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Limited<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buffer.filled().len();
        match Pin::new(&mut self.inner).poll_read(context, buffer) {
            Poll::Ready(Ok(())) => {
                let fresh = &buffer.filled()[before..];
                Poll::Ready(self.follow(fresh))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Limited<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, bytes)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

impl<S: TlsStream + Unpin> TlsStream for Limited<S> {
    fn channel_binding(&self) -> ChannelBinding {
        self.inner.channel_binding()
    }
}

/// A TLS connector whose sessions are [`Limited`] on the decrypted side.
pub(crate) struct LimitedTls<T> {
    inner: T,
    limit: usize,
    seen: Oversized,
}

impl<T> LimitedTls<T> {
    pub(crate) fn new(inner: T, limit: usize, seen: Oversized) -> LimitedTls<T> {
        LimitedTls { inner, limit, seen }
    }
}

impl<S, T> TlsConnect<S> for LimitedTls<T>
where
    T: TlsConnect<S> + Send + 'static,
    T::Future: Send + 'static,
    T::Stream: Send + 'static,
{
    type Stream = Limited<T::Stream>;
    type Error = T::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Limited<T::Stream>, T::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let (limit, seen) = (self.limit, self.seen);
        let handshake = self.inner.connect(stream);
        Box::pin(async move {
            handshake
                .await
                .map(|stream| Limited::messages(stream, limit, seen))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: usize) -> Vec<u8> {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&((body + 4) as u32).to_be_bytes());
        bytes.extend(std::iter::repeat_n(b'x', body));
        bytes
    }

    #[test]
    fn messages_are_followed_across_reads_and_a_large_one_is_refused_at_its_header() {
        let seen = Oversized::default();
        let mut limited = Limited::messages((), 10, seen.clone());
        let mut stream = message(b'D', 10);
        stream.extend(message(b'C', 0));
        stream.extend(message(b'Z', 1));
        for byte in &stream {
            limited.follow(std::slice::from_ref(byte)).unwrap();
        }
        limited.follow(&stream).unwrap();
        let error = limited.follow(&message(b'D', 11)[..5]).unwrap_err();
        let inner = error
            .get_ref()
            .unwrap()
            .downcast_ref::<MessageTooLarge>()
            .unwrap();
        assert_eq!((inner.size, inner.limit), (11, 10));
        let recorded = seen.get().unwrap();
        assert_eq!(
            (recorded.size, recorded.limit),
            (11, 10),
            "the session's slot says why"
        );
    }

    #[test]
    fn the_ssl_answer_decides_whether_messages_follow_in_the_clear() {
        let mut refused = Limited::after_ssl_request((), 10, Oversized::default());
        let mut stream = vec![b'N'];
        stream.extend(message(b'R', 20));
        assert!(refused.follow(&stream).is_err(), "N: plain messages, judged");
        let mut accepted = Limited::after_ssl_request((), 10, Oversized::default());
        let mut stream = vec![b'S'];
        stream.extend(message(b'R', 20));
        assert!(
            accepted.follow(&stream).is_ok(),
            "S: TLS bytes, judged after decryption"
        );
    }
}
