//! gRPC handlers of the interpreting service: proto ⇄ domain (through [`convert`]) and the
//! policy checks; the work is in [`interpreters`](crate::interpreters),
//! [`requests`](crate::requests), [`matching`](crate::matching) and
//! [`billing`](crate::billing).

use chrono::{DateTime, TimeDelta, Utc};
use platform::Principal;
use proto::interpreting::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    InterpretingError,
    billing::Billing,
    convert,
    domain::{Language, Mode, Region, Slot, Window},
    interpreters::{NewInterpreter, Pool, Profile},
    matching::{Candidate, Matching},
    policy::{self, Viewer},
    requests::{self, Desk, NewRequest, Service},
    rules,
};

type Result<T, E = InterpretingError> = std::result::Result<T, E>;

/// The `InterpretingService` implementation.
#[derive(Debug, Clone)]
pub struct InterpretingApi {
    pool: Pool,
    desk: Desk,
    matching: Matching,
    billing: Billing,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(InterpretingError::invalid(field, "is required"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(InterpretingError::invalid(
            field,
            format!("must be at most {max} printable characters"),
        ));
    }
    Ok(value.to_owned())
}

fn optional_text(field: &'static str, value: &str, max: usize) -> Result<Option<String>> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        text(field, value, max).map(Some)
    }
}

fn distinct<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn windows(raw: &[pb::WeeklyWindow]) -> Result<Vec<Window>> {
    raw.iter().map(convert::window_from).collect()
}

/// The period of an absence: from `starts_at` to a later `ends_at`, at most a year.
fn absence(r: &pb::AddAbsenceRequest) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let starts_at = wire::time("starts_at", r.starts_at.as_ref())?;
    let ends_at = wire::time("ends_at", r.ends_at.as_ref())?;
    if ends_at <= starts_at {
        return Err(InterpretingError::invalid(
            "ends_at",
            "is not after starts_at",
        ));
    }
    if ends_at - starts_at > TimeDelta::days(366) {
        return Err(InterpretingError::invalid(
            "ends_at",
            "an absence lasts at most a year",
        ));
    }
    Ok((starts_at, ends_at))
}

fn new_interpreter(r: &pb::RegisterInterpreterRequest) -> Result<NewInterpreter> {
    let email = text("email", &r.email, 200)?;
    if !email.contains('@') {
        return Err(InterpretingError::invalid(
            "email",
            "is not an e-mail address",
        ));
    }
    let languages = distinct(
        r.languages
            .iter()
            .map(|l| Language::parse("languages", l))
            .collect::<Result<Vec<_>>>()?,
    );
    if languages.is_empty() {
        return Err(InterpretingError::invalid(
            "languages",
            "at least one is required",
        ));
    }
    let modes = distinct(
        r.modes
            .iter()
            .map(|m| convert::mode_from("modes", *m))
            .collect::<Result<Vec<_>>>()?,
    );
    if modes.is_empty() {
        return Err(InterpretingError::invalid(
            "modes",
            "at least one is required",
        ));
    }
    let regions: Vec<Region> = distinct(
        r.regions
            .iter()
            .map(|g| convert::region_from("regions", *g))
            .collect::<Result<Vec<_>>>()?,
    );
    if modes.contains(&Mode::OnSite) && regions.is_empty() {
        return Err(InterpretingError::invalid(
            "regions",
            "an interpreter on site needs at least one region",
        ));
    }
    let certification = r
        .certification
        .as_ref()
        .map(|c| -> Result<(String, chrono::NaiveDate)> {
            Ok((
                text("certification.reference", &c.reference, 60)?,
                wire::required_date("certification.valid_until", c.valid_until.as_ref())?,
            ))
        })
        .transpose()?;
    Ok(NewInterpreter {
        given_name: text("given_name", &r.given_name, 100)?,
        family_name: text("family_name", &r.family_name, 100)?,
        email,
        phone: text("phone", &r.phone, 40)?,
        languages,
        modes,
        regions,
        windows: windows(&r.availability)?,
        certification,
    })
}

impl InterpretingApi {
    pub fn new(pool: Pool, desk: Desk, matching: Matching, billing: Billing) -> Self {
        Self {
            pool,
            desk,
            matching,
            billing,
        }
    }

    /// The interpreter `id`'s record, read (and audited) by a coordinator for `purpose`.
    async fn read_interpreter(
        &self,
        principal: &Principal,
        purpose: &str,
        id: Uuid,
    ) -> Result<pb::Interpreter> {
        Ok(message(self.pool.read(principal, purpose, id).await?))
    }

    /// The requests as messages; for a coordinator with who pays by the trajectories
    /// known now (a requester is not told whether a person's trajectory has ended).
    async fn with_payers(
        &self,
        viewer: &Viewer,
        rows: &[crate::store::request::Model],
    ) -> Result<Vec<pb::InterpretingRequest>> {
        if !viewer.sees_payers() {
            return Ok(rows.iter().map(convert::request).collect());
        }
        let payers = self.billing.payers(rows).await?;
        Ok(rows
            .iter()
            .zip(payers)
            .map(|(r, p)| pb::InterpretingRequest {
                payer_kind: p as i32,
                ..convert::request(r)
            })
            .collect())
    }

    async fn new_request(
        &self,
        principal: &Principal,
        r: &pb::RequestInterpretingRequest,
    ) -> Result<NewRequest> {
        let requester = policy::requester(principal)?.to_owned();
        let language = Language::parse("language", &r.language)?;
        let mode = convert::mode_from("mode", r.mode)?;
        let now = Utc::now();
        let service = if mode.is_timed() {
            if r.word_count != 0 {
                return Err(InterpretingError::invalid(
                    "word_count",
                    "is for written translations only",
                ));
            }
            if r.due_on.is_some() {
                return Err(InterpretingError::invalid(
                    "due_on",
                    "is for written translations only",
                ));
            }
            let starts_at = wire::time("starts_at", r.starts_at.as_ref())?;
            if starts_at <= now {
                return Err(InterpretingError::invalid(
                    "starts_at",
                    format!("{} is in the past", crate::domain::local(starts_at)),
                ));
            }
            if starts_at > now + TimeDelta::days(rules::MAX_DAYS_AHEAD) {
                return Err(InterpretingError::invalid(
                    "starts_at",
                    format!("is more than {} days ahead", rules::MAX_DAYS_AHEAD),
                ));
            }
            if !(1..=rules::MAX_BOOKED_MINUTES).contains(&r.duration_minutes) {
                return Err(InterpretingError::invalid(
                    "duration_minutes",
                    format!(
                        "must be 1 to {} minutes, not {}",
                        rules::MAX_BOOKED_MINUTES,
                        r.duration_minutes
                    ),
                ));
            }
            Service::Interpreting(Slot::new(starts_at, r.duration_minutes))
        } else {
            if r.starts_at.is_some() {
                return Err(InterpretingError::invalid(
                    "starts_at",
                    "a written translation has a due date, not a start",
                ));
            }
            if r.duration_minutes != 0 {
                return Err(InterpretingError::invalid(
                    "duration_minutes",
                    "a written translation has a word count, not a duration",
                ));
            }
            if !(1..=rules::MAX_WORDS).contains(&r.word_count) {
                return Err(InterpretingError::invalid(
                    "word_count",
                    format!("must be 1 to {}, not {}", rules::MAX_WORDS, r.word_count),
                ));
            }
            let due_on = wire::required_date("due_on", r.due_on.as_ref())?;
            let today = platform::clock::belgian_date(now);
            if due_on < today {
                return Err(InterpretingError::invalid(
                    "due_on",
                    format!("{due_on} is in the past"),
                ));
            }
            if due_on > today + TimeDelta::days(rules::MAX_DAYS_AHEAD) {
                return Err(InterpretingError::invalid(
                    "due_on",
                    format!("is more than {} days ahead", rules::MAX_DAYS_AHEAD),
                ));
            }
            Service::Written {
                words: r.word_count,
                due_on,
            }
        };
        let address = optional_text("place", &r.place, 300)?;
        if mode == Mode::OnSite && address.is_none() {
            return Err(InterpretingError::invalid("place", "is required on site"));
        }
        Ok(NewRequest {
            requester,
            place: requests::place(self.desk.db(), "municipality_nis", &r.municipality_nis).await?,
            language,
            mode,
            service,
            address,
            person_id: wire::optional_uuid("person_id", &r.person_id)?,
            purpose: text("purpose", &r.purpose, 200)?,
        })
    }
}

fn message(p: Profile) -> pb::Interpreter {
    convert::interpreter(&p.row, p.languages, &p.windows, &p.absences)
}

/// A candidate as a coordinator reads it: with the interpreter's name (audited).
fn candidate(c: Candidate) -> pb::Candidate {
    pb::Candidate {
        interpreter_id: c.profile.row.id.to_string(),
        given_name: c.profile.row.given_name,
        family_name: c.profile.row.family_name,
        eligible: c.eligible,
        score: c.score,
        reasons: c.reasons,
    }
}

#[tonic::async_trait]
impl pb::interpreting_service_server::InterpretingService for InterpretingApi {
    #[tracing::instrument(skip_all)]
    async fn register_interpreter(
        &self,
        request: Request<pb::RegisterInterpreterRequest>,
    ) -> Result<Response<pb::RegisterInterpreterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let agency = policy::registering_agency(principal)?;
        let new = new_interpreter(request.get_ref())?;
        let id = self.pool.register(agency, new).await?;
        let interpreter = self
            .read_interpreter(principal, "RegisterInterpreter", id)
            .await?;
        Ok(Response::new(pb::RegisterInterpreterResponse {
            interpreter: Some(interpreter),
        }))
    }

    #[tracing::instrument(skip_all, fields(interpreter_id = %request.get_ref().interpreter_id))]
    async fn get_interpreter(
        &self,
        request: Request<pb::GetInterpreterRequest>,
    ) -> Result<Response<pb::GetInterpreterResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::coordinator(principal)?;
        let id = wire::uuid("interpreter_id", &request.get_ref().interpreter_id)?;
        let interpreter = self
            .read_interpreter(principal, "GetInterpreter", id)
            .await?;
        Ok(Response::new(pb::GetInterpreterResponse {
            interpreter: Some(interpreter),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_interpreters(
        &self,
        request: Request<pb::ListInterpretersRequest>,
    ) -> Result<Response<pb::ListInterpretersResponse>, Status> {
        let principal = Principal::of(&request)?;
        policy::coordinator(principal)?;
        let req = request.get_ref();
        let language = (!req.language.is_empty())
            .then(|| Language::parse("language", &req.language))
            .transpose()?;
        let page = wire::page(req.page.as_ref())?;
        let (profiles, next) = self.pool.read_page(principal, language, page).await?;
        Ok(Response::new(pb::ListInterpretersResponse {
            interpreters: profiles.into_iter().map(message).collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(interpreter_id = %request.get_ref().interpreter_id))]
    async fn set_availability(
        &self,
        request: Request<pb::SetAvailabilityRequest>,
    ) -> Result<Response<pb::SetAvailabilityResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::coordinator(principal)?;
        let req = request.get_ref();
        let id = wire::uuid("interpreter_id", &req.interpreter_id)?;
        self.pool.managed(&area, id).await?;
        self.pool
            .set_availability(id, &windows(&req.availability)?)
            .await?;
        let interpreter = self
            .read_interpreter(principal, "SetAvailability", id)
            .await?;
        Ok(Response::new(pb::SetAvailabilityResponse {
            interpreter: Some(interpreter),
        }))
    }

    #[tracing::instrument(skip_all, fields(interpreter_id = %request.get_ref().interpreter_id))]
    async fn add_absence(
        &self,
        request: Request<pb::AddAbsenceRequest>,
    ) -> Result<Response<pb::AddAbsenceResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::coordinator(principal)?;
        let req = request.get_ref();
        let id = wire::uuid("interpreter_id", &req.interpreter_id)?;
        self.pool.managed(&area, id).await?;
        let (starts_at, ends_at) = absence(req)?;
        self.pool.add_absence(id, starts_at, ends_at).await?;
        let interpreter = self.read_interpreter(principal, "AddAbsence", id).await?;
        Ok(Response::new(pb::AddAbsenceResponse {
            interpreter: Some(interpreter),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id))]
    async fn request_interpreting(
        &self,
        request: Request<pb::RequestInterpretingRequest>,
    ) -> Result<Response<pb::RequestInterpretingResponse>, Status> {
        let principal = Principal::of(&request)?;
        let new = self.new_request(principal, request.get_ref()).await?;
        let row = self.desk.create(new, Utc::now()).await?;
        tracing::Span::current().record("request_id", tracing::field::display(row.id));
        Ok(Response::new(pb::RequestInterpretingResponse {
            request: Some(convert::request(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id))]
    async fn get_request(
        &self,
        request: Request<pb::GetRequestRequest>,
    ) -> Result<Response<pb::GetRequestResponse>, Status> {
        let viewer = Viewer::of(Principal::of(&request)?)?;
        let id = wire::uuid("request_id", &request.get_ref().request_id)?;
        let row = self.desk.get(&viewer, id).await?;
        Ok(Response::new(pb::GetRequestResponse {
            request: self.with_payers(&viewer, &[row]).await?.pop(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_requests(
        &self,
        request: Request<pb::ListRequestsRequest>,
    ) -> Result<Response<pb::ListRequestsResponse>, Status> {
        let viewer = Viewer::of(Principal::of(&request)?)?;
        let req = request.get_ref();
        let state = convert::state_from(req.state)?;
        let (rows, next) = self
            .desk
            .list(&viewer, state, wire::page(req.page.as_ref())?)
            .await?;
        Ok(Response::new(pb::ListRequestsResponse {
            requests: self.with_payers(&viewer, &rows).await?,
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id))]
    async fn list_candidates(
        &self,
        request: Request<pb::ListCandidatesRequest>,
    ) -> Result<Response<pb::ListCandidatesResponse>, Status> {
        let principal = Principal::of(&request)?;
        let area = policy::coordinator(principal)?;
        let id = wire::uuid("request_id", &request.get_ref().request_id)?;
        let candidates = self.matching.candidates_for(&area, id, Utc::now()).await?;
        let ids: Vec<Uuid> = candidates.iter().map(|c| c.profile.row.id).collect();
        self.pool.audit(principal, "ListCandidates", &ids).await?;
        Ok(Response::new(pb::ListCandidatesResponse {
            candidates: candidates.into_iter().map(candidate).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id, interpreter_id = %request.get_ref().interpreter_id))]
    async fn assign_interpreter(
        &self,
        request: Request<pb::AssignInterpreterRequest>,
    ) -> Result<Response<pb::AssignInterpreterResponse>, Status> {
        let area = policy::coordinator(Principal::of(&request)?)?;
        let req = request.get_ref();
        let id = wire::uuid("request_id", &req.request_id)?;
        let interpreter = wire::uuid("interpreter_id", &req.interpreter_id)?;
        let row = self
            .matching
            .assign(&area, id, interpreter, false, Utc::now())
            .await?;
        Ok(Response::new(pb::AssignInterpreterResponse {
            request: Some(convert::request(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id, interpreter_id = %request.get_ref().interpreter_id))]
    async fn reassign_interpreter(
        &self,
        request: Request<pb::ReassignInterpreterRequest>,
    ) -> Result<Response<pb::ReassignInterpreterResponse>, Status> {
        let area = policy::coordinator(Principal::of(&request)?)?;
        let req = request.get_ref();
        let id = wire::uuid("request_id", &req.request_id)?;
        let interpreter = wire::uuid("interpreter_id", &req.interpreter_id)?;
        let row = self
            .matching
            .assign(&area, id, interpreter, true, Utc::now())
            .await?;
        Ok(Response::new(pb::ReassignInterpreterResponse {
            request: Some(convert::request(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id))]
    async fn cancel_request(
        &self,
        request: Request<pb::CancelRequestRequest>,
    ) -> Result<Response<pb::CancelRequestResponse>, Status> {
        let viewer = Viewer::of(Principal::of(&request)?)?;
        let id = wire::uuid("request_id", &request.get_ref().request_id)?;
        let row = self.desk.cancel(&viewer, id, Utc::now()).await?;
        Ok(Response::new(pb::CancelRequestResponse {
            request: Some(convert::request(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id))]
    async fn record_performance(
        &self,
        request: Request<pb::RecordPerformanceRequest>,
    ) -> Result<Response<pb::RecordPerformanceResponse>, Status> {
        let area = policy::coordinator(Principal::of(&request)?)?;
        let req = request.get_ref();
        let id = wire::uuid("request_id", &req.request_id)?;
        let row = self
            .desk
            .perform(&area, id, req.minutes, req.words, Utc::now())
            .await?;
        Ok(Response::new(pb::RecordPerformanceResponse {
            request: Some(convert::request(&row)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_rates(
        &self,
        request: Request<pb::ListRatesRequest>,
    ) -> Result<Response<pb::ListRatesResponse>, Status> {
        Viewer::of(Principal::of(&request)?)?;
        Ok(Response::new(pb::ListRatesResponse {
            rates: self
                .billing
                .rates()
                .all()
                .iter()
                .map(convert::rate)
                .collect(),
            late_cancellation_hours: i32::try_from(self.desk.late_cancellation_hours())
                .unwrap_or(i32::MAX),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn run_billing(
        &self,
        request: Request<pb::RunBillingRequest>,
    ) -> Result<Response<pb::RunBillingResponse>, Status> {
        let area = policy::coordinator(Principal::of(&request)?)?;
        let day = wire::month("month", request.get_ref().month.as_ref())?;
        let billed = self.billing.run(&area, day, Utc::now()).await?;
        Ok(Response::new(pb::RunBillingResponse {
            invoices: billed.iter().map(|(i, l)| convert::invoice(i, l)).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_invoices(
        &self,
        request: Request<pb::ListInvoicesRequest>,
    ) -> Result<Response<pb::ListInvoicesResponse>, Status> {
        let viewer = Viewer::of(Principal::of(&request)?)?;
        let req = request.get_ref();
        let day = wire::month("month", req.month.as_ref())?;
        let (billed, next) = self
            .billing
            .list(&viewer, day, wire::page(req.page.as_ref())?)
            .await?;
        Ok(Response::new(pb::ListInvoicesResponse {
            invoices: billed.iter().map(|(i, l)| convert::invoice(i, l)).collect(),
            page: wire::page_response(next),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn export_invoices(
        &self,
        request: Request<pb::ExportInvoicesRequest>,
    ) -> Result<Response<pb::ExportInvoicesResponse>, Status> {
        let viewer = Viewer::of(Principal::of(&request)?)?;
        let day = wire::month("month", request.get_ref().month.as_ref())?;
        let csv = self.billing.export(&viewer, day).await?;
        Ok(Response::new(pb::ExportInvoicesResponse { csv }))
    }
}
