//! The audit queue: a call hands its record over and goes on, and one writer commits records in groups
//! (one transaction for all that are waiting and all that arrive within the [`COMMIT_WINDOW`]), so the
//! store's write is off the call's path and costs one commit per group rather than per call.
//!
//! Nothing is dropped. The queue is bounded: when it is full, a call waits for room (backpressure) rather
//! than losing its record. A group the store refuses is tried again with backoff, then record by record,
//! and only a record the store refuses on its own is reported on stderr. [`AuditQueue::flush`] returns
//! when every record queued before it is written, without waiting out the window; the registry flushes
//! before it reads the audit, and the binary flushes when it stops (SIGTERM, Ctrl-C, end of input).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::model::AuditRecord;
use crate::store::Store;

/// Records that may wait at once before calls wait for room.
pub const QUEUE_CAPACITY: usize = 4096;
/// Records written in one transaction at most.
pub const MAX_GROUP: usize = 512;
/// Attempts to write a group before it is written record by record.
const GROUP_ATTEMPTS: u32 = 4;

enum Message {
    Record(Box<AuditRecord>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// The queue in front of the store's audit table.
pub struct AuditQueue {
    store: Arc<dyn Store>,
    capacity: usize,
    /// Started at the first record, on the runtime that sent it.
    sender: OnceLock<mpsc::Sender<Message>>,
}

impl std::fmt::Debug for AuditQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditQueue")
            .field("capacity", &self.capacity)
            .field("started", &self.sender.get().is_some())
            .finish()
    }
}

impl AuditQueue {
    /// A queue of at most `capacity` waiting records in front of `store`.
    pub fn new(store: Arc<dyn Store>, capacity: usize) -> AuditQueue {
        AuditQueue {
            store,
            capacity: capacity.max(1),
            sender: OnceLock::new(),
        }
    }

    fn sender(&self) -> &mpsc::Sender<Message> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(self.capacity);
            tokio::spawn(write_groups(self.store.clone(), receiver));
            sender
        })
    }

    /// Queues `record`, waiting for room when the queue is full.
    pub async fn push(&self, record: AuditRecord) {
        if let Err(returned) = self.sender().send(Message::Record(Box::new(record))).await
            && let Message::Record(record) = returned.0
        {
            // The writer is gone (its runtime is shutting down): write this one here.
            write(&*self.store, std::slice::from_ref(&*record)).await;
        }
    }

    /// Waits until every record queued before this call is written.
    pub async fn flush(&self) {
        let Some(sender) = self.sender.get() else {
            return;
        };
        let (done, written) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// How long the writer waits after a record for more to join its group. Calls that come one after
/// another (one agent, one at a time) would otherwise commit one record each, and a commit costs more
/// than the call's own read on a small result; a few milliseconds gathers several. A flush, a full group
/// or a closed queue ends the wait at once.
pub const COMMIT_WINDOW: Duration = Duration::from_millis(5);

/// The writer: gathers a group (see [`gather`]), writes it in one transaction, answers the flushes that
/// came with it, and waits for more. It ends when the queue is dropped and drained.
async fn write_groups(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Message>) {
    while let Some((group, flushes)) = gather(&mut receiver, COMMIT_WINDOW).await {
        if !group.is_empty() {
            write(&*store, &group).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// The next group: the first message, what is already waiting, and what arrives within `window` of the
/// first, up to [`MAX_GROUP`] records. A flush ends the gathering (its caller is waiting), and so does
/// a closed queue. `None` once the queue is closed and empty.
async fn gather(
    receiver: &mut mpsc::Receiver<Message>,
    window: Duration,
) -> Option<(Vec<AuditRecord>, Vec<oneshot::Sender<()>>)> {
    let first = receiver.recv().await?;
    let deadline = tokio::time::Instant::now() + window;
    let mut group = Vec::new();
    let mut flushes = Vec::new();
    let mut next = Some(first);
    loop {
        while let Some(message) = next {
            match message {
                Message::Record(record) => group.push(*record),
                Message::Flush(done) => flushes.push(done),
            }
            next = if group.len() < MAX_GROUP {
                receiver.try_recv().ok()
            } else {
                None
            };
        }
        if group.len() >= MAX_GROUP || !flushes.is_empty() {
            break;
        }
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(message)) => next = Some(message),
            // Closed, or the window is over.
            Ok(None) | Err(_) => break,
        }
    }
    Some((group, flushes))
}

/// Writes `records` in one transaction, tried again with backoff; a group the store keeps refusing is
/// written record by record, and a record it refuses on its own is reported.
async fn write(store: &dyn Store, records: &[AuditRecord]) {
    let mut delay = Duration::from_millis(50);
    for _ in 0..GROUP_ATTEMPTS {
        if store.append_audits(records).await.is_ok() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    for record in records {
        if let Err(error) = store.append_audit(record).await {
            eprintln!(
                "tributary: could not write the audit record of {} on {}: {}",
                record.operation,
                record.connector,
                error.message()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;

    use super::*;
    use crate::model::{AuditQuery, Outcome};
    use crate::store::SqliteStore;

    fn record(index: usize) -> AuditRecord {
        AuditRecord {
            at: Utc::now(),
            organization: "acme".into(),
            agent: "bot".into(),
            connector: "con_1".into(),
            operation: format!("op{index}"),
            objects: vec![],
            fingerprint: String::new(),
            rows: 0,
            bytes: 0,
            duration_ms: 0,
            outcome: Outcome::Ok,
            error_kind: None,
            cached: false,
            masked: serde_json::Value::Null,
        }
    }

    /// Every record of `acme`, oldest first.
    async fn written(store: &Arc<dyn Store>) -> Vec<AuditRecord> {
        let mut records = store
            .audit(&AuditQuery {
                organization: "acme".into(),
                limit: Some(100_000),
                ..Default::default()
            })
            .await
            .unwrap();
        records.reverse();
        records
    }

    async fn count(store: &Arc<dyn Store>) -> usize {
        written(store).await.len()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_larger_than_the_queue_is_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("a.db")).await.unwrap());
        let queue = Arc::new(AuditQueue::new(store.clone(), 64));
        let pushers: Vec<_> = (0..10)
            .map(|task| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    for index in 0..300 {
                        queue.push(record(task * 1000 + index)).await;
                    }
                })
            })
            .collect();
        for pusher in pushers {
            pusher.await.unwrap();
        }
        queue.flush().await;
        assert_eq!(count(&store).await, 3000, "every record of the burst");
        // One task's records keep their order.
        let mine: Vec<String> = written(&store)
            .await
            .into_iter()
            .map(|record| record.operation)
            .filter(|operation| operation[2..].parse::<usize>().unwrap() < 1000)
            .collect();
        let expected: Vec<String> = (0..300).map(|index| format!("op{index}")).collect();
        assert_eq!(mine.len(), 300, "task 0's records");
        assert_eq!(mine, expected);
    }

    #[tokio::test]
    async fn records_within_the_window_are_one_group_and_a_flush_ends_it() {
        let (sender, mut receiver) = mpsc::channel(16);
        let feeder = tokio::spawn(async move {
            for index in 0..3 {
                sender
                    .send(Message::Record(Box::new(record(index))))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let (done, written) = oneshot::channel();
            sender.send(Message::Flush(done)).await.unwrap();
            (sender, written)
        });
        // A window far longer than the test: only the flush can end this group.
        let (group, flushes) = tokio::time::timeout(
            Duration::from_secs(30),
            gather(&mut receiver, Duration::from_secs(60)),
        )
        .await
        .expect("the flush must end the window")
        .unwrap();
        assert_eq!(group.len(), 3, "records a millisecond apart join one group");
        assert_eq!(flushes.len(), 1);
        let (sender, _written) = feeder.await.unwrap();
        drop(sender);
        assert!(gather(&mut receiver, Duration::from_secs(60)).await.is_none());
    }

    #[tokio::test]
    async fn a_closed_queue_ends_the_window_and_a_full_group_is_written_at_once() {
        let (sender, mut receiver) = mpsc::channel(MAX_GROUP + 8);
        for index in 0..MAX_GROUP + 1 {
            sender
                .send(Message::Record(Box::new(record(index))))
                .await
                .unwrap();
        }
        let window = Duration::from_secs(60);
        let full = tokio::time::timeout(Duration::from_secs(30), gather(&mut receiver, window))
            .await
            .expect("a full group must not wait")
            .unwrap();
        assert_eq!(full.0.len(), MAX_GROUP);
        drop(sender);
        let rest = tokio::time::timeout(Duration::from_secs(30), gather(&mut receiver, window))
            .await
            .expect("a closed queue must not wait")
            .unwrap();
        assert_eq!(rest.0.len(), 1);
    }

    #[tokio::test]
    async fn a_flush_with_nothing_queued_returns_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("a.db")).await.unwrap());
        let queue = AuditQueue::new(store.clone(), 8);
        queue.flush().await;
        queue.push(record(1)).await;
        queue.flush().await;
        assert_eq!(count(&store).await, 1);
    }
}
