//! The service's schema: its tables, the indexes that must hold under concurrent runs,
//! and the first version of the letter templates. Beneath everything else: it uses the
//! entities and the domain's template check, nothing that uses it.

use chrono::Utc;
use platform::events::store::CreateEntities;
use sea_orm::{ActiveValue::Set, EntityTrait};
use sea_orm_migration::prelude::*;

use super::{
    addressee, ambassador, attribution, campaign, conversion, letter, letter_batch, local_plan,
    plan_action, referral, registration, template,
};
use crate::domain::TemplateText;

/// The service's schema.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = platform::db::migrations([CreateEntities {
            name: "m0001_recruitment_tables",
            entities: &[
                // The shared register's table (`wire::register`), which this service's own
                // entity of the same name created before.
                &wire::register::municipality::Entity,
                &registration::Entity,
                &addressee::Entity,
                &template::Entity,
                &letter::Entity,
                &letter_batch::Entity,
                &campaign::Entity,
                &referral::Entity,
                &attribution::Entity,
                &ambassador::Entity,
                &local_plan::Entity,
                &plan_action::Entity,
                &conversion::Entity,
            ],
        }]);
        all.push(Box::new(Indexes));
        all.push(Box::new(SeedTemplates));
        all.push(Box::new(wire::register::MIGRATION));
        all.push(Box::new(super::seed::TemplateReviewed));
        all.push(Box::new(super::seed::SeedPlainLanguage));
        all
    }
}

/// Uniqueness that must hold under concurrent runs, and the reads of the letter batches,
/// the funnel and the erasure.
struct Indexes;

impl MigrationName for Indexes {
    fn name(&self) -> &str {
        "m0002_recruitment_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Indexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "create unique index if not exists registration_once \
             on registration (person_id, nis, registered_on)",
            "create index if not exists registration_by_day \
             on registration (target_group, registered_on, id)",
            "create unique index if not exists letter_once_per_person_and_kind \
             on letter (person_id, kind)",
            "create index if not exists letter_by_batch on letter (batch_id, position)",
            "create index if not exists letter_by_month on letter (state, sent_month, nis)",
            "create index if not exists addressee_erasure on addressee (erase_after)",
            "create unique index if not exists referral_once \
             on referral (agency, person_id, referrer_kind, referrer_name)",
            "create unique index if not exists local_plan_once on local_plan (nis, year)",
            "create index if not exists plan_action_by_plan on plan_action (plan_id, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// The first version of the templates: Dutch and the translations the standard PDF fonts
/// could print (English, French, Spanish). Kept as it ran; `seed` adds the plain-language
/// versions and the other languages.
pub struct SeedTemplates;

impl MigrationName for SeedTemplates {
    fn name(&self) -> &str {
        "m0003_recruitment_seed_templates"
    }
}

const SEED: &[(&str, &str, &str, &[&str])] = &[
    (
        "recruitment",
        "nl",
        "Uw inburgeringstraject",
        &[
            "Beste {{name}},",
            "U woont sinds kort in {{municipality}}. Welkom! Als nieuwkomer kunt u bij {{agency}} een inburgeringstraject volgen: Nederlandse les, een cursus maatschappelijke oriëntatie, begeleiding naar werk en een traject participatie en netwerk.",
            "Voor sommige nieuwkomers is inburgering verplicht. Wij bekijken samen met u wat voor u geldt. Maak een afspraak voor een gratis intakegesprek.",
            "Met vriendelijke groeten,",
            "{{agency}}",
        ],
    ),
    (
        "recruitment",
        "en",
        "Your civic integration programme",
        &[
            "Dear {{name}},",
            "You recently came to live in {{municipality}}. Welcome! As a newcomer you can follow a civic integration programme with {{agency}}: Dutch lessons, a course on social orientation, guidance towards work, and participation and networking.",
            "For some newcomers civic integration is compulsory. We will look together at what applies to you. Make an appointment for a free intake interview.",
            "Kind regards,",
            "{{agency}}",
        ],
    ),
    (
        "recruitment",
        "fr",
        "Votre parcours d'intégration",
        &[
            "Madame, Monsieur {{name}},",
            "Vous habitez depuis peu à {{municipality}}. Bienvenue ! En tant que primo-arrivant, vous pouvez suivre un parcours d'intégration civique auprès de {{agency}} : des cours de néerlandais, une formation d'orientation sociale, un accompagnement vers l'emploi et un volet participation et réseau.",
            "Pour certains primo-arrivants, l'intégration est obligatoire. Nous verrons ensemble ce qui s'applique à vous. Prenez rendez-vous pour un entretien d'accueil gratuit.",
            "Salutations cordiales,",
            "{{agency}}",
        ],
    ),
    (
        "recruitment",
        "es",
        "Su programa de integración",
        &[
            "Estimado/a {{name}}:",
            "Hace poco que vive en {{municipality}}. ¡Bienvenido/a! Como recién llegado/a puede seguir un programa de integración con {{agency}}: clases de neerlandés, un curso de orientación social, acompañamiento hacia el empleo y participación y red social.",
            "Para algunos recién llegados la integración es obligatoria. Veremos juntos qué se aplica a usted. Pida cita para una entrevista gratuita.",
            "Atentamente,",
            "{{agency}}",
        ],
    ),
    (
        "welcome",
        "nl",
        "Welkom in Brussel",
        &[
            "Beste {{name}},",
            "Op {{registered_on}} hebt u zich ingeschreven in {{municipality}}. Welkom in Brussel! {{agency}} helpt nieuwkomers op weg: met Nederlandse les, een cursus over het leven in België en Brussel, en begeleiding naar werk, studie of vrijwilligerswerk.",
            "Sinds 1 juni 2022 is inburgering in Brussel verplicht voor sommige nieuwkomers. U kiest zelf bij wie u uw traject volgt. Kom langs of maak een afspraak: de begeleiding is gratis.",
            "Met vriendelijke groeten,",
            "{{agency}}",
        ],
    ),
    (
        "welcome",
        "en",
        "Welcome to Brussels",
        &[
            "Dear {{name}},",
            "On {{registered_on}} you registered in {{municipality}}. Welcome to Brussels! {{agency}} helps newcomers find their way: with Dutch lessons, a course on life in Belgium and Brussels, and guidance towards work, study or volunteering.",
            "Since 1 June 2022 civic integration is compulsory in Brussels for some newcomers. You choose where you follow your programme. Drop in or make an appointment: the guidance is free.",
            "Kind regards,",
            "{{agency}}",
        ],
    ),
    (
        "welcome",
        "fr",
        "Bienvenue à Bruxelles",
        &[
            "Madame, Monsieur {{name}},",
            "Le {{registered_on}}, vous vous êtes inscrit(e) à {{municipality}}. Bienvenue à Bruxelles ! {{agency}} aide les primo-arrivants : cours de néerlandais, formation sur la vie en Belgique et à Bruxelles, accompagnement vers l'emploi, les études ou le volontariat.",
            "Depuis le 1er juin 2022, le parcours d'intégration est obligatoire à Bruxelles pour certains primo-arrivants. Vous choisissez où vous le suivez. Passez nous voir ou prenez rendez-vous : l'accompagnement est gratuit.",
            "Salutations cordiales,",
            "{{agency}}",
        ],
    ),
    (
        "welcome",
        "es",
        "Bienvenido/a a Bruselas",
        &[
            "Estimado/a {{name}}:",
            "El {{registered_on}} se inscribió en {{municipality}}. ¡Bienvenido/a a Bruselas! {{agency}} ayuda a los recién llegados: clases de neerlandés, un curso sobre la vida en Bélgica y Bruselas, y acompañamiento hacia el empleo, los estudios o el voluntariado.",
            "Desde el 1 de junio de 2022 la integración es obligatoria en Bruselas para algunos recién llegados. Usted elige dónde sigue su programa. Venga o pida cita: el acompañamiento es gratuito.",
            "Atentamente,",
            "{{agency}}",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for SeedTemplates {
    async fn up(&self, manager: &SchemaManager) -> Result<(), sea_orm::DbErr> {
        let db = manager.get_connection();
        for (kind, language, subject, paragraphs) in SEED {
            let owned: Vec<String> = paragraphs.iter().map(|p| (*p).to_owned()).collect();
            // The seed passes the same check as an upload.
            TemplateText::parse(subject, &owned).map_err(|e| {
                sea_orm::DbErr::Custom(format!("seed template {kind}/{language}: {e}"))
            })?;
            let row = template::ActiveModel {
                kind: Set((*kind).to_owned()),
                language: Set((*language).to_owned()),
                version: Set(1),
                subject: Set((*subject).to_owned()),
                paragraphs: Set(serde_json::to_string(&owned)
                    .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?),
                uploaded_by: Set("seed".into()),
                uploaded_at: Set(Utc::now()),
                reviewed: Set(false),
            };
            template::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        template::Column::Kind,
                        template::Column::Language,
                        template::Column::Version,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
        Ok(())
    }
}
