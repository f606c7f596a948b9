//! Errors as RFC 9457 problem details (`application/problem+json`), one line a person can act
//! on: 401 not signed in, 403 denied with the rule, 404, 413, 422 naming the field, 500.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
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
/// wrong otherwise (never echoing the body).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_problem(&rej)),
        }
    }
}

fn json_problem(rej: &JsonRejection) -> Problem {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body: the request body is too large",
        );
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
    fn quoted_values_are_not_echoed() {
        assert_eq!(
            sanitize("invalid type: string \"taro@example.jp\", expected a map at line 1"),
            "invalid type: string \"…\", expected a map at line 1"
        );
    }
}
