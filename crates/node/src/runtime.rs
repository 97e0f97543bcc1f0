//! A running node: an outbound task (frame, seal, journal, publish through the link) and an
//! inbound task (open, journal, acknowledge).
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use trilink_bus::link::{LinkModel, LinkSpec};
use trilink_bus::{Delivery, Transport};
use trilink_journal::{now_unix_us, Journal, Received, RejectedRow, Sent};
use trilink_wire::{
    Heartbeat, Identity, Limits, Nation, Opener, Payload, RelTo, ReplayWindow, Sealer, TrackReport,
    TrustStore,
};

use crate::stats::NodeStats;
use crate::NodeError;

/// How a node behaves; [`NodeConfig::new`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub nation: Nation,
    pub node_id: String,
    /// Where this node's reports are released to (from the policy). Empty: send nothing.
    pub rel_to: RelTo,
    /// Link to each destination; absent means ideal.
    pub links: BTreeMap<Nation, LinkSpec>,
    pub link_seed: u64,
    /// A frame is sealed when it holds this many reports...
    pub frame_max_reports: usize,
    /// ...or when its first report has waited this long, whichever comes first.
    pub frame_max_age: Duration,
    /// A heartbeat goes out when nothing else has for this long.
    pub heartbeat_period: Duration,
    pub limits: Limits,
}

impl NodeConfig {
    pub fn new(nation: Nation, node_id: impl Into<String>, rel_to: RelTo) -> Self {
        NodeConfig {
            nation,
            node_id: node_id.into(),
            rel_to,
            links: BTreeMap::new(),
            link_seed: 0,
            frame_max_reports: trilink_wire::MAX_REPORTS_PER_FRAME,
            frame_max_age: Duration::from_millis(5),
            heartbeat_period: Duration::from_secs(2),
            limits: Limits::default(),
        }
    }
}

type SharedJournal = Option<Arc<Mutex<Journal>>>;
/// What one publish task ends with: the envelope's sequence number and whether it left
/// (`Ok(false)`: dropped by the link model), or the transport's error message.
type PublishOutcome = (u64, Result<bool, String>);

fn with_journal<T>(
    j: &SharedJournal,
    f: impl FnOnce(&mut Journal) -> trilink_journal::Result<T>,
) -> Result<Option<T>, NodeError> {
    match j {
        None => Ok(None),
        Some(j) => {
            // A poisoned lock means another task panicked mid-write; SQLite rolled the
            // transaction back, so the journal itself is consistent and usable.
            let mut g = j.lock().unwrap_or_else(|p| p.into_inner());
            Ok(Some(f(&mut g)?))
        }
    }
}

/// A track frame from an ally that passed every receiver check and is in the journal.
#[derive(Clone, Debug)]
pub struct AlliedFrame {
    pub origin: Nation,
    pub node_id: String,
    pub sequence: u64,
    pub rel_to: RelTo,
    pub send_time_unix_us: i64,
    /// When it was committed to this node's journal.
    pub journaled_unix_us: i64,
    pub reports: Vec<TrackReport>,
}

/// A started node. Feed reports into [`NodeHandle::outbound`]; drop it (or call
/// [`NodeHandle::finish_sending`]) when the source is done, then [`NodeHandle::stop`].
pub struct NodeHandle {
    pub outbound: Option<mpsc::Sender<TrackReport>>,
    /// Fused products a hub forwards, each batch with the REL TO that propagation through the
    /// relay allows (`trilink_domain::product_release`); sealed as frames of their own.
    pub relay: Option<mpsc::Sender<(Vec<TrackReport>, RelTo)>>,
    /// Every verified, journaled allied track frame, in the order the node accepted them.
    /// Take it to fuse; a node whose stream is never taken keeps the frames until it stops.
    pub allied: Option<mpsc::UnboundedReceiver<AlliedFrame>>,
    stop_tx: watch::Sender<bool>,
    out_task: Option<JoinHandle<Result<(), NodeError>>>,
    in_task: JoinHandle<Result<(), NodeError>>,
    stats: Arc<Mutex<NodeStats>>,
}

impl NodeHandle {
    /// Closes the outbound queue and waits until every frame is sealed, journaled and published
    /// (or lost on its link).
    pub async fn finish_sending(&mut self) -> Result<(), NodeError> {
        self.outbound.take();
        self.relay.take();
        if let Some(t) = self.out_task.take() {
            t.await.map_err(|e| NodeError::Task(e.to_string()))??;
        }
        Ok(())
    }

    pub fn stats(&self) -> NodeStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops receiving and returns what the node counted.
    pub async fn stop(mut self) -> Result<NodeStats, NodeError> {
        self.finish_sending().await?;
        let _ = self.stop_tx.send(true);
        let stats = self.stats.clone();
        self.in_task
            .await
            .map_err(|e| NodeError::Task(e.to_string()))??;
        let s = stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(s)
    }
}

/// Starts a node: resumes from its journal (next sequence number, replay window, envelopes still
/// pending), subscribes to its inbox, and spawns the outbound and inbound tasks.
pub async fn run_node<T: Transport + Clone>(
    cfg: NodeConfig,
    identity: Identity,
    trust: TrustStore,
    journal: Option<Journal>,
    transport: T,
) -> Result<NodeHandle, NodeError> {
    let journal: SharedJournal = journal.map(|j| Arc::new(Mutex::new(j)));
    let next_seq = with_journal(&journal, |j| j.next_sequence())?.unwrap_or(1);
    let mut opener = Opener::new(cfg.nation, trust, cfg.limits);
    for (origin, node, seq) in
        with_journal(&journal, |j| j.recent_received(ReplayWindow::SIZE))?.unwrap_or_default()
    {
        if let Ok(o) = origin.parse::<Nation>() {
            opener.mark_seen(o, &node, seq);
        }
    }
    let inbox = transport
        .subscribe(trilink_wire::inbox_filter(cfg.nation))
        .await?;
    let stats = Arc::new(Mutex::new(NodeStats::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (out_tx, out_rx) = mpsc::channel(4096);
    let (relay_tx, relay_rx) = mpsc::channel(64);
    let (allied_tx, allied_rx) = mpsc::unbounded_channel();
    let pending = with_journal(&journal, |j| j.pending())?.unwrap_or_default();
    let sender = Outbound {
        links: cfg
            .rel_to
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let spec = cfg.links.get(&d).copied().unwrap_or(LinkSpec::IDEAL);
                (
                    d,
                    LinkModel::new(
                        spec,
                        cfg.link_seed.wrapping_mul(31).wrapping_add(i as u64 + 1),
                    ),
                )
            })
            .collect(),
        sealer: Sealer::new(identity, next_seq),
        cfg: cfg.clone(),
        journal: journal.clone(),
        transport: transport.clone(),
        stats: stats.clone(),
        in_flight: JoinSet::new(),
        remaining: HashMap::new(),
    };
    let out_task = tokio::spawn(sender.run(out_rx, relay_rx, pending));
    let receiver = Inbound {
        opener,
        journal,
        stats: stats.clone(),
        allied: allied_tx,
    };
    let in_task = tokio::spawn(receiver.run(inbox, stop_rx));
    Ok(NodeHandle {
        outbound: Some(out_tx),
        relay: Some(relay_tx),
        allied: Some(allied_rx),
        stop_tx,
        out_task: Some(out_task),
        in_task,
        stats,
    })
}

struct Outbound<T> {
    cfg: NodeConfig,
    sealer: Sealer,
    links: HashMap<Nation, LinkModel>,
    journal: SharedJournal,
    transport: T,
    stats: Arc<Mutex<NodeStats>>,
    /// Publications under way: (sequence, published?) when each ends.
    in_flight: JoinSet<PublishOutcome>,
    /// Destinations still to publish per sequence number.
    remaining: HashMap<u64, usize>,
}

impl<T: Transport + Clone> Outbound<T> {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<TrackReport>,
        mut relay_rx: mpsc::Receiver<(Vec<TrackReport>, RelTo)>,
        pending: Vec<(u64, String, Vec<u8>)>,
    ) -> Result<(), NodeError> {
        let mut relay_open = true;
        let own_rel = self.cfg.rel_to.clone();
        for (seq, rel, bytes) in pending {
            let dests: Vec<Nation> = rel.split(',').filter_map(|s| s.parse().ok()).collect();
            self.publish(seq, &dests, bytes::Bytes::from(bytes));
            self.stats().republished += 1;
        }
        let mut batch: Vec<TrackReport> = Vec::new();
        let mut deadline: Option<Instant> = None;
        let mut last_sent = Instant::now();
        loop {
            let wait_until = deadline.unwrap_or(last_sent + self.cfg.heartbeat_period);
            let item = tokio::select! {
                r = tokio::time::timeout_at(wait_until, rx.recv()) => r,
                relayed = relay_rx.recv(), if relay_open => {
                    match relayed {
                        Some((reports, rel)) => {
                            for chunk in reports.chunks(self.cfg.frame_max_reports.max(1)) {
                                self.seal_and_send(Payload::Tracks(chunk.to_vec()), &rel)?;
                            }
                            last_sent = Instant::now();
                        }
                        None => relay_open = false,
                    }
                    continue;
                }
            };
            match item {
                Ok(Some(r)) => {
                    if batch.is_empty() {
                        deadline = Some(Instant::now() + self.cfg.frame_max_age);
                    }
                    batch.push(r);
                    if batch.len() >= self.cfg.frame_max_reports {
                        self.seal_and_send(Payload::Tracks(std::mem::take(&mut batch)), &own_rel)?;
                        deadline = None;
                        last_sent = Instant::now();
                    }
                }
                Ok(None) => {
                    if !batch.is_empty() {
                        self.seal_and_send(Payload::Tracks(std::mem::take(&mut batch)), &own_rel)?;
                    }
                    // Relayed products queued before the close still go out.
                    while let Some((reports, rel)) = relay_rx.recv().await {
                        for chunk in reports.chunks(self.cfg.frame_max_reports.max(1)) {
                            self.seal_and_send(Payload::Tracks(chunk.to_vec()), &rel)?;
                        }
                    }
                    break;
                }
                Err(_elapsed) => {
                    if !batch.is_empty() {
                        self.seal_and_send(Payload::Tracks(std::mem::take(&mut batch)), &own_rel)?;
                    } else {
                        let hb = Heartbeat {
                            last_sequence: self.sealer.next_sequence() - 1,
                            confirmed_tracks: 0,
                        };
                        self.seal_and_send(Payload::Heartbeat(hb), &own_rel)?;
                        self.stats().heartbeats_sent += 1;
                    }
                    deadline = None;
                    last_sent = Instant::now();
                }
            }
            let mut done = Vec::new();
            while let Some(r) = self.in_flight.try_join_next() {
                done.push(r);
            }
            self.settle(done)?;
        }
        let mut done = Vec::new();
        while let Some(r) = self.in_flight.join_next().await {
            done.push(r);
        }
        self.settle(done)
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, NodeStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn seal_and_send(&mut self, payload: Payload, rel_to: &RelTo) -> Result<(), NodeError> {
        if rel_to.is_empty() {
            // Releasable to no one: the sender does not send.
            return Ok(());
        }
        let reports = payload.report_count();
        let kind = match payload {
            Payload::Tracks(_) => "tracks",
            Payload::Heartbeat(_) => "heartbeat",
        };
        let sealed = self.sealer.seal(&payload, rel_to, now_unix_us());
        let rel = rel_to.joined();
        with_journal(&self.journal, |j| {
            j.batch(|b| {
                b.sent(&Sent {
                    sequence: sealed.sequence,
                    t_unix_us: now_unix_us(),
                    kind,
                    rel_to: &rel,
                    reports: reports as u32,
                    bytes: &sealed.bytes,
                })
            })
        })?;
        let dests: Vec<Nation> = rel_to.iter().collect();
        self.publish(sealed.sequence, &dests, bytes::Bytes::from(sealed.bytes));
        if reports > 0 {
            let mut s = self.stats();
            s.frames_sent += 1;
            s.reports_sent += reports as u64;
        }
        Ok(())
    }

    fn publish(&mut self, seq: u64, dests: &[Nation], bytes: bytes::Bytes) {
        let origin = self.cfg.nation;
        // Unique per signing key as well: a new key (or a fresh journal) must not collide
        // with ids still in JetStream's de-duplication window.
        let msg_id = format!(
            "{}.{}.{seq}",
            self.sealer.identity().key_id,
            self.cfg.node_id
        );
        self.remaining.insert(seq, dests.len());
        for &d in dests {
            let delay = match self.links.get_mut(&d) {
                Some(l) => l.sample(),
                None => Some(Duration::ZERO),
            };
            let t = self.transport.clone();
            let subject = trilink_wire::subject(d, origin, "env");
            let (id, b) = (msg_id.clone(), bytes.clone());
            self.in_flight.spawn(async move {
                let Some(delay) = delay else {
                    return (seq, Ok(false));
                };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                (
                    seq,
                    t.publish(subject, id, b)
                        .await
                        .map(|_| true)
                        .map_err(|e| e.to_string()),
                )
            });
        }
    }

    /// Marks envelopes whose every copy has left as published in the journal, in one commit.
    fn settle(
        &mut self,
        done: Vec<Result<PublishOutcome, tokio::task::JoinError>>,
    ) -> Result<(), NodeError> {
        if done.is_empty() {
            return Ok(());
        }
        let mut complete = Vec::new();
        {
            let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            for r in done {
                let Ok((seq, outcome)) = r else { continue };
                match outcome {
                    Ok(true) => {}
                    Ok(false) => s.lost_on_link += 1,
                    Err(e) => {
                        s.publish_errors += 1;
                        if s.publish_errors <= 3 {
                            eprintln!("publish of sequence {seq} failed: {e} (stays pending in the journal)");
                        }
                        // Left pending: a restart publishes it again.
                        continue;
                    }
                }
                if let Some(n) = self.remaining.get_mut(&seq) {
                    *n -= 1;
                    if *n == 0 {
                        self.remaining.remove(&seq);
                        complete.push(seq);
                    }
                }
            }
        }
        with_journal(&self.journal, |j| {
            j.batch(|b| {
                for &seq in &complete {
                    b.published(seq)?;
                }
                Ok(())
            })
        })?;
        Ok(())
    }
}

struct Inbound {
    opener: Opener,
    journal: SharedJournal,
    stats: Arc<Mutex<NodeStats>>,
    allied: mpsc::UnboundedSender<AlliedFrame>,
}

/// Deliveries handled per journal commit at most.
const INBOUND_BATCH: usize = 512;

impl Inbound {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Delivery>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        loop {
            let first = tokio::select! {
                d = inbox.recv() => d,
                _ = stop.changed() => None,
            };
            let Some(first) = first else { break };
            let mut ds = vec![first];
            while ds.len() < INBOUND_BATCH {
                match inbox.try_recv() {
                    Ok(d) => ds.push(d),
                    Err(_) => break,
                }
            }
            self.process(ds).await?;
        }
        Ok(())
    }

    async fn process(&mut self, ds: Vec<Delivery>) -> Result<(), NodeError> {
        let now = now_unix_us();
        let outcomes: Vec<_> = ds
            .iter()
            .map(|d| self.opener.open(&d.payload, now))
            .collect();
        let journaled = with_journal(&self.journal, |j| {
            j.batch(|b| {
                let mut fresh = Vec::with_capacity(outcomes.len());
                for (d, o) in ds.iter().zip(&outcomes) {
                    match o {
                        Ok(op) => {
                            let reports = op.payload.report_count() as u32;
                            let kind = if matches!(op.payload, Payload::Heartbeat(_)) {
                                "heartbeat"
                            } else {
                                "tracks"
                            };
                            fresh.push(Some(b.received(&Received {
                                origin: op.origin.as_str(),
                                node_id: &op.node_id,
                                sequence: op.sequence,
                                t_unix_us: now,
                                send_time_unix_us: op.send_time_unix_us,
                                kind,
                                reports,
                                bytes: &d.payload,
                            })?));
                        }
                        Err(r) => {
                            // A replay of something already journaled is a redelivery (e.g. after
                            // a crash before the acknowledgement): recorded, not processed again.
                            let dup = r.reason.code() == "replay"
                                && match (&r.origin, &r.node_id, r.sequence) {
                                    (Some(o), Some(n), Some(s)) => b.has_received(o, n, s)?,
                                    _ => false,
                                };
                            b.rejected(&RejectedRow {
                                t_unix_us: now,
                                origin: r.origin.as_deref(),
                                node_id: r.node_id.as_deref(),
                                sequence: r.sequence,
                                reason: if dup { "duplicate" } else { r.reason.code() },
                                detail: &r.reason.to_string(),
                                bytes: &d.payload,
                            })?;
                            fresh.push(if dup { Some(false) } else { None });
                        }
                    }
                }
                Ok(fresh)
            })
        })?;
        let done_us = now_unix_us();
        {
            let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            for (i, o) in outcomes.iter().enumerate() {
                let fresh = journaled.as_ref().map(|f| f[i]);
                match o {
                    Ok(op) => {
                        if fresh == Some(Some(false)) {
                            s.duplicates += 1;
                            continue;
                        }
                        match &op.payload {
                            Payload::Tracks(r) => {
                                // A receiver that stopped listening is not an error here.
                                let _ = self.allied.send(AlliedFrame {
                                    origin: op.origin,
                                    node_id: op.node_id.clone(),
                                    sequence: op.sequence,
                                    rel_to: op.rel_to.clone(),
                                    send_time_unix_us: op.send_time_unix_us,
                                    journaled_unix_us: done_us,
                                    reports: r.clone(),
                                });
                                s.frames_received += 1;
                                s.reports_received += r.len() as u64;
                                *s.received_from.entry(op.origin.to_string()).or_default() +=
                                    r.len() as u64;
                                s.latency_us.push(
                                    done_us.saturating_sub(op.send_time_unix_us).max(0) as u64,
                                );
                            }
                            Payload::Heartbeat(_) => s.heartbeats_received += 1,
                        }
                    }
                    Err(r) => {
                        if fresh == Some(Some(false)) {
                            s.duplicates += 1;
                        } else {
                            *s.rejected.entry(r.reason.code()).or_default() += 1;
                        }
                    }
                }
            }
        }
        // Only now, with everything committed, tell the bus it may forget these.
        for d in ds {
            if let Err(e) = d.ack().await {
                eprintln!("ack failed (the message will be redelivered and recognised): {e}");
            }
        }
        Ok(())
    }
}
