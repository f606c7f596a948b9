//! `/console/incidents…`: breach (漏えい等) response with the PPC's deadlines, the same use cases
//! as `mamori incident …` ([`mamori_service::incident`]). Any staff member reports a breach to
//! the manager from the list page (seed 003 Art. 7(3)); the list, the detail page and every
//! later step — re-assessing the facts, recording containment, investigation, damage, recovery
//! and prevention, the principals affected, the notice to them or a substitute measure, the
//! reports sent to the PPC and the closing — are the manager's (Art. 13(2); APPI 26, PPC rules
//! 7-10), refused by the service with its rule otherwise. Descriptions and step texts are in
//! POST bodies only and stored sealed.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use mamori_policy::Lang;
use mamori_service::ServiceError;
use mamori_service::incident::{self, IncidentInfo, NoticeMethod, Stage, StepKind};
use serde::Deserialize;

use super::{Choice, Fields, Staff, checked, ctx, field, opt, page, safe_id};
use crate::AppState;
use crate::pages::{Ctx, LangQuery, document, error_page, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/incidents", get(incidents).post(incident_open))
        .route("/console/incidents/{id}", get(incident_page))
        .route("/console/incidents/{id}/report", get(incident_report))
        .route("/console/incidents/{id}/notice", get(incident_notice))
        .route("/console/incidents/{id}/{step}", post(incident_step))
}

/// The facts of the form as the JSON object the service reads (DESIGN.md `incident assess`);
/// the service names a missing or bad fact.
fn facts_of(f: &Fields, description: bool) -> Result<serde_json::Value, ServiceError> {
    let mut o = serde_json::Map::new();
    if let Some(d) = opt(f, "discovered_on") {
        o.insert("discovered_on".into(), d.into());
    }
    if let Some(n) = opt(f, "principals_affected") {
        let n: u64 = n.parse().map_err(|_| {
            ServiceError::BadInput(
                "principals_affected: not a whole number: give the number of people whose data is affected, 0 or more".into(),
            )
        })?;
        o.insert("principals_affected".into(), n.into());
    }
    for k in [
        "special_care_data",
        "financial_damage_risk",
        "wrongful_purpose",
        "high_level_encryption",
    ] {
        o.insert(k.into(), (field(f, k) == "1").into());
    }
    if description && let Some(d) = f.get("description") {
        o.insert("description".into(), d.trim().into());
    }
    Ok(serde_json::Value::Object(o))
}

struct Row {
    id: String,
    status: String,
    discovered_on: String,
    affected: i64,
    reportable: bool,
    preliminary_due: String,
    final_due: String,
    overdue: bool,
    pending: String,
}

/// What the assessment says, shown after "assess" or "open".
struct Assessed {
    id: String,
    reportable: bool,
    grounds: String,
    preliminary_due: String,
    final_due: String,
    notify_principals: bool,
}

#[derive(askama::Template)]
#[template(path = "console_incidents.html")]
struct IncidentsPage {
    c: Ctx,
    rows: Vec<Row>,
    denied: String,
    today: String,
    assessed: Option<Assessed>,
}

async fn list_page(
    s: &AppState,
    st: &Staff,
    c: Ctx,
    set: Option<String>,
    assessed: Option<Assessed>,
    status: StatusCode,
) -> Response {
    let (rows, denied) = match s.mamori.incident_list(&st.actor, false, None).await {
        Ok(list) => (
            list.into_iter()
                .map(|i| Row {
                    id: i.id,
                    status: i.status,
                    discovered_on: i.discovered_on,
                    affected: i.principals_affected,
                    reportable: i.reportable,
                    preliminary_due: i.preliminary_due,
                    final_due: i.final_due.unwrap_or_default(),
                    overdue: i.overdue,
                    pending: i.pending_steps.join(", "),
                })
                .collect(),
            String::new(),
        ),
        // Any staff member may report a breach (Art. 7(3)) though only the manager sees the list.
        Err(ServiceError::Denied(rule)) => (vec![], format!("denied: {rule}")),
        Err(e) => return error_page(&c, &e, "/console"),
    };
    let p = IncidentsPage {
        c,
        rows,
        denied,
        today: mamori_service::today_jst().to_string(),
        assessed,
    };
    page(status, &p, set)
}

async fn incidents(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/incidents", &q, Some(&st));
    list_page(&s, &st, c, set, None, StatusCode::OK).await
}

async fn incident_open(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let (c, set) = ctx(&s, &headers, "/console/incidents", &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, "/console/incidents") {
        return r;
    }
    let assess_only = field(&f, "mode") == "assess";
    let facts = match facts_of(&f, !assess_only) {
        Ok(x) => x,
        Err(e) => return error_page(&c, &e, "/console/incidents"),
    };
    let (id, a) = if assess_only {
        match incident::assess_json(&facts, s.mamori.preliminary_report_days()) {
            Ok(a) => (String::new(), a),
            Err(e) => return error_page(&c, &e, "/console/incidents"),
        }
    } else {
        match s.mamori.incident_open(&st.actor, &facts, None).await {
            Ok(o) if st.may(mamori_policy::Action::Incidents) => {
                return see_other(&format!("/console/incidents/{}", o.id));
            }
            Ok(o) => (o.id, o.assessment),
            Err(e) => return error_page(&c, &e, "/console/incidents"),
        }
    };
    let assessed = Assessed {
        id,
        reportable: a.reportable,
        grounds: a
            .grounds
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        preliminary_due: a.preliminary_due.to_string(),
        final_due: a.final_due.map(|d| d.to_string()).unwrap_or_default(),
        notify_principals: a.notify_principals,
    };
    list_page(&s, &st, c, set, Some(assessed), StatusCode::OK).await
}

struct StepRow {
    at: String,
    staff: String,
    kind: String,
    text: String,
}

struct NoticeRow {
    done_on: String,
    method: String,
    staff: String,
    text: String,
}

#[derive(askama::Template)]
#[template(path = "console_incident.html")]
struct IncidentPage {
    c: Ctx,
    id: String,
    open: bool,
    facts: Vec<(String, String)>,
    preliminary_due: String,
    final_due: String,
    overdue: String,
    pending: String,
    reasons: Vec<String>,
    description: String,
    steps: Vec<StepRow>,
    principals: Vec<String>,
    notices: Vec<NoticeRow>,
    i: IncidentInfo,
    step_kinds: Vec<Choice>,
    methods: Vec<Choice>,
    today: String,
}

async fn incident_page(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let id = safe_id(&id);
    let (c, set) = ctx(
        &s,
        &headers,
        &format!("/console/incidents/{id}"),
        &q,
        Some(&st),
    );
    let d = match s.mamori.incident_show(&st.actor, &id, None).await {
        Ok(d) => d,
        Err(e) => return error_page(&c, &e, "/console/incidents"),
    };
    let i = d.info;
    let flag = |b: bool| {
        if b {
            c.t("はい", "yes").to_string()
        } else {
            c.t("いいえ", "no").to_string()
        }
    };
    let facts = vec![
        (c.t("状態", "Status").to_string(), i.status.clone()),
        (
            c.t("発覚日", "Discovered on").to_string(),
            i.discovered_on.clone(),
        ),
        (
            c.t("影響を受けた本人の数", "Principals affected")
                .to_string(),
            i.principals_affected.to_string(),
        ),
        (
            c.t("台帳から選んだ本人", "Selected from the registry")
                .to_string(),
            i.registered_principals.to_string(),
        ),
        (
            c.t("要配慮個人情報", "Special-care data").to_string(),
            flag(i.special_care_data),
        ),
        (
            c.t("財産的被害のおそれ", "Risk of financial damage")
                .to_string(),
            flag(i.financial_damage_risk),
        ),
        (
            c.t("不正の目的のおそれ", "Possibly a wrongful purpose")
                .to_string(),
            flag(i.wrongful_purpose),
        ),
        (
            c.t("高度な暗号化", "High-level encryption").to_string(),
            flag(i.high_level_encryption),
        ),
        (
            c.t("委員会への報告対象", "Reportable to the PPC")
                .to_string(),
            flag(i.reportable),
        ),
        (c.t("該当事由", "Grounds").to_string(), i.grounds.join(", ")),
        (
            c.t("本人への通知", "Principals to be told").to_string(),
            flag(i.notify_principals),
        ),
        (
            c.t("速報の提出日", "Preliminary report sent").to_string(),
            i.preliminary_submitted_on.clone().unwrap_or_default(),
        ),
        (
            c.t("確報の提出日", "Final report sent").to_string(),
            i.final_submitted_on.clone().unwrap_or_default(),
        ),
        (
            c.t("本人への通知等", "Principals notified").to_string(),
            flag(i.principals_notified),
        ),
        (
            c.t("対象の項目", "Categories concerned").to_string(),
            i.categories.join(", "),
        ),
        (
            c.t("報告者", "Reported by").to_string(),
            format!("{} ({})", i.opened_by, i.opened_at),
        ),
    ];
    let p = IncidentPage {
        id,
        open: i.status != "closed",
        facts,
        preliminary_due: i.preliminary_due.clone(),
        final_due: i.final_due.clone().unwrap_or_default(),
        overdue: i.overdue_steps.join(", "),
        pending: i.pending_steps.join(", "),
        reasons: d.reasons,
        description: d.description,
        steps: d
            .steps
            .into_iter()
            .map(|x| StepRow {
                at: x.at,
                staff: x.staff,
                kind: x.kind,
                text: x.text,
            })
            .collect(),
        principals: d.principals,
        notices: d
            .notices
            .into_iter()
            .map(|n| NoticeRow {
                done_on: n.done_on,
                method: n.method,
                staff: n.staff,
                text: n.text.unwrap_or_default(),
            })
            .collect(),
        i,
        step_kinds: StepKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().into(),
                text: step_label(&c, *k).into(),
            })
            .collect(),
        methods: NoticeMethod::ALL
            .iter()
            .map(|m| Choice {
                value: m.as_str().into(),
                text: method_label(&c, *m).into(),
            })
            .collect(),
        today: mamori_service::today_jst().to_string(),
        c,
    };
    page(StatusCode::OK, &p, set)
}

/// What the manager records (seed 003 Art. 13(2); rule 8(1)(iv), (v), (viii)).
fn step_label(c: &Ctx, k: StepKind) -> &'static str {
    match k {
        StepKind::Containment => c.t("被害の拡大防止", "Containment"),
        StepKind::Investigation => c.t("調査・原因", "Investigation and cause"),
        StepKind::Damage => c.t("二次被害(のおそれ)", "Secondary damage (or its risk)"),
        StepKind::Recovery => c.t("復旧", "Recovery"),
        StepKind::Prevention => c.t("再発防止策", "Preventing recurrence"),
    }
}

/// How the principals were told (APPI 26(2) and its proviso).
fn method_label(c: &Ctx, m: NoticeMethod) -> &'static str {
    match m {
        NoticeMethod::Notice => c.t("本人への通知", "Notice to the principals"),
        NoticeMethod::Publication => c.t("代替措置: 公表", "Substitute measure: publication"),
        NoticeMethod::InquiryDesk => c.t(
            "代替措置: 問合せ窓口の設置",
            "Substitute measure: an inquiry desk",
        ),
    }
}

fn list(v: &str) -> Vec<String> {
    v.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

async fn incident_step(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<Fields>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/incidents/{id}");
    let (c, _) = ctx(&s, &headers, &back, &q, Some(&st));
    if let Some(r) = checked(&c, &st, &f, &back) {
        return r;
    }
    let a = &st.actor;
    let m = &s.mamori;
    let done: Result<(), ServiceError> = match step.as_str() {
        "facts" => match facts_of(&f, false) {
            Ok(facts) => m.incident_update(a, &id, &facts, None).await.map(|_| ()),
            Err(e) => Err(e),
        },
        "steps" => match StepKind::parse(field(&f, "step"), "step") {
            Ok(k) => m
                .incident_record(a, &id, k, field(&f, "text"), None)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "affected" => m
            .incident_affected(
                a,
                &id,
                &list(field(&f, "principals")),
                &list(field(&f, "categories")),
                None,
            )
            .await
            .map(|_| ()),
        "notified" => match NoticeMethod::parse(field(&f, "method"), "method") {
            Ok(method) => m
                .incident_notice_record(
                    a,
                    &id,
                    method,
                    field(&f, "on"),
                    opt(&f, "text").as_deref(),
                    None,
                )
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "submitted" => match Stage::parse(field(&f, "stage"), "stage") {
            Ok(stage) => m
                .incident_submitted(a, &id, stage, field(&f, "on"), None)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        "close" => m.incident_close(a, &id, None).await.map(|_| ()),
        _ => Err(ServiceError::NotFound(
            "step: use facts, steps, affected, notified, submitted or close".into(),
        )),
    };
    match done {
        Ok(()) => see_other(&back),
        Err(e) => error_page(&c, &e, &back),
    }
}

#[derive(Debug, Deserialize, Default)]
struct DraftQuery {
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

fn draft_lang(c: &Ctx, q: &DraftQuery) -> Lang {
    q.lang
        .as_deref()
        .and_then(|l| l.parse::<Lang>().ok())
        .unwrap_or(c.lang())
}

/// The draft report to the PPC with the nine items of rule 8(1), printable.
async fn incident_report(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/incidents/{id}");
    let (c, _) = ctx(&s, &headers, &back, &LangQuery::default(), Some(&st));
    let stage = match Stage::parse(q.stage.as_deref().unwrap_or(""), "stage") {
        Ok(x) => x,
        Err(e) => return error_page(&c, &e, &back),
    };
    match s
        .mamori
        .incident_report(&st.actor, &id, stage, draft_lang(&c, &q), None)
        .await
    {
        Ok(r) => document(r.html),
        Err(e) => error_page(&c, &e, &back),
    }
}

/// The draft notice to the principals (APPI 26(2), rule 10), printable.
async fn incident_notice(
    State(s): State<AppState>,
    st: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
) -> Response {
    let id = safe_id(&id);
    let back = format!("/console/incidents/{id}");
    let (c, _) = ctx(&s, &headers, &back, &LangQuery::default(), Some(&st));
    match s
        .mamori
        .incident_notice(&st.actor, &id, draft_lang(&c, &q), None)
        .await
    {
        Ok(html) => document(html),
        Err(e) => error_page(&c, &e, &back),
    }
}
