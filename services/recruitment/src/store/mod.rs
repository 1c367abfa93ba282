//! The recruitment database: the municipality register (the shared `wire::register`
//! table) and the trajectory starts and contracts (projections of other services'
//! events), registrations from the register feed, the letters' addressees (erased after sending plus the retention), templates,
//! letters and their batches, campaigns, referrals, ambassadors and local plans.
//! No national number is ever stored here.

pub mod migrations;
mod seed;

/// A register record that put a person in a target group: unique by (person,
/// municipality, day), so a record imported again changes nothing.
pub mod registration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registration")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub person_id: Uuid,
        pub nis: String,
        pub agency: String,
        pub registered_on: Date,
        pub register: String,
        pub nationality: String,
        pub target_group: String,
        pub mother_tongue: String,
        pub contact_language: Option<String>,
        pub imported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who a letter goes to and where: kept only until the letter is sent plus the
/// retention, then the row is deleted.
pub mod addressee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "addressee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub registration_id: Uuid,
        pub given_name: String,
        pub family_name: String,
        pub street: String,
        pub postal_code: String,
        pub city: String,
        /// Set when the letter is sent.
        pub erase_after: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One version of a template of a kind and language; versions are never changed.
pub mod template {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "template")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub language: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        pub subject: String,
        /// The paragraphs as a JSON array of strings.
        pub paragraphs: String,
        pub uploaded_by: String,
        pub uploaded_at: DateTimeUtc,
        /// Whether a sworn translator reviewed the text: false for the seeded
        /// translations, an agency's upload says so itself (reviewed unless it says not).
        pub reviewed: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One letter per person and kind (a unique index): pending while its batch is being
/// printed, sent once the batch file is complete.
pub mod letter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub person_id: Uuid,
        pub registration_id: Uuid,
        pub kind: String,
        pub nis: String,
        pub agency: String,
        pub target_group: String,
        pub batch_id: Uuid,
        /// Its place in the batch, from 0.
        pub position: i32,
        pub dutch_version: i32,
        pub translation_language: Option<String>,
        pub translation_version: Option<i32>,
        pub state: String,
        pub sent_on: Option<Date>,
        /// First day of the month it was sent in, for the funnel.
        pub sent_month: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A batch of letters printed to one PDF file.
pub mod letter_batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "letter_batch")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: String,
        pub file: String,
        pub letters: i32,
        pub state: String,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        /// Until when a run holds the batch it is printing.
        pub claimed_until: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A campaign; lists are stored comma-separated.
pub mod campaign {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaign")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub agency: String,
        pub name: String,
        pub target_groups: String,
        pub channels: String,
        pub starts_on: Date,
        pub ends_on: Date,
        pub municipalities: String,
        pub created_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who brought a person in, as an agency recorded it: unique by (agency, person,
/// referrer kind, referrer name). An ambassador is named by id, never by name.
pub mod referral {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub person_id: Uuid,
        pub agency: String,
        pub referrer_kind: String,
        pub referrer_name: String,
        pub campaign_id: Option<Uuid>,
        pub referred_on: Date,
        pub gpmi_condition: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The campaign a person is counted under in the funnel: the first referral through a
/// campaign (first touch).
pub mod attribution {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attribution")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        pub campaign_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An ambassador who tells their story, with consent; withdrawing it erases name and
/// languages.
pub mod ambassador {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ambassador")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub agency: String,
        pub display_name: Option<String>,
        pub languages: String,
        pub consent_on: Date,
        pub withdrawn_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A local recruitment plan of a municipality and year (unique).
pub mod local_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "local_plan")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub nis: String,
        pub year: i32,
        pub agency: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An agreed action of a local plan.
pub mod plan_action {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plan_action")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub plan_id: Uuid,
        pub description: String,
        pub owner: String,
        pub status: String,
        pub due_on: Option<Date>,
        pub done_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What became of a person after recruitment: the first trajectory start (the intake)
/// and the first contract, from `TrajectoryStarted` and `ContractSigned`.
pub mod conversion {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversion")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        pub intake_on: Option<Date>,
        pub contract_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
