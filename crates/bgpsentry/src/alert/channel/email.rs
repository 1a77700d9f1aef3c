//! Email over SMTP (lettre): STARTTLS (required, never opportunistic),
//! implicit TLS (SMTPS) or, for a relay on localhost, none; AUTH when a
//! user is configured. Each message is `multipart/alternative` with a text
//! and an HTML part. `Message-ID` is derived from the idempotency key, and
//! later stages of an event carry `In-Reply-To`/`References` to the event's
//! thread id, so mail clients thread new → escalated → resolved.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Common, Message, SendError};
use crate::alert::config::{EmailConfig, SmtpTls, resolve_secret};
use crate::alert::notification::event_key;
use crate::alert::template::html_escape;
use crate::alert::{AlertError, Result};

/// An email channel.
pub struct Email {
    /// Shared parts.
    pub common: Common,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("name", &self.common.name)
            .field("to", &self.to.len())
            .finish()
    }
}

impl Email {
    /// Builds the transport (no connection yet).
    pub fn build(common: Common, c: &EmailConfig, timeout_secs: u64) -> Result<Self> {
        let n = &common.name;
        let err = |m: String| AlertError::Config(format!("channel {n}: {m}"));
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| err(format!("from {:?}: {e}", c.from)))?;
        let mut to = Vec::new();
        for t in &c.to {
            to.push(
                t.parse::<Mailbox>()
                    .map_err(|e| err(format!("to {t:?}: {e}")))?,
            );
        }
        let port = c.port.unwrap_or(match c.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.as_str())
            .port(port)
            .timeout(Some(Duration::from_secs(timeout_secs.max(1))));
        match c.tls {
            SmtpTls::None => {}
            SmtpTls::Starttls | SmtpTls::Tls => {
                let p = TlsParameters::new(c.host.clone()).map_err(|e| err(format!("tls: {e}")))?;
                b = b.tls(if c.tls == SmtpTls::Tls {
                    Tls::Wrapper(p)
                } else {
                    Tls::Required(p)
                });
            }
        }
        if let Some(h) = &c.hello_name {
            b = b.hello_name(lettre::transport::smtp::extension::ClientId::Domain(
                h.clone(),
            ));
        }
        let password = resolve_secret(
            &format!("channel {n}: password"),
            None,
            c.password_env.as_deref(),
            c.password_file.as_deref(),
            false,
        )?;
        match (&c.username, password) {
            (Some(u), Some(p)) => {
                b = b.credentials(Credentials::new(u.clone(), p.expose().to_string()))
            }
            (Some(_), None) => {
                return Err(err("username without password_env/password_file".into()));
            }
            (None, Some(_)) => return Err(err("password without username".into())),
            (None, None) => {}
        }
        Ok(Email {
            common,
            transport: b.build(),
            from,
            to,
        })
    }

    /// The MIME message for `m`.
    pub fn message(&self, m: &Message<'_>) -> std::result::Result<lettre::Message, String> {
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .subject(m.title().replace(['\r', '\n'], " "));
        for t in &self.to {
            b = b.to(t.clone());
        }
        b = b.message_id(Some(format!("<{}@bgpsentry>", m.key())));
        if let Message::Single(r) = m {
            let thread = format!("<bgpsentry-{}@bgpsentry>", event_key(&r.n.event));
            if r.n.stage != crate::alert::Stage::New {
                b = b.in_reply_to(thread.clone()).references(thread);
            }
        }
        let text = m.text().to_string();
        let html = html_body(m);
        b.multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| e.to_string())
    }

    /// Sends; Ok once the server accepted the transaction (250 after DATA).
    pub async fn send(&self, m: &Message<'_>) -> std::result::Result<(), SendError> {
        let msg = self.message(m).map_err(|e| SendError {
            message: format!("building message: {e}"),
            retry_after: None,
            permanent_for_message: true,
        })?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                message: format!("smtp: {e}"),
                retry_after: None,
                permanent_for_message: e.is_permanent(),
            }),
        }
    }
}

/// The HTML part: the text, escaped, line by line, and the link as a link.
pub fn html_body(m: &Message<'_>) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
    h.push_str(&format!("<h3>{}</h3>\n<p>\n", html_escape(m.title())));
    for line in m.text().lines() {
        let l = line.trim();
        if (l.starts_with("https://") || l.starts_with("http://"))
            && !l.contains(char::is_whitespace)
        {
            let e = html_escape(l);
            h.push_str(&format!("<a href=\"{e}\">{e}</a><br>\n"));
        } else {
            h.push_str(&format!("{}<br>\n", html_escape(line)));
        }
    }
    h.push_str("</p>\n</body></html>\n");
    h
}
