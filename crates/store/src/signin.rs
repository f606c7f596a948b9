//! Storage for signing in (seed 000 Art. 8-5; issue 20 "Sign-in"): one-time setup links for
//! staff passwords (only their SHA-256 is stored) and the recent failed sign-ins the service
//! throttles on, keyed by keyed digests of the client address and of the login typed, so that
//! neither an address nor a password typed into the login field is kept. The store enforces no
//! rule: how many failures lock whom is the service's decision.

use crate::{Result, Stmt, Store, now_string, opt_s, s};

/// A setup link as stored: whose it is, until when it works, and when it was used or voided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRow {
    pub login: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

impl Store {
    /// A new setup link for `login` (its token's hash), valid until `expires_at`.
    pub fn insert_setup(token_hash: &str, login: &str, expires_at: &str) -> Stmt {
        Stmt::new(
            "INSERT INTO staff_setup (token_hash, login, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            vec![
                token_hash.into(),
                login.into(),
                now_string().into(),
                expires_at.into(),
            ],
        )
    }

    /// Void every unused setup link of `login` (a new one replaces them).
    pub fn void_setups_of(login: &str) -> Stmt {
        Stmt::new(
            "UPDATE staff_setup SET used_at = $2 WHERE login = $1 AND used_at IS NULL",
            vec![login.into(), now_string().into()],
        )
    }

    /// Mark a setup link used; fails as a conflict when it was used (or voided) meanwhile, so a
    /// link works once even when two requests race.
    pub fn use_setup(token_hash: &str) -> Stmt {
        Stmt::new(
            "UPDATE staff_setup SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            vec![token_hash.into(), now_string().into()],
        )
        .expecting(
            1,
            "setup link: it was used already: ask the administrator for a new one",
        )
    }

    pub async fn setup(&self, token_hash: &str) -> Result<Option<SetupRow>> {
        let rows = self
            .rows(
                "SELECT login, expires_at, used_at FROM staff_setup WHERE token_hash = $1",
                vec![token_hash.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(SetupRow {
                    login: s(r, 0)?,
                    expires_at: s(r, 1)?,
                    used_at: opt_s(r, 2)?,
                })
            })
            .transpose()
    }

    /// Set a staff member's password hash (and forget their failure count).
    pub fn set_password(login: &str, password_hash: &str) -> Stmt {
        Stmt::new(
            "UPDATE staff SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE login = $1",
            vec![login.into(), password_hash.into()],
        )
        .expecting(1, "login: there is no such staff member")
    }

    /// Remove a staff member's password: they cannot sign in until they set a new one.
    pub fn clear_password(login: &str) -> Stmt {
        Stmt::new(
            "UPDATE staff SET password_hash = NULL WHERE login = $1",
            vec![login.into()],
        )
        .expecting(1, "login: there is no such staff member")
    }

    /// End every session of a staff member.
    pub fn delete_sessions_of(login: &str) -> Stmt {
        Stmt::new("DELETE FROM sessions WHERE login = $1", vec![login.into()])
    }

    /// End every session of a staff member but one (a password changed in that session).
    pub fn delete_other_sessions_of(login: &str, keep_id_hash: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM sessions WHERE login = $1 AND id_hash <> $2",
            vec![login.into(), keep_id_hash.into()],
        )
    }

    /// Enable a disabled staff member again.
    /// The MAC is renewed ([`crate::facts`]).
    pub fn enable_staff(keys: &crate::Keys, row: &crate::StaffRow) -> Stmt {
        let mac = crate::facts::mac(
            keys,
            crate::facts::STAFF,
            &crate::facts::staff(&row.login, &row.role, false),
        );
        Stmt::new(
            "UPDATE staff SET disabled = 0, facts_mac = $3 WHERE login = $1 AND role = $2 AND disabled <> 0",
            vec![row.login.as_str().into(), row.role.as_str().into(), mac.into()],
        )
        .expecting(1, "login: the staff member is not disabled")
    }

    /// A failed sign-in at `at` (Unix seconds); failures before `forget_before` are dropped.
    pub fn sign_in_failed(
        client_key: &str,
        login_key: &str,
        at: i64,
        forget_before: i64,
    ) -> [Stmt; 2] {
        [
            Stmt::new(
                "DELETE FROM sign_in_failures WHERE at < $1",
                vec![forget_before.into()],
            ),
            Stmt::new(
                "INSERT INTO sign_in_failures (client_key, login_key, at) VALUES ($1, $2, $3)",
                vec![client_key.into(), login_key.into(), at.into()],
            ),
        ]
    }

    /// Forget the failed sign-ins of one login (from every client): an unlock, a new password.
    pub fn clear_sign_in_failures(login_key: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM sign_in_failures WHERE login_key = $1",
            vec![login_key.into()],
        )
    }

    /// Forget the failed sign-ins of one login from one client (it signed in).
    pub fn clear_sign_in_failures_from(login_key: &str, client_key: &str) -> Stmt {
        Stmt::new(
            "DELETE FROM sign_in_failures WHERE login_key = $1 AND client_key = $2",
            vec![login_key.into(), client_key.into()],
        )
    }

    /// Failed sign-ins since `since` (Unix seconds): (from this client for this login, from this
    /// client for any login).
    pub async fn sign_in_failures(
        &self,
        client_key: &str,
        login_key: &str,
        since: i64,
    ) -> Result<(i64, i64)> {
        let pair = self
            .count(
                "SELECT COUNT(*) FROM sign_in_failures WHERE login_key = $1 AND client_key = $2 AND at >= $3",
                vec![login_key.into(), client_key.into(), since.into()],
            )
            .await?;
        let client = self
            .count(
                "SELECT COUNT(*) FROM sign_in_failures WHERE client_key = $1 AND at >= $2",
                vec![client_key.into(), since.into()],
            )
            .await?;
        Ok((pair, client))
    }
}
