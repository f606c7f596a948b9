//! The complaint desk (苦情受付窓口) and the calendar commands it rests on.
//!
//! Seed 003 Art. 23: complaints about the handling of personal information are handled properly
//! and promptly (1); the desk is the office staff (2) and answers Monday to Friday 10:00–16:00,
//! except national and substitute holidays and December 29 to January 3 (3); a complaint is
//! investigated promptly and the measures discussed with the staff concerned (4); the result is
//! notified to the complainant in writing where needed (5). Seed 000 Art. 11 names the contact
//! window that receives complaints.
//!
//! A complaint may be recorded at any time; one that arrives while the desk is closed counts
//! from the desk's next opening, and is to be answered within
//! `complaints.answer_within_business_days` business days of the policy's window from that
//! date ([`intake`]). What the complainant said, the investigation notes and the result may hold
//! personal information: they are sealed under the complaint's own data key (owner id = the
//! complaint id in the key store) and never written in clear, logged or echoed in errors. The
//! audit log gets every step with ids only (`complaint.open`, `.ack`, `.note`, `.close`,
//! `.read`, `.list`, `.notice`).
//!
//! The rules are the pure functions [`office_window`], [`intake`], [`answer_by`] and
//! [`is_overdue`]; time is their argument. The use cases take an optional `now` for tests.

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Timestamp};
use mamori_calendar::{ClosedPeriod, Holiday, JST, OfficeWindow, format_jst};
use mamori_policy::notice::escape_html;
use mamori_policy::{Action, Day, Lang, Policy, Window};
use mamori_store::complaints::{ComplaintNoteRow, ComplaintRow};
use mamori_store::crypto::{field_aad, random_hex, seal_with};
use mamori_store::{AuditDraft, Key32, Store};
use serde::Serialize;

use crate::{Actor, Mamori, Result, ServiceError};

/// How a complaint may arrive (`--channel`).
pub const CHANNELS: [&str; 5] = ["phone", "letter", "email", "visit", "portal"];

/// The longest summary, note or result accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// How far ahead of the clock a reception time may be (clocks of two machines differ a little).
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(10);

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(msg.into())
}

// ---- the policy's window as a calendar window (pure) -----------------------------------------

fn weekday(d: Day) -> Weekday {
    match d {
        Day::Mon => Weekday::Monday,
        Day::Tue => Weekday::Tuesday,
        Day::Wed => Weekday::Wednesday,
        Day::Thu => Weekday::Thursday,
        Day::Fri => Weekday::Friday,
        Day::Sat => Weekday::Saturday,
        Day::Sun => Weekday::Sunday,
    }
}

fn hh_mm(s: &str, key: &str) -> Result<Time> {
    let parsed = s.split_once(':').and_then(|(h, m)| {
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let h: i8 = h.parse().ok()?;
        let m: i8 = m.parse().ok()?;
        Time::new(h, m, 0, 0).ok()
    });
    parsed.ok_or_else(|| {
        bad(format!(
            "{key}: {s:?} is not a time: use HH:MM such as 10:00"
        ))
    })
}

fn mm_dd(s: &str, key: &str) -> Result<(i8, i8)> {
    let parsed = s.split_once('-').and_then(|(m, d)| {
        let m: i8 = m.parse().ok()?;
        let d: i8 = d.parse().ok()?;
        // Checked against a leap year so that 02-29 is a day of the year.
        Date::new(2028, m, d).ok().map(|_| (m, d))
    });
    parsed.ok_or_else(|| {
        bad(format!(
            "{key}: {s:?} is not a day of the year: use MM-DD such as 12-29"
        ))
    })
}

/// The policy's complaint window (seed 003 Art. 23(3)) as a calendar window: days, `HH:MM`
/// hours in Japan time (`opens` inclusive, `closes` exclusive), holidays, `MM-DD` closed periods.
///
/// # Errors
/// `BadInput` naming the key when a time or day is malformed (a checked policy never is).
pub fn office_window(w: &Window) -> Result<OfficeWindow> {
    let mut weekdays: Vec<Weekday> = Vec::with_capacity(w.days.len());
    for d in &w.days {
        let wd = weekday(*d);
        if !weekdays.contains(&wd) {
            weekdays.push(wd);
        }
    }
    let closed_periods = w
        .closed_periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(ClosedPeriod {
                from: mm_dd(
                    &p.from,
                    &format!("complaints.window.closed_periods[{i}].from"),
                )?,
                to: mm_dd(&p.to, &format!("complaints.window.closed_periods[{i}].to"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(OfficeWindow {
        weekdays,
        opens: hh_mm(&w.opens, "complaints.window.opens")?,
        closes: hh_mm(&w.closes, "complaints.window.closes")?,
        closed_on_holidays: w.closed_on_holidays,
        closed_periods,
    })
}

/// The complaint window of a built-in preset (`tokyo-one` is seed 003 Art. 23's).
///
/// # Errors
/// `BadInput` naming `--preset` when there is no such preset.
pub fn preset_window(name: &str) -> Result<OfficeWindow> {
    let text = mamori_policy::preset(name).ok_or_else(|| {
        bad(format!(
            "--preset: {name:?} is not a preset: use chiba-ia or tokyo-one"
        ))
    })?;
    let policy = Policy::parse(text, name).map_err(|e| ServiceError::Failed(e.to_string()))?;
    office_window(&policy.complaints.window)
}

// ---- the rules (pure) ------------------------------------------------------------------------

/// When a complaint counts from and when it is to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    /// The desk was open when the complaint arrived.
    pub window_open: bool,
    /// The arrival itself when the desk was open, else the desk's next opening
    /// (seed 003 Art. 23(3)).
    pub counted_from: Timestamp,
    /// The Japan date by which the result is due (seed 003 Art. 23(1), "迅速な処理").
    pub answer_by: Date,
}

/// The date a complaint counted from `counted_from` is to be answered by: its Japan date plus
/// `business_days` days on which the desk opens (seed 003 Art. 23(1) and (3)).
pub fn answer_by(window: &OfficeWindow, counted_from: Timestamp, business_days: u32) -> Date {
    let day = JST.to_datetime(counted_from).date();
    window.add_business_days(day, i64::from(business_days))
}

/// Seed 003 Art. 23(3): a complaint received while the desk is closed counts from the next
/// opening; Art. 23(1): it is answered within `business_days` business days of that.
pub fn intake(window: &OfficeWindow, received_at: Timestamp, business_days: u32) -> Intake {
    let window_open = window.is_open(received_at);
    let counted_from = window.counted_from(received_at);
    Intake {
        window_open,
        counted_from,
        answer_by: answer_by(window, counted_from, business_days),
    }
}

/// A complaint is overdue when it is not closed and its answer-by date is before `today` (a Japan
/// date): the whole answer-by day is still in time, and a closed complaint is never overdue
/// (seed 003 Art. 23(1)).
pub fn is_overdue(closed: bool, answer_by: Date, today: Date) -> bool {
    !closed && answer_by < today
}

/// The Japan date at `now`.
pub fn japan_date(now: Timestamp) -> Date {
    JST.to_datetime(now).date()
}

// ---- the calendar commands (pure: `mamori calendar …`, `GET /api/v1/calendar/…`) ---------------

/// `calendar holidays YEAR`: every holiday of the year, `[{"date", "name", "kind"}]`.
///
/// # Errors
/// `BadInput` naming `field` when `year` is not a year from 1948 to 2150.
pub fn holidays(year: &str, field: &str) -> Result<Vec<Holiday>> {
    let range = || {
        bad(format!(
            "{field}: not a year this calendar knows: give one from {} to {}",
            mamori_calendar::FIRST_YEAR,
            mamori_calendar::LAST_YEAR
        ))
    };
    let y: i16 = year.trim().parse().map_err(|_| range())?;
    mamori_calendar::holidays(y).map_err(|_| range())
}

/// Whether a window is open at a moment, and when it next opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowState {
    pub open: bool,
    /// RFC 3339, Japan time; `null` while open (or when the window never opens).
    pub next_open: Option<String>,
}

/// Parses a time argument; the message names `field` and does not echo the input.
///
/// # Errors
/// `BadInput` naming `field`.
pub fn parse_time_arg(s: &str, field: &str) -> Result<Timestamp> {
    mamori_calendar::parse_time(s).map_err(|_| {
        bad(format!(
            "{field}: not an RFC 3339 time: use e.g. 2026-04-01T10:00:00+09:00 (a time without an offset is Japan time)"
        ))
    })
}

/// `calendar window --at TIME`.
///
/// # Errors
/// `BadInput` naming `field` when `at` is not a time.
pub fn window_at(window: &OfficeWindow, at: &str, field: &str) -> Result<WindowState> {
    let ts = parse_time_arg(at, field)?;
    let open = window.is_open(ts);
    Ok(WindowState {
        open,
        next_open: if open {
            None
        } else {
            window.next_open(ts).map(format_jst)
        },
    })
}

/// `calendar add-business-days DATE N` → `{"date"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusinessDate {
    pub date: String,
}

/// `calendar add-business-days DATE N`: the N-th plain business day after DATE (Monday to
/// Friday, not a holiday, not December 29 to January 3).
///
/// # Errors
/// `BadInput` naming `date_field` or `n_field`.
pub fn add_business_days(
    date: &str,
    n: &str,
    date_field: &str,
    n_field: &str,
) -> Result<BusinessDate> {
    let d = mamori_calendar::parse_date(date).map_err(|_| {
        bad(format!(
            "{date_field}: not a date: use YYYY-MM-DD such as 2026-04-01"
        ))
    })?;
    let count: i64 = n.trim().parse().map_err(|_| {
        bad(format!(
            "{n_field}: not a whole number: give the number of business days, 0 or more"
        ))
    })?;
    let out = mamori_calendar::add_business_days(d, count).map_err(|e| match e {
        mamori_calendar::CalendarError::NegativeBusinessDays { .. } => bad(format!(
            "{n_field}: is negative: give the number of business days, 0 or more"
        )),
        mamori_calendar::CalendarError::YearOutOfRange { .. } => bad(format!(
            "{date_field}: outside the years this calendar knows: give a date from {} to {}",
            mamori_calendar::FIRST_YEAR,
            mamori_calendar::LAST_YEAR
        )),
        _ => bad(format!(
            "{n_field}: the result goes past {}, the last year with known holidays: give a smaller number",
            mamori_calendar::LAST_YEAR
        )),
    })?;
    Ok(BusinessDate {
        date: out.to_string(),
    })
}

// ---- the written notice (pure) -----------------------------------------------------------------

/// What the written notice of the result says (seed 003 Art. 23(5)).
#[derive(Debug, Clone)]
pub struct NoticeFacts<'a> {
    pub id: &'a str,
    pub received_at: Timestamp,
    pub counted_from: Timestamp,
    pub answer_by: Date,
    pub closed_on: Date,
    pub result: &'a str,
    /// The date of the notice.
    pub today: Date,
}

fn date_text(d: Date, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match lang {
        Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Lang::En => {
            let month = usize::try_from(d.month() - 1)
                .ok()
                .and_then(|i| MONTHS.get(i))
                .copied()
                .unwrap_or("");
            format!("{} {month} {}", d.day(), d.year())
        }
    }
}

fn time_text(ts: Timestamp, lang: Lang) -> String {
    let dt = JST.to_datetime(ts);
    match lang {
        Lang::Ja => format!(
            "{} {:02}時{:02}分",
            date_text(dt.date(), lang),
            dt.hour(),
            dt.minute()
        ),
        Lang::En => format!(
            "{}, {:02}:{:02} (Japan time)",
            date_text(dt.date(), lang),
            dt.hour(),
            dt.minute()
        ),
    }
}

fn paragraphs(s: &str) -> String {
    s.lines()
        .map(escape_html)
        .collect::<Vec<_>>()
        .join("<br>\n")
}

const NOTICE_CSS: &str = "body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;line-height:1.7;color:#111;margin:0}main{max-width:42rem;margin:2rem auto;padding:0 1.5rem}h1{font-size:1.4rem;text-align:center;margin:2rem 0}.date,.from{text-align:right}.center{text-align:center}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.2rem}dt{font-weight:600}.result{border:1px solid #999;padding:.8rem 1rem;white-space:normal}@media print{main{margin:0;max-width:none}body{font-size:11pt}}";

/// The written notice of the result to the complainant (seed 003 Art. 23(5)): a printable HTML
/// page in Japanese or English with the organization's name, address and contact, the dates and
/// the result. Everything from the policy and the result is HTML-escaped.
pub fn render_notice(policy: &Policy, f: &NoticeFacts<'_>, lang: Lang) -> String {
    let org = &policy.organization;
    let tr = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => ja,
        Lang::En => en,
    };
    let title = tr(
        "苦情処理結果のお知らせ",
        "Notice of the Result of Your Complaint",
    );
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{NOTICE_CSS}</style>\n</head>\n<body>\n<main>\n",
        tr("ja", "en"),
        escape_html(title)
    ));
    h.push_str(&format!(
        "<p class=\"date\">{}</p>\n",
        escape_html(&date_text(f.today, lang))
    ));
    h.push_str(&format!(
        "<p class=\"to\">{}</p>\n",
        tr(
            "苦情をお申し出いただいた方へ",
            "To the person who made the complaint"
        )
    ));
    h.push_str(&format!(
        "<p class=\"from\">{}<br>\n{}<br>\n{}</p>\n",
        escape_html(org.name.get(lang)),
        escape_html(org.address.get(lang)),
        escape_html(&format!("{} {}", tr("電話", "Tel."), org.phone))
    ));
    h.push_str(&format!("<h1>{}</h1>\n", escape_html(title)));
    let intro = match lang {
        Lang::Ja => format!(
            "{}に受け付けました個人情報の取扱いに関する苦情(受付番号 {})について、調査の結果を下記のとおりお知らせいたします。",
            date_text(JST.to_datetime(f.received_at).date(), lang),
            f.id
        ),
        Lang::En => format!(
            "We write about the complaint concerning the handling of personal information that we received on {} (reference {}). Having investigated it, we inform you of the result below.",
            date_text(JST.to_datetime(f.received_at).date(), lang),
            f.id
        ),
    };
    h.push_str(&format!("<p>{}</p>\n", escape_html(&intro)));
    h.push_str(&format!(
        "<p class=\"center\">{}</p>\n<dl>\n",
        tr("記", "Details")
    ));
    let rows = [
        (tr("受付番号", "Reference"), f.id.to_string()),
        (tr("受付日時", "Received"), time_text(f.received_at, lang)),
        (
            tr("処理の起算日時", "Counted from"),
            time_text(f.counted_from, lang),
        ),
        (
            tr("回答期限", "To be answered by"),
            date_text(f.answer_by, lang),
        ),
        (
            tr("処理完了日", "Concluded on"),
            date_text(f.closed_on, lang),
        ),
    ];
    for (k, v) in rows {
        h.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            escape_html(k),
            escape_html(&v)
        ));
    }
    h.push_str("</dl>\n");
    h.push_str(&format!(
        "<h2>{}</h2>\n<div class=\"result\"><p>{}</p></div>\n",
        tr("処理の結果", "Result"),
        paragraphs(f.result)
    ));
    h.push_str(&format!(
        "<h2>{}</h2>\n<p>{}<br>\n{}</p>\n",
        tr("お問い合わせ先", "Contact"),
        escape_html(policy.complaints.contact.get(lang)),
        escape_html(org.contact_window.get(lang))
    ));
    h.push_str(&format!("<p class=\"from\">{}</p>\n", tr("以上", "")));
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

// ---- the use cases -----------------------------------------------------------------------------

/// `complaint open`.
#[derive(Debug, Clone, Default)]
pub struct NewComplaint {
    /// RFC 3339; without an offset, Japan time.
    pub received_at: String,
    /// What the complainant said (may hold personal information: sealed).
    pub summary: String,
    /// The principal the complaint concerns, when known.
    pub principal: Option<String>,
    /// `phone`, `letter`, `email`, `visit` or `portal`.
    pub channel: Option<String>,
}

/// `complaint open` → `{"id", "received_at", "window_open", "counted_from", "answer_by"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opened {
    pub id: String,
    pub received_at: String,
    pub window_open: bool,
    pub counted_from: String,
    pub answer_by: String,
}

/// A complaint as listed: ids, dates and status, no personal values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintInfo {
    pub id: String,
    pub received_at: String,
    pub window_open: bool,
    pub counted_from: String,
    pub answer_by: String,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    /// Not closed and due before today in Japan.
    pub overdue: bool,
    pub principal: Option<String>,
    pub channel: Option<String>,
    pub opened_by: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

/// One investigation note, opened (seed 003 Art. 23(4)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: String,
    pub at: String,
    pub staff: String,
    /// The staff consulted, as logins.
    pub consulted: Vec<String>,
    pub text: String,
}

/// `complaint show`: the complaint with its summary, notes and result opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintDetail {
    #[serde(flatten)]
    pub info: ComplaintInfo,
    pub summary: String,
    pub notes: Vec<Note>,
    pub result: Option<String>,
}

/// `complaint note` → the note's id and the staff consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteAdded {
    pub complaint_id: String,
    pub note_id: String,
    pub at: String,
    pub consulted: Vec<String>,
}

fn info(row: &ComplaintRow, today: Date) -> ComplaintInfo {
    let due = row.answer_by.parse::<Date>().ok();
    ComplaintInfo {
        id: row.id.clone(),
        received_at: row.received_at.clone(),
        window_open: row.window_open,
        counted_from: row.counted_from.clone(),
        answer_by: row.answer_by.clone(),
        status: row.status.clone(),
        overdue: due.is_some_and(|d| is_overdue(row.status == "closed", d, today)),
        principal: row.principal_id.clone(),
        channel: row.channel.clone(),
        opened_by: row.opened_by.clone(),
        acknowledged_at: row.acknowledged_at.clone(),
        acknowledged_by: row.acknowledged_by.clone(),
        closed_at: row.closed_at.clone(),
        closed_by: row.closed_by.clone(),
    }
}

/// A complaint's text field: present, not too long, no card number. The message names the
/// field and never echoes the text.
fn check_text(text: &str, field: &str) -> Result<String> {
    crate::sealed_text::check(text, field, MAX_TEXT_CHARS, "write what it is about")
}

const SUMMARY: &str = "complaint_summary";
const RESULT: &str = "complaint_result";
const NOTE: &str = "complaint_note";

/// A new complaint's id: `c_` and 16 hex digits.
pub fn new_complaint_id() -> String {
    format!("c_{}", random_hex(8))
}

fn open_text(dk: &Key32, ct: &[u8], id: &str, record: &str, what: &str) -> Result<String> {
    crate::sealed_text::open("complaint", dk, ct, id, record, what)
}

impl Mamori {
    /// The complaint window of the policy in effect (seed 003 Art. 23(3)).
    ///
    /// # Errors
    /// `Failed` when the stored policy's window is malformed (a checked policy never is).
    pub fn complaint_window(&self) -> Result<OfficeWindow> {
        office_window(&self.policy().complaints.window)
            .map_err(|e| ServiceError::Failed(format!("the policy in effect: {e}")))
    }

    async fn complaint_row(&self, id: &str) -> Result<ComplaintRow> {
        self.store.complaint(id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "ID: there is no complaint {id}: `complaint list --as LOGIN` shows them"
            ))
        })
    }

    fn not_closed(row: &ComplaintRow) -> Result<()> {
        if row.status == "closed" {
            return Err(bad(format!(
                "ID: complaint {} is closed: its result is recorded and it takes no more steps",
                row.id
            )));
        }
        Ok(())
    }

    /// `complaint open`: record a complaint at any time; it counts from the desk's next opening
    /// when it arrives while the desk is closed (seed 003 Art. 23(3)), and gets its answer-by
    /// date from the policy (Art. 23(1)). Checks everything before anything is stored.
    pub async fn complaint_open(
        &self,
        actor: &Actor,
        new: NewComplaint,
        now: Option<Timestamp>,
    ) -> Result<Opened> {
        self.require(actor, Action::Complaints, "complaint.open")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let received = parse_time_arg(&new.received_at, "--received-at")?;
        if now
            .checked_add(CLOCK_SKEW)
            .is_ok_and(|limit| received > limit)
        {
            return Err(bad(
                "--received-at: is in the future: give the time the complaint arrived",
            ));
        }
        if JST.to_datetime(received).year() < mamori_calendar::FIRST_YEAR {
            return Err(bad(format!(
                "--received-at: before {}, the first year with known holidays: give the time the complaint arrived",
                mamori_calendar::FIRST_YEAR
            )));
        }
        let summary = check_text(&new.summary, "--summary")?;
        let channel = match new.channel.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if CHANNELS.contains(&c) => Some(c.to_string()),
            Some(_) => {
                return Err(bad(format!(
                    "--channel: not a way a complaint arrives: use one of {}",
                    CHANNELS.join(", ")
                )));
            }
        };
        let principal = match new.principal.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => match self.store.principal(p).await? {
                Some(row) if row.status == "active" => Some(row.id),
                Some(_) => {
                    return Err(bad(format!(
                        "--principal: principal {p} was erased: record the complaint without --principal"
                    )));
                }
                None => {
                    return Err(bad(format!(
                        "--principal: there is no {}: check the id, or leave --principal out",
                        crate::principal_ref(p)
                    )));
                }
            },
        };
        let policy = self.policy();
        let window = self.complaint_window()?;
        let due = intake(
            &window,
            received,
            policy.complaints.answer_within_business_days,
        );

        let id = new_complaint_id();
        let (dk, wrapped) = self.store.keys().new_data_key(&id)?;
        self.store.put_data_key(&id, &wrapped).await?;
        self.store.keys().remember(&id, &dk);
        let summary_ct = seal_with(&dk, summary.as_bytes(), &field_aad(&id, &id, SUMMARY))?;
        let row = ComplaintRow {
            id: id.clone(),
            principal_id: principal.clone(),
            channel: channel.clone(),
            received_at: format_jst(received),
            window_open: due.window_open,
            counted_from: format_jst(due.counted_from),
            answer_by: due.answer_by.to_string(),
            status: "open".into(),
            summary_ct,
            opened_by: actor.login.clone(),
            opened_at: format_jst(now),
            acknowledged_at: None,
            acknowledged_by: None,
            result_ct: None,
            closed_at: None,
            closed_by: None,
            policy_version: self.policy_version(),
        };
        self.store
            .write(
                vec![Store::insert_complaint(&row)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "complaint.open".into(),
                    principal_id: principal,
                    categories: vec![SUMMARY.into()],
                    decision: "done".into(),
                    detail: serde_json::json!({
                        "complaint": id,
                        "channel": channel,
                        "window_open": row.window_open,
                        "counted_from": row.counted_from,
                        "answer_by": row.answer_by,
                    }),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(Opened {
            id,
            received_at: row.received_at,
            window_open: row.window_open,
            counted_from: row.counted_from,
            answer_by: row.answer_by,
        })
    }

    /// `complaint ack ID`: the desk acknowledges the complaint (once).
    pub async fn complaint_ack(
        &self,
        actor: &Actor,
        id: &str,
        now: Option<Timestamp>,
    ) -> Result<ComplaintInfo> {
        self.require(actor, Action::Complaints, "complaint.ack")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.complaint_row(id).await?;
        Self::not_closed(&row)?;
        if row.status != "open" {
            return Err(bad(format!(
                "ID: complaint {id} is already acknowledged: add notes with `complaint note` or close it"
            )));
        }
        let at = format_jst(now);
        self.store
            .write(
                vec![Store::acknowledge_complaint(id, &actor.login, &at)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "complaint.ack".into(),
                    principal_id: row.principal_id.clone(),
                    decision: "done".into(),
                    detail: serde_json::json!({"complaint": id}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.complaint_row(id).await?;
        Ok(info(&row, japan_date(now)))
    }

    /// `complaint note ID --text TEXT [--consulted LOGIN]...`: an investigation note and the
    /// staff consulted about the measures (seed 003 Art. 23(4)).
    pub async fn complaint_note(
        &self,
        actor: &Actor,
        id: &str,
        text: &str,
        consulted: &[String],
        now: Option<Timestamp>,
    ) -> Result<NoteAdded> {
        self.require(actor, Action::Complaints, "complaint.note")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.complaint_row(id).await?;
        Self::not_closed(&row)?;
        let text = check_text(text, "--text")?;
        let mut logins: Vec<String> = Vec::with_capacity(consulted.len());
        for login in consulted {
            let login = login.trim();
            if self.store.staff(login).await?.is_none() {
                return Err(bad(format!(
                    "--consulted: there is no staff member {login:?}: give the login of a staff member (`staff list`)"
                )));
            }
            if !logins.iter().any(|l| l == login) {
                logins.push(login.to_string());
            }
        }
        let dk = self.store.data_key(id).await?;
        let note_id = format!("n_{}", random_hex(8));
        let text_ct = seal_with(&dk, text.as_bytes(), &field_aad(id, &note_id, NOTE))?;
        let at = format_jst(now);
        let note = ComplaintNoteRow {
            id: note_id.clone(),
            complaint_id: id.to_string(),
            at: at.clone(),
            staff: actor.login.clone(),
            consulted: logins.clone(),
            text_ct,
        };
        self.store
            .write(
                vec![Store::insert_complaint_note(&note)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "complaint.note".into(),
                    principal_id: row.principal_id.clone(),
                    categories: vec![NOTE.into()],
                    decision: "done".into(),
                    detail: serde_json::json!({"complaint": id, "note": note_id, "consulted": logins}),
                    ..Default::default()
                }],
            )
            .await?;
        Ok(NoteAdded {
            complaint_id: id.to_string(),
            note_id,
            at,
            consulted: logins,
        })
    }

    /// `complaint close ID --result TEXT`: the result, and the complaint is closed.
    pub async fn complaint_close(
        &self,
        actor: &Actor,
        id: &str,
        result: &str,
        now: Option<Timestamp>,
    ) -> Result<ComplaintInfo> {
        self.require(actor, Action::Complaints, "complaint.close")
            .await?;
        let now = now.unwrap_or_else(Timestamp::now);
        let row = self.complaint_row(id).await?;
        Self::not_closed(&row)?;
        let result = check_text(result, "--result")?;
        let dk = self.store.data_key(id).await?;
        let ct = seal_with(&dk, result.as_bytes(), &field_aad(id, id, RESULT))?;
        let at = format_jst(now);
        let on_time = row
            .answer_by
            .parse::<Date>()
            .is_ok_and(|d| japan_date(now) <= d);
        self.store
            .write(
                vec![Store::close_complaint(id, &actor.login, &at, ct)],
                vec![AuditDraft {
                    actor: actor.login.clone(),
                    action: "complaint.close".into(),
                    principal_id: row.principal_id.clone(),
                    categories: vec![RESULT.into()],
                    decision: "done".into(),
                    detail: serde_json::json!({"complaint": id, "answer_by": row.answer_by, "on_time": on_time}),
                    ..Default::default()
                }],
            )
            .await?;
        let row = self.complaint_row(id).await?;
        Ok(info(&row, japan_date(now)))
    }

    /// `complaint list [--overdue]`: every complaint, or those not closed whose answer-by date
    /// is before today in Japan. Ids, dates and status only.
    pub async fn complaint_list(
        &self,
        actor: &Actor,
        overdue_only: bool,
        now: Option<Timestamp>,
    ) -> Result<Vec<ComplaintInfo>> {
        self.require(actor, Action::Complaints, "complaint.list")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let due_before = today.to_string();
        let rows = self
            .store
            .complaints(overdue_only.then_some(due_before.as_str()))
            .await?;
        let list: Vec<ComplaintInfo> = rows.iter().map(|r| info(r, today)).collect();
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "complaint.list".into(),
                decision: "allow".into(),
                detail: serde_json::json!({"overdue": overdue_only, "count": list.len()}),
                ..Default::default()
            }])
            .await?;
        Ok(list)
    }

    /// `complaint show ID`: the complaint with its summary, notes and result, opened after the
    /// read is durably audited.
    pub async fn complaint_show(
        &self,
        actor: &Actor,
        id: &str,
        now: Option<Timestamp>,
    ) -> Result<ComplaintDetail> {
        self.require(actor, Action::Complaints, "complaint.read")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let row = self.complaint_row(id).await?;
        let notes = self.store.complaint_notes(id).await?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "complaint.read".into(),
                principal_id: row.principal_id.clone(),
                categories: vec![SUMMARY.into(), NOTE.into(), RESULT.into()],
                decision: "allow".into(),
                detail: serde_json::json!({"complaint": id}),
                ..Default::default()
            }])
            .await?;
        let dk = self.store.data_key(id).await?;
        let summary = open_text(&dk, &row.summary_ct, id, id, SUMMARY)?;
        let result = row
            .result_ct
            .as_deref()
            .map(|ct| open_text(&dk, ct, id, id, RESULT))
            .transpose()?;
        let notes = notes
            .iter()
            .map(|n| {
                Ok(Note {
                    id: n.id.clone(),
                    at: n.at.clone(),
                    staff: n.staff.clone(),
                    consulted: n.consulted.clone(),
                    text: open_text(&dk, &n.text_ct, id, &n.id, NOTE)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ComplaintDetail {
            info: info(&row, today),
            summary,
            notes,
            result,
        })
    }

    /// `complaint notice ID [--lang ja|en]`: the written notice of the result to the
    /// complainant (seed 003 Art. 23(5)), printable HTML. Only a closed complaint has one.
    pub async fn complaint_notice(
        &self,
        actor: &Actor,
        id: &str,
        lang: Lang,
        now: Option<Timestamp>,
    ) -> Result<String> {
        self.require(actor, Action::Complaints, "complaint.notice")
            .await?;
        let today = japan_date(now.unwrap_or_else(Timestamp::now));
        let row = self.complaint_row(id).await?;
        let (Some(result_ct), Some(closed_at)) =
            (row.result_ct.as_deref(), row.closed_at.as_deref())
        else {
            return Err(bad(format!(
                "ID: complaint {id} has no result yet: record it with `complaint close ID --result TEXT` first"
            )));
        };
        let stored_time = |s: &str, what: &str| {
            mamori_calendar::parse_time(s).map_err(|_| {
                ServiceError::Failed(format!("complaint {id}: the stored {what} is not a time"))
            })
        };
        let received_at = stored_time(&row.received_at, "received_at")?;
        let counted_from = stored_time(&row.counted_from, "counted_from")?;
        let closed = stored_time(closed_at, "closed_at")?;
        let answer_by = row.answer_by.parse::<Date>().map_err(|_| {
            ServiceError::Failed(format!(
                "complaint {id}: the stored answer_by is not a date"
            ))
        })?;
        self.store
            .audit(vec![AuditDraft {
                actor: actor.login.clone(),
                action: "complaint.notice".into(),
                principal_id: row.principal_id.clone(),
                categories: vec![RESULT.into()],
                decision: "allow".into(),
                detail: serde_json::json!({"complaint": id, "lang": lang}),
                ..Default::default()
            }])
            .await?;
        let dk = self.store.data_key(id).await?;
        let result = open_text(&dk, result_ct, id, id, RESULT)?;
        let policy = self.policy();
        Ok(render_notice(
            &policy,
            &NoticeFacts {
                id,
                received_at,
                counted_from,
                answer_by,
                closed_on: japan_date(closed),
                result: &result,
                today,
            },
            lang,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        mamori_calendar::parse_time(s).unwrap()
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn tokyo_one() -> Policy {
        Policy::parse(mamori_policy::preset("tokyo-one").unwrap(), "tokyo-one").unwrap()
    }

    #[test]
    fn the_tokyo_one_policy_window_is_the_calendar_window_of_article_23() {
        // Seed 003 Art. 23(3): Mon–Fri 10:00–16:00, holidays, 12-29..01-03.
        assert_eq!(
            office_window(&tokyo_one().complaints.window).unwrap(),
            OfficeWindow::tokyo_one()
        );
        assert_eq!(
            preset_window("tokyo-one").unwrap(),
            OfficeWindow::tokyo_one()
        );
        let chiba = preset_window("chiba-ia").unwrap();
        assert_eq!(chiba.opens, Time::constant(9, 0, 0, 0));
        assert_eq!(chiba.closes, Time::constant(17, 0, 0, 0));
        assert!(
            preset_window("osaka")
                .unwrap_err()
                .to_string()
                .starts_with("--preset:")
        );
    }

    #[test]
    fn a_malformed_window_is_refused_naming_the_key() {
        let mut w = tokyo_one().complaints.window;
        w.opens = "10h".into();
        assert!(
            office_window(&w)
                .unwrap_err()
                .to_string()
                .starts_with("complaints.window.opens:")
        );
        let mut w = tokyo_one().complaints.window;
        w.closed_periods[0].to = "02-30".into();
        assert!(
            office_window(&w)
                .unwrap_err()
                .to_string()
                .starts_with("complaints.window.closed_periods[0].to:")
        );
    }

    #[test]
    fn a_complaint_inside_the_window_counts_from_its_arrival() {
        // Seed 003 Art. 23(3), (1). Wednesday 2026-04-01 11:00; ten business days later is
        // Wednesday 04-15.
        let i = intake(
            &OfficeWindow::tokyo_one(),
            at("2026-04-01T11:00:00+09:00"),
            10,
        );
        assert!(i.window_open);
        assert_eq!(i.counted_from, at("2026-04-01T11:00:00+09:00"));
        assert_eq!(i.answer_by, d("2026-04-15"));
    }

    #[test]
    fn the_window_edges_of_article_23_are_ten_inclusive_and_sixteen_exclusive() {
        let w = OfficeWindow::tokyo_one();
        let i = intake(&w, at("2026-04-01T09:59:59+09:00"), 10);
        assert!(!i.window_open);
        assert_eq!(i.counted_from, at("2026-04-01T10:00:00+09:00"));
        assert!(intake(&w, at("2026-04-01T10:00:00+09:00"), 10).window_open);
        assert!(intake(&w, at("2026-04-01T15:59:59+09:00"), 10).window_open);
        let i = intake(&w, at("2026-04-01T16:00:00+09:00"), 10);
        assert!(!i.window_open);
        assert_eq!(i.counted_from, at("2026-04-02T10:00:00+09:00"));
        assert_eq!(i.answer_by, d("2026-04-16"));
    }

    #[test]
    fn a_friday_evening_complaint_counts_from_after_the_weekend_and_a_monday_holiday() {
        // 2026-11-23 (Mon) is Labour Thanksgiving Day: the desk next opens Tuesday 11-24.
        let i = intake(
            &OfficeWindow::tokyo_one(),
            at("2026-11-20T16:30:00+09:00"),
            10,
        );
        assert!(!i.window_open);
        assert_eq!(i.counted_from, at("2026-11-24T10:00:00+09:00"));
        assert_eq!(i.answer_by, d("2026-12-08"));
    }

    #[test]
    fn the_year_end_closure_moves_both_the_start_and_the_answer_by_date() {
        // Seed 003 Art. 23(3)(2): closed 12-29..01-03; 2027-01-11 is Coming of Age Day.
        let w = OfficeWindow::tokyo_one();
        let i = intake(&w, at("2026-12-28T15:00:00+09:00"), 10);
        assert!(i.window_open);
        assert_eq!(i.answer_by, d("2027-01-18"));
        let i = intake(&w, at("2026-12-28T16:00:00+09:00"), 10);
        assert_eq!(i.counted_from, at("2027-01-04T10:00:00+09:00"));
        assert_eq!(i.answer_by, d("2027-01-19"));
        let i = intake(&w, at("2027-01-03T12:00:00+09:00"), 0);
        assert_eq!(i.counted_from, at("2027-01-04T10:00:00+09:00"));
        assert_eq!(i.answer_by, d("2027-01-04"));
    }

    #[test]
    fn golden_week_holidays_are_not_business_days() {
        // 04-29 Showa Day, 05-03 (Sun) .. 05-05, 05-06 substitute holiday.
        let i = intake(
            &OfficeWindow::tokyo_one(),
            at("2026-04-24T11:00:00+09:00"),
            10,
        );
        assert_eq!(i.answer_by, d("2026-05-14"));
    }

    #[test]
    fn overdue_means_not_closed_and_due_before_today() {
        assert!(!is_overdue(false, d("2026-05-14"), d("2026-05-14")));
        assert!(is_overdue(false, d("2026-05-14"), d("2026-05-15")));
        assert!(!is_overdue(true, d("2026-05-14"), d("2027-01-01")));
        assert_eq!(japan_date(at("2026-05-14T15:00:00Z")), d("2026-05-15"));
    }

    #[test]
    fn calendar_commands_answer_and_name_the_argument_when_wrong() {
        let h = holidays("2026", "YEAR").unwrap();
        assert_eq!(h[0].date, d("2026-01-01"));
        assert!(
            holidays("1947", "YEAR")
                .unwrap_err()
                .to_string()
                .starts_with("YEAR:")
        );
        assert!(
            holidays("abc", "YEAR")
                .unwrap_err()
                .to_string()
                .starts_with("YEAR:")
        );

        let w = OfficeWindow::tokyo_one();
        assert_eq!(
            window_at(&w, "2026-04-01T09:59:00", "--at").unwrap(),
            WindowState {
                open: false,
                next_open: Some("2026-04-01T10:00:00+09:00".into())
            }
        );
        assert_eq!(
            window_at(&w, "2026-04-01T10:00:00", "--at").unwrap(),
            WindowState {
                open: true,
                next_open: None
            }
        );
        let e = window_at(&w, "soon", "--at").unwrap_err().to_string();
        assert!(e.starts_with("--at:") && !e.contains("soon"), "{e}");

        assert_eq!(
            add_business_days("2026-12-28", "1", "DATE", "N")
                .unwrap()
                .date,
            "2027-01-04"
        );
        assert!(
            add_business_days("2026-13-01", "1", "DATE", "N")
                .unwrap_err()
                .to_string()
                .starts_with("DATE:")
        );
        assert!(
            add_business_days("2026-12-28", "-1", "DATE", "N")
                .unwrap_err()
                .to_string()
                .starts_with("N:")
        );
        assert!(
            add_business_days("2026-12-28", "x", "DATE", "N")
                .unwrap_err()
                .to_string()
                .starts_with("N:")
        );
        assert!(
            add_business_days("2150-12-28", "10", "DATE", "N")
                .unwrap_err()
                .to_string()
                .starts_with("N:")
        );
    }

    #[test]
    fn text_checks_name_the_field_and_never_echo_the_text() {
        let e = check_text("  ", "--summary").unwrap_err().to_string();
        assert!(e.starts_with("--summary: is empty"));
        let e = check_text("card 4242 4242 4242 4242", "--note")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--note:") && !e.contains("4242"), "{e}");
        let long = "あ".repeat(MAX_TEXT_CHARS + 1);
        assert!(check_text(&long, "--result").is_err());
        assert_eq!(check_text(" ok ", "--result").unwrap(), "ok");
    }

    #[test]
    fn the_notice_is_escaped_printable_html_with_the_dates_and_the_contact() {
        let p = tokyo_one();
        let f = NoticeFacts {
            id: "c_0123456789abcdef",
            received_at: at("2026-11-20T16:30:00+09:00"),
            counted_from: at("2026-11-24T10:00:00+09:00"),
            answer_by: d("2026-12-08"),
            closed_on: d("2026-12-01"),
            result: "We corrected the record <b>and</b> apologise.\nSecond line",
            today: d("2026-12-02"),
        };
        let ja = render_notice(&p, &f, Lang::Ja);
        assert!(ja.starts_with("<!doctype html>\n<html lang=\"ja\">"));
        for s in [
            "苦情処理結果のお知らせ",
            "Tokyo One日本語学校",
            "2026年11月20日 16時30分",
            "2026年11月24日 10時00分",
            "2026年12月8日",
            "2026年12月1日",
            "2026年12月2日",
            "043-330-3300",
            "苦情受付窓口",
            "c_0123456789abcdef",
            "&lt;b&gt;and&lt;/b&gt;",
            "<br>\nSecond line",
            "@media print",
        ] {
            assert!(ja.contains(s), "{s} missing");
        }
        assert!(!ja.contains("<b>") && !ja.contains("<script"));
        let en = render_notice(&p, &f, Lang::En);
        assert!(en.starts_with("<!doctype html>\n<html lang=\"en\">"));
        for s in [
            "Notice of the Result of Your Complaint",
            "Tokyo One Japanese Language School",
            "20 November 2026, 16:30 (Japan time)",
            "8 December 2026",
            "Complaint window of Tokyo One",
        ] {
            assert!(en.contains(s), "{s} missing");
        }
    }
}
