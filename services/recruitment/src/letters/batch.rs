//! The batch run (`inburgering recruitment letters`): reserves the next letters, prints
//! them to one PDF and its index, then marks them sent with their events; finishes what
//! an interrupted run left printing; erases addresses after the retention.

use platform::db::BeginWrite as _;
use std::{
    collections::{BTreeMap, VecDeque},
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use platform::events::Outbox;
use proto::recruitment::v1 as pb;
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
};
use uuid::Uuid;

use super::{
    render::{Printer, Reserved, languages_of},
    templates::{current, translation_for, versions},
};
use crate::{
    RecruitmentError, convert,
    domain::LetterKind,
    rules::{self, Group},
    store::{addressee, letter, letter_batch, registration, template},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// What a run of the letters did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub batches: u64,
    pub letters: u64,
    /// Letters with a translation, by language.
    pub translated: BTreeMap<String, u64>,
    pub dutch_only: u64,
    /// Batches of an interrupted run, printed again and completed.
    pub resumed: u64,
    pub files: Vec<PathBuf>,
}

/// What the run is asked to do.
#[derive(Debug, Clone)]
pub struct Run {
    pub kind: LetterKind,
    /// Registration days, both inclusive.
    pub registered_from: NaiveDate,
    pub registered_to: NaiveDate,
    pub out_dir: PathBuf,
    pub retention_days: u32,
    /// Stop after this many batches (tests and trial runs); `None` for all.
    pub max_batches: Option<u64>,
    /// Who signs each letter, and the contact block it ends with.
    pub senders: ::letters::Senders,
}

/// One person to write to, with what the letter needs of the registration.
#[derive(Debug, Clone)]
struct Candidate {
    registration_id: Uuid,
    person_id: Uuid,
    nis: String,
    agency: String,
    target_group: String,
    mother_tongue: String,
    contact_language: Option<String>,
}

fn select_person_columns(q: &mut sea_orm::sea_query::SelectStatement) {
    use addressee::Column as A;
    use registration::Column as R;
    q.expr_as(
        Expr::col((registration::Entity, R::Id)),
        Alias::new("registration_id"),
    )
    .column((registration::Entity, R::PersonId))
    .column((registration::Entity, R::Nis))
    .column((registration::Entity, R::Agency))
    .column((registration::Entity, R::TargetGroup))
    .column((registration::Entity, R::RegisteredOn))
    .column((registration::Entity, R::MotherTongue))
    .column((registration::Entity, R::ContactLanguage))
    .column((addressee::Entity, A::GivenName))
    .column((addressee::Entity, A::FamilyName))
    .column((addressee::Entity, A::Street))
    .column((addressee::Entity, A::PostalCode))
    .column((addressee::Entity, A::City));
}

/// The next people of `run` without a letter of its kind, in registration order, after
/// registration `after`, and the last registration read. A run walks the registrations
/// once by key; each page is three indexed reads of at most `limit` rows (the
/// registrations, their persons' letters of the kind, their addressees) rather than one
/// anti-join whose cost grows with every letter already sent.
async fn candidates(
    db: &impl ConnectionTrait,
    run: &Run,
    mut after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<Candidate>, Option<Uuid>)> {
    use registration::Column as R;
    let groups: Vec<&str> = run.kind.groups().iter().map(|g| g.as_str()).collect();
    loop {
        let mut q = registration::Entity::find()
            .filter(Expr::col(R::TargetGroup).is_in(groups.clone()))
            .filter(Expr::col(R::RegisteredOn).between(run.registered_from, run.registered_to))
            .order_by_asc(R::Id)
            .limit(limit);
        if let Some(after) = after {
            q = q.filter(Expr::col(R::Id).gt(after));
        }
        let page = q.all(db).await?;
        let Some(last) = page.last().map(|r| r.id) else {
            return Ok((Vec::new(), after));
        };
        after = Some(last);
        let people: Vec<Uuid> = page.iter().map(|r| r.person_id).collect();
        let served: std::collections::HashSet<Uuid> = letter::Entity::find()
            .select_only()
            .column(letter::Column::PersonId)
            .filter(Expr::col(letter::Column::Kind).eq(run.kind.as_str()))
            .filter(Expr::col(letter::Column::PersonId).is_in(people))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let ids: Vec<Uuid> = page.iter().map(|r| r.id).collect();
        // Whether an address is there, not what it is: no name is read to choose.
        let addressed: std::collections::HashSet<Uuid> = addressee::Entity::find()
            .select_only()
            .column(addressee::Column::RegistrationId)
            .filter(Expr::col(addressee::Column::RegistrationId).is_in(ids))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        // A person registered twice in the period gets one letter: the first
        // registration's.
        let mut seen = std::collections::HashSet::new();
        let rows: Vec<Candidate> = page
            .into_iter()
            .filter(|r| !served.contains(&r.person_id) && addressed.contains(&r.id))
            .filter(|r| seen.insert(r.person_id))
            .map(|r| Candidate {
                registration_id: r.id,
                person_id: r.person_id,
                nis: r.nis,
                agency: r.agency,
                target_group: r.target_group,
                mother_tongue: r.mother_tongue,
                contact_language: r.contact_language,
            })
            .collect();
        if !rows.is_empty() {
            return Ok((rows, after));
        }
    }
}

/// The letters reserved in `batch_id`, in their order.
async fn reserved(db: &impl ConnectionTrait, batch_id: Uuid) -> Result<Vec<Reserved>> {
    use letter::Column as L;
    let mut q = Query::select();
    select_person_columns(&mut q);
    q.expr_as(Expr::col((letter::Entity, L::Id)), Alias::new("letter_id"))
        .column((letter::Entity, L::TranslationLanguage))
        .column((letter::Entity, L::DutchVersion))
        .column((letter::Entity, L::TranslationVersion))
        .from(letter::Entity)
        .inner_join(
            registration::Entity,
            Expr::col((registration::Entity, registration::Column::Id))
                .equals((letter::Entity, L::RegistrationId)),
        )
        .inner_join(
            addressee::Entity,
            Expr::col((addressee::Entity, addressee::Column::RegistrationId))
                .equals((letter::Entity, L::RegistrationId)),
        )
        .and_where(Expr::col((letter::Entity, L::BatchId)).eq(batch_id))
        .order_by((letter::Entity, L::Position), Order::Asc);
    let stmt = db.get_database_backend().build(&q);
    Ok(Reserved::find_by_statement(stmt).all(db).await?)
}

/// The municipalities' Dutch names, for the letters.
async fn names(db: &impl ConnectionTrait) -> Result<BTreeMap<String, String>> {
    Ok(wire::register::all(db)
        .await?
        .into_iter()
        .map(|m| (m.code, m.name_nl))
        .collect())
}

/// The PDF of a batch (its index beside it, `.index.csv`).
fn file(out_dir: &Path, kind: LetterKind, batch_id: Uuid, created: DateTime<Utc>) -> PathBuf {
    out_dir.join(format!(
        "{}-{}-{batch_id}.pdf",
        kind.as_str(),
        created.format("%Y%m%d")
    ))
}

/// Writes `bytes` to `path` whole or not at all: a temporary file, synced, then renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    // A name of its own, so that two writers never share a temporary file.
    let part = path.with_extension(format!("part-{}", Uuid::now_v7()));
    let mut file = std::fs::File::create(&part)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&part, path)?;
    // The rename itself is durable only once the folder is synced.
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// How long a run holds a batch it prints; a run that died holding one is taken over
/// after this (one that fails cleanly lets go at once).
const BATCH_LEASE: Duration = Duration::minutes(10);

/// Takes `batch` for this run: only while it is printing and no live run holds it.
async fn claim(db: &DatabaseConnection, batch: Uuid) -> Result<bool> {
    let now = Utc::now();
    let claimed = letter_batch::Entity::update_many()
        .col_expr(
            letter_batch::Column::ClaimedUntil,
            Expr::val(now + BATCH_LEASE),
        )
        .filter(Expr::col(letter_batch::Column::Id).eq(batch))
        .filter(Expr::col(letter_batch::Column::State).eq("printing"))
        .filter(Expr::col(letter_batch::Column::ClaimedUntil).lt(now))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Lets go of `batch` after a clean failure, so the next run takes it over at once.
async fn release(db: &DatabaseConnection, batch: Uuid) {
    let released = letter_batch::Entity::update_many()
        .col_expr(
            letter_batch::Column::ClaimedUntil,
            Expr::val(Utc::now() - Duration::seconds(1)),
        )
        .filter(Expr::col(letter_batch::Column::Id).eq(batch))
        .filter(Expr::col(letter_batch::Column::State).eq("printing"))
        .exec(db)
        .await;
    if let Err(e) = released {
        tracing::warn!(batch_id = %batch, error = %e, "could not release the batch; it is taken over after the lease");
    }
}

/// The number of batches printed at once: one per core, each on a thread of its own.
fn printers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A batch printed in memory, ready to be written and marked sent.
struct Printed {
    letters: Vec<Reserved>,
    bytes: Vec<u8>,
    index: String,
}

/// A batch being printed on a blocking thread of its own, and whether an earlier run had
/// reserved it.
struct InFlight {
    batch: letter_batch::Model,
    resumed: bool,
    printing: tokio::task::JoinHandle<Result<Printed>>,
}

/// Reads the letters of `batch` and starts printing them on a blocking thread (a
/// `letters::Batch` is made, filled and finished there).
async fn start(
    db: &DatabaseConnection,
    printer: &Arc<Printer>,
    batch: letter_batch::Model,
    resumed: bool,
) -> Result<InFlight, (letter_batch::Model, RecruitmentError)> {
    let letters = match reserved(db, batch.id).await {
        Ok(letters) => letters,
        Err(e) => return Err((batch, e)),
    };
    let (printer, id, today) = (Arc::clone(printer), batch.id, Utc::now().date_naive());
    let printing = tokio::task::spawn_blocking(move || {
        let (bytes, index) = printer.print(id, &letters, today)?;
        Ok(Printed {
            letters,
            bytes,
            index,
        })
    });
    Ok(InFlight {
        batch,
        resumed,
        printing,
    })
}

/// Waits for a batch's PDF, then writes it and marks the batch sent.
async fn finish(
    db: &DatabaseConnection,
    outbox: &Outbox,
    flight: InFlight,
    run: &Run,
    summary: &mut Summary,
) -> Result<(), (letter_batch::Model, RecruitmentError)> {
    let printed = match flight.printing.await {
        Ok(printed) => printed,
        Err(e) => Err(RecruitmentError::Corrupt(format!(
            "printing batch {}: {e}",
            flight.batch.id
        ))),
    };
    let done = match printed {
        Ok(printed) => complete(db, outbox, printed, &flight.batch, run, summary).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => {
            summary.resumed += u64::from(flight.resumed);
            Ok(())
        }
        Err(e) => Err((flight.batch, e)),
    }
}

/// Lets go of `failed` and of every batch still printing after `error`, which it returns:
/// the next run takes them over at once.
async fn give_up(
    db: &DatabaseConnection,
    failed: Option<&letter_batch::Model>,
    in_flight: impl IntoIterator<Item = InFlight>,
    error: RecruitmentError,
) -> RecruitmentError {
    if let Some(batch) = failed {
        release(db, batch.id).await;
    }
    for flight in in_flight {
        release(db, flight.batch.id).await;
    }
    error
}

/// Writes a printed batch and its index, then marks it sent with its events, in one
/// transaction.
async fn complete(
    db: &DatabaseConnection,
    outbox: &Outbox,
    printed: Printed,
    batch: &letter_batch::Model,
    run: &Run,
    summary: &mut Summary,
) -> Result<u64> {
    let kind = LetterKind::from_stored(&batch.kind)
        .ok_or_else(|| RecruitmentError::Corrupt(format!("batch kind {:?}", batch.kind)))?;
    let Printed {
        letters,
        bytes,
        index,
    } = printed;
    let now = Utc::now();
    let today = now.date_naive();
    // A batch resumed after a failure goes where this run is told (the first place may be
    // what failed); the batch row records where it went.
    let pdf_path = file(&run.out_dir, kind, batch.id, batch.created_at);
    std::fs::create_dir_all(&run.out_dir)?;
    write_whole(&pdf_path, &bytes)?;
    write_whole(&pdf_path.with_extension("index.csv"), index.as_bytes())?;

    let month = today.with_day(1).expect("every month has a first day");
    let erase_after = now + Duration::days(i64::from(run.retention_days));
    let txn = db.begin_write().await?;
    let marked = letter_batch::Entity::update_many()
        .col_expr(letter_batch::Column::State, Expr::val("sent"))
        .col_expr(letter_batch::Column::SentAt, Expr::val(now))
        .col_expr(
            letter_batch::Column::File,
            Expr::val(pdf_path.display().to_string()),
        )
        .filter(Expr::col(letter_batch::Column::Id).eq(batch.id))
        .filter(Expr::col(letter_batch::Column::State).eq("printing"))
        .exec(&txn)
        .await?;
    if marked.rows_affected == 0 {
        // Another run completed it meanwhile: its events are staged, not ours.
        return Ok(0);
    }
    let printed: Vec<Uuid> = letters.iter().map(|l| l.letter_id).collect();
    letter::Entity::update_many()
        .col_expr(letter::Column::State, Expr::val("sent"))
        .col_expr(letter::Column::SentOn, Expr::val(today))
        .col_expr(letter::Column::SentMonth, Expr::val(month))
        .filter(Expr::col(letter::Column::BatchId).eq(batch.id))
        .filter(Expr::col(letter::Column::Id).is_in(printed.clone()))
        .exec(&txn)
        .await?;
    // A reserved letter whose address was erased meanwhile was not printed: it is not
    // sent either, and goes once the person is in the feed again.
    letter::Entity::delete_many()
        .filter(Expr::col(letter::Column::BatchId).eq(batch.id))
        .filter(Expr::col(letter::Column::Id).is_not_in(printed))
        .exec(&txn)
        .await?;
    // The retention starts for every address of the person, not only the one written
    // to: a second registration's copy is of no use once the letter went.
    // Two indexed statements (the person's registrations, then their addresses by key)
    // rather than one whose plan may scan every address at every batch.
    let people: Vec<Uuid> = letters.iter().map(|l| l.person_id).collect();
    let registrations: Vec<Uuid> = registration::Entity::find()
        .select_only()
        .column(registration::Column::Id)
        .filter(Expr::col(registration::Column::PersonId).is_in(people))
        .into_tuple()
        .all(&txn)
        .await?;
    addressee::Entity::update_many()
        .col_expr(addressee::Column::EraseAfter, Expr::val(erase_after))
        .filter(Expr::col(addressee::Column::RegistrationId).is_in(registrations))
        .filter(Expr::col(addressee::Column::EraseAfter).is_null())
        .exec(&txn)
        .await?;
    let events: Vec<(String, pb::LetterSent)> = letters
        .iter()
        .map(|l| {
            let group = Group::from_stored(&l.target_group)
                .map_or(pb::TargetGroup::Unspecified, convert::group);
            (
                l.person_id.to_string(),
                pb::LetterSent {
                    letter_id: l.letter_id.to_string(),
                    person_id: l.person_id.to_string(),
                    municipality_nis: l.nis.clone(),
                    kind: convert::kind(kind) as i32,
                    target_group: group as i32,
                    sent_on: Some(wire::date(today)),
                    translation_language: l.translation_language.clone().unwrap_or_default(),
                    batch_id: batch.id.to_string(),
                },
            )
        })
        .collect();
    outbox.stage_many(&txn, &events).await?;
    txn.commit().await?;
    outbox.committed();
    for l in &letters {
        match &l.translation_language {
            Some(language) => *summary.translated.entry(language.clone()).or_default() += 1,
            None => summary.dutch_only += 1,
        }
    }
    summary.batches += 1;
    summary.letters += letters.len() as u64;
    summary.files.push(pdf_path);
    tracing::info!(batch_id = %batch.id, letters = letters.len(), "letter batch sent");
    Ok(letters.len() as u64)
}

/// Reserves the next batch of `run` after registration `after`; `None` when everyone
/// has their letter. Moves `after` past the registrations read.
async fn reserve(
    db: &DatabaseConnection,
    run: &Run,
    templates: &BTreeMap<String, template::Model>,
    after: &mut Option<Uuid>,
) -> Result<Option<letter_batch::Model>> {
    let dutch = templates
        .get("nl")
        .ok_or(RecruitmentError::NoDutchTemplate {
            kind: run.kind.as_str(),
        })?;
    // Read outside the transaction, which then starts with its writes (on SQLite a
    // transaction that reads first cannot wait for the write lock). People another run
    // reserved meanwhile fail the unique index and the caller takes the next ones.
    let (people, last) = candidates(db, run, *after, rules::LETTERS_PER_BATCH as u64).await?;
    if people.is_empty() {
        return Ok(None);
    }
    let txn = db.begin_write().await?;
    let batch = letter_batch::Model {
        id: Uuid::now_v7(),
        kind: run.kind.as_str().to_owned(),
        file: String::new(),
        letters: people.len() as i32,
        state: "printing".into(),
        created_at: Utc::now(),
        sent_at: None,
        claimed_until: Utc::now() + BATCH_LEASE,
    };
    let pdf_path = file(&run.out_dir, run.kind, batch.id, batch.created_at);
    let batch = letter_batch::Model {
        file: pdf_path.display().to_string(),
        ..batch
    };
    letter_batch::Entity::insert(letter_batch::ActiveModel::from(batch.clone()))
        .exec_without_returning(&txn)
        .await?;
    let rows = people.iter().enumerate().map(|(position, c)| {
        let languages = languages_of(&c.mother_tongue, c.contact_language.as_deref());
        let translation = translation_for(&languages, templates);
        letter::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(c.person_id),
            registration_id: Set(c.registration_id),
            kind: Set(run.kind.as_str().to_owned()),
            nis: Set(c.nis.clone()),
            agency: Set(c.agency.clone()),
            target_group: Set(c.target_group.clone()),
            batch_id: Set(batch.id),
            position: Set(position as i32),
            dutch_version: Set(dutch.version),
            translation_language: Set(translation.map(|t| t.language.clone())),
            translation_version: Set(translation.map(|t| t.version)),
            state: Set("pending".into()),
            sent_on: Set(None),
            sent_month: Set(None),
        }
    });
    // A concurrent run that reserved one of these people makes this insert fail on the
    // unique (person, kind) index: nothing of this batch is kept and the loop goes on.
    letter::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    *after = last;
    Ok(Some(batch))
}

/// Runs the letters of `run`: first completes the batches an earlier run left printing,
/// then prints new batches until everyone in the period has their letter.
///
/// Batches go through a pipeline: [`printers`] of them print at once, each on a blocking
/// thread, while the oldest printed one is written and marked sent and the next one is
/// reserved, so the cores print while the database works. Each batch is reserved, printed,
/// written and marked sent exactly as alone; one that fails is let go with those still
/// printing, for the next run.
pub async fn run(
    db: &DatabaseConnection,
    outbox: &Outbox,
    run: &Run,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let templates = current(db, run.kind).await?;
    let printer = Arc::new(Printer {
        names: names(db).await?,
        versions: versions(db, run.kind).await?,
        senders: run.senders.clone(),
    });
    let (workers, mut summary) = (printers(), Summary::default());
    let mut resumed = claim_unfinished(db, run).await?.into_iter();
    let (mut after, mut exhausted, mut started) = (None, false, 0_u64);
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    loop {
        // One more than the cores: while the oldest is written, the others print.
        while in_flight.len() <= workers && run.max_batches.is_none_or(|max| started < max) {
            let (batch, was_resumed) = match resumed.next() {
                Some(batch) => (batch, true),
                None if exhausted => break,
                None => match reserve(db, run, &templates, &mut after).await {
                    Ok(Some(batch)) => (batch, false),
                    Ok(None) => {
                        exhausted = true;
                        break;
                    }
                    Err(RecruitmentError::Database(e))
                        if e.to_string().to_lowercase().contains("unique") =>
                    {
                        tracing::warn!(
                            "another run reserved the same people; taking the next ones"
                        );
                        continue;
                    }
                    Err(e) => return Err(give_up(db, None, in_flight, e).await),
                },
            };
            match start(db, &printer, batch, was_resumed).await {
                Ok(flight) => in_flight.push_back(flight),
                Err((batch, e)) => return Err(give_up(db, Some(&batch), in_flight, e).await),
            }
            started += 1;
        }
        let Some(flight) = in_flight.pop_front() else {
            break;
        };
        if let Err((batch, e)) = finish(db, outbox, flight, run, &mut summary).await {
            return Err(give_up(db, Some(&batch), in_flight, e).await);
        }
        progress(summary.letters);
    }
    Ok(summary)
}

/// The batches of `run`'s kind an earlier run left printing that this run may take over.
async fn claim_unfinished(db: &DatabaseConnection, run: &Run) -> Result<Vec<letter_batch::Model>> {
    let unfinished = letter_batch::Entity::find()
        .filter(Expr::col(letter_batch::Column::Kind).eq(run.kind.as_str()))
        .filter(Expr::col(letter_batch::Column::State).eq("printing"))
        .order_by_asc(letter_batch::Column::Id)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for batch in unfinished {
        if claim(db, batch.id).await? {
            claimed.push(batch);
        } else {
            tracing::info!(batch_id = %batch.id, "another run is printing this batch");
        }
    }
    Ok(claimed)
}

/// People who would get a letter of `run` and do not have it yet: the progress bar's
/// length.
pub async fn pending(db: &DatabaseConnection, run: &Run) -> Result<u64> {
    let (mut count, mut after) = (0, None);
    loop {
        let (people, last) = candidates(db, run, after, 5_000).await?;
        if people.is_empty() {
            return Ok(count);
        }
        count += people.len() as u64;
        after = last;
    }
}

/// Erases the names and addresses whose retention is over; returns how many.
pub async fn erase_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let deleted = addressee::Entity::delete_many()
        .filter(Expr::col(addressee::Column::EraseAfter).lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
