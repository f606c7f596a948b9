//! `/console/import`: registering many principals from a spreadsheet (CSV, UTF-8 or
//! Shift_JIS), the same use case as `mamori import FILE.csv --channel CH`
//! ([`mamori_service::Mamori::import_csv`]). The form is a file upload; its token is checked
//! after the body is read and before anything is stored. The page shows what the service
//! reports: rows added, rows skipped (already imported, already registered) and each bad row's
//! line and field — never a value from the file (seed 000 Art. 5: only what the channel
//! collects; bad rows are not stored).

use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use mamori_policy::Lang;
use mamori_service::ServiceError;

use super::{Choice, Fields, Staff, checked, ctx, field, opt, page};
use crate::AppState;
use crate::pages::{LangQuery, error_page};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/import", get(import_form).post(import_run))
}

/// A multipart form read whole: its text fields and its files (name → bytes). Bodies are
/// bounded by the server's body limit; nothing is done with them before the token is checked.
pub(super) async fn read_multipart(
    mut mp: Multipart,
) -> Result<(Fields, Vec<(String, Vec<u8>)>), ServiceError> {
    let mut fields = Fields::new();
    let mut files = Vec::new();
    loop {
        let next = mp.next_field().await.map_err(|e| {
            ServiceError::BadInput(format!(
                "form: the upload could not be read ({e}): choose the file again and resend"
            ))
        })?;
        let Some(f) = next else { break };
        let name = f.name().unwrap_or("").to_string();
        let is_file = f.file_name().is_some();
        let bytes = f.bytes().await.map_err(|e| {
            ServiceError::BadInput(format!(
                "{name}: the upload could not be read ({e}): choose the file again and resend"
            ))
        })?;
        if is_file {
            files.push((name, bytes.to_vec()));
        } else {
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ServiceError::BadInput(format!("{name}: is not UTF-8 text")))?;
            // Several values under one name (check boxes) are kept comma-separated.
            fields
                .entry(name)
                .and_modify(|v: &mut String| {
                    v.push(',');
                    v.push_str(&text);
                })
                .or_insert(text);
        }
    }
    Ok((fields, files))
}

struct ProblemRow {
    line: u64,
    field: String,
    problem: String,
}

#[derive(askama::Template)]
#[template(path = "console_import.html")]
struct ImportPage {
    c: crate::pages::Ctx,
    channels: Vec<Choice>,
    /// The channel chosen last (kept selected after an import).
    channel: String,
    purposes: Vec<Choice>,
    ran: bool,
    encoding: String,
    rows: u64,
    added: u64,
    already_imported: u64,
    already_registered: u64,
    errors: Vec<ProblemRow>,
    ids: Vec<String>,
}

fn empty(s: &AppState, c: crate::pages::Ctx) -> ImportPage {
    let policy = s.mamori.policy();
    let lang = c.lang();
    let pick = |ja: &str, en: &str| {
        if lang == Lang::Ja {
            ja.to_string()
        } else {
            en.to_string()
        }
    };
    let channels = policy
        .channels
        .iter()
        .filter(|ch| !ch.automatic)
        .map(|ch| Choice {
            value: ch.id.clone(),
            text: format!("{} — {}", pick(&ch.ja, &ch.en), ch.categories.join(", ")),
        })
        .collect();
    let purposes = policy
        .purposes
        .iter()
        .map(|p| Choice {
            value: p.id.clone(),
            text: pick(&p.ja, &p.en),
        })
        .collect();
    ImportPage {
        c,
        channels,
        channel: String::new(),
        purposes,
        ran: false,
        encoding: String::new(),
        rows: 0,
        added: 0,
        already_imported: 0,
        already_registered: 0,
        errors: vec![],
        ids: vec![],
    }
}

async fn import_form(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/import", &q, Some(&st));
    page(StatusCode::OK, &empty(&s, c), set)
}

async fn import_run(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    mp: Multipart,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/import", &q, Some(&st));
    let (f, files) = match read_multipart(mp).await {
        Ok(x) => x,
        Err(e) => return error_page(&c, &e, "/console/import"),
    };
    if let Some(r) = checked(&c, &st, &f, "/console/import") {
        return r;
    }
    let Some((_, bytes)) = files
        .into_iter()
        .find(|(n, b)| n == "file" && !b.is_empty())
    else {
        return error_page(
            &c,
            &ServiceError::BadInput(
                "file: no file was chosen: choose the CSV file (header row = category ids)".into(),
            ),
            "/console/import",
        );
    };
    let consents: Vec<String> = field(&f, "consent")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    match s
        .mamori
        .import_csv(
            &st.actor,
            field(&f, "channel"),
            &bytes,
            &consents,
            field(&f, "special_care_consent") == "1",
            opt(&f, "evidence").as_deref(),
            &mut |_| {},
        )
        .await
    {
        Ok(r) => {
            let mut p = empty(&s, c);
            p.ran = true;
            p.channel = field(&f, "channel").to_string();
            p.encoding = r.encoding;
            p.rows = r.rows;
            p.added = r.added;
            p.already_imported = r.already_imported;
            p.already_registered = r.already_registered;
            p.errors = r
                .errors
                .into_iter()
                .map(|e| ProblemRow {
                    line: e.line,
                    field: e.field,
                    problem: e.problem,
                })
                .collect();
            p.ids = r.ids;
            // Bad rows only and nothing stored: the file as a whole was bad input.
            let status = if !p.errors.is_empty() && p.added == 0 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            page(status, &p, set)
        }
        Err(e) => error_page(&c, &e, "/console/import"),
    }
}
