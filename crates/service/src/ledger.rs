//! The personal-data ledger (台帳, seed 003 Art. 15; seed 000 Art. 8-1): one row per channel ×
//! category with the purposes, retention, recipients, the roles with access, the storage, and
//! how many principals hold that category now. Built from the policy and counts of the stored
//! fields — never a value — so the auditor reads it too (Art. 5(3)).

use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Lang, RetentionFrom};
use mamori_store::{AuditDraft, Backend};
use serde::Serialize;

use crate::{Actor, Mamori, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRow {
    pub channel: String,
    pub channel_name: String,
    pub category: String,
    pub category_name: String,
    pub special_care: bool,
    pub purposes: Vec<String>,
    /// The channel's retention period (ISO 8601), counted as `retention_from` says.
    pub retention: String,
    pub retention_from: String,
    /// The category's own shorter period, if any.
    pub category_retention: Option<String>,
    /// Recipients declared for the category.
    pub recipients: Vec<String>,
    /// Roles with the `read` action whose purposes meet the channel's.
    pub roles: Vec<String>,
    pub storage: String,
    /// Active principals holding this category from this channel.
    pub principals: i64,
}

impl Mamori {
    /// `mamori ledger --as LOGIN [--format json|csv|html]`.
    pub async fn ledger(&self, actor: &Actor) -> Result<Vec<LedgerRow>> {
        self.require(actor, Action::Ledger, "ledger.read").await?;
        let policy = self.policy();
        let counts = self.store.field_counts().await?;
        let storage = format!(
            "encrypted per principal (XChaCha20-Poly1305), {}",
            match self.store.backend() {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "PostgreSQL",
            }
        );
        let mut rows = Vec::new();
        for ch in &policy.channels {
            let roles: Vec<String> = policy
                .roles
                .iter()
                .filter(|r| r.actions.contains(&Action::Read))
                .filter(|r| r.purposes.iter().any(|p| ch.purposes.contains(p)))
                .map(|r| r.id.clone())
                .collect();
            for cat in &ch.categories {
                let c = policy.category(cat);
                rows.push(LedgerRow {
                    channel: ch.id.clone(),
                    channel_name: ch.ja.clone(),
                    category: cat.clone(),
                    category_name: c.map(|c| c.ja.clone()).unwrap_or_default(),
                    special_care: c.is_some_and(|c| c.special_care),
                    purposes: ch.purposes.clone(),
                    retention: ch.retention.clone(),
                    retention_from: match ch.retention_from {
                        RetentionFrom::LastActivity => "last_activity".into(),
                        RetentionFrom::Collection => "collection".into(),
                    },
                    category_retention: c.and_then(|c| c.retention.clone()),
                    recipients: policy
                        .recipients
                        .iter()
                        .filter(|r| r.categories.contains(cat))
                        .map(|r| r.id.clone())
                        .collect(),
                    roles: roles.clone(),
                    storage: storage.clone(),
                    principals: counts
                        .iter()
                        .find(|(chn, c, _)| chn == &ch.id && c == cat)
                        .map_or(0, |x| x.2),
                });
            }
        }
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "ledger.read".into(),
                decision: "allow".into(),
                detail: serde_json::json!({"rows": rows.len()}),
                ..Default::default()
            }])
            .await?;
        Ok(rows)
    }
}

/// One CSV cell. A cell that a spreadsheet would take as a formula (it begins, after any
/// spaces, with `=`, `+`, `-`, `@`, their full-width forms, a tab or a line break: CSV
/// injection, OWASP) is neutralized with a leading `'`, so Excel shows the text and runs
/// nothing. The ledger's cells come from the policy, which its editor controls.
pub fn csv_cell(s: &str) -> String {
    let formula = s
        .trim_start_matches([' ', '\u{3000}'])
        .starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠']);
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The ledger as CSV that Excel opens as it is: UTF-8 with a BOM, CRLF line ends; lists inside
/// a cell are separated by " / "; no cell is read as a formula ([`csv_cell`]).
pub fn ledger_csv(rows: &[LedgerRow]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("channel,channel_name,category,category_name,special_care,purposes,retention,retention_from,category_retention,recipients,roles,storage,principals\r\n");
    for r in rows {
        let cells = [
            r.channel.clone(),
            r.channel_name.clone(),
            r.category.clone(),
            r.category_name.clone(),
            r.special_care.to_string(),
            r.purposes.join(" / "),
            r.retention.clone(),
            r.retention_from.clone(),
            r.category_retention.clone().unwrap_or_default(),
            r.recipients.join(" / "),
            r.roles.join(" / "),
            r.storage.clone(),
            r.principals.to_string(),
        ];
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// The ledger as a printable HTML page.
pub fn ledger_html(organization: &str, rows: &[LedgerRow], lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let l = |a: &'static str, b: &'static str| if ja { a } else { b };
    let e = escape_html;
    let mut h = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse;width:100%;font-size:90%}}td,th{{border:1px solid #888;padding:3px;vertical-align:top;text-align:left}}@media print{{body{{margin:0}}@page{{size:landscape}}}}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n<table><tr>",
        l("ja", "en"),
        l("個人データ台帳", "Personal-data ledger"),
        l(
            "個人データ台帳(個人情報保護規定第15条)",
            "Personal-data ledger (Art. 15 of the rules)"
        ),
        e(organization)
    );
    for th in [
        l("取得経路", "Channel"),
        l("項目", "Category"),
        l("利用目的", "Purposes"),
        l("保存期間", "Retention"),
        l("提供先・委託先", "Recipients"),
        l("取扱権限", "Roles with access"),
        l("保管", "Storage"),
        l("本人数", "Principals"),
    ] {
        h.push_str(&format!("<th>{th}</th>"));
    }
    h.push_str("</tr>\n");
    for r in rows {
        h.push_str(&format!(
            "<tr><td>{} ({})</td><td>{} ({}){}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e(&r.channel_name),
            e(&r.channel),
            e(&r.category_name),
            e(&r.category),
            if r.special_care { l(" 要配慮", " special care") } else { "" },
            e(&r.purposes.join(", ")),
            e(&r.retention),
            r.category_retention
                .as_deref()
                .map(|c| format!(" ({} {})", l("項目", "field"), e(c)))
                .unwrap_or_default(),
            e(&r.recipients.join(", ")),
            e(&r.roles.join(", ")),
            e(&r.storage),
            r.principals
        ));
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn a_cell_that_begins_a_formula_gets_a_leading_apostrophe() {
        for (cell, out) in [
            ("=1+1", "'=1+1"),
            ("+81 3", "'+81 3"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("  =cmd", "'  =cmd"),
            ("＝１＋１", "'＝１＋１"),
            ("\tx", "'\tx"),
            ("=A1,B2", "\"'=A1,B2\""),
            ("P3Y", "P3Y"),
            ("a / b", "a / b"),
            ("氏名", "氏名"),
            ("x=1", "x=1"),
        ] {
            assert_eq!(csv_cell(cell), out, "{cell:?}");
        }
    }
}
