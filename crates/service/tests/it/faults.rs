//! Faults (issue 20): a full disk, a PostgreSQL server restarted under load, a key store that
//! cannot be written. Each answers a clear one-line error, loses nothing committed, keeps the
//! audit chain verifying once the fault is gone, and the same running Mamori recovers without a
//! restart. Real faults, not mocks: a small tmpfs, a private PostgreSQL cluster restarted with
//! `pg_ctl`, a trigger that makes the key store refuse writes. A test that cannot make its fault
//! on this machine says so and is skipped (visibly, on stderr).

use std::path::{Path, PathBuf};
use std::process::Command;

use mamori_service::principal::NewPrincipal;
use mamori_service::{Config, Mamori, ServiceError};

use crate::common::*;

/// A name for the n-th test person (names take no digits).
fn nth(prefix: &str, n: usize) -> String {
    let letters: String = n
        .to_string()
        .chars()
        .map(|d| char::from(b'a' + d.to_digit(10).unwrap_or(0) as u8))
        .collect();
    format!("{prefix} {letters}")
}

fn volunteer(name: &str) -> NewPrincipal {
    NewPrincipal {
        channel: "volunteer".into(),
        fields: fields(&[
            ("name", name),
            ("email", "fault.probe@example.jp"),
            ("phone", "090-1234-5678"),
        ]),
        ..Default::default()
    }
}

async fn open_env(data: &Path, url: Option<String>) -> Mamori {
    let cfg = Config {
        data_dir: data.to_path_buf(),
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
    m.staff_add(None, "clerk", "clerk", None, PASSWORD)
        .await
        .unwrap();
    m
}

fn one_line(e: &ServiceError) -> String {
    let s = e.to_string();
    assert_eq!(s.lines().count(), 1, "one line: {s:?}");
    s
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the file system holding `dir` (a file of zeros until ENOSPC).
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    p
}

#[tokio::test]
async fn a_full_disk_refuses_writes_in_one_line_and_the_same_mamori_recovers_when_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("small"), "12m") else {
        eprintln!("full-disk test skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let data = fs.0.join("data");
    let m = open_env(&data, None).await;
    let clerk = m.actor("clerk").await.unwrap();
    let mut kept = Vec::new();
    for i in 0..5 {
        kept.push(
            m.principal_add(&clerk, volunteer(&nth("Kept", i)))
                .await
                .unwrap()
                .id,
        );
    }
    let before = m.status().await.unwrap();
    let filler = fill(&fs.0);

    // Registrations fail (a few may fit in pages already allocated; the disk stays full).
    let mut refused = None;
    for i in 0..200 {
        match m
            .principal_add(&clerk, volunteer(&nth("Overflow", i)))
            .await
        {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let e = refused.expect("a full disk refuses a registration");
    let msg = one_line(&e);
    assert!(matches!(e, ServiceError::Unavailable(_)), "{e:?}");
    assert_eq!(
        msg,
        "the disk holding the data is full: free space on it, then try again (nothing was written)"
    );
    // An import stops with the same line (what it committed before the disk filled stays).
    let csv: String = std::iter::once("name,email\n".to_string())
        .chain((0..600).map(|i| {
            format!(
                "{},{}@example.jp\n",
                nth("Imported", i),
                nth("row", i).replace(' ', "")
            )
        }))
        .collect();
    let e = m
        .import_csv(
            &clerk,
            "volunteer",
            csv.as_bytes(),
            &[],
            false,
            None,
            &mut |_| {},
        )
        .await
        .expect_err("a full disk stops an import");
    assert!(matches!(e, ServiceError::Unavailable(_)), "{e:?}");
    assert_eq!(one_line(&e), msg);
    // An audited read cannot be recorded, so no value is released.
    let r = m
        .principal_show(&clerk, &kept[0], "registration_contact", None, None)
        .await;
    match r {
        Err(e @ ServiceError::Unavailable(_)) => {
            one_line(&e);
        }
        Ok(_) => {
            // The read's entry fitted; the disk is still full: the next registration is refused.
            assert!(
                m.principal_add(&clerk, volunteer("Still full"))
                    .await
                    .is_err()
            );
        }
        Err(other) => panic!("expected unavailable, got {other:?}"),
    }

    std::fs::remove_file(&filler).unwrap();
    // The same Mamori carries on: the import reruns to completion, nothing committed was lost,
    // the chain verifies.
    let r = m
        .import_csv(
            &clerk,
            "volunteer",
            csv.as_bytes(),
            &[],
            false,
            None,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.added + r.already_imported, 600, "{r:?}");
    let id = m
        .principal_add(&clerk, volunteer("After"))
        .await
        .unwrap()
        .id;
    // Acknowledged means committed: a connection of its own sees it (after a full disk the
    // driver once kept the writer inside a transaction SQLite had rolled back, and every later
    // write was acknowledged and lost).
    {
        use sqlx::ConnectOptions;
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data.join("mamori.db"))
            .connect()
            .await
            .unwrap();
        let n: i64 = sqlx::Row::get(
            &sqlx::query("SELECT COUNT(*) FROM principals WHERE id = $1")
                .bind(&id)
                .fetch_one(&mut c)
                .await
                .unwrap(),
            0,
        );
        assert_eq!(n, 1, "the registration after the fault is durable");
    }
    for p in kept.iter().chain([&id]) {
        let shown = m
            .principal_show(&clerk, p, "registration_contact", None, None)
            .await
            .unwrap();
        assert_eq!(shown.fields.len(), 3, "{p} is whole");
    }
    let after = m.status().await.unwrap();
    assert!(after["principals"].as_i64() > before["principals"].as_i64());
    m.audit_verify().await.unwrap();
    drop(m);
    drop(fs);
}

#[tokio::test]
async fn a_key_store_that_cannot_be_written_refuses_registrations_and_recovers() {
    on_both("chiba-ia", |e| async move {
        let first = add_volunteer(&e).await;
        let n = principals(&e).await;
        let sqlite = e.url.is_none();
        let (on, off): (&[&str], &[&str]) = if sqlite {
            (
                &["CREATE TRIGGER mamori_keys.refuse_writes BEFORE INSERT ON data_keys BEGIN SELECT RAISE(ABORT, 'the key store is read-only'); END"],
                &["DROP TRIGGER mamori_keys.refuse_writes"],
            )
        } else {
            (
                &[
                    "CREATE FUNCTION mamori_keys.refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'the key store is read-only'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER refuse_writes BEFORE INSERT ON mamori_keys.data_keys FOR EACH ROW EXECUTE FUNCTION mamori_keys.refuse_writes()",
                ],
                &[
                    "DROP TRIGGER refuse_writes ON mamori_keys.data_keys",
                    "DROP FUNCTION mamori_keys.refuse_writes()",
                ],
            )
        };
        for sql in on {
            sqlx::raw_sql(sql).execute(e.m.store().pool()).await.unwrap();
        }
        let clerk = actor(&e, "clerk").await;
        let err = e
            .m
            .principal_add(&clerk, volunteer("No key"))
            .await
            .unwrap_err();
        let msg = one_line(&err);
        assert!(matches!(err, ServiceError::Unavailable(_)), "{err:?}");
        assert!(msg.contains("key store"), "{msg}");
        assert_eq!(principals(&e).await, n, "no principal without a key");
        // What was there is still there, and the log verifies.
        e.m.principal_show(&clerk, &first, "registration_contact", None, None)
            .await
            .unwrap();
        e.m.audit_verify().await.unwrap();
        for sql in off {
            sqlx::raw_sql(sql).execute(e.m.store().pool()).await.unwrap();
        }
        let id = e.m.principal_add(&clerk, volunteer("Key again")).await.unwrap().id;
        e.m.principal_show(&clerk, &id, "registration_contact", None, None)
            .await
            .unwrap();
        e.m.audit_verify().await.unwrap();
    })
    .await;
}

/// A PostgreSQL cluster of this test's own (so restarting it disturbs no other test), run as the
/// `postgres` user on a free port; stopped when dropped.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|d| d.path().join("bin"))
            .find(|b| b.join("initdb").exists())?;
        let dir = std::env::temp_dir().join(format!("mamori-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let owned = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let c = Cluster { dir, bin, port };
        let init = owned
            && c.as_postgres(&[
                "initdb",
                "-D",
                c.data().to_str()?,
                "-A",
                "trust",
                "-U",
                "postgres",
            ]);
        (init && c.pg_ctl("start")).then_some(c)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn as_postgres(&self, args: &[&str]) -> bool {
        as_postgres(&self.bin, args)
    }

    fn pg_ctl(&self, what: &str) -> bool {
        pg_ctl(&self.bin, &self.dir, self.port, what)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

fn as_postgres(bin: &Path, args: &[&str]) -> bool {
    let Some((tool, rest)) = args.split_first() else {
        return false;
    };
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(tool))
        .args(rest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn pg_ctl(bin: &Path, dir: &Path, port: u16, what: &str) -> bool {
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let data = dir.join("data");
    as_postgres(
        bin,
        &[
            "pg_ctl",
            "-D",
            data.to_str().unwrap_or(""),
            "-o",
            &opts,
            "-w",
            "-m",
            "fast",
            what,
        ],
    )
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.pg_ctl("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_restart_under_load_loses_nothing_and_mamori_carries_on() {
    let Some(pg) = Cluster::start() else {
        eprintln!(
            "PostgreSQL restart test skipped: cannot start a private cluster here (needs root, runuser and Debian's PostgreSQL)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = std::sync::Arc::new(open_env(&dir.path().join("data"), Some(pg.url())).await);
    let clerk = m.actor("clerk").await.unwrap();
    let mut tasks = Vec::new();
    // Registrations committed after the restart was over: the load went on across it.
    let restarted_at = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let after_restart = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for t in 0..4 {
        let (m, clerk) = (m.clone(), clerk.clone());
        let (flag, after) = (restarted_at.clone(), after_restart.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (Vec::new(), Vec::new());
            for i in 0..400 {
                match m
                    .principal_add(&clerk, volunteer(&nth("Load", t * 1000 + i)))
                    .await
                {
                    Ok(p) => {
                        ok.push(p.id);
                        if flag.load(std::sync::atomic::Ordering::SeqCst)
                            && after.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 40
                        {
                            break;
                        }
                    }
                    Err(e) => failed.push(e),
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            (ok, failed)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (bin, pgdir, port) = (pg.bin.clone(), pg.dir.clone(), pg.port);
    let restarted = tokio::task::spawn_blocking(move || pg_ctl(&bin, &pgdir, port, "restart"))
        .await
        .unwrap();
    assert!(restarted, "pg_ctl restart");
    restarted_at.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok.extend(o);
        failed.extend(f);
    }
    for e in &failed {
        let msg = one_line(e);
        assert!(matches!(e, ServiceError::Unavailable(_)), "{e:?}");
        assert!(!msg.contains("Load"), "no value in the message: {msg}");
    }
    eprintln!(
        "restart under load: {} registrations committed, {} refused while the server restarted ({})",
        ok.len(),
        failed.len(),
        failed.first().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(
        after_restart.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "registrations went on after the restart"
    );
    assert!(ok.len() < 1600, "the restart came while the load ran");
    // The same Mamori carries on, and every committed registration is whole.
    let after = m
        .principal_add(&clerk, volunteer("After restart"))
        .await
        .unwrap();
    ok.push(after.id);
    for id in &ok {
        let shown = m
            .principal_show(&clerk, id, "registration_contact", None, None)
            .await
            .unwrap_or_else(|e| panic!("{id} committed but not readable: {e}"));
        assert_eq!(shown.fields.len(), 3);
    }
    m.audit_verify().await.unwrap();
}
