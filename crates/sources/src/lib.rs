//! Price providers. Each provider is one module; what they share (the configuration shape, and
//! from the sources issue on, the HTTP layer) is written once here.

mod config;
mod registry;

pub use config::{ProviderConfig, RetryConfig, SourcesConfig};
pub use registry::{PROVIDERS, ProviderInfo, provider_info};
