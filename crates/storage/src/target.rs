//! Where and how to reach PostgreSQL: the URL's connection parameters, with libpq's TLS
//! parameters (`sslmode`, `sslrootcert`) taken out of it and turned into a rustls client
//! configuration: which roots, and how much of the server's
//! certificate is checked (`require`: none of it; `verify-ca`: the chain; `verify-full`: the
//! chain and the name).

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};

use crate::error::describe_pg;

/// How long a connection attempt may take before the database counts as unreachable.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's `sslmode`, without `allow` (plain first, TLS on refusal), which no managed service
/// needs and tokio-postgres cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, else plain; the certificate is not checked (libpq's
    /// default).
    #[default]
    Prefer,
    /// TLS or no connection; the certificate is not checked, unless `sslrootcert` is given
    /// (then as `verify-ca`, like libpq).
    Require,
    /// TLS with a certificate signed by a trusted CA, whatever host name it names.
    VerifyCa,
    /// TLS with a certificate signed by a trusted CA and naming the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not supported: use disable, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the CAs that may sign the server's certificate come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum RootCerts {
    /// Not given: libpq's default file `~/.postgresql/root.crt` when it exists.
    Default,
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the operating system's trusted CAs.
    System,
}

/// What a `postgres://` URL says about connecting, checked without touching the network or
/// the file system.
#[derive(Debug, Clone)]
pub(crate) struct PgTarget {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) ssl: SslMode,
    roots: RootCerts,
}

impl PgTarget {
    /// Parses the URL: `sslmode` and `sslrootcert` are ours, every other parameter is
    /// tokio-postgres's (which knows libpq's names).
    ///
    /// The URL is read once, by the `url` crate, which is also what the URL shown in messages
    /// follows ([`energy_core::redact_url_credentials`]: the authority ends at the first `/`, and
    /// the user ends at its last `@`); tokio-postgres gets its parts as a keyword string, since
    /// its own URL reader splits at the first `@` anywhere and would connect elsewhere.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        use energy_core::text::percent_decode;
        let url = url::Url::parse(text).map_err(|e| e.to_string())?;
        let mut ssl = SslMode::default();
        let mut roots = RootCerts::Default;
        let mut params: Vec<(String, String)> = Vec::new();
        if !url.username().is_empty() {
            params.push(("user".into(), percent_decode(url.username())));
        }
        if let Some(password) = url.password() {
            params.push(("password".into(), percent_decode(password)));
        }
        match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => {
                params.push(("host".into(), percent_decode(d)))
            }
            Some(url::Host::Ipv4(a)) => params.push(("host".into(), a.to_string())),
            Some(url::Host::Ipv6(a)) => params.push(("host".into(), a.to_string())),
            _ => {}
        }
        if let Some(port) = url.port() {
            params.push(("port".into(), port.to_string()));
        }
        let dbname = percent_decode(url.path().trim_start_matches('/'));
        if !dbname.is_empty() {
            params.push(("dbname".into(), dbname));
        }
        // percent-decoded only, as libpq reads a URL's parameters (`+` stays `+`)
        for pair in url
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (percent_decode(key), percent_decode(value));
            match key.as_str() {
                "sslmode" => ssl = SslMode::parse(&value)?,
                "sslrootcert" => {
                    roots = match value.as_str() {
                        "" => return Err("sslrootcert is empty: give the path of a PEM file of CA certificates, or `system`".to_owned()),
                        "system" => RootCerts::System,
                        path => RootCerts::File(PathBuf::from(path)),
                    }
                }
                // not echoed: text after a raw `?` in a password would be read as a name
                _ if key.is_empty()
                    || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    return Err("a parameter name is no connection parameter (letters, digits and `_`); percent-encode `?`, `&` and `#` in a password".to_owned());
                }
                _ => params.push((key, value)),
            }
        }
        let keywords: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            .collect();
        let mut config =
            tokio_postgres::Config::from_str(&keywords.join(" ")).map_err(|e| describe_pg(&e))?;
        config.ssl_mode(match ssl {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("energy-pipeline");
        }
        Ok(Self { config, ssl, roots })
    }

    /// The rustls configuration for this mode; reads the CA file. `Err` says what to fix.
    pub(crate) fn tls_config(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?;
        let verify = match (self.ssl, &self.roots) {
            (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, RootCerts::Default) => {
                None
            }
            (SslMode::Require | SslMode::VerifyCa, _) => Some(false),
            (SslMode::VerifyFull, _) => Some(true),
        };
        let verifier: Arc<dyn ServerCertVerifier> = match verify {
            None => Arc::new(AnyCertificate(provider)),
            Some(check_name) => {
                let roots = self.load_roots()?;
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| format!("TLS set-up: {e}"))?;
                if check_name {
                    webpki
                } else {
                    Arc::new(AnyName(webpki))
                }
            }
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }

    fn load_roots(&self) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        match &self.roots {
            RootCerts::System => {
                let found = rustls_native_certs::load_native_certs();
                store.add_parsable_certificates(found.certs);
                if store.is_empty() {
                    return Err(format!(
                        "sslmode={} with sslrootcert=system, but no trusted CA was found in this system's certificate store{}",
                        self.ssl.name(),
                        found
                            .errors
                            .first()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ));
                }
            }
            RootCerts::File(path) => add_pem_file(&mut store, path)?,
            RootCerts::Default => {
                let default = std::env::var_os("HOME")
                    .map(|h| Path::new(&h).join(".postgresql/root.crt"))
                    .filter(|p| p.is_file());
                match default {
                    Some(path) => add_pem_file(&mut store, &path)?,
                    None => {
                        return Err(format!(
                            "sslmode={} needs the CA that signed the server's certificate: add \
                             sslrootcert=/path/to/ca.pem to the database URL (or sslrootcert=system \
                             to trust this system's CAs)",
                            self.ssl.name()
                        ));
                    }
                }
            }
        }
        Ok(store)
    }
}

fn add_pem_file(store: &mut RootCertStore, path: &Path) -> Result<(), String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read sslrootcert {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sslrootcert {shown} is not a PEM file of certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("sslrootcert {shown} holds no certificate"));
    }
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| format!("sslrootcert {shown}: {e}"))?;
    }
    Ok(())
}

/// `prefer` and `require` without a CA: encrypted, but any certificate is taken (libpq's
/// semantics). Handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted CA; the host name is not compared.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain is good
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
        let t = PgTarget::parse(
            "postgres://app@db.example.com:5432/prices?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&options=-csearch_path%3Dx",
        )
        .unwrap();
        assert_eq!(t.ssl, SslMode::VerifyFull);
        assert_eq!(t.roots, RootCerts::File(PathBuf::from("/etc/ca.pem")));
        assert_eq!(t.config.get_options(), Some("-csearch_path=x"));
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        let t = PgTarget::parse("postgres://app@db/prices").unwrap();
        assert_eq!(t.ssl, SslMode::Prefer);
        assert_eq!(t.roots, RootCerts::Default);
        let t = PgTarget::parse("postgres://app@db/prices?sslrootcert=system&sslmode=verify-ca")
            .unwrap();
        assert_eq!((t.ssl, t.roots), (SslMode::VerifyCa, RootCerts::System));
    }

    #[test]
    fn unknown_sslmodes_and_parameters_are_refused_with_the_choices() {
        let e = PgTarget::parse("postgres://db/p?sslmode=allow").unwrap_err();
        assert!(e.contains("verify-full"), "{e}");
        let e = PgTarget::parse("postgres://db/p?sslmode=verify_full").unwrap_err();
        assert!(e.contains("sslmode=verify_full"), "{e}");
        let e = PgTarget::parse("postgres://db/p?sslrootcert=").unwrap_err();
        assert!(e.contains("sslrootcert"), "{e}");
        let e = PgTarget::parse("postgres://db/p?sslcompression=1&bogus=2").unwrap_err();
        assert!(e.contains("invalid connection string"), "{e}");
    }

    #[test]
    fn verify_modes_without_a_ca_say_how_to_give_one() {
        let t = PgTarget::parse("postgres://db/p?sslmode=verify-full").unwrap();
        let has_default_ca = std::env::var_os("HOME")
            .is_some_and(|h| Path::new(&h).join(".postgresql/root.crt").is_file());
        if !has_default_ca {
            let e = t.tls_config().unwrap_err();
            assert!(e.contains("sslrootcert=/path/to/ca.pem"), "{e}");
        }
        let t = PgTarget::parse("postgres://db/p?sslmode=verify-ca&sslrootcert=/nonexistent.pem")
            .unwrap();
        let e = t.tls_config().unwrap_err();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        // prefer and require need no CA
        for mode in ["disable", "prefer", "require"] {
            let t = PgTarget::parse(&format!("postgres://db/p?sslmode={mode}")).unwrap();
            assert!(t.tls_config().is_ok(), "{mode}");
        }
    }
}
