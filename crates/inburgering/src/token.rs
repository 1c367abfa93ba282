//! `inburgering token --org … --role …`: an access token signed with the key of the dev
//! issuer that `inburgering dev` keeps in its data folder. It never makes a key: a token
//! signed with a new one would be refused by the running platform.

use platform::{Config, auth::DevIssuer};

use crate::{
    dev,
    options::{DataDir, existing_folder, usage},
};

/// Options of `inburgering token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Organisation alias: agii, bon, atlas, in-gent, ggc, municipality-<nis>, …
    #[arg(long)]
    org: String,
    /// A realm role; repeat for several.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    #[command(flatten)]
    data: DataDir,
    /// The dev issuer URL the token names (dev's `--issuer-port` decides it).
    #[arg(long, default_value = dev::DEFAULT_ISSUER)]
    issuer: String,
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let data_dir = args.data.path()?;
    let key = dev::issuer_key_path(existing_folder(&data_dir)?);
    if !key.is_file() {
        return Err(usage(format!(
            "--data-dir {}: no dev issuer key in it ({}); name the folder `inburgering dev` runs with",
            data_dir.display(),
            key.display()
        )));
    }
    let issuer = DevIssuer::load_or_create(&key, args.issuer, Config::default().oidc_audience)?;
    let roles: Vec<&str> = args.roles.iter().map(String::as_str).collect();
    println!("{}", issuer.token(&args.org, &roles));
    Ok(())
}
