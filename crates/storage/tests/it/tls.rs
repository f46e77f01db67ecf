//! TLS to PostgreSQL as libpq's `sslmode` and `sslrootcert` describe it, against a throwaway
//! cluster that takes TLS connections only (`hostssl` in pg_hba.conf, so a connection the store
//! opened without TLS would be refused), with a CA and a server certificate made here.

use energy_storage::{
    DatabaseUrl, ExportFilter, PG_COPY_THRESHOLD, Store, StoreError,
    testing::cluster::{Cluster, ClusterOptions, find_bin_dir},
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::support::{register_defaults, series};

/// A CA, a server certificate it signed for `localhost` only, and an unrelated CA.
struct Pki {
    ca_pem: String,
    other_ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn pki() -> Pki {
    let ca = ca("energy-pipeline test CA");
    let other = ca_other();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = IsCa::ExplicitNoCa;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        other_ca_pem: other.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn ca_other() -> CertifiedIssuer<'static, KeyPair> {
    ca("some other CA")
}

fn start_cluster(pki: &Pki) -> Option<Cluster> {
    if find_bin_dir().is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("no PostgreSQL server binaries, and CI=true requires the TLS tests");
        }
        eprintln!("SKIPPED (TLS): no PostgreSQL server binaries to start a cluster with");
        return None;
    }
    let options = ClusterOptions {
        settings: [
            "-c ssl=on",
            "-c ssl_cert_file=server.crt",
            "-c ssl_key_file=server.key",
            "-c fsync=off",
        ]
        .map(str::to_owned)
        .to_vec(),
        files: vec![
            ("server.crt".to_owned(), pki.cert_pem.clone().into_bytes()),
            ("server.key".to_owned(), pki.key_pem.clone().into_bytes()),
        ],
        hba: Some(
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             hostssl all all ::1/128 trust\n\
             hostnossl all all all reject\n"
                .to_owned(),
        ),
        label: "tls".to_owned(),
    };
    Some(
        Cluster::start(&options)
            .unwrap_or_else(|e| panic!("the TLS cluster did not start: {e}"))
            .expect("binaries found above"),
    )
}

async fn open(host: &str, port: u16, params: &str) -> Result<Store, StoreError> {
    let url = DatabaseUrl::parse(&format!(
        "postgres://postgres:s3cr3t-pw@{host}:{port}/postgres?{params}"
    ))
    .unwrap();
    Store::open(&url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_modes_connect_or_refuse_as_libpq_says() {
    let pki = pki();
    let Some(cluster) = start_cluster(&pki) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, &pki.other_ca_pem).unwrap();
    let (ca, other) = (ca_file.display(), other_ca.display());
    let port = cluster.port;

    // require: encrypted, certificate not checked; the pool, the migrations and the COPY
    // connection all get through a server that refuses anything but TLS
    let store = open("127.0.0.1", port, "sslmode=require")
        .await
        .unwrap_or_else(|e| panic!("require: {e}"));
    register_defaults(&store).await;
    let batch = series("WTI", "eia", PG_COPY_THRESHOLD + 100, 0);
    let counts = store.observations().upsert(None, &batch).await.unwrap();
    assert_eq!(counts.inserted, batch.len() as u64);
    assert!(store.health().await.healthy);

    // the default (prefer) takes TLS when offered
    open("127.0.0.1", port, "")
        .await
        .unwrap_or_else(|e| panic!("prefer: {e}"));

    // verify-full with the CA, to the name on the certificate
    let store = open(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .await
    .unwrap_or_else(|e| panic!("verify-full: {e}"));
    assert_eq!(
        store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        batch.len() as u64
    );

    // verify-ca does not compare the name
    open(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    )
    .await
    .unwrap_or_else(|e| panic!("verify-ca: {e}"));

    // verify-full to a name the certificate does not carry
    let err = open(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Tls { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("not valid for name \"127.0.0.1\""), "{text}");
    assert!(text.contains("sslrootcert"), "{text}");
    assert!(!text.contains("s3cr3t-pw"), "{text}");

    // verify-full with a CA that did not sign the certificate
    let err = open(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={other}"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Tls { .. }), "{err:?}");
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );

    // verify-full without any CA (and no ~/.postgresql/root.crt) says how to give one
    let default_ca = std::env::var_os("HOME").is_some_and(|h| {
        std::path::Path::new(&h)
            .join(".postgresql/root.crt")
            .is_file()
    });
    if !default_ca {
        let err = open("localhost", port, "sslmode=verify-full")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Tls { .. }), "{err:?}");
        assert!(
            err.to_string().contains("sslrootcert=/path/to/ca.pem"),
            "{err}"
        );
    }

    // disable: the server's own refusal, in its words
    let err = open("127.0.0.1", port, "sslmode=disable")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains("no encryption"), "{err}");
    assert!(!err.to_string().contains("s3cr3t-pw"), "{err}");
    drop(cluster);
}
