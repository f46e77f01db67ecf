//! What a freshness alert says: series that went STALE (with the date their source should have
//! published and the latest stored) and series that recovered. Pure functions, snapshot-tested.

use energy_core::FreshnessChange;
use slack_hook::{AttachmentBuilder, Payload, PayloadBuilder};

use crate::render::escape;

fn series(c: &FreshnessChange) -> String {
    format!("{}/{}", c.commodity, c.source)
}

fn latest(c: &FreshnessChange) -> String {
    c.latest
        .map_or("nothing stored".to_owned(), |d| d.to_string())
}

/// One line per series: what happened, its dates and the rule.
fn line(c: &FreshnessChange) -> String {
    if c.recovered() {
        format!(
            "RECOVERED {}: latest {}, expected {} ({})",
            series(c),
            latest(c),
            c.expected,
            c.state.name()
        )
    } else {
        format!(
            "STALE {}: latest {}, expected {}, {} trading day{} past the release (published {})",
            series(c),
            latest(c),
            c.expected,
            c.overdue_days,
            if c.overdue_days == 1 { "" } else { "s" },
            c.publication
        )
    }
}

/// `[energy-pipeline] STALE: WTI/eia (expected 2026-11-23, latest 2026-11-16)`, or a count
/// when several series changed.
pub fn subject(changes: &[FreshnessChange]) -> String {
    let stale = changes.iter().filter(|c| !c.recovered()).count();
    let recovered = changes.len() - stale;
    match changes {
        [one] if one.recovered() => format!(
            "[energy-pipeline] RECOVERED: {} (latest {})",
            series(one),
            latest(one)
        ),
        [one] => format!(
            "[energy-pipeline] STALE: {} (expected {}, latest {})",
            series(one),
            one.expected,
            latest(one)
        ),
        _ => format!("[energy-pipeline] {stale} series STALE, {recovered} recovered"),
    }
}

const FOOTER: &str = "A series is announced once when it goes STALE and once when it recovers. \
                      `energy-pipeline status` shows every series; `energy-pipeline gaps` the \
                      days missing inside them.";

pub fn text_body(changes: &[FreshnessChange]) -> String {
    let mut out = String::new();
    if let Some(first) = changes.first() {
        out.push_str(&format!(
            "Freshness as judged at {}:\n\n",
            energy_core::display::utc_time(first.judged_at)
        ));
    }
    for c in changes {
        out.push_str(&format!("- {}\n", line(c)));
    }
    out.push('\n');
    out.push_str(FOOTER);
    out.push('\n');
    out
}

pub fn html_body(changes: &[FreshnessChange]) -> String {
    let mut out = String::from("<html><body>\n<ul>\n");
    for c in changes {
        let colour = if c.recovered() { "#2e7d32" } else { "#c62828" };
        out.push_str(&format!(
            "<li style=\"color:{colour}\">{}</li>\n",
            escape(&line(c))
        ));
    }
    out.push_str(&format!(
        "</ul>\n<p>{}</p>\n</body></html>\n",
        escape(FOOTER)
    ));
    out
}

/// One attachment per series, red for STALE and green for a recovery.
pub fn slack_payload(changes: &[FreshnessChange]) -> Result<Payload, slack_hook::Error> {
    let attachments = changes
        .iter()
        .map(|c| {
            AttachmentBuilder::new(line(c))
                .color(if c.recovered() { "good" } else { "danger" })
                .text(line(c))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    PayloadBuilder::new()
        .text(
            subject(changes)
                .trim_start_matches("[energy-pipeline] ")
                .to_owned(),
        )
        .username("energy-pipeline")
        .attachments(attachments)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use energy_core::{CommodityCode, Freshness, SourceId};

    fn change(state: Freshness, latest: Option<&str>) -> FreshnessChange {
        FreshnessChange {
            commodity: CommodityCode::new("WTI").unwrap(),
            source: SourceId::new("eia").unwrap(),
            state,
            latest: latest.map(|d| d.parse().unwrap()),
            expected: "2026-11-23".parse().unwrap(),
            overdue_days: 3,
            publication: "weekly wednesday 10:30 America/New_York through monday".into(),
            judged_at: "2026-12-01T05:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn an_alert_names_the_series_and_both_dates() {
        let stale = [change(Freshness::Stale, Some("2026-11-16"))];
        assert_eq!(
            subject(&stale),
            "[energy-pipeline] STALE: WTI/eia (expected 2026-11-23, latest 2026-11-16)"
        );
        insta::assert_snapshot!(text_body(&stale));
        let back = [change(Freshness::Fresh, Some("2026-11-23"))];
        assert_eq!(
            subject(&back),
            "[energy-pipeline] RECOVERED: WTI/eia (latest 2026-11-23)"
        );
        let both = [stale[0].clone(), back[0].clone()];
        assert_eq!(
            subject(&both),
            "[energy-pipeline] 1 series STALE, 1 recovered"
        );
        assert!(html_body(&both).contains("STALE WTI/eia: latest 2026-11-16"));
        let slack = serde_json::to_value(slack_payload(&stale).unwrap()).unwrap();
        assert_eq!(
            slack["text"],
            "STALE: WTI/eia (expected 2026-11-23, latest 2026-11-16)"
        );
        assert_eq!(slack["attachments"][0]["color"], "danger");
    }
}
