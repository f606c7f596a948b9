//! The one writer: group commit of many callers' writes and audit entries.
//!
//! Every write of personal data and every access decision is one job: statements plus the audit
//! entries that describe them. The writer takes all jobs waiting, runs each inside its own
//! savepoint (a failing job is rolled back alone), chains their audit entries, and commits them
//! together: one fsync for many callers. No caller gets its answer before the commit that holds
//! its audit entry is durable (DESIGN.md "Audit log"; issue 13's `read` figure).

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{AnyPool, Executor, Row, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::audit::{AuditDraft, AuditEntry, CHECKPOINT_EVERY, checkpoint_message};
use crate::crypto::{AuditEntryKey, AuditSigner};
use crate::db::{Backend, Stmt, Val, bind, bind_sqlite, describe, one_line};

const MAX_BATCH: usize = 1024;

pub(crate) struct Job {
    pub stmts: Vec<Stmt>,
    pub audit: Vec<AuditDraft>,
    pub reply: oneshot::Sender<Result<Vec<i64>, StoreError>>,
}

#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Job>,
}

impl WriterHandle {
    pub(crate) fn start(
        pool: WriterPool,
        backend: Backend,
        signer: Arc<AuditSigner>,
        head_path: PathBuf,
    ) -> WriterHandle {
        let (tx, rx) = mpsc::channel::<Job>(8192);
        tokio::spawn(run(pool, backend, signer, head_path, rx));
        WriterHandle { tx }
    }

    pub(crate) async fn submit(
        &self,
        stmts: Vec<Stmt>,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<i64>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                stmts,
                audit,
                reply,
            })
            .await
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?
    }
}

async fn run(
    pool: WriterPool,
    backend: Backend,
    signer: Arc<AuditSigner>,
    head_path: PathBuf,
    mut rx: mpsc::Receiver<Job>,
) {
    let key = signer.entry_key();
    // The head this writer last committed: a batch that finds the database's head there needs
    // no check of the entry it chains onto (it wrote it).
    let mut known: Option<(i64, String)> = None;
    let ctx = BatchCtx {
        backend,
        signer: &signer,
        key: &key,
        head_path: &head_path,
    };
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut attempt = 0;
        let mut careful = false;
        let outcome = loop {
            match commit_batch(&pool, &ctx, &known, &jobs, careful).await {
                Err(BatchError::Retry(_)) if attempt < 50 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(BatchError::Redo) if !careful => careful = true,
                other => break other,
            }
        };
        if outcome.is_err() {
            pool.discard().await;
        }
        match outcome {
            Ok((results, head)) => {
                if let Some(h) = head {
                    // The pending head in the file already accounts for this commit: a failure
                    // here is caught up by the next batch.
                    if let Err(e) = crate::head::finish(&head_path, &signer, h.0, &h.1) {
                        tracing::warn!("{e}");
                    }
                    known = Some(h);
                }
                for (job, r) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(BatchError::Redo) => {
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Unavailable("audit write failed".into())));
                }
            }
            Err(BatchError::Retry(e)) | Err(BatchError::Fatal(e)) => {
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Unavailable(e.clone())));
                }
            }
        }
    }
}

enum BatchError {
    Retry(String),
    Fatal(String),
    /// A job run without its own savepoint failed: run the batch again, each job in one.
    Redo,
}

fn classify(e: sqlx::Error) -> BatchError {
    let msg = one_line(&e.to_string());
    let busy = msg.contains("database is locked")
        || msg.contains("busy")
        || msg.contains("could not serialize")
        || msg.contains("deadlock");
    if busy {
        BatchError::Retry(msg)
    } else {
        BatchError::Fatal(describe("database write failed", &msg))
    }
}

type BatchOutcome = (Vec<Result<Vec<i64>, StoreError>>, Option<(i64, String)>);

/// What every batch of one writer shares.
struct BatchCtx<'a> {
    backend: Backend,
    signer: &'a AuditSigner,
    key: &'a AuditEntryKey,
    head_path: &'a std::path::Path,
}

async fn commit_batch(
    pool: &WriterPool,
    ctx: &BatchCtx<'_>,
    known: &Option<(i64, String)>,
    jobs: &[Job],
    careful: bool,
) -> Result<BatchOutcome, BatchError> {
    let (backend, signer, key) = (ctx.backend, ctx.signer, ctx.key);
    let mut tx = pool.begin().await.map_err(classify)?;
    // Take the write lock first (SQLite: RESERVED; PostgreSQL: the head row), then read the head:
    // another process may have appended since our last batch.
    tx.raw("UPDATE audit_head SET seq = seq WHERE id = 1")
        .await
        .map_err(classify)?;
    let (start_seq, head_hash) = tx.head().await.map_err(classify)?;
    // Never chain onto an entry this writer cannot authenticate (issue 20): one written into the
    // database by someone without the signing key, or a head row pointing elsewhere.
    let ours = known
        .as_ref()
        .is_some_and(|(s, h)| *s == start_seq && *h == head_hash);
    if start_seq > 0 && !ours {
        let last = tx.entry(start_seq).await.map_err(classify)?;
        let authentic = last
            .as_ref()
            .is_some_and(|e| e.hash == head_hash && e.as_ref().hash_matches(key));
        if !authentic {
            return Err(BatchError::Fatal(format!(
                "the audit log's last entry {start_seq} is not authenticated by the audit signing key (it was written or changed outside Mamori): nothing more is written; run `mamori audit verify`"
            )));
        }
    }
    let mut seq = start_seq;
    let mut prev = head_hash.clone();
    let at = jiff::Timestamp::now().to_string();
    let mut results = Vec::with_capacity(jobs.len());

    for job in jobs {
        // A job that only appends audit entries (every audited read) needs no savepoint of its
        // own: two statements fewer per read. If one fails, the batch is rolled back and run
        // again with a savepoint per job, so that failure stays that job's alone.
        let light = !careful && job.stmts.is_empty();
        if !light {
            tx.raw("SAVEPOINT job").await.map_err(classify)?;
        }
        let mut job_result: Result<(), StoreError> = Ok(());
        for s in &job.stmts {
            match tx.exec(s.sql_for(backend), &s.params).await {
                Ok(done) => {
                    if let Some((want, msg)) = s.expect
                        && done != want
                    {
                        job_result = Err(StoreError::Conflict(msg.to_string()));
                        break;
                    }
                }
                Err(e) => {
                    let m = one_line(&e.to_string());
                    job_result = Err(if m.contains("UNIQUE") || m.contains("duplicate key") {
                        StoreError::Conflict("that record exists already".into())
                    } else {
                        StoreError::Unavailable(describe("database write failed", &m))
                    });
                    break;
                }
            }
        }
        let (mut s2, mut p2) = (seq, prev.clone());
        let mut seqs = Vec::with_capacity(job.audit.len());
        if job_result.is_ok() {
            for d in &job.audit {
                s2 += 1;
                let e = AuditEntry::from_draft(d, s2, &at, &p2, key);
                let r = tx.audit_row(&e).await;
                if let Err(err) = r {
                    job_result = Err(StoreError::Unavailable(describe(
                        "audit write failed",
                        &err.to_string(),
                    )));
                    break;
                }
                if e.seq % CHECKPOINT_EVERY == 0 {
                    let sig = signer.sign(&checkpoint_message(e.seq, &e.hash));
                    let r = tx
                        .exec(
                            "INSERT INTO audit_checkpoints (seq, hash, signature, at) VALUES ($1, $2, $3, $4)",
                            &[
                                Val::I64(Some(e.seq)),
                                Val::Text(Some(e.hash.clone())),
                                Val::Text(Some(sig)),
                                Val::Text(Some(at.clone())),
                            ],
                        )
                        .await;
                    if let Err(err) = r {
                        job_result = Err(StoreError::Unavailable(format!(
                            "audit checkpoint failed: {}",
                            one_line(&err.to_string())
                        )));
                        break;
                    }
                }
                seqs.push(e.seq);
                p2 = e.hash;
            }
        }
        match job_result {
            Err(_) if light => return Err(BatchError::Redo),
            Ok(()) => {
                if !light {
                    tx.raw("RELEASE SAVEPOINT job").await.map_err(classify)?;
                }
                seq = s2;
                prev = p2;
                results.push(Ok(seqs));
            }
            Err(e) => {
                tx.raw("ROLLBACK TO SAVEPOINT job")
                    .await
                    .map_err(classify)?;
                tx.raw("RELEASE SAVEPOINT job").await.map_err(classify)?;
                results.push(Err(e));
            }
        }
    }
    let head = if seq != start_seq {
        tx.exec(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[Val::I64(Some(seq)), Val::Text(Some(prev.clone()))],
        )
        .await
        .map_err(classify)?;
        // The head file must account for the log before anything is added to it, and names this
        // batch as pending before it is committed (crate::head).
        crate::head::prepare(ctx.head_path, signer, (start_seq, &head_hash), (seq, &prev))
            .map_err(|e| {
                BatchError::Fatal(match crate::db::storage_fault(&e) {
                    Some(plain) => plain.to_string(),
                    None => e,
                })
            })?;
        Some((seq, prev))
    } else {
        None
    };
    tx.commit().await.map_err(classify)?;
    Ok((results, head))
}

/// What the writer writes through: on SQLite a pool of its own over the concrete driver (one
/// connection: its prepared statements stay cached, and no argument passes through `Any`); on
/// PostgreSQL the shared `Any` pool.
#[derive(Clone)]
pub(crate) enum WriterPool {
    Any(AnyPool),
    Sqlite(SqlitePool),
}

impl WriterPool {
    /// After a failed batch on SQLite: close the writer's connection instead of using it again
    /// (the next batch opens a fresh one). A statement that failed with a full disk may have
    /// made SQLite roll the transaction back by itself, leaving the driver counting one still
    /// open: the next "transaction" would then be a savepoint inside one never committed, and
    /// every write acknowledged after the fault would be lost (issue 20, `faults.rs`).
    pub(crate) async fn discard(&self) {
        if let WriterPool::Sqlite(p) = self
            && let Ok(c) = p.acquire().await
        {
            let _ = c.close().await;
        }
    }

    async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            WriterPool::Any(p) => Tx::Any(p.begin().await?),
            WriterPool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
        })
    }
}

/// One batch's transaction, on either driver.
enum Tx {
    Any(sqlx::Transaction<'static, sqlx::Any>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

/// Binds an audit entry's thirteen columns, by reference, to a query of either driver.
macro_rules! bind_entry {
    ($q:expr, $e:expr) => {
        $q.bind($e.seq)
            .bind($e.at.as_str())
            .bind($e.actor.as_str())
            .bind($e.action.as_str())
            .bind($e.principal_id.as_deref())
            .bind($e.purpose.as_deref())
            .bind($e.basis.as_deref())
            .bind($e.categories.as_str())
            .bind($e.decision.as_str())
            .bind($e.reason.as_deref())
            .bind($e.detail.as_str())
            .bind($e.prev_hash.as_str())
            .bind($e.hash.as_str())
    };
}

const INSERT_ENTRY: &str = "INSERT INTO audit_log (seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

impl Tx {
    /// A statement without parameters (savepoints, the write lock).
    async fn raw(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Tx::Any(t) => t.execute(sql).await.map(drop),
            Tx::Sqlite(t) => t.execute(sql).await.map(drop),
        }
    }

    /// A statement with its parameters; the rows it touched.
    async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, sqlx::Error> {
        match self {
            Tx::Any(t) => Ok(bind(sqlx::query(sql), params)
                .execute(&mut **t)
                .await?
                .rows_affected()),
            Tx::Sqlite(t) => Ok(bind_sqlite(sqlx::query(sql), params)
                .execute(&mut **t)
                .await?
                .rows_affected()),
        }
    }

    async fn audit_row(&mut self, e: &AuditEntry) -> Result<(), sqlx::Error> {
        match self {
            Tx::Any(t) => bind_entry!(sqlx::query(INSERT_ENTRY), e)
                .execute(&mut **t)
                .await
                .map(drop),
            Tx::Sqlite(t) => bind_entry!(sqlx::query(INSERT_ENTRY), e)
                .execute(&mut **t)
                .await
                .map(drop),
        }
    }

    /// The chain's head: its sequence number and hash.
    async fn head(&mut self) -> Result<(i64, String), sqlx::Error> {
        const SQL: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
        match self {
            Tx::Any(t) => {
                let r = sqlx::query(SQL).fetch_one(&mut **t).await?;
                Ok((r.try_get(0)?, r.try_get(1)?))
            }
            Tx::Sqlite(t) => {
                let r = sqlx::query(SQL).fetch_one(&mut **t).await?;
                Ok((r.try_get(0)?, r.try_get(1)?))
            }
        }
    }

    /// One entry of the log, by its place.
    async fn entry(&mut self, seq: i64) -> Result<Option<AuditEntry>, sqlx::Error> {
        const SQL: &str = "SELECT seq, at, actor, action, principal_id, purpose, basis, categories, decision, reason, detail, prev_hash, hash FROM audit_log WHERE seq = $1";
        macro_rules! entry_of {
            ($r:expr) => {
                AuditEntry {
                    seq: $r.try_get(0)?,
                    at: $r.try_get(1)?,
                    actor: $r.try_get(2)?,
                    action: $r.try_get(3)?,
                    principal_id: $r.try_get(4)?,
                    purpose: $r.try_get(5)?,
                    basis: $r.try_get(6)?,
                    categories: $r.try_get(7)?,
                    decision: $r.try_get(8)?,
                    reason: $r.try_get(9)?,
                    detail: $r.try_get(10)?,
                    prev_hash: $r.try_get(11)?,
                    hash: $r.try_get(12)?,
                }
            };
        }
        match self {
            Tx::Any(t) => {
                let r = sqlx::query(SQL).bind(seq).fetch_optional(&mut **t).await?;
                Ok(match r {
                    Some(r) => Some(entry_of!(r)),
                    None => None,
                })
            }
            Tx::Sqlite(t) => {
                let r = sqlx::query(SQL).bind(seq).fetch_optional(&mut **t).await?;
                Ok(match r {
                    Some(r) => Some(entry_of!(r)),
                    None => None,
                })
            }
        }
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Any(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }
}

/// After a restore: a new signed head for the restored log, in place of the old file.
pub(crate) fn write_head(path: &std::path::Path, signer: &AuditSigner, seq: i64, hash: &str) {
    if let Err(e) = crate::head::reset(path, signer, seq, hash) {
        tracing::warn!("{e}");
    }
}
