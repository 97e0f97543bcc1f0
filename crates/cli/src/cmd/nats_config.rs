//! `trilink nats-config`: a nats-server configuration that enforces releasability.
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use trilink_bus::nats::{ensure_streams_replicated, Credentials};
use trilink_bus::natsconf::{self, ClusterMember, ConfigRequest};

use crate::exit::{CliError, CliResult};

/// Write a nats-server configuration with one user per nation whose publish and subscribe
/// permissions follow the scenario's releasability policy, plus each user's credentials.
///
/// A nation may publish only as itself and only to nations its reports are released to
/// (`trilink.v1.<DEST>.<ORIGIN>.>`), and may read only its own inbox and JetStream stream; the
/// server refuses anything else.
#[derive(clap::Args, Debug)]
#[command(
    after_long_help = "Examples:\n  trilink nats-config --out nats\n  nats-server -c nats/nats-server.conf &\n  trilink nats-config --out nats --create-streams nats://127.0.0.1:4222\n  trilink run --bus nats://127.0.0.1:4222 --nats-dir nats"
)]
pub struct Args {
    /// Scenario whose nations and policy to use: a built-in name, a file, or `synthetic`
    /// (default: the simulator's default built-in).
    #[arg(long)]
    pub scenario: Option<String>,

    /// Output directory: nats-server.conf, <NATION>.credentials, admin.credentials (all 0600)
    /// and jetstream/ (the server's store).
    #[arg(long)]
    pub out: PathBuf,

    /// Address the server listens on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    #[arg(long, default_value_t = 4222)]
    pub port: u16,

    /// Omit `sync_interval: always` (needed for nats-server older than 2.10, such as Debian
    /// bookworm's 2.9). Without it JetStream syncs its files only every two minutes.
    #[arg(long)]
    pub no_sync_always: bool,

    /// Write a cluster instead: one server per nation (nats-server-<NATION>.conf), clients on
    /// --port, --port+1, ... and routes on --port+100, --port+101, ...
    #[arg(long)]
    pub cluster: bool,

    /// With --create-streams: copies of each stream (3 on a three-server cluster).
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,

    /// Replace an existing configuration (new passwords).
    #[arg(long)]
    pub force: bool,

    /// Instead of writing a configuration, create each nation's stream on this running server,
    /// as the admin user from --out.
    #[arg(long, value_name = "NATS_URL")]
    pub create_streams: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let sc = trilink_node::orchestrate::load_fabric_only(
        args.scenario
            .as_deref()
            .unwrap_or(trilink_sim::DEFAULT_BUILTIN),
    )
    .map_err(CliError::input)?;
    if let Some(url) = args.create_streams {
        let admin =
            Credentials::read(&args.out.join("admin.credentials")).map_err(CliError::input)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting tokio")?;
        let patience = std::time::Duration::from_secs(if args.replicas > 1 { 30 } else { 0 });
        rt.block_on(ensure_streams_replicated(
            &url,
            &admin,
            &sc.nation_codes(),
            args.replicas.max(1),
            patience,
        ))
        .context("creating streams")?;
        println!(
            "streams {} ready on {url}",
            sc.nation_codes()
                .iter()
                .map(|n| format!("TRILINK_{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(());
    }
    let conf = args.out.join(if args.cluster {
        "nats-server-".to_string()
            + sc.nation_codes().first().map(|n| n.as_str()).unwrap_or("")
            + ".conf"
    } else {
        "nats-server.conf".to_string()
    });
    if conf.exists() && !args.force {
        return Err(CliError::input(anyhow!(
            "{} exists; pass --force to replace it (and its passwords)",
            conf.display()
        )));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out_abs = std::fs::canonicalize(&args.out)
        .with_context(|| format!("resolving {}", args.out.display()))?;
    let nations = sc.nation_codes();
    let req = ConfigRequest {
        nations: &nations,
        policy: &sc.policy,
        host: &args.host,
        port: args.port,
        store_dir: &out_abs.join("jetstream"),
        sync_always: !args.no_sync_always,
    };
    if args.cluster {
        let port = |off: usize| -> Result<u16, CliError> {
            u16::try_from(args.port as usize + off).map_err(|_| {
                CliError::input(anyhow!(
                    "--port {}: too high for {} cluster members",
                    args.port,
                    nations.len()
                ))
            })
        };
        let mut members = Vec::new();
        for (i, n) in nations.iter().enumerate() {
            members.push(ClusterMember {
                name: n.to_string(),
                client_port: port(i)?,
                cluster_port: port(100 + i)?,
            });
        }
        let (configs, users) = natsconf::generate_cluster(&req, &members);
        natsconf::write_cluster(&args.out, &configs, &users)
            .with_context(|| format!("writing into {}", args.out.display()))?;
        for m in &members {
            println!(
                "start {}: nats-server -c {}   (clients nats://{}:{})",
                m.name,
                args.out
                    .join(format!("nats-server-{}.conf", m.name))
                    .display(),
                args.host,
                m.client_port
            );
        }
        println!(
            "create the streams: trilink nats-config --out {} --create-streams nats://{}:{} --replicas {}",
            args.out.display(),
            args.host,
            args.port,
            members.len().min(3)
        );
        return Ok(());
    }
    let g = natsconf::generate(&req);
    natsconf::write(&args.out, &g)
        .with_context(|| format!("writing into {}", args.out.display()))?;
    println!("wrote {}", conf.display());
    for (user, _) in &g.users {
        println!(
            "wrote {}",
            args.out.join(format!("{user}.credentials")).display()
        );
    }
    println!("start the server:   nats-server -c {}", conf.display());
    println!(
        "create the streams: trilink nats-config --out {} --create-streams nats://{}:{}",
        args.out.display(),
        args.host,
        args.port
    );
    Ok(())
}
