//! Where requests go: the real service with a key from the environment, another server
//! (`--base-url`), or a fake server started in-process (`--mock`).

use nanobanana_mock::{Fault, MockGemini};
use nanobanana_transport::{ApiKey, Client, ClientConfig, RetryPolicy};

use crate::cli::Global;
use crate::ui::Failure;

/// A client, and the fake server it talks to when `--mock` was given (kept alive as long as
/// the client is used).
pub(crate) struct Service {
    client: Client,
    mock: Option<MockGemini>,
}

impl Service {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Whether the in-process fake server answers.
    pub(crate) fn is_mock(&self) -> bool {
        self.mock.is_some()
    }
}

/// The environment variables the key is read from, in order.
const KEY_VARIABLES: [&str; 2] = ["GEMINI_API_KEY", "GOOGLE_API_KEY"];

/// Checks the flags that need no network (`--mock-fault` needs `--mock` and must parse; a key
/// is needed unless `--mock`), so that a run refused for them sends nothing.
pub(crate) fn check(global: &Global) -> Result<(), Failure> {
    mock_fault(global)?;
    if !global.mock && api_key().is_none() {
        return Err(no_key());
    }
    Ok(())
}

/// Starts the fake server if asked, and builds the client.
pub(crate) async fn connect(global: &Global) -> Result<Service, Failure> {
    let fault = mock_fault(global)?;
    let retry = RetryPolicy::default().with_max_attempts(global.retries.saturating_add(1));
    let user_agent = concat!("nanobanana-cli/", env!("CARGO_PKG_VERSION"));
    if global.mock {
        let mut builder = MockGemini::builder().allow_unmatched();
        if let Some(fault) = fault {
            builder = builder.fault(fault);
        }
        let server = builder
            .try_start()
            .await
            .map_err(|e| Failure::failed(format!("the fake server could not start: {e}")))?;
        let config = ClientConfig::new("mock-key")
            .with_base_url(server.uri())
            .with_retry_policy(retry)
            .with_user_agent(user_agent);
        let client = Client::new(config).map_err(|e| Failure::from_client(&e))?;
        return Ok(Service {
            client,
            mock: Some(server),
        });
    }
    let key = api_key().ok_or_else(no_key)?;
    let mut config = ClientConfig::new(key)
        .with_retry_policy(retry)
        .with_user_agent(user_agent);
    let base_url = global
        .base_url
        .clone()
        .or_else(|| env_var("GOOGLE_GEMINI_BASE_URL"));
    if let Some(base_url) = base_url {
        config = config.with_base_url(base_url);
    }
    let client = Client::new(config).map_err(|e| Failure::from_client(&e))?;
    Ok(Service { client, mock: None })
}

fn mock_fault(global: &Global) -> Result<Option<Fault>, Failure> {
    let Some(spec) = &global.mock_fault else {
        return Ok(None);
    };
    if !global.mock {
        return Err(Failure::refused(
            "--mock-fault needs --mock: it configures the fake server (or use it with `nanobanana mock`)",
        ));
    }
    parse_fault(spec).map(Some)
}

/// `--mock-fault SPEC` as the fake server's [`Fault`]; a bad spec is a refusal.
pub(crate) fn parse_fault(spec: &str) -> Result<Fault, Failure> {
    Fault::parse(spec).map_err(|e| Failure::refused(format!("--mock-fault {spec:?}: {e}")))
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn api_key() -> Option<ApiKey> {
    KEY_VARIABLES
        .iter()
        .find_map(|name| env_var(name))
        .map(ApiKey::new)
}

fn no_key() -> Failure {
    Failure::refused("no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or add --mock")
        .with_detail(
            "get a key at https://aistudio.google.com/apikey and run: export GEMINI_API_KEY=...",
        )
        .with_detail(
            "or try everything against the built-in fake server, with no key and no network:",
        )
        .with_detail("  nanobanana generate --mock \"a nano banana dish\" -o banana.jpg")
}
