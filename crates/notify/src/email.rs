//! The email channel: lettre's async SMTP transport over rustls (STARTTLS, implicit TLS, or
//! plain for a local relay), a plain-text body with an HTML alternative.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};

use crate::{Composed, EmailConfig, NotifyError, NotifySecrets, SmtpTls, Triggers, scrub};

pub(crate) struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    pub(crate) triggers: Triggers,
    timeout: Duration,
    relay: String,
    secrets: Vec<String>,
}

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailChannel")
            .field("relay", &self.relay)
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

impl EmailChannel {
    pub(crate) fn build(cfg: &EmailConfig, secrets: &NotifySecrets) -> Result<Self, NotifyError> {
        Self::configure(cfg, secrets).map_err(NotifyError::Unusable)
    }

    fn configure(cfg: &EmailConfig, secrets: &NotifySecrets) -> Result<Self, String> {
        let from: Mailbox = cfg.from_email.parse().map_err(|e| {
            format!(
                "notifications.email.from_email {:?} is not an address: {e}",
                cfg.from_email
            )
        })?;
        let to = cfg
            .to_emails
            .iter()
            .map(|a| {
                a.parse::<Mailbox>().map_err(|e| {
                    format!("notifications.email.to_emails: {a:?} is not an address: {e}")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err("notifications.email.to_emails names no recipient".to_owned());
        }
        let tls = match cfg.tls {
            SmtpTls::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(cfg.smtp_server.clone());
                if let Some(path) = &cfg.ca_file {
                    let pem = std::fs::read(path).map_err(|e| {
                        format!(
                            "cannot read notifications.email.ca_file {}: {e}",
                            path.display()
                        )
                    })?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| {
                        format!(
                            "notifications.email.ca_file {} is not a PEM certificate: {e}",
                            path.display()
                        )
                    })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| format!("cannot set up TLS for {}: {e}", cfg.smtp_server))?;
                if mode == SmtpTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let timeout = Duration::from_secs(cfg.timeout_seconds.max(1));
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.smtp_server)
            .port(cfg.smtp_port)
            .tls(tls)
            .timeout(Some(timeout));
        let mut scrubbed = Vec::new();
        match (&secrets.smtp_user, &secrets.smtp_password) {
            (Some(user), Some(password)) => {
                scrubbed.push(user.expose().to_owned());
                scrubbed.push(password.expose().to_owned());
                builder = builder.credentials(Credentials::new(
                    user.expose().to_owned(),
                    password.expose().to_owned(),
                ));
            }
            (Some(_), None) => return Err("SMTP_USER is set but SMTP_PASSWORD is not".to_owned()),
            (None, Some(_)) => return Err("SMTP_PASSWORD is set but SMTP_USER is not".to_owned()),
            (None, None) => {}
        }
        Ok(Self {
            transport: builder.build(),
            from,
            to,
            triggers: cfg.triggers(),
            timeout,
            relay: format!("{}:{}", cfg.smtp_server, cfg.smtp_port),
            secrets: scrubbed,
        })
    }

    pub(crate) async fn send(&self, composed: &Composed) -> Result<(), NotifyError> {
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(composed.subject.clone());
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(
                composed.text.clone(),
                composed.html.clone(),
            ))
            .map_err(|e| NotifyError::Compose {
                what: "email",
                reason: e.to_string(),
            })?;
        // the transport's own timeout covers each SMTP command; this one the whole delivery
        match tokio::time::timeout(self.timeout * 2, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(NotifyError::Delivery {
                target: format!("SMTP relay {}", self.relay),
                reason: scrub(&e.to_string(), &self.secrets),
            }),
            Err(_) => Err(NotifyError::Timeout {
                target: format!("SMTP relay {}", self.relay),
                seconds: self.timeout.as_secs() * 2,
            }),
        }
    }
}
