//! `pacsim serve`: the Supervisor of a scenario, live, for kubectl.

use super::Failure;
use super::trace_cmd::Stdout;
use clap::Args;
use pacsim::scenario::load_scenario;
use pacsim::serve::{ServeOptions, serve};
use std::path::PathBuf;

#[derive(Args)]
pub struct ServeArgs {
    /// The scenario: datacenter, Supervisor (namespaces, users, classes,
    /// storage) and optional background workloads.
    scenario: PathBuf,
    /// The session's folder: journal, log, certificates, kubeconfigs.
    /// Restarting with the same folder resumes the session.
    #[arg(long)]
    data: PathBuf,
    /// Address and port to serve HTTPS on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: String,
    /// Virtual seconds per wall second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Bearer tokens, in kube-apiserver's --token-auth-file format
    /// (`token,user,uid,"groups"`); without it, tokens are generated.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Seconds between the bookmarks of a watch that allows them
    /// (kube-apiserver sends one about every minute).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    bookmark_interval: f64,
}

pub fn run(args: ServeArgs) -> Result<u8, Failure> {
    if !(args.bookmark_interval.is_finite() && (0.1..=86_400.0).contains(&args.bookmark_interval)) {
        return Err(Failure::bad_input(format!(
            "--bookmark-interval must be from 0.1 to 86400 seconds, found {}",
            args.bookmark_interval
        )));
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1e6) {
        return Err(Failure::bad_input(format!(
            "--speed must be a positive number up to 1000000, found {}",
            args.speed
        )));
    }
    let text = std::fs::read_to_string(&args.scenario)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", args.scenario.display())))?;
    let scenario = load_scenario(&args.scenario).map_err(Failure::bad_input)?;
    super::print_notices(&scenario);
    let opts = ServeOptions {
        scenario_file: args.scenario,
        data: args.data,
        listen: args.listen,
        speed: args.speed,
        token_file: args.token_file,
        bookmark_interval: std::time::Duration::from_secs_f64(args.bookmark_interval),
    };
    serve(opts, scenario, &text).map_err(Failure::bad_input)?;
    Ok(0)
}

#[derive(Args)]
pub struct KubeconfigArgs {
    /// The served session's folder (`pacsim serve --data`).
    #[arg(long)]
    data: PathBuf,
    /// The guest cluster: its TanzuKubernetesCluster as NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    guest: String,
    /// Whose kubeconfig: `edit` on the namespace is cluster-admin in the
    /// guest, `view` is read-only.
    #[arg(long)]
    user: String,
    /// Where to write it [default: DIR/kubeconfig-USER-NAMESPACE-NAME.yaml].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Writes the kubeconfig of a guest cluster for a user, from the user's
/// Supervisor kubeconfig in the folder.
pub fn kubeconfig(args: KubeconfigArgs) -> Result<u8, Failure> {
    use pacsim::api::objects::{Kind, ObjectKey};
    use pacsim::serve::{access, guest};
    let Some((ns, name)) = args
        .guest
        .split_once('/')
        .filter(|(n, m)| !n.is_empty() && !m.is_empty() && !m.contains('/'))
    else {
        return Err(Failure::bad_input(format!(
            "--guest takes NAMESPACE/NAME, found `{}`",
            args.guest
        )));
    };
    if !args.data.is_dir() {
        return Err(Failure::bad_input(format!(
            "--data {}: no such folder (the folder `pacsim serve --data` serves from)",
            args.data.display()
        )));
    }
    let source = access::kubeconfig_path(&args.data, &args.user);
    let text = std::fs::read_to_string(&source).map_err(|e| {
        Failure::bad_input(format!(
            "{}: {e} (is `{}` a user of the session served from {}?)",
            source.display(),
            args.user,
            args.data.display()
        ))
    })?;
    let tkc = ObjectKey::new(Kind::TanzuKubernetesCluster, ns, name);
    let config = guest::kubeconfig(&text, &tkc, &args.user)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", source.display())))?;
    let out = args.output.unwrap_or_else(|| {
        access::kubeconfig_path(&args.data, &format!("{}-{ns}-{name}", args.user))
    });
    access::write_private(&out, &config)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", out.display())))?;
    let mut stdout = Stdout::new();
    stdout.line(out.display());
    stdout.finish()?;
    Ok(0)
}
