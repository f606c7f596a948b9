//! Issue 20 on SQLite and PostgreSQL: one person must not be enough (the administrator reads
//! no values: no tokens for others, no passwords it chooses, no policy that gives it data) and
//! sign-in (the same answer for every failure, throttled by address and login so an outsider
//! cannot lock anyone out, unlock / enable / reset / change of password). Each attack of the
//! issue is run and shown failing with its message, changing nothing.

use mamori_service::ServiceError;
use mamori_service::auth::{CLIENT_MAX_FAILURES, MAX_FAILURES, WRONG};
use mamori_service::staff::{Invitation, SETUP_PATH};
use mamori_store::Stmt;

use crate::common::*;

const ATTACKER: &str = "203.0.113.9";
const OFFICE: &str = "192.0.2.10";

fn token_of(inv: &Invitation) -> String {
    inv.setup_path.strip_prefix(SETUP_PATH).unwrap().to_string()
}

fn unauthenticated(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Unauthenticated(m)) => m,
        other => panic!("expected a refused sign-in, got {other:?}"),
    }
}

fn throttled(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(ServiceError::Throttled(m)) => m,
        other => panic!("expected a throttled sign-in, got {other:?}"),
    }
}

/// The audit entries (newest first) of one action, as the manager's review will read them.
async fn entries(e: &Env, action: &str) -> Vec<mamori_store::AuditEntry> {
    let auditor = actor(e, "auditor").await;
    e.m.audit_log(&auditor, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|x| x.action == action)
        .collect()
}

#[tokio::test]
async fn the_administrator_cannot_make_a_token_for_the_manager_and_act_as_them() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let before = e.m.store().tokens(None).await.unwrap().len();
        let reason = denied(e.m.issue_token(&admin, "manager").await);
        assert!(
            reason.starts_with("API tokens are only for oneself: manager makes their own"),
            "{reason}"
        );
        assert_eq!(e.m.store().tokens(None).await.unwrap().len(), before);
        let refused = entries(&e, "staff.token").await;
        assert!(
            refused
                .iter()
                .any(|x| x.actor == "admin" && x.decision == "deny"),
            "the refusal is audited: {refused:?}"
        );
        // Their own is still theirs to make.
        let own = e.m.issue_token(&admin, "admin").await.unwrap();
        assert_eq!(e.m.token_actor(&own.token).await.unwrap().0.login, "admin");
        // The CLI's path asks the member's own password.
        let m = unauthenticated(e.m.own_token("manager", "not the password").await);
        assert!(m.starts_with(WRONG), "{m}");
        assert_eq!(e.m.store().tokens(None).await.unwrap().len(), before + 1);
        let t = e.m.own_token("manager", PASSWORD).await.unwrap();
        assert_eq!(e.m.token_actor(&t.token).await.unwrap().0.login, "manager");
    })
    .await;
}

#[tokio::test]
async fn an_administrator_creates_accounts_without_a_password_it_knows() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        // Making a clerk account with a password of the administrator's choosing is refused.
        let m = bad_input(
            e.m.staff_add(Some(&admin), "tanaka", "clerk", None, PASSWORD)
                .await,
        );
        assert!(
            m.starts_with("password: an administrator does not choose another's password"),
            "{m}"
        );
        assert!(e.m.store().staff("tanaka").await.unwrap().is_none());

        let inv =
            e.m.staff_invite(Some(&admin), "tanaka", "clerk", Some("田中"))
                .await
                .unwrap();
        assert!(inv.setup_path.starts_with("/console/setup/"));
        let row = e.m.store().staff("tanaka").await.unwrap().unwrap();
        assert_eq!(row.password_hash, None);
        // Nobody can sign in to it before the person sets a password — not with any guess.
        let m = unauthenticated(e.m.login("tanaka", "", OFFICE).await);
        assert_eq!(m, WRONG);
        let m = unauthenticated(e.m.login("tanaka", PASSWORD, OFFICE).await);
        assert_eq!(m, WRONG);

        let token = token_of(&inv);
        let m = bad_input(e.m.setup_password(&token, "short").await);
        assert!(
            m.starts_with("password: must be at least 10 characters"),
            "{m}"
        );
        e.m.setup_password(&token, "tanaka's own secret")
            .await
            .unwrap();
        let s =
            e.m.login("tanaka", "tanaka's own secret", OFFICE)
                .await
                .unwrap();
        assert_eq!(s.role, "clerk");
        // The link works once.
        let m = bad_input(e.m.setup_password(&token, "another long secret").await);
        assert!(m.starts_with("setup link: unknown, used or expired"), "{m}");
        e.m.login("tanaka", "tanaka's own secret", OFFICE)
            .await
            .unwrap();

        // The audit entries the manager's review lists name the login and the role, never a
        // password.
        for action in ["staff.add", "staff.invite", "staff.password"] {
            let x = entries(&e, action).await;
            let x = x
                .iter()
                .find(|x| x.detail.contains("\"tanaka\""))
                .unwrap_or_else(|| panic!("{action} for tanaka is on the log"));
            let d: serde_json::Value = serde_json::from_str(&x.detail).unwrap();
            assert_eq!(d["login"], "tanaka", "{action}");
            assert_eq!(d["role"], "clerk", "{action}");
            assert!(!x.detail.contains("secret"), "{action}: {}", x.detail);
        }
    })
    .await;
}

#[tokio::test]
async fn a_setup_link_expires_and_a_new_one_voids_the_old() {
    on_both("chiba-ia", |e| async move {
        let e = e; // the whole Env, with its data folder
        let first =
            e.m.staff_invite(None, "tanaka", "clerk", None)
                .await
                .unwrap();
        let second = e.m.staff_password_reset(None, "tanaka").await.unwrap();
        let m = bad_input(
            e.m.setup_password(&token_of(&first), "a long enough one")
                .await,
        );
        assert!(m.starts_with("setup link: unknown, used or expired"), "{m}");
        e.m.store()
            .write(
                vec![Stmt::new(
                    "UPDATE staff_setup SET expires_at = $1",
                    vec!["2000-01-01T00:00:00Z".into()],
                )],
                vec![],
            )
            .await
            .unwrap();
        let m = bad_input(
            e.m.setup_password(&token_of(&second), "a long enough one")
                .await,
        );
        assert!(m.starts_with("setup link: unknown, used or expired"), "{m}");
        assert_eq!(
            e.m.store()
                .staff("tanaka")
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            None
        );
    })
    .await;
}

#[tokio::test]
async fn a_reset_stops_the_old_password_and_ends_sessions_and_changing_ones_own_needs_it() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let clerk = actor(&e, "clerk").await;
        let s = e.m.login("clerk", PASSWORD, OFFICE).await.unwrap();
        // A clerk cannot reset anyone's password.
        denied(e.m.staff_password_reset(Some(&clerk), "manager").await);
        let inv =
            e.m.staff_password_reset(Some(&admin), "clerk")
                .await
                .unwrap();
        assert!(e.m.session_actor(&s.id).await.is_err(), "the session ended");
        assert_eq!(
            unauthenticated(e.m.login("clerk", PASSWORD, OFFICE).await),
            WRONG
        );
        e.m.setup_password(&token_of(&inv), "the clerk's new one")
            .await
            .unwrap();
        let s =
            e.m.login("clerk", "the clerk's new one", OFFICE)
                .await
                .unwrap();
        // Change my password: the current one is needed.
        let m = bad_input(
            e.m.change_password(&clerk, "not it at all", "a third password", Some(&s.id))
                .await,
        );
        assert!(m.starts_with("current_password: is wrong"), "{m}");
        e.m.login("clerk", "the clerk's new one", OFFICE)
            .await
            .unwrap();
        let other =
            e.m.login("clerk", "the clerk's new one", OFFICE)
                .await
                .unwrap();
        e.m.change_password(
            &clerk,
            "the clerk's new one",
            "a third password",
            Some(&s.id),
        )
        .await
        .unwrap();
        assert!(e.m.session_actor(&s.id).await.is_ok(), "this session stays");
        assert!(e.m.session_actor(&other.id).await.is_err(), "others end");
        assert_eq!(
            unauthenticated(e.m.login("clerk", "the clerk's new one", OFFICE).await),
            WRONG
        );
        e.m.login("clerk", "a third password", OFFICE)
            .await
            .unwrap();
        let x = entries(&e, "staff.password").await;
        assert!(
            x.iter()
                .any(|x| x.actor == "admin" && x.detail.contains("reset"))
        );
        assert!(
            x.iter()
                .any(|x| x.actor == "clerk" && x.detail.contains("changed"))
        );
    })
    .await;
}

#[tokio::test]
async fn every_failed_sign_in_gets_the_same_answer() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        e.m.staff_invite(None, "invited", "clerk", None)
            .await
            .unwrap();
        e.m.staff_disable(&admin, "manager").await.unwrap();
        for (login, password) in [
            ("ghost", PASSWORD),     // unknown
            ("clerk", "wrong one!"), // wrong password
            ("manager", PASSWORD),   // disabled, right password
            ("invited", PASSWORD),   // no password yet
        ] {
            let m = unauthenticated(e.m.login(login, password, OFFICE).await);
            assert_eq!(m, WRONG, "{login}");
        }
        // The reasons are on the log for the administrator, without the unknown login typed.
        let x = entries(&e, "staff.login").await;
        let reasons: Vec<(String, String)> = x
            .iter()
            .map(|x| (x.actor.clone(), x.reason.clone().unwrap_or_default()))
            .collect();
        for (who, why) in [
            ("(unknown)", "unknown login"),
            ("clerk", "wrong password"),
            ("manager", "account disabled"),
            ("invited", "no password set yet"),
        ] {
            assert!(
                reasons.iter().any(|(a, r)| a == who && r == why),
                "{who}: {why} in {reasons:?}"
            );
        }
        assert!(
            !x.iter()
                .any(|x| x.actor == "ghost" || x.detail.contains("ghost"))
        );
    })
    .await;
}

#[tokio::test]
async fn an_outsider_cannot_lock_the_only_administrator_out() {
    on_both("chiba-ia", |e| async move {
        for _ in 0..MAX_FAILURES {
            let m = unauthenticated(e.m.login("admin", "guess guess guess", ATTACKER).await);
            assert_eq!(m, WRONG);
        }
        // The attacker's address is refused for that login, even with the right password …
        let m = throttled(e.m.login("admin", PASSWORD, ATTACKER).await);
        assert!(
            m.starts_with("too many failed sign-ins from this address"),
            "{m}"
        );
        // … and an unknown login gets the same refusal after as many tries (no enumeration).
        for _ in 0..MAX_FAILURES {
            e.m.login("nobody", "guess guess guess", ATTACKER)
                .await
                .unwrap_err();
        }
        assert_eq!(throttled(e.m.login("nobody", PASSWORD, ATTACKER).await), m);
        // The administrator, from the office, signs in at once; nothing was locked.
        let s = e.m.login("admin", PASSWORD, OFFICE).await.unwrap();
        assert_eq!(s.role, "admin");
        let row = e.m.store().staff("admin").await.unwrap().unwrap();
        assert_eq!(row.locked_until, None);
        // Unlock forgets the failures of that login from every address.
        let admin = actor(&e, "admin").await;
        let clerk = actor(&e, "clerk").await;
        denied(e.m.staff_unlock(Some(&clerk), "admin").await);
        throttled(e.m.login("admin", PASSWORD, ATTACKER).await);
        let r = e.m.staff_unlock(Some(&admin), "admin").await.unwrap();
        assert_eq!((r.login.as_str(), r.role.as_str()), ("admin", "admin"));
        e.m.login("admin", PASSWORD, ATTACKER).await.unwrap();
        let x = entries(&e, "staff.unlock").await;
        assert!(
            x.iter()
                .any(|x| x.actor == "admin" && x.detail.contains("\"login\":\"admin\""))
        );
    })
    .await;
}

#[tokio::test]
async fn one_address_trying_many_logins_is_throttled_as_a_whole() {
    on_both("chiba-ia", |e| async move {
        // The whole Env (and so its data folder) lives as long as the scenario: a closure
        // that used only `e.m` would capture just that field and drop the folder at once.
        let e = e;
        for i in 0..CLIENT_MAX_FAILURES {
            // Fewer than MAX_FAILURES per login: only the per-address count reaches its limit.
            let login = format!("guess{}", i / (MAX_FAILURES - 1));
            unauthenticated(e.m.login(&login, "guess guess guess", ATTACKER).await);
        }
        let m = throttled(e.m.login("clerk", PASSWORD, ATTACKER).await);
        assert!(
            m.starts_with("too many failed sign-ins from this address"),
            "{m}"
        );
        e.m.login("clerk", PASSWORD, OFFICE).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_disabled_account_is_enabled_again_by_the_administrator_only() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let clerk = actor(&e, "clerk").await;
        e.m.staff_disable(&admin, "clerk").await.unwrap();
        assert!(e.m.actor("clerk").await.is_err());
        denied(e.m.staff_enable(Some(&clerk), "clerk").await);
        let manager = actor(&e, "manager").await;
        denied(e.m.staff_enable(Some(&manager), "clerk").await);
        let r = e.m.staff_enable(Some(&admin), "clerk").await.unwrap();
        assert_eq!(r.done, "enabled");
        e.m.actor("clerk").await.unwrap();
        e.m.login("clerk", PASSWORD, OFFICE).await.unwrap();
        let m = bad_input(e.m.staff_enable(Some(&admin), "clerk").await);
        assert_eq!(m, "LOGIN: clerk is not disabled");
        let x = entries(&e, "staff.enable").await;
        let done: Vec<_> = x.iter().filter(|x| x.decision == "done").collect();
        assert_eq!(done.len(), 1, "{x:?}");
        assert_eq!(done[0].actor, "admin");
        let d: serde_json::Value = serde_json::from_str(&done[0].detail).unwrap();
        assert_eq!(d, serde_json::json!({"login": "clerk", "role": "clerk"}));
    })
    .await;
}

#[tokio::test]
async fn a_policy_giving_the_administrator_read_is_not_applied() {
    on_both("chiba-ia", |e| async move {
        let admin = actor(&e, "admin").await;
        let text = mamori_policy::preset("chiba-ia").unwrap().replacen(
            "actions = [\"staff\", \"policy\"]",
            "actions = [\"staff\", \"policy\", \"read\"]\npurposes = [\"inquiry_response\"]",
            1,
        );
        let before = e.m.policy_version();
        let m = bad_input(
            e.m.policy_apply(Some(&admin), &text, "admin-reads.toml", "2026-01-01")
                .await,
        );
        assert!(
            m.contains("roles[admin].actions: read handle personal data"),
            "{m}"
        );
        assert!(m.contains("roles[admin].purposes: must be empty"), "{m}");
        assert_eq!(e.m.policy_version(), before);
        assert!(
            !e.m.policy()
                .role("admin")
                .unwrap()
                .actions
                .contains(&mamori_policy::Action::Read)
        );
    })
    .await;
}
