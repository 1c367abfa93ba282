//! The letter templates: one version per upload of a kind and language, checked at
//! upload, and what the batch run reads of them.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    RecruitmentError,
    domain::{Language, LetterKind, TemplateText},
    store::template,
};

type Result<T, E = RecruitmentError> = std::result::Result<T, E>;

/// Who uploads a template version, and whether a sworn translator reviewed it.
#[derive(Debug, Clone)]
pub struct Uploader {
    /// `organisation/subject` of the uploader.
    pub by: String,
    pub reviewed: bool,
}

impl Uploader {
    /// An agency's officer; the version counts as reviewed unless the upload says not.
    pub fn officer(principal: &platform::Principal, reviewed: Option<bool>) -> Self {
        Uploader {
            by: format!("{}/{}", principal.organisation.alias, principal.subject),
            reviewed: reviewed.unwrap_or(true),
        }
    }
}

/// Uploads a new version of the template of `kind` in `language`.
pub async fn upload(
    db: &DatabaseConnection,
    kind: LetterKind,
    language: &Language,
    text: TemplateText,
    uploader: &Uploader,
) -> Result<template::Model> {
    use template::Column as C;
    let paragraphs = serde_json::to_string(&text.paragraphs)
        .map_err(|e| RecruitmentError::Corrupt(format!("paragraphs: {e}")))?;
    // Two uploads at once: the primary key (kind, language, version) lets one win; the
    // other takes the next version.
    for _ in 0..5 {
        let latest = template::Entity::find()
            .filter(Expr::col(C::Kind).eq(kind.as_str()))
            .filter(Expr::col(C::Language).eq(language.as_str()))
            .order_by_desc(C::Version)
            .one(db)
            .await?;
        let row = template::Model {
            kind: kind.as_str().to_owned(),
            language: language.to_string(),
            version: latest.map_or(1, |t| t.version + 1),
            subject: text.subject.clone(),
            paragraphs: paragraphs.clone(),
            uploaded_by: uploader.by.clone(),
            uploaded_at: Utc::now(),
            reviewed: uploader.reviewed,
        };
        let active: template::ActiveModel = row.clone().into();
        match template::Entity::insert(active)
            .exec_without_returning(db)
            .await
        {
            Ok(_) => {
                tracing::info!(kind = kind.as_str(), language = %language, version = row.version, reviewed = row.reviewed, "template uploaded");
                return Ok(row);
            }
            Err(e) if e.to_string().to_lowercase().contains("unique") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RecruitmentError::Corrupt(
        "template version kept colliding".into(),
    ))
}

/// The current (highest) version of each language of `kind`.
pub async fn current(
    db: &impl ConnectionTrait,
    kind: LetterKind,
) -> Result<BTreeMap<String, template::Model>> {
    let mut current = BTreeMap::new();
    for t in template::Entity::find()
        .filter(Expr::col(template::Column::Kind).eq(kind.as_str()))
        .order_by_asc(template::Column::Version)
        .all(db)
        .await?
    {
        current.insert(t.language.clone(), t);
    }
    Ok(current)
}

/// A template's text, ready to fill.
#[derive(Debug, Clone)]
pub(super) struct Ready {
    pub(super) subject: String,
    pub(super) paragraphs: Vec<String>,
}

fn ready(t: &template::Model) -> Result<Ready> {
    Ok(Ready {
        subject: t.subject.clone(),
        paragraphs: serde_json::from_str(&t.paragraphs)
            .map_err(|e| RecruitmentError::Corrupt(format!("template paragraphs: {e}")))?,
    })
}

/// Everything needed to fill templates: every version of the kind, by (language, version).
pub(super) async fn versions(
    db: &impl ConnectionTrait,
    kind: LetterKind,
) -> Result<BTreeMap<(String, i32), Ready>> {
    template::Entity::find()
        .filter(Expr::col(template::Column::Kind).eq(kind.as_str()))
        .all(db)
        .await?
        .iter()
        .map(|t| Ok(((t.language.clone(), t.version), ready(t)?)))
        .collect()
}

/// The translation a person gets: the first of their languages with a template, none
/// for a Dutch speaker.
pub(super) fn translation_for<'t>(
    languages: &[Language],
    templates: &'t BTreeMap<String, template::Model>,
) -> Option<&'t template::Model> {
    if languages.iter().any(|l| l.as_str() == "nl") {
        return None;
    }
    languages
        .iter()
        .find_map(|l| templates.get(l.as_str()).filter(|t| t.language != "nl"))
}
