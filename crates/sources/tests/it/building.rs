//! Building sources from configuration: missing keys skip a provider with the variable to set.

use energy_core::{Secret, system_clock};
use energy_sources::{
    BuiltSource, RetryConfig, SourceError, SourceErrorKind, SourcesConfig, build_sources,
};

#[test]
fn missing_keys_skip_their_provider_and_disabled_ones_are_reported() {
    let mut config = SourcesConfig::default();
    config.get_mut("fred").unwrap().enabled = false;
    let built = build_sources(
        &config,
        &RetryConfig::default(),
        |_| None::<Secret>,
        system_clock(),
    );
    let summary: Vec<String> = built
        .iter()
        .map(|b| match b {
            BuiltSource::Ready(s) => format!("{} ready", s.id()),
            BuiltSource::Skipped { id, reason } => format!("{id} skipped: {reason}"),
            BuiltSource::Disabled(id) => format!("{id} disabled"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "eia skipped: eia: no API key: set the environment variable EIA_API_KEY",
            "fred disabled",
            "yahoo ready"
        ]
    );
    assert!(matches!(
        &built[0],
        BuiltSource::Skipped {
            reason: SourceError {
                kind: SourceErrorKind::MissingKey {
                    variable: "EIA_API_KEY",
                    ..
                },
                ..
            },
            ..
        }
    ));
}

#[test]
fn the_key_never_shows_in_debug_output_of_a_source() {
    let built = build_sources(
        &SourcesConfig::default(),
        &RetryConfig::default(),
        |_| Some(Secret::new("TOPSECRETKEY1234")),
        system_clock(),
    );
    for b in built {
        let text = format!("{b:?}");
        assert!(!text.contains("TOPSECRETKEY1234"), "{text}");
    }
}
