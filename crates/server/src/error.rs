//! Errors as RFC 9457 problem details (`application/problem+json`), one line a person can act
//! on: 401 not signed in, 403 denied with the rule, 404, 413, 422 naming the field, 500.
//!
//! The two extractors every `/api/v1` handler takes its input through: [`ApiJson`] (a body must
//! be a JSON object: an array would fill a struct's fields by position, so `[]` once ran a real
//! retention sweep) and [`ApiQuery`] (a bad query parameter is a 422 naming the parameter, not
//! axum's plain-text 400). Neither ever repeats the input.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_service::ServiceError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"mamori\""),
            );
        }
        res
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Problem {
        let status = match &e {
            ServiceError::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Denied(_) => StatusCode::FORBIDDEN,
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let detail = match &e {
            ServiceError::Denied(r) => format!("denied: {r}"),
            ServiceError::BadInput(m) => api_field_names(m),
            other => other.to_string(),
        };
        if status.is_server_error() {
            tracing::error!(error = %detail, "request failed");
        }
        Problem::new(status, detail)
    }
}

/// The service names fields as the CLI spells them (`--reviewed-on: …`); over the API the
/// field is the JSON key or query parameter (`reviewed_on: …`).
fn api_field_names(msg: &str) -> String {
    match msg.strip_prefix("--").and_then(|rest| rest.split_once(':')) {
        Some((field, rest)) if !field.contains(' ') => {
            format!("{}:{rest}", field.replace('-', "_"))
        }
        _ => msg.to_string(),
    }
}

/// A JSON body whose rejections are problem details: 413 when too large, 422 naming what is
/// wrong otherwise (never echoing the body). The body must be a JSON object (`{…}`): arrays,
/// strings, numbers and `null` are refused before anything is decoded.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(Problem::unprocessable(
                "body: send JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Problem::unprocessable("body: the request body could not be read: send it again")
            }
        })?;
        object_body(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_problem(&rej)),
        }
    }
}

/// An optional JSON body (a fulfilment without corrections, a refund with the event on record):
/// empty or `null` means `None`; anything else is held to [`ApiJson`]'s rules (a JSON object, fields
/// named, never echoed).
pub struct MaybeJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for MaybeJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Problem::unprocessable("body: the request body could not be read: send it again")
            }
        })?;
        // Nothing, or `null`: no body (it cannot fill a struct by position).
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(MaybeJson(None));
        }
        object_body(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(MaybeJson(Some(v))),
            Err(rej) => Err(json_problem(&rej)),
        }
    }
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body: the request body is too large",
    )
}

/// `application/json` or `application/…+json`, parameters (`; charset=utf-8`) allowed.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Issue 20: a body must be an object. JSON whitespace may come first.
pub(crate) fn object_body(bytes: &[u8]) -> Result<(), Problem> {
    match bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        Some(b'{') => Ok(()),
        Some(b'[') => Err(Problem::unprocessable(
            "body: is a JSON array: send a JSON object ({\"name\": value, …}) with the fields named",
        )),
        None => Err(Problem::unprocessable(
            "body: is empty: send a JSON object ({\"name\": value, …}), {} when every field is optional",
        )),
        Some(_) => Err(Problem::unprocessable(
            "body: is not a JSON object: send {\"name\": value, …} with the fields named",
        )),
    }
}

/// Query parameters whose rejections are 422 problem documents naming the parameter and what
/// it takes (never its value).
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|rej| query_problem(&rej))
    }
}

/// `overdue: provided string was not `true` or `false`` → `overdue: must be true or false`;
/// serde's wording otherwise, quoted values dropped.
fn query_problem(rej: &QueryRejection) -> Problem {
    let text = match rej {
        QueryRejection::FailedToDeserializeQueryString(e) => {
            std::error::Error::source(e).map_or_else(|| e.body_text(), |s| s.to_string())
        }
        other => other.body_text(),
    };
    let text = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text)
        .to_string();
    let (field, problem) = match text.split_once(": ") {
        Some((f, p)) if !f.is_empty() && !f.contains(' ') => (f.to_string(), p.to_string()),
        _ => ("query".to_string(), text.clone()),
    };
    let problem = if problem.contains("provided string was not `true` or `false`") {
        "must be true or false (or leave it out)".to_string()
    } else if problem.contains("invalid digit") || problem.contains("number") {
        "must be a whole number".to_string()
    } else {
        sanitize(&problem)
    };
    Problem::unprocessable(format!("{field}: {problem}"))
}

fn json_problem(rej: &JsonRejection) -> Problem {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    match rej {
        JsonRejection::MissingJsonContentType(_) => {
            Problem::unprocessable("body: send JSON with Content-Type: application/json")
        }
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field ("missing field `channel`", "unknown field …")
            // but may quote values; keep only the part before any quoted value.
            let msg = std::error::Error::source(e).map_or_else(|| e.body_text(), |s| s.to_string());
            Problem::unprocessable(format!("body: {}", sanitize(&msg)))
        }
        JsonRejection::JsonSyntaxError(_) => Problem::unprocessable("body: not valid JSON"),
        other => {
            if other.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body: the request body is too large",
                )
            } else {
                Problem::unprocessable(format!("body: {}", sanitize(&other.body_text())))
            }
        }
    }
}

/// serde messages such as `invalid type: string "x", expected …` can quote a value: drop quoted
/// strings so no personal value is echoed.
pub(crate) fn sanitize(msg: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    for c in msg.chars() {
        if c == '"' {
            in_quote = !in_quote;
            if in_quote {
                out.push_str("\"…\"");
            }
            continue;
        }
        if !in_quote {
            out.push(c);
        }
    }
    out.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_flag_names_become_api_field_names() {
        assert_eq!(
            api_field_names("--reviewed-on: \"x\" is not a date"),
            "reviewed_on: \"x\" is not a date"
        );
        assert_eq!(
            api_field_names("email: not an email address"),
            "email: not an email address"
        );
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        assert!(object_body(b" \n{\"a\": 1}").is_ok());
        for (body, says) in [
            (&b"[]"[..], "is a JSON array"),
            (b" [\"x\", true]", "is a JSON array"),
            (b"null", "is not a JSON object"),
            (b"\"taro@example.jp\"", "is not a JSON object"),
            (b"42", "is not a JSON object"),
            (b"", "is empty"),
        ] {
            let p = object_body(body).unwrap_err();
            assert_eq!(p.status, 422);
            assert!(
                p.detail.starts_with("body: ") && p.detail.contains(says),
                "{}",
                p.detail
            );
            assert!(!p.detail.contains("taro"), "{}", p.detail);
        }
    }

    #[test]
    fn quoted_values_are_not_echoed() {
        assert_eq!(
            sanitize("invalid type: string \"taro@example.jp\", expected a map at line 1"),
            "invalid type: string \"…\", expected a map at line 1"
        );
    }
}
