//! The batch run (`inburgering ceremonies letters`): reserves the next letters of one
//! ceremony and kind, prints them to one PDF and its index, then marks them printed;
//! finishes first what an interrupted run left printing.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use chrono::{Duration, NaiveDate, Utc};
use platform::db::BeginWrite as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    render::{self, Addressee, Occasion},
    texts::{self, LetterKind},
};
use crate::{
    CeremoniesError,
    ceremony::from_row,
    domain::{Ceremony, CeremonyState},
    rules,
    store::{ceremony, invitation, letter, letter_batch},
};

type Result<T, E = CeremoniesError> = std::result::Result<T, E>;

/// What the run is asked to do.
#[derive(Debug, Clone)]
pub struct Run {
    /// Where the PDF files and their indexes go.
    pub out_dir: PathBuf,
    /// Only this ceremony's letters; every ceremony's when `None`.
    pub ceremony: Option<Uuid>,
    /// Stop after this many new batches (tests and trial runs); `None` for all.
    pub max_batches: Option<u64>,
    /// The day of the run (Belgian): letters of ceremonies before it are not printed.
    pub today: NaiveDate,
    /// The contact blocks, per agency and office (`INBURGERING_LETTER_SENDERS_FILE`).
    pub senders: letters::Senders,
}

/// What a run of the letters did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub batches: u64,
    /// Letters printed, by kind (`invitation`, `cancellation`).
    pub letters: BTreeMap<&'static str, u64>,
    /// Letters with a translation, by language.
    pub translated: BTreeMap<String, u64>,
    pub dutch_only: u64,
    /// Batches of an interrupted run, printed again and completed.
    pub resumed: u64,
    pub files: Vec<PathBuf>,
}

impl Summary {
    /// Every letter printed, of any kind.
    pub fn total(&self) -> u64 {
        self.letters.values().sum()
    }
}

/// How long a run holds a batch it prints; a run that died holding one is taken over
/// after this (one that fails cleanly lets go at once).
const BATCH_LEASE: Duration = Duration::minutes(10);

/// The ceremonies whose letters of `kind` may still be printed on `today`: invitations
/// of planned ones, cancellation notices of cancelled ones, not past their day.
async fn ceremonies_for(
    db: &DatabaseConnection,
    kind: LetterKind,
    run: &Run,
) -> Result<Vec<ceremony::Model>> {
    use ceremony::Column as C;
    let state = match kind {
        LetterKind::Invitation => CeremonyState::Planned,
        LetterKind::Cancellation => CeremonyState::Cancelled,
    };
    let mut q = ceremony::Entity::find()
        .filter(C::State.eq(state.as_str()))
        .filter(C::Date.gte(run.today))
        .order_by_asc(C::Id);
    if let Some(id) = run.ceremony {
        q = q.filter(C::Id.eq(id));
    }
    Ok(q.all(db).await?)
}

/// The invitees of ceremony `c` without a letter of `kind`, in invitation order: for a
/// cancellation, those its notice went to (`CancellationNoticeSent`).
fn candidates(kind: LetterKind, c: Uuid) -> Select<invitation::Entity> {
    use invitation::Column as I;
    let lettered = letter::Entity::find()
        .select_only()
        .column(letter::Column::InvitationId)
        .filter(letter::Column::CeremonyId.eq(c))
        .filter(letter::Column::Kind.eq(kind.as_str()))
        .into_query();
    let q = invitation::Entity::find()
        .filter(I::CeremonyId.eq(c))
        .filter(I::Id.not_in_subquery(lettered))
        .order_by_asc(I::Id);
    match kind {
        LetterKind::Invitation => q,
        LetterKind::Cancellation => q.filter(I::CancellationSent.eq(true)),
    }
}

/// Reserves the next batch of `kind`: the first ceremony with invitees still without that
/// letter, up to [`rules::LETTERS_PER_BATCH`] of them; `None` when everyone has theirs.
async fn reserve(
    db: &DatabaseConnection,
    kind: LetterKind,
    run: &Run,
) -> Result<Option<letter_batch::Model>> {
    for c in ceremonies_for(db, kind, run).await? {
        // Read outside the transaction, which then starts with its writes (on SQLite a
        // transaction that reads first cannot wait for the write lock). Invitees another
        // run reserved meanwhile fail the unique index and the caller takes the next ones.
        let people = candidates(kind, c.id)
            .limit(rules::LETTERS_PER_BATCH as u64)
            .all(db)
            .await?;
        if people.is_empty() {
            continue;
        }
        let now = Utc::now();
        let batch = letter_batch::Model {
            id: Uuid::now_v7(),
            ceremony_id: c.id,
            kind: kind.as_str().to_owned(),
            file: String::new(),
            letters: people.len() as i32,
            state: "printing".into(),
            created_at: now,
            printed_at: None,
            claimed_until: now + BATCH_LEASE,
        };
        let rows = people
            .iter()
            .enumerate()
            .map(|(position, i)| letter::ActiveModel {
                id: Set(Uuid::now_v7()),
                invitation_id: Set(i.id),
                ceremony_id: Set(c.id),
                kind: Set(kind.as_str().to_owned()),
                batch_id: Set(batch.id),
                position: Set(position as i32),
                translation_language: Set(
                    render::translation_for(i.contact_language.as_deref()).map(str::to_owned)
                ),
                state: Set("pending".into()),
                printed_on: Set(None),
                text_version: Set(None),
            });
        let txn = db.begin_write().await?;
        letter_batch::Entity::insert(letter_batch::ActiveModel::from(batch.clone()))
            .exec_without_returning(&txn)
            .await?;
        // A concurrent run that reserved one of these invitees makes this insert fail on
        // the unique (invitation, kind) index: nothing of this batch is kept.
        letter::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        return Ok(Some(batch));
    }
    Ok(None)
}

/// Takes `batch` for this run: only while it is printing and no live run holds it.
async fn claim(db: &DatabaseConnection, batch: Uuid) -> Result<bool> {
    let now = Utc::now();
    let claimed = letter_batch::Entity::update_many()
        .col_expr(
            letter_batch::Column::ClaimedUntil,
            Expr::val(now + BATCH_LEASE),
        )
        .filter(letter_batch::Column::Id.eq(batch))
        .filter(letter_batch::Column::State.eq("printing"))
        .filter(letter_batch::Column::ClaimedUntil.lt(now))
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
        .filter(letter_batch::Column::Id.eq(batch))
        .filter(letter_batch::Column::State.eq("printing"))
        .exec(db)
        .await;
    if let Err(e) = released {
        tracing::warn!(batch_id = %batch, error = %e, "could not release the batch; it is taken over after the lease");
    }
}

/// The letters reserved in `batch`, in their order, with what they print of the
/// invitation. None when the letters are of no use any more on `today`: an invitation to a
/// ceremony no longer planned, any letter once the ceremony's day is past.
async fn reserved(
    db: &DatabaseConnection,
    batch: &letter_batch::Model,
    kind: LetterKind,
    c: &Ceremony,
    today: NaiveDate,
) -> Result<Vec<Addressee>> {
    let moot = c.details.date < today
        || (kind == LetterKind::Invitation && c.state != CeremonyState::Planned);
    if moot {
        return Ok(Vec::new());
    }
    let letters = letter::Entity::find()
        .filter(letter::Column::BatchId.eq(batch.id))
        .order_by_asc(letter::Column::Position)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = letters.iter().map(|l| l.invitation_id).collect();
    let mut invitations: HashMap<Uuid, invitation::Model> = invitation::Entity::find()
        .filter(invitation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    letters
        .into_iter()
        .map(|l| {
            let i = invitations.remove(&l.invitation_id).ok_or_else(|| {
                CeremoniesError::Corrupt(format!(
                    "letter {}: invitation {} is gone",
                    l.id, l.invitation_id
                ))
            })?;
            Ok(Addressee {
                letter_id: l.id,
                invitation_id: i.id,
                person_id: i.person_id,
                given_name: i.given_name,
                family_name: i.family_name,
                contact_language: i.contact_language,
                attest_issued_on: i.attest_issued_on,
                translation_language: l.translation_language,
            })
        })
        .collect()
}

/// What every letter of `c` says of it, and who signs the contact block.
async fn occasion(
    db: &DatabaseConnection,
    senders: &letters::Senders,
    kind: LetterKind,
    c: &Ceremony,
    reason: Option<String>,
) -> Result<Occasion> {
    let nis = c.nis.to_string();
    let municipality = match wire::register::find(db, c.nis).await? {
        wire::register::Known::Found(m) => m.name_nl,
        wire::register::Known::NotLoaded => return Err(CeremoniesError::RegisterNotLoaded),
        // A code the register no longer holds: the letter names the code rather than none.
        wire::register::Known::Unknown => nis.clone(),
    };
    let agency = c.details.co_organiser.unwrap_or(c.agency);
    let sender = senders.for_municipality(agency.as_str(), &nis);
    Ok(Occasion {
        kind,
        municipality,
        ceremony: c.details.kind,
        host: c.details.host,
        date: c.details.date,
        place: c.details.place.clone(),
        reason: reason.unwrap_or_default(),
        helper: sender.organisation.clone(),
        contact: sender.lines(),
    })
}

/// The PDF of a batch (its index beside it, `.index.csv`): kind, municipality, the
/// ceremony's day and the batch, so a municipality finds its own.
fn file(out_dir: &Path, kind: LetterKind, c: &Ceremony, batch_id: Uuid) -> PathBuf {
    out_dir.join(format!(
        "{}-{}-{}-{batch_id}.pdf",
        kind.as_str(),
        c.nis,
        c.details.date.format("%Y%m%d")
    ))
}

/// Writes `bytes` to `path` whole or not at all: a temporary file, synced, then renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

/// Prints reserved `batch` to its file and index, then marks it and its letters printed in
/// one transaction; returns how many letters it printed.
async fn complete(
    db: &DatabaseConnection,
    batch: &letter_batch::Model,
    run: &Run,
    summary: &mut Summary,
) -> Result<u64> {
    let kind = LetterKind::from_stored(&batch.kind)
        .ok_or_else(|| CeremoniesError::Corrupt(format!("batch kind {:?}", batch.kind)))?;
    let row = ceremony::Entity::find_by_id(batch.ceremony_id)
        .one(db)
        .await?
        .ok_or(CeremoniesError::CeremonyNotFound {
            ceremony_id: batch.ceremony_id,
        })?;
    let reason = row.cancel_reason.clone();
    let c = from_row(row)?;
    let letters = reserved(db, batch, kind, &c, run.today).await?;
    let now = Utc::now();
    let path = file(&run.out_dir, kind, &c, batch.id);
    if !letters.is_empty() {
        let occasion = occasion(db, &run.senders, kind, &c, reason).await?;
        let title = format!("{} {} {}", kind.as_str(), c.id, batch.id);
        let today = run.today;
        // The printer is not Send: it lives and ends on one blocking thread.
        let to_print = letters.clone();
        let (bytes, index) =
            tokio::task::spawn_blocking(move || render::print(&title, &occasion, &to_print, today))
                .await
                .map_err(|e| CeremoniesError::Corrupt(format!("the printer stopped: {e}")))??;
        let written = std::fs::create_dir_all(&run.out_dir)
            .and_then(|()| write_whole(&path, &bytes))
            .and_then(|()| write_whole(&path.with_extension("index.csv"), index.as_bytes()));
        written.map_err(|source| CeremoniesError::LetterFile {
            path: path.clone(),
            source,
        })?;
    }
    let txn = db.begin_write().await?;
    let marked = letter_batch::Entity::update_many()
        .col_expr(letter_batch::Column::State, Expr::val("printed"))
        .col_expr(letter_batch::Column::PrintedAt, Expr::val(now))
        .col_expr(
            letter_batch::Column::Letters,
            Expr::val(letters.len() as i32),
        )
        .col_expr(
            letter_batch::Column::File,
            Expr::val(if letters.is_empty() {
                String::new()
            } else {
                path.display().to_string()
            }),
        )
        .filter(letter_batch::Column::Id.eq(batch.id))
        .filter(letter_batch::Column::State.eq("printing"))
        .exec(&txn)
        .await?;
    if marked.rows_affected == 0 {
        // Another run completed it meanwhile: its file stands, ours is the same letters.
        return Ok(0);
    }
    let printed: Vec<Uuid> = letters.iter().map(|l| l.letter_id).collect();
    letter::Entity::update_many()
        .col_expr(letter::Column::State, Expr::val("printed"))
        .col_expr(letter::Column::PrintedOn, Expr::val(run.today))
        .col_expr(letter::Column::TextVersion, Expr::val(texts::VERSION))
        .filter(letter::Column::BatchId.eq(batch.id))
        .filter(letter::Column::Id.is_in(printed.clone()))
        .exec(&txn)
        .await?;
    // An invitation reserved before its ceremony was cancelled is not printed (its
    // invitee gets the cancellation notice instead), nor a letter after the day.
    letter::Entity::delete_many()
        .filter(letter::Column::BatchId.eq(batch.id))
        .filter(letter::Column::Id.is_not_in(printed))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    for l in &letters {
        match &l.translation_language {
            Some(language) => *summary.translated.entry(language.clone()).or_default() += 1,
            None => summary.dutch_only += 1,
        }
    }
    if !letters.is_empty() {
        *summary.letters.entry(kind.as_str()).or_default() += letters.len() as u64;
        summary.batches += 1;
        summary.files.push(path);
    }
    tracing::info!(batch_id = %batch.id, ceremony_id = %c.id, kind = kind.as_str(), letters = letters.len(), "ceremony letters printed");
    Ok(letters.len() as u64)
}

/// Runs the letters: first completes the batches an earlier run left printing, then
/// prints new batches, invitations then cancellation notices, until every invitee of a
/// ceremony not yet past has each letter once.
pub async fn run(
    db: &DatabaseConnection,
    run: &Run,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    if let Some(ceremony_id) = run.ceremony {
        let known = ceremony::Entity::find_by_id(ceremony_id).one(db).await?;
        known.ok_or(CeremoniesError::CeremonyNotFound { ceremony_id })?;
    }
    let mut summary = Summary::default();
    let mut unfinished = letter_batch::Entity::find()
        .filter(letter_batch::Column::State.eq("printing"))
        .order_by_asc(letter_batch::Column::Id);
    if let Some(id) = run.ceremony {
        unfinished = unfinished.filter(letter_batch::Column::CeremonyId.eq(id));
    }
    for batch in unfinished.all(db).await? {
        if !claim(db, batch.id).await? {
            tracing::info!(batch_id = %batch.id, "another run is printing this batch");
            continue;
        }
        if let Err(e) = complete(db, &batch, run, &mut summary).await {
            release(db, batch.id).await;
            return Err(e);
        }
        summary.resumed += 1;
        progress(summary.total());
    }
    let mut new_batches = 0u64;
    for kind in [LetterKind::Invitation, LetterKind::Cancellation] {
        while run.max_batches.is_none_or(|max| new_batches < max) {
            let batch = match reserve(db, kind, run).await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(CeremoniesError::Database(e))
                    if e.to_string().to_lowercase().contains("unique") =>
                {
                    tracing::warn!("another run reserved the same invitees; taking the next ones");
                    continue;
                }
                Err(e) => return Err(e),
            };
            new_batches += 1;
            if let Err(e) = complete(db, &batch, run, &mut summary).await {
                release(db, batch.id).await;
                return Err(e);
            }
            progress(summary.total());
        }
    }
    Ok(summary)
}

/// Letters a run would print now, of every kind, with those an interrupted run left
/// reserved: the progress bar's length.
pub async fn pending(db: &DatabaseConnection, run: &Run) -> Result<u64> {
    let mut count = 0;
    for kind in [LetterKind::Invitation, LetterKind::Cancellation] {
        for c in ceremonies_for(db, kind, run).await? {
            count += candidates(kind, c.id).count(db).await?;
        }
    }
    let mut reserved = letter::Entity::find().filter(letter::Column::State.eq("pending"));
    if let Some(id) = run.ceremony {
        reserved = reserved.filter(letter::Column::CeremonyId.eq(id));
    }
    Ok(count + reserved.count(db).await?)
}
