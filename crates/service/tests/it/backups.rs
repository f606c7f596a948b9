//! Backups and restore under attack and on a new machine (issue 20, "Trust at the edges";
//! seed 000 Art. 8-4, seed 003 Art. 16), on SQLite and PostgreSQL: altered backups are refused
//! before anything changes; a backup of a log that does not verify is refused and the data put
//! back; a new folder restores data and keys in either order or together, never erasing anyone
//! for a key not restored yet, and finds people by blind index afterwards; an old key backup
//! never revives someone erased after it; files are 0600 and never written through a symlink.

use std::path::{Path, PathBuf};

use mamori_service::request::OpenRequest;
use mamori_service::{Config, Mamori, ServiceError};

use crate::common::*;

/// A new machine: an empty data folder with the office's master key and audit signing key copied
/// in, then initialized (docs/retention.md, "Restoring onto a new machine").
struct Fresh {
    m: Mamori,
    _dir: tempfile::TempDir,
}

async fn new_machine(e: &Env) -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(e.dir.join("master.key"), data.join("master.key")).unwrap();
    for f in ["audit-signing.key", "audit-signing.pub"] {
        std::fs::copy(e.dir.join(f), data.join(f)).unwrap();
    }
    let url = match &e.url {
        Some(_) => mamori_store::fresh_test_database().await.unwrap(),
        None => None,
    };
    let cfg = Config {
        data_dir: data.clone(),
        database_url: url,
    };
    let text = mamori_policy::preset("chiba-ia").unwrap();
    let (m, _) = Mamori::init(
        &cfg,
        text,
        "chiba-ia",
        Some("chiba-ia"),
        Some(("admin", PASSWORD)),
    )
    .await
    .unwrap();
    drop(m);
    Fresh {
        m: Mamori::open(&cfg).await.unwrap(),
        _dir: dir,
    }
}

async fn backups(e: &Env, dir: &Path, tag: &str) -> (PathBuf, PathBuf) {
    let data = dir.join(format!("{tag}.data"));
    let keys = dir.join(format!("{tag}.keys"));
    e.m.backup(&data, false).await.unwrap();
    e.m.backup(&keys, true).await.unwrap();
    (data, keys)
}

fn failed(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(e @ ServiceError::Failed(_)) => {
            assert_eq!(e.exit_code(), 1);
            e.to_string()
        }
        other => panic!("expected a failure (exit 1), got {other:?}"),
    }
}

/// An edit of a backup's lines: line number and text to the new text (None drops the line).
type LineEdit = dyn Fn(usize, &str) -> Option<String>;

/// Rewrite the lines of a backup file with `edit` (the attacker has the file, not the key).
fn edit_lines(src: &Path, dst: &Path, edit: impl Fn(usize, &str) -> Option<String>) {
    let text = std::fs::read_to_string(src).unwrap();
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(new) = edit(i, l) {
            out.push_str(&new);
            out.push('\n');
        }
    }
    std::fs::write(dst, out).unwrap();
}

/// An insider who holds the master key forges a backup: edits lines and authenticates the
/// result. What `restore` still refuses then is what the checks after the MAC catch.
fn forge(m: &Mamori, src: &Path, dst: &Path, edit: impl Fn(usize, &str) -> String) {
    use hmac::Mac;
    let text = std::fs::read_to_string(src).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut body = String::new();
    for (i, l) in lines[..lines.len() - 1].iter().enumerate() {
        body.push_str(&edit(i, l));
        body.push('\n');
    }
    let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let key = m
        .store()
        .keys()
        .backup_mac_key(header["kek_id"].as_str().unwrap())
        .unwrap();
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_ref()).unwrap();
    mac.update(body.as_bytes());
    let tag = hex::encode(mac.finalize().into_bytes());
    std::fs::write(dst, format!("{body}{{\"mac\":\"{tag}\"}}\n")).unwrap();
}

async fn state(m: &Mamori) -> (serde_json::Value, (i64, String)) {
    (
        m.status().await.unwrap(),
        m.store().audit_head().await.unwrap(),
    )
}

#[tokio::test]
async fn an_altered_backup_is_refused_before_anything_changes() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let dir = tempfile::tempdir().unwrap();
        let (data, keys) = backups(&e, dir.path(), "good").await;
        let token_line = {
            // A row an attacker adds: an API token for the manager.
            let text = std::fs::read_to_string(&data).unwrap();
            let l = text
                .lines()
                .find(|l| l.contains("\"table\":\"staff\""))
                .unwrap();
            l.replace("\"table\":\"staff\"", "\"table\":\"api_tokens\"")
        };
        let attacks: Vec<(&str, PathBuf, Box<LineEdit>)> = vec![
            (
                "a row added (an API token)",
                data.clone(),
                Box::new(move |i, l| {
                    Some(if i == 1 {
                        format!("{token_line}\n{l}")
                    } else {
                        l.to_string()
                    })
                }),
            ),
            (
                "a table name in the header",
                data.clone(),
                Box::new(|i, l| {
                    Some(if i == 0 {
                        l.replace("\"principals\"", "\"principals WHERE 1=1; --\"")
                    } else {
                        l.to_string()
                    })
                }),
            ),
            (
                "an audit entry edited",
                data.clone(),
                Box::new(|_, l| {
                    Some(if l.contains("\"table\":\"audit_log\"") {
                        l.replace("principal.add", "principal.read")
                    } else {
                        l.to_string()
                    })
                }),
            ),
            (
                "a line removed",
                data.clone(),
                Box::new(|_, l| {
                    (!l.contains("\"table\":\"disposals\"") && !l.contains("\"table\":\"fields\""))
                        .then(|| l.to_string())
                }),
            ),
            (
                "a key added to the key backup",
                keys.clone(),
                Box::new(move |i, l| {
                    Some(if i == 1 {
                        format!(
                            "{}\n{l}",
                            l.replace("\"principal_id\":\"p_", "\"principal_id\":\"p_f")
                        )
                    } else {
                        l.to_string()
                    })
                }),
            ),
        ];
        let before = state(&e.m).await;
        for (what, src, edit) in attacks {
            let bad = dir.path().join("altered");
            let _ = std::fs::remove_file(&bad);
            edit_lines(&src, &bad, edit);
            assert_ne!(
                std::fs::read(&bad).unwrap(),
                std::fs::read(&src).unwrap(),
                "{what}"
            );
            let m = failed(e.m.restore(std::slice::from_ref(&bad)).await);
            assert!(
                m.contains("fails its authentication: it was changed after it was made")
                    && m.ends_with("nothing was restored"),
                "{what}: {m}"
            );
            // Together with a good file: still refused, and the good one not applied either.
            let m = failed(e.m.restore(&[keys.clone(), bad.clone()]).await);
            assert!(m.contains("fails its authentication"), "{what}: {m}");
            assert_eq!(state(&e.m).await, before, "{what}: nothing changed");
        }
        // Forged with the master key: a table that is not this database's, a key-store table
        // that is not one of the three, an audit entry edited. Refused, nothing changed.
        let forged = dir.path().join("forged");
        forge(&e.m, &data, &forged, |i, l| {
            if i == 0 {
                l.replace("\"principals\"", "\"principals; DROP TABLE staff; --\"")
            } else {
                l.replace(
                    "\"table\":\"principals\"",
                    "\"table\":\"principals; DROP TABLE staff; --\"",
                )
            }
        });
        let m = bad_input(e.m.restore(std::slice::from_ref(&forged)).await);
        assert!(
            m.contains("does not hold exactly the tables of this database"),
            "{m}"
        );
        assert_eq!(state(&e.m).await, before);
        forge(&e.m, &keys, &forged, |i, l| {
            if i == 0 {
                l.replace("\"erasures\"", "\"staff\"")
            } else {
                l.to_string()
            }
        });
        let m = bad_input(e.m.restore(std::slice::from_ref(&forged)).await);
        assert!(
            m.contains(
                "lists a table that is not one of the key store's (data_keys, secrets, erasures)"
            ),
            "{m}"
        );
        assert_eq!(state(&e.m).await, before);
        forge(&e.m, &data, &forged, |_, l| {
            if l.contains("\"table\":\"audit_log\"") {
                l.replace("principal.add", "principal.read")
            } else {
                l.to_string()
            }
        });
        let m = failed(e.m.restore(std::slice::from_ref(&forged)).await);
        assert!(
            m.contains("does not verify") && m.ends_with("nothing was restored"),
            "{m}"
        );
        assert_eq!(
            state(&e.m).await,
            before,
            "the data before the restore is back"
        );
        e.m.audit_verify().await.unwrap();
        // The untouched files still restore.
        e.m.restore(&[data.clone(), keys.clone()]).await.unwrap();
        let clerk = actor(&e, "clerk").await;
        e.m.principal_show(&clerk, &pid, "registration_contact", None, None)
            .await
            .unwrap();
        e.m.audit_verify().await.unwrap();
        // A backup of the old format (no authentication): refused, naming what to do.
        let v1 = dir.path().join("v1.data");
        std::fs::write(
            &v1,
            "{\"mamori_backup\":1,\"kind\":\"data\",\"tables\":[\"staff\"]}\n",
        )
        .unwrap();
        let m = bad_input(e.m.restore(std::slice::from_ref(&v1)).await);
        assert!(
            m.contains("is a backup of format 1")
                && m.contains("restore it with the Mamori version that made it"),
            "{m}"
        );
        // Two data backups, or three files: refused naming what to give.
        let m = bad_input(e.m.restore(&[data.clone(), data.clone()]).await);
        assert_eq!(
            m,
            "FILE: both files are data backups: give one data backup and one key backup"
        );
    })
    .await;
}

#[tokio::test]
async fn a_backup_made_by_another_office_or_of_a_log_that_does_not_verify_is_refused() {
    on_both("chiba-ia", |e| async move {
        add_volunteer(&e).await;
        let dir = tempfile::tempdir().unwrap();
        // The log altered in the database (a DBA), then backed up: the file is authentic, the
        // log in it is not.
        sqlx::query("UPDATE audit_log SET action = 'principal.read' WHERE seq = 2")
            .execute(e.m.store().pool())
            .await
            .unwrap();
        let (data, keys) = backups(&e, dir.path(), "tampered").await;
        let fresh = new_machine(&e).await;
        let before = state(&fresh.m).await;
        let m = failed(fresh.m.restore(&[data.clone(), keys.clone()]).await);
        assert!(
            m.starts_with(&format!(
                "FILE: the audit log in {} does not verify (",
                data.display()
            )),
            "{m}"
        );
        assert!(m.ends_with("; nothing was restored"), "{m}");
        assert_eq!(state(&fresh.m).await, before);
        fresh.m.audit_verify().await.unwrap();
        assert!(
            fresh
                .m
                .store()
                .active_without_key()
                .await
                .unwrap()
                .is_empty()
        );

        // A folder with another master key: told which key to put in place, nothing changed.
        let other = setup(
            "chiba-ia",
            match &e.url {
                Some(_) => mamori_store::fresh_test_database().await.unwrap(),
                None => None,
            },
        )
        .await;
        let before = state(&other.m).await;
        let m = bad_input(other.m.restore(std::slice::from_ref(&data)).await);
        assert!(
            m.contains("which this folder does not have") && m.contains("master.key"),
            "{m}"
        );
        assert_eq!(state(&other.m).await, before);
    })
    .await;
}

#[tokio::test]
async fn a_new_machine_restores_data_and_keys_in_either_order_or_together() {
    on_both("chiba-ia", |e| async move {
        let a = add_volunteer(&e).await;
        let clerk = actor(&e, "clerk").await;
        let b =
            e.m.principal_add(
                &clerk,
                mamori_service::principal::NewPrincipal {
                    channel: "volunteer".into(),
                    fields: fields(&[("name", "佐藤 花子"), ("email", "hanako@example.jp")]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let gone = add_volunteer(&e).await;
        e.m.erase_principal("test", &gone, "test erasure", None)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (data, keys) = backups(&e, dir.path(), "office").await;

        for order in ["data, then keys", "keys, then data", "both at once"] {
            let fresh = new_machine(&e).await;
            let m = &fresh.m;
            match order {
                "data, then keys" => {
                    let r = m.restore(std::slice::from_ref(&data)).await.unwrap();
                    // Nobody is erased for a key that is merely not restored yet.
                    assert!(r.re_erased.is_empty(), "{order}: {:?}", r.re_erased);
                    assert_eq!(r.waiting_for_keys, 2, "{order}");
                    assert!(r.unknown_erasures_after.is_some(), "{order}");
                    assert_eq!(
                        m.store().disposals(None).await.unwrap().len(),
                        1,
                        "{order}: only the real erasure"
                    );
                    assert_eq!(m.status().await.unwrap()["principals"], 2, "{order}");
                    // The server's sweep at start (before the keys are back) erases nobody.
                    let s = m
                        .retention_sweep(None, None, false, false, &mut |_| {})
                        .await
                        .unwrap();
                    assert!(
                        s.re_erased.is_empty() && s.destroyed.is_empty(),
                        "{order}: {s:?}"
                    );
                    assert_eq!(m.status().await.unwrap()["principals"], 2, "{order}");
                    let r = m.restore(std::slice::from_ref(&keys)).await.unwrap();
                    assert_eq!(r.waiting_for_keys, 0, "{order}");
                    assert_eq!(r.keys_destroyed, Vec::<String>::new(), "{order}");
                }
                "keys, then data" => {
                    m.restore(std::slice::from_ref(&keys)).await.unwrap();
                    let r = m.restore(std::slice::from_ref(&data)).await.unwrap();
                    assert!(r.re_erased.is_empty(), "{order}");
                    assert_eq!(r.waiting_for_keys, 0, "{order}");
                }
                _ => {
                    let r = m.restore(&[keys.clone(), data.clone()]).await.unwrap();
                    assert_eq!(r.kinds, vec!["data", "keys"], "{order}");
                    assert!(r.re_erased.is_empty() && r.waiting_for_keys == 0, "{order}");
                    let newest = m.store().open_backup(&keys).unwrap().header.created_at;
                    assert_eq!(
                        r.unknown_erasures_after,
                        Some(newest),
                        "{order}: the newest backup's time"
                    );
                }
            }
            let clerk = actor_of(m, "clerk").await;
            for (id, email) in [(&a, "taro.yamada@example.jp"), (&b, "hanako@example.jp")] {
                let found = m
                    .principal_find(&clerk, "registration_contact", "email", email)
                    .await
                    .unwrap();
                assert_eq!(
                    found.iter().map(|f| &f.id).collect::<Vec<_>>(),
                    vec![id],
                    "{order}: search by email"
                );
                m.principal_show(&clerk, id, "registration_contact", None, None)
                    .await
                    .unwrap();
            }
            let found = m
                .principal_find(&clerk, "registration_contact", "name", "佐藤 花子")
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{order}: search by name");
            assert!(
                matches!(
                    m.principal_show(&clerk, &gone, "registration_contact", None, None)
                        .await,
                    Err(ServiceError::NotFound(_))
                ),
                "{order}"
            );
            assert!(!m.store().has_data_key(&gone).await.unwrap(), "{order}");
            assert_eq!(m.status().await.unwrap()["principals"], 2, "{order}");
            m.audit_verify().await.unwrap();
        }
    })
    .await;
}

async fn actor_of(m: &Mamori, login: &str) -> mamori_service::Actor {
    m.actor(login).await.unwrap()
}

#[tokio::test]
async fn an_old_key_backup_never_revives_someone_erased_after_it() {
    on_both("chiba-ia", |e| async move {
        let x = add_volunteer(&e).await;
        let kept = add_volunteer(&e).await;
        let dir = tempfile::tempdir().unwrap();
        let (old_data, old_keys) = backups(&e, dir.path(), "monday").await;
        e.m.erase_principal("test", &x, "test erasure", None)
            .await
            .unwrap();
        let erased_at = e.m.store().disposals(Some(&x)).await.unwrap()[0].at.clone();
        // The key store keeps the erasure's tombstone (a trigger on the key's deletion).
        assert!(e.m.store().tombstones().await.unwrap().contains(&x));
        let new_data = dir.path().join("tuesday.data");
        e.m.backup(&new_data, false).await.unwrap();
        let clerk = actor(&e, "clerk").await;

        // A new machine with the old key backup and the newer data backup, either order.
        for files in [
            vec![old_keys.clone(), new_data.clone()],
            vec![new_data.clone(), old_keys.clone()],
        ] {
            let fresh = new_machine(&e).await;
            let mut destroyed = Vec::new();
            for f in &files {
                destroyed.extend(
                    fresh
                        .m
                        .restore(std::slice::from_ref(f))
                        .await
                        .unwrap()
                        .keys_destroyed,
                );
            }
            assert_eq!(destroyed, vec![x.clone()], "{files:?}");
            assert!(!fresh.m.store().has_data_key(&x).await.unwrap());
            let c = actor_of(&fresh.m, "clerk").await;
            assert!(matches!(
                fresh
                    .m
                    .principal_show(&c, &x, "registration_contact", None, None)
                    .await,
                Err(ServiceError::NotFound(_))
            ));
            fresh
                .m
                .principal_show(&c, &kept, "registration_contact", None, None)
                .await
                .unwrap();
        }

        // This folder (newer than both old backups) restores them: the erasure it knows stays.
        let r =
            e.m.restore(&[old_data.clone(), old_keys.clone()])
                .await
                .unwrap();
        assert_eq!(r.re_erased, vec![x.clone()]);
        assert_eq!(r.keys_destroyed, vec![x.clone()]);
        assert_eq!(
            r.unknown_erasures_after, None,
            "this folder knew every erasure"
        );
        let d = e.m.store().disposals(Some(&x)).await.unwrap();
        // The disposal record gives the true reason: the erasure's own time, from the tombstone
        // (to the minute: the trigger's clock and the disposal's are a few ms apart).
        let last = d.last().unwrap();
        assert!(
            last.rule
                .starts_with(&format!("restore: erased at {}", &erased_at[..16]))
                && last.rule.ends_with(", after the backup was made"),
            "{d:?}"
        );
        assert!(
            e.m.principal_find(
                &clerk,
                "registration_contact",
                "email",
                "taro.yamada@example.jp"
            )
            .await
            .unwrap()
            .iter()
            .all(|f| f.id != x)
        );
        e.m.audit_verify().await.unwrap();
        // A later sweep does not erase anyone else.
        let manager = actor(&e, "manager").await;
        let s =
            e.m.retention_sweep(Some(&manager), None, false, false, &mut |_| {})
                .await
                .unwrap();
        assert!(s.re_erased.is_empty() && s.destroyed.is_empty(), "{s:?}");

        // Only old backups on a new machine (someone registered there already): restore says
        // after when it cannot know.
        let fresh = new_machine(&e).await;
        fresh
            .m
            .staff_add(None, "trial", "clerk", None, PASSWORD)
            .await
            .unwrap();
        let trial = actor_of(&fresh.m, "trial").await;
        fresh
            .m
            .principal_add(
                &trial,
                mamori_service::principal::NewPrincipal {
                    channel: "inquiry".into(),
                    fields: fields(&[("name", "試験 一郎"), ("email", "trial@example.jp")]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let r = fresh
            .m
            .restore(&[old_data.clone(), old_keys.clone()])
            .await
            .unwrap();
        let newest = fresh
            .m
            .store()
            .open_backup(&old_keys)
            .unwrap()
            .header
            .created_at;
        assert_eq!(r.unknown_erasures_after, Some(newest));
    })
    .await;
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn backups_and_disclosure_packages_are_0600_and_never_written_through_a_symlink() {
    on_both("chiba-ia", |e| async move {
        let pid = add_volunteer(&e).await;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let out = dir.path().join("office.data");
        std::os::unix::fs::symlink(&victim, dir.path().join("office.partial")).unwrap();
        e.m.backup(&out, false).await.unwrap();
        e.m.backup(&dir.path().join("office.keys"), true)
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(mode(&out), 0o600);
        assert_eq!(mode(&dir.path().join("office.keys")), 0o600);
        let link = dir.path().join("link.data");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let m = bad_input(e.m.backup(&link, false).await);
        assert_eq!(
            m,
            format!(
                "--out: {} is a symbolic link: give the path of a regular file",
                link.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");

        // The disclosure package: 0600 in a 0700 folder.
        let clerk = actor(&e, "clerk").await;
        let o =
            e.m.request_open(
                &clerk,
                OpenRequest {
                    principal_id: Some(pid.clone()),
                    kind: "disclosure".into(),
                    received_at: "2026-11-20T10:30:00+09:00".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        e.m.request_verify(
            &clerk,
            &o.id,
            "in_person_residence_card",
            Some("在留カード 末尾1234"),
        )
        .await
        .unwrap();
        let pkg = dir.path().join("package");
        let f =
            e.m.request_fulfil(&clerk, &o.id, &[], Some(&pkg))
                .await
                .unwrap();
        assert!(!f.files.is_empty());
        assert_eq!(mode(&pkg), 0o700);
        for file in &f.files {
            assert_eq!(mode(Path::new(file)), 0o600, "{file}");
        }
    })
    .await;
}
