//! NATS JetStream transport.
//!
//! Layout (see docs/decisions/0204): one stream per destination nation, `TRILINK_<DEST>`, holding
//! subjects `trilink.v1.<DEST>.>`, file storage, a de-duplication window on `Nats-Msg-Id`; one
//! durable pull consumer per receiving node. Streams are created by the operator's admin user
//! ([`ensure_streams`]), never by a nation, because whoever creates a stream chooses which
//! subjects it captures.
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use trilink_wire::Nation;

use crate::{Acker, BusError, Delivery, Transport};

/// User name and password for one NATS user, read from a `*.credentials` file written by
/// `trilink nats-config` (lines `user=...` and `password=...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    pub fn parse(path: &str, text: &str) -> Result<Self, BusError> {
        let mut user = None;
        let mut password = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('=') {
                Some(("user", v)) => user = Some(v.trim().to_string()),
                Some(("password", v)) => password = Some(v.trim().to_string()),
                _ => {
                    return Err(BusError::Config {
                        path: path.to_string(),
                        detail: format!(
                            "line {}: expected `user=NAME` or `password=SECRET`",
                            i + 1
                        ),
                    })
                }
            }
        }
        match (user, password) {
            (Some(user), Some(password)) => Ok(Credentials { user, password }),
            _ => Err(BusError::Config {
                path: path.to_string(),
                detail: "needs both `user=` and `password=` lines".into(),
            }),
        }
    }

    pub fn read(path: &std::path::Path) -> Result<Self, BusError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BusError::Config {
            path: p.clone(),
            detail: e.to_string(),
        })?;
        Self::parse(&p, &text)
    }
}

pub fn stream_name(dest: Nation) -> String {
    format!("TRILINK_{dest}")
}

/// The inbox prefix a nation's client uses, so that its permissions can allow exactly its own
/// reply subjects and no one else's.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX_{user}")
}

fn nats_err(action: &'static str) -> impl Fn(String) -> BusError {
    move |detail| BusError::Nats { action, detail }
}

pub async fn connect(url: &str, creds: &Credentials) -> Result<async_nats::Client, BusError> {
    async_nats::ConnectOptions::with_user_and_password(creds.user.clone(), creds.password.clone())
        .custom_inbox_prefix(inbox_prefix(&creds.user))
        .name(format!("trilink-{}", creds.user))
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| nats_err("connect")(format!("{url} as {}: {e}", creds.user)))
}

/// Creates (or checks) one stream per nation, one replica. Needs the admin user.
pub async fn ensure_streams(
    url: &str,
    admin: &Credentials,
    nations: &[Nation],
) -> Result<(), BusError> {
    ensure_streams_replicated(url, admin, nations, 1, Duration::ZERO).await
}

/// As [`ensure_streams`] with `replicas` copies (a cluster), retrying for up to `patience`
/// while a freshly started cluster elects its JetStream leader.
pub async fn ensure_streams_replicated(
    url: &str,
    admin: &Credentials,
    nations: &[Nation],
    replicas: usize,
    patience: Duration,
) -> Result<(), BusError> {
    let client = connect(url, admin).await?;
    let js = jetstream::new(client);
    let deadline = tokio::time::Instant::now() + patience;
    for &n in nations {
        loop {
            let r = js
                .get_or_create_stream(stream::Config {
                    name: stream_name(n),
                    subjects: vec![trilink_wire::inbox_filter(n)],
                    storage: stream::StorageType::File,
                    num_replicas: replicas,
                    duplicate_window: Duration::from_secs(120),
                    max_age: Duration::from_secs(24 * 3600),
                    ..Default::default()
                })
                .await;
            match r {
                Ok(_) => break,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => {
                    return Err(nats_err("create stream")(format!(
                        "{}: {e}",
                        stream_name(n)
                    )))
                }
            }
        }
    }
    Ok(())
}

/// One nation's JetStream connection.
#[derive(Clone)]
pub struct NatsTransport {
    js: jetstream::Context,
    nation: Nation,
    consumer_name: String,
    only_new: bool,
}

impl NatsTransport {
    /// `consumer_name` names this node's durable consumer; a restarted node with the same name
    /// resumes where it left off.
    pub async fn connect(
        url: &str,
        creds: &Credentials,
        nation: Nation,
        consumer_name: &str,
    ) -> Result<Self, BusError> {
        let client = connect(url, creds).await?;
        Ok(NatsTransport {
            js: jetstream::new(client),
            nation,
            consumer_name: consumer_name.to_string(),
            only_new: false,
        })
    }

    /// Makes a new consumer start at messages published from now on, instead of at the start of
    /// the stream (for a run that must not see earlier runs' traffic).
    pub fn only_new_messages(mut self) -> Self {
        self.only_new = true;
        self
    }

    pub fn client(&self) -> async_nats::Client {
        self.js.client()
    }
}

impl Transport for NatsTransport {
    async fn publish(
        &self,
        subject: String,
        msg_id: String,
        payload: bytes::Bytes,
    ) -> Result<(), BusError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, msg_id.as_str());
        let ack = self
            .js
            .publish_with_headers(subject.clone(), headers, payload)
            .await
            .map_err(|e| nats_err("publish")(format!("{subject}: {e}")))?;
        ack.await
            .map_err(|e| nats_err("publish ack")(format!("{subject}: {e}")))?;
        Ok(())
    }

    async fn subscribe(&self, filter: String) -> Result<mpsc::Receiver<Delivery>, BusError> {
        let name = stream_name(self.nation);
        let stream = self
            .js
            .get_stream(&name)
            .await
            .map_err(|e| nats_err("get stream")(format!("{name}: {e} (has the operator created it with `trilink nats-config --create-streams`?)")))?;
        let consumer = stream
            .get_or_create_consumer(
                &self.consumer_name,
                pull::Config {
                    durable_name: Some(self.consumer_name.clone()),
                    filter_subject: filter.clone(),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(10),
                    max_ack_pending: 20_000,
                    deliver_policy: if self.only_new {
                        jetstream::consumer::DeliverPolicy::New
                    } else {
                        jetstream::consumer::DeliverPolicy::All
                    },
                    // A run's one-off consumers go away by themselves.
                    inactive_threshold: if self.only_new {
                        Duration::from_secs(600)
                    } else {
                        Duration::ZERO
                    },
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                nats_err("create consumer")(format!("{name}/{}: {e}", self.consumer_name))
            })?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| nats_err("consume")(format!("{name}/{}: {e}", self.consumer_name)))?;
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(async move {
            while let Some(m) = messages.next().await {
                let Ok(m) = m else { continue };
                let d = Delivery {
                    subject: m.subject.to_string(),
                    payload: m.payload.clone(),
                    acker: Acker::Jet(Box::new(m)),
                };
                if tx.send(d).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }
}
