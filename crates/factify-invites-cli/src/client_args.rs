//! [`ClientArgs`]: how the client subcommands reach the API (endpoint, key,
//! organization, output, timeout), and the client made from them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use factify_invites::Client;

use crate::failure::Failure;
use crate::output::Output;

/// How to reach the API, shared by the client subcommands.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// The server's URL.
    #[arg(
        long,
        env = "FACTIFY_ENDPOINT",
        default_value = factify_invites::client::DEFAULT_ENDPOINT
    )]
    pub(crate) endpoint: String,
    /// A file holding the API key (the default is the FACTIFY_API_KEY
    /// environment variable). The key is never printed.
    #[arg(long, value_name = "FILE")]
    pub(crate) api_key_file: Option<PathBuf>,
    /// The organization (`org_...`).
    #[arg(long = "org", env = "FACTIFY_ORGANIZATION_ID", value_name = "ORG_ID")]
    pub(crate) organization: String,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    /// The limit on each call, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub(crate) timeout: u64,
}

impl ClientArgs {
    /// The API key: from `--api-key-file`, else `FACTIFY_API_KEY`.
    fn api_key(&self) -> Result<String, Failure> {
        let key = match &self.api_key_file {
            Some(path) => std::fs::read_to_string(path).map_err(|err| {
                Failure::usage(format!(
                    "could not read the API key file {}: {err}",
                    path.display()
                ))
            })?,
            None => std::env::var("FACTIFY_API_KEY").map_err(|_| {
                Failure::usage("no API key: set FACTIFY_API_KEY or pass --api-key-file FILE")
            })?,
        };
        let key = key.trim().to_owned();
        if key.is_empty() {
            return Err(Failure::usage("the API key is empty"));
        }
        Ok(key)
    }

    /// A builder of a client of the endpoint.
    pub(crate) fn builder(&self) -> Result<factify_invites::ClientBuilder, Failure> {
        Ok(Client::builder()
            .endpoint(&self.endpoint)
            .api_key(self.api_key()?)
            .timeout(Duration::from_secs(self.timeout.max(1)))
            .user_agent(concat!("factify-invites-cli/", env!("CARGO_PKG_VERSION"))))
    }

    /// A client of the endpoint, connected (so a dead server is exit 3).
    pub(crate) async fn connect(
        &self,
        rate_limit: Option<factify_invites::rate_limit::RateLimit>,
    ) -> Result<Client, Failure> {
        let mut builder = self.builder()?;
        if let Some(limit) = rate_limit {
            builder = builder.rate_limit(limit);
        }
        Ok(builder.connect().await?)
    }
}
