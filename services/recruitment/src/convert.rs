//! Proto ⇄ domain for recruitment's own messages and enums, in one place: the API, the
//! events and the projections use it. Each parser names the field it checks. The shared
//! fields (dates, UUIDs, agencies, pages) go through [`wire`].

use chrono::Utc;
use proto::recruitment::v1 as pb;

use crate::{
    RecruitmentError,
    domain::{
        ActionStatus, Language, LetterKind, NewAmbassador, NewCampaign, NewReferral, display_name,
        required_text,
    },
    rules::Group,
    store::{ambassador, campaign, local_plan, plan_action, referral, registration, template},
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

pub fn group(g: Group) -> pb::TargetGroup {
    match g {
        Group::Obliged => pb::TargetGroup::Obliged,
        Group::Entitled => pb::TargetGroup::Entitled,
        Group::BrusselsNewcomer => pb::TargetGroup::BrusselsNewcomer,
    }
}

/// A stored target group (a letter group or a campaign group) as proto.
pub fn stored_group(s: &str) -> pb::TargetGroup {
    pb::TargetGroup::from_str_name(&format!(
        "TARGET_GROUP_{}",
        s.to_uppercase().replace('-', "_")
    ))
    .unwrap_or(pb::TargetGroup::Unspecified)
}

/// A campaign's target group, stored as its lower-case name.
pub fn group_to_stored(field: &'static str, value: i32) -> Result<String> {
    match pb::TargetGroup::try_from(value) {
        Ok(pb::TargetGroup::Unspecified) | Err(_) => Err(RecruitmentError::invalid(
            field,
            format!("{value} is not a target group"),
        )),
        Ok(g) => Ok(g
            .as_str_name()
            .trim_start_matches("TARGET_GROUP_")
            .to_lowercase()
            .replace('_', "-")),
    }
}

pub fn kind(k: LetterKind) -> pb::LetterKind {
    match k {
        LetterKind::Recruitment => pb::LetterKind::Recruitment,
        LetterKind::Welcome => pb::LetterKind::Welcome,
    }
}

pub fn kind_from(field: &'static str, value: i32) -> Result<LetterKind> {
    match pb::LetterKind::try_from(value) {
        Ok(pb::LetterKind::Recruitment) => Ok(LetterKind::Recruitment),
        Ok(pb::LetterKind::Welcome) => Ok(LetterKind::Welcome),
        _ => Err(RecruitmentError::invalid(
            field,
            "is required: recruitment or welcome",
        )),
    }
}

/// An enum value stored by its proto name without the prefix, e.g. `social-media`.
fn enum_to_stored(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix)
        .to_lowercase()
        .replace('_', "-")
}

fn enum_from_stored(stored: &str, prefix: &str) -> String {
    format!("{prefix}{}", stored.to_uppercase().replace('-', "_"))
}

pub fn channel_to_stored(field: &'static str, value: i32) -> Result<String> {
    match pb::Channel::try_from(value) {
        Ok(pb::Channel::Unspecified) | Err(_) => Err(RecruitmentError::invalid(
            field,
            format!("{value} is not a channel"),
        )),
        Ok(c) => Ok(enum_to_stored(c.as_str_name(), "CHANNEL_")),
    }
}

pub fn referrer_to_stored(field: &'static str, value: i32) -> Result<String> {
    match pb::ReferrerKind::try_from(value) {
        Ok(pb::ReferrerKind::Unspecified) | Err(_) => Err(RecruitmentError::invalid(
            field,
            "is required: municipality, diaspora organisation, employer, school, OCMW or ambassador",
        )),
        Ok(k) => Ok(enum_to_stored(k.as_str_name(), "REFERRER_KIND_")),
    }
}

pub fn status_from(field: &'static str, value: i32) -> Result<ActionStatus> {
    match pb::ActionStatus::try_from(value) {
        Ok(pb::ActionStatus::Planned) => Ok(ActionStatus::Planned),
        Ok(pb::ActionStatus::InProgress) => Ok(ActionStatus::InProgress),
        Ok(pb::ActionStatus::Done) => Ok(ActionStatus::Done),
        Ok(pb::ActionStatus::Dropped) => Ok(ActionStatus::Dropped),
        _ => Err(RecruitmentError::invalid(
            field,
            "is required: planned, in progress, done or dropped",
        )),
    }
}

fn list(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|s| !s.is_empty())
}

pub fn template(t: &template::Model) -> Result<pb::Template> {
    let paragraphs: Vec<String> = serde_json::from_str(&t.paragraphs)
        .map_err(|e| RecruitmentError::Corrupt(format!("template paragraphs: {e}")))?;
    Ok(pb::Template {
        kind: LetterKind::from_stored(&t.kind).map_or(pb::LetterKind::Unspecified, kind) as i32,
        language: t.language.clone(),
        version: t.version,
        subject: t.subject.clone(),
        paragraphs,
        uploaded_by: t.uploaded_by.clone(),
        reviewed: t.reviewed,
    })
}

pub fn campaign(c: &campaign::Model) -> pb::Campaign {
    pb::Campaign {
        campaign_id: c.id.to_string(),
        agency: wire::stored_agency(&c.agency),
        name: c.name.clone(),
        target_groups: list(&c.target_groups)
            .map(|g| stored_group(g) as i32)
            .collect(),
        channels: list(&c.channels)
            .map(|s| {
                pb::Channel::from_str_name(&enum_from_stored(s, "CHANNEL_"))
                    .unwrap_or(pb::Channel::Unspecified) as i32
            })
            .collect(),
        starts_on: Some(wire::date(c.starts_on)),
        ends_on: Some(wire::date(c.ends_on)),
        municipality_nis: list(&c.municipalities).map(str::to_owned).collect(),
    }
}

pub fn referral(r: &referral::Model) -> pb::Referral {
    pb::Referral {
        referral_id: r.id.to_string(),
        person_id: r.person_id.to_string(),
        referrer_kind: pb::ReferrerKind::from_str_name(&enum_from_stored(
            &r.referrer_kind,
            "REFERRER_KIND_",
        ))
        .unwrap_or(pb::ReferrerKind::Unspecified) as i32,
        referrer_name: r.referrer_name.clone(),
        campaign_id: r.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
        referred_on: Some(wire::date(r.referred_on)),
        gpmi_condition: r.gpmi_condition,
    }
}

pub fn ambassador(a: &ambassador::Model) -> pb::Ambassador {
    pb::Ambassador {
        ambassador_id: a.id.to_string(),
        agency: wire::stored_agency(&a.agency),
        display_name: a.display_name.clone().unwrap_or_default(),
        languages: list(&a.languages).map(str::to_owned).collect(),
        consent_on: Some(wire::date(a.consent_on)),
        withdrawn_on: a.withdrawn_on.map(wire::date),
    }
}

pub fn plan(p: &local_plan::Model, actions: &[plan_action::Model]) -> pb::LocalPlan {
    pb::LocalPlan {
        plan_id: p.id.to_string(),
        municipality_nis: p.nis.clone(),
        year: p.year,
        agency: wire::stored_agency(&p.agency),
        actions: actions
            .iter()
            .map(|a| pb::PlanAction {
                action_id: a.id.to_string(),
                description: a.description.clone(),
                owner: a.owner.clone(),
                status: ActionStatus::from_stored(&a.status).map_or(
                    pb::ActionStatus::Unspecified,
                    |s| match s {
                        ActionStatus::Planned => pb::ActionStatus::Planned,
                        ActionStatus::InProgress => pb::ActionStatus::InProgress,
                        ActionStatus::Done => pb::ActionStatus::Done,
                        ActionStatus::Dropped => pb::ActionStatus::Dropped,
                    },
                ) as i32,
                due_on: a.due_on.map(wire::date),
                done_on: a.done_on.map(wire::date),
            })
            .collect(),
    }
}

/// A registration as a listed newcomer, with the letters the person was sent.
pub fn newcomer(r: &registration::Model, letters_sent: &[LetterKind]) -> pb::Newcomer {
    pb::Newcomer {
        registration_id: r.id.to_string(),
        person_id: r.person_id.to_string(),
        municipality_nis: r.nis.clone(),
        registered_on: Some(wire::date(r.registered_on)),
        target_group: stored_group(&r.target_group) as i32,
        nationality: r.nationality.clone(),
        languages: std::iter::once(r.mother_tongue.clone())
            .chain(r.contact_language.clone())
            .collect(),
        letters_sent: letters_sent.iter().map(|k| kind(*k) as i32).collect(),
    }
}

/// A campaign to launch, checked; its municipalities (which need the register) are left
/// empty for the caller to resolve.
pub fn new_campaign(req: &pb::LaunchCampaignRequest) -> Result<NewCampaign> {
    let name = required_text("name", &req.name, 200)?;
    if req.target_groups.is_empty() {
        return Err(RecruitmentError::invalid(
            "target_groups",
            "at least one is required",
        ));
    }
    let target_groups = req
        .target_groups
        .iter()
        .map(|g| group_to_stored("target_groups", *g))
        .collect::<Result<Vec<_>>>()?;
    if req.channels.is_empty() {
        return Err(RecruitmentError::invalid(
            "channels",
            "at least one is required",
        ));
    }
    let channels = req
        .channels
        .iter()
        .map(|c| channel_to_stored("channels", *c))
        .collect::<Result<Vec<_>>>()?;
    let starts_on = wire::required_date("starts_on", req.starts_on.as_ref())?;
    let ends_on = wire::required_date("ends_on", req.ends_on.as_ref())?;
    if ends_on < starts_on {
        return Err(RecruitmentError::invalid(
            "ends_on",
            format!("{ends_on} is before starts_on {starts_on}"),
        ));
    }
    Ok(NewCampaign {
        name,
        target_groups,
        channels,
        starts_on,
        ends_on,
        municipalities: Vec::new(),
    })
}

/// A referral to record, checked (whether its ambassador, campaign and person exist is
/// the store's question).
pub fn new_referral(req: &pb::RecordReferralRequest) -> Result<NewReferral> {
    let person_id = wire::uuid("person_id", &req.person_id)?;
    let referrer_kind = referrer_to_stored("referrer_kind", req.referrer_kind)?;
    let (referrer_name, ambassador) = if referrer_kind == "ambassador" {
        // A person's name stays in the ambassadors' table, where withdrawing consent
        // erases it: a referral names the ambassador by id.
        let id = wire::uuid("referrer_name", &req.referrer_name).map_err(|_| {
            RecruitmentError::invalid(
                "referrer_name",
                "for an ambassador, is the ambassador_id (a UUID), never a name",
            )
        })?;
        (id.to_string(), Some(id))
    } else {
        (
            required_text("referrer_name", &req.referrer_name, 200)?,
            None,
        )
    };
    if req.gpmi_condition && referrer_kind != "ocmw" {
        return Err(RecruitmentError::invalid(
            "gpmi_condition",
            "only an OCMW makes the trajectory a condition of a GPMI",
        ));
    }
    let referred_on = wire::required_date("referred_on", req.referred_on.as_ref())?;
    if referred_on > Utc::now().date_naive() {
        return Err(RecruitmentError::invalid("referred_on", "is in the future"));
    }
    Ok(NewReferral {
        person_id,
        referrer_kind,
        referrer_name,
        ambassador,
        campaign_id: wire::optional_uuid("campaign_id", &req.campaign_id)?,
        referred_on,
        gpmi_condition: req.gpmi_condition,
    })
}

/// An ambassador to add, checked.
pub fn new_ambassador(req: &pb::AddAmbassadorRequest) -> Result<NewAmbassador> {
    let display_name = display_name("display_name", &req.display_name)?;
    let languages = req
        .languages
        .iter()
        .map(|l| Language::parse("languages", l))
        .collect::<Result<Vec<_>>>()?;
    let consent_on = wire::required_date("consent_on", req.consent_on.as_ref())?;
    if consent_on > Utc::now().date_naive() {
        return Err(RecruitmentError::invalid("consent_on", "is in the future"));
    }
    Ok(NewAmbassador {
        display_name,
        languages,
        consent_on,
    })
}
