//! The templates' review mark and the plain-language seed: Dutch and fifteen translations
//! of the recruitment and welcome letters, written for a first version and marked as not
//! reviewed by a sworn translator. An agency's upload of a version replaces one (versions
//! are never changed), and says whether it was reviewed.

mod recruitment;
mod welcome;

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use sea_orm_migration::prelude::*;

use super::template;
use crate::domain::{LetterKind, TemplateText};

/// One seeded template: a kind's text in one language.
pub(super) struct Seed {
    pub(super) language: &'static str,
    pub(super) subject: &'static str,
    pub(super) paragraphs: &'static [&'static str],
}

/// Who the seed's versions are uploaded by.
const SEEDED_BY: &str = "seed";

/// Every seeded template with its kind.
fn seeds() -> impl Iterator<Item = (LetterKind, &'static Seed)> {
    let of = |kind, seeds: &'static [Seed]| seeds.iter().map(move |s| (kind, s));
    of(LetterKind::Recruitment, recruitment::RECRUITMENT)
        .chain(of(LetterKind::Welcome, welcome::WELCOME))
}

/// `template.reviewed`: whether a sworn translator reviewed the text. A database created
/// since has the column (m0001 creates the table from the entity); an older one gains it,
/// with the agencies' own uploads marked reviewed and the seed's not.
pub struct TemplateReviewed;

impl MigrationName for TemplateReviewed {
    fn name(&self) -> &str {
        "m0004_recruitment_template_reviewed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TemplateReviewed {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = template::Column::Reviewed;
        if manager.has_column("template", column.to_string()).await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(template::Entity)
                    .add_column(ColumnDef::new(column).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        template::Entity::update_many()
            .col_expr(column, Expr::val(true))
            .filter(Expr::col(template::Column::UploadedBy).ne(SEEDED_BY))
            .exec(manager.get_connection())
            .await?;
        Ok(())
    }
}

/// The plain-language templates: a kind and language without a template gets version 1; one
/// whose current version is an older seed gets the next version; one an agency uploaded
/// keeps the agency's text.
pub struct SeedPlainLanguage;

impl MigrationName for SeedPlainLanguage {
    fn name(&self) -> &str {
        "m0005_recruitment_seed_plain_language"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SeedPlainLanguage {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (kind, seed) in seeds() {
            let name = format!("seed template {}/{}", kind.as_str(), seed.language);
            let paragraphs: Vec<String> = seed.paragraphs.iter().map(|p| (*p).to_owned()).collect();
            // The seed passes the same check as an upload.
            TemplateText::parse(seed.subject, &paragraphs)
                .map_err(|e| DbErr::Custom(format!("{name}: {e}")))?;
            let paragraphs =
                serde_json::to_string(&paragraphs).map_err(|e| DbErr::Custom(e.to_string()))?;
            let version = match latest(db, kind, seed.language).await? {
                None => 1,
                Some(t) if t.uploaded_by == SEEDED_BY => {
                    if t.subject == seed.subject && t.paragraphs == paragraphs {
                        continue;
                    }
                    t.version + 1
                }
                Some(_) => continue,
            };
            let row = template::ActiveModel {
                kind: Set(kind.as_str().to_owned()),
                language: Set(seed.language.to_owned()),
                version: Set(version),
                subject: Set(seed.subject.to_owned()),
                paragraphs: Set(paragraphs),
                uploaded_by: Set(SEEDED_BY.into()),
                uploaded_at: Set(Utc::now()),
                reviewed: Set(false),
            };
            template::Entity::insert(row)
                .exec_without_returning(db)
                .await?;
        }
        Ok(())
    }
}

/// The current version of `kind` in `language`.
async fn latest(
    db: &impl ConnectionTrait,
    kind: LetterKind,
    language: &str,
) -> Result<Option<template::Model>, DbErr> {
    template::Entity::find()
        .filter(Expr::col(template::Column::Kind).eq(kind.as_str()))
        .filter(Expr::col(template::Column::Language).eq(language))
        .order_by_desc(template::Column::Version)
        .one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_passes_the_upload_check_and_both_kinds_have_the_same_languages() {
        for (kind, seed) in seeds() {
            let paragraphs: Vec<String> = seed.paragraphs.iter().map(|p| (*p).to_owned()).collect();
            if let Err(e) = TemplateText::parse(seed.subject, &paragraphs) {
                panic!("{}/{}: {e}", kind.as_str(), seed.language);
            }
        }
        let languages = |seeds: &[Seed]| seeds.iter().map(|s| s.language).collect::<Vec<_>>();
        let recruitment = languages(recruitment::RECRUITMENT);
        assert_eq!(recruitment, languages(welcome::WELCOME));
        for wanted in [
            "nl", "ar", "uk", "ru", "ti", "prs", "ps", "fa", "tr", "so", "ro", "pl", "bg", "en",
            "fr",
        ] {
            assert!(recruitment.contains(&wanted), "{wanted}");
        }
    }

    #[test]
    fn every_translation_has_the_dutch_letters_paragraphs_and_placeholders() {
        for seeds in [recruitment::RECRUITMENT, welcome::WELCOME] {
            let dutch = &seeds[0];
            assert_eq!(dutch.language, "nl");
            let holes = |s: &Seed| -> Vec<usize> {
                s.paragraphs
                    .iter()
                    .map(|p| p.matches("{{").count())
                    .collect()
            };
            for seed in seeds {
                assert_eq!(holes(seed), holes(dutch), "{}", seed.language);
            }
        }
    }
}
