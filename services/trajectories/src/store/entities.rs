//! The service's tables as sea-orm entities. The municipality register's table is the
//! shared one of `wire::register`.

/// Persons: the only place the national register number is stored.
pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "person")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub national_number: String,
        pub given_name: String,
        pub family_name: String,
        pub mother_tongue: String,
        pub contact_language: Option<String>,
        /// From the national number; `None` when the register does not know it.
        pub birth_date: Option<Date>,
        pub registered_at: DateTimeUtc,
        /// The organisation whose case worker registered the person.
        pub registered_by: String,
    }

    // Personal data: a derived Debug would print it into any log that debugs a row.
    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("person::Model")
                .field("id", &self.id)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Trajectories with their contract.
pub mod trajectory {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trajectory")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// One trajectory per person for now; a later trajectory after a stop is future work.
        #[sea_orm(unique)]
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub municipality_nis: String,
        #[sea_orm(indexed)]
        pub agency: String,
        pub status: String,
        pub exemption_reason: Option<String>,
        pub started_on: Date,
        pub contract_signed_on: Option<Date>,
        pub nt2_deadline: Option<Date>,
        pub mo_deadline: Option<Date>,
        pub vdab_deadline: Option<Date>,
        pub participation_deadline: Option<Date>,
        pub rights_and_duties_clause: bool,
        pub created_at: DateTimeUtc,
        pub nt2_completed_on: Option<Date>,
        pub mo_completed_on: Option<Date>,
        pub vdab_registered_on: Option<Date>,
        pub participation_hours: i32,
        pub participation_completed_on: Option<Date>,
        pub participation_waiver: Option<String>,
        pub attest_issued_on: Option<Date>,
        /// Bumped by every progress save: optimistic concurrency.
        pub version: i32,
        /// active, suspended or stopped.
        pub state: String,
        pub state_reason: Option<String>,
        pub state_since: Option<Date>,
        pub b1_due_by: Option<Date>,
        pub b1_closed_on: Option<Date>,
        /// The declaration of effort ("verklaring geleverde inspanningen") and its grounds.
        pub effort_declared_on: Option<Date>,
        pub effort_grounds: Option<String>,
        /// The day the caseload import brought this trajectory in with its history.
        pub imported_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Fees charged to a person.
pub mod fee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fee")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub trajectory_id: Uuid,
        pub person_id: Uuid,
        pub kind: String,
        pub amount_cents: i64,
        pub charged_on: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each deadline breach published: at most one per trajectory and component, however
/// often the sweep runs and whoever records the late fact.
pub mod breach {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "breach")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trajectory_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub component: String,
        pub deadline: Date,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every disclosure of a person's data to another organisation for a purpose (a
/// municipality's ceremony): who asked, for which organisation, why, what, when.
pub mod disclosure_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disclosure_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub disclosed_at: DateTimeUtc,
        /// The token's subject.
        pub caller: String,
        #[sea_orm(indexed)]
        pub organisation: String,
        /// e.g. `ceremony`.
        pub purpose: String,
        /// What the purpose is about, e.g. the ceremony's id.
        pub reference: String,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        /// The fields disclosed, comma separated.
        pub fields: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A newcomer's first registration in a Brussels municipality, from recruitment's
/// `NewcomerDetected` (the national-register feed), with what the Brussels rule made of it.
pub mod brussels_newcomer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "brussels_newcomer")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        pub municipality_nis: String,
        #[sea_orm(indexed)]
        pub registered_on: Date,
        pub free_movement: bool,
        pub foreigners_register: bool,
        /// `rules::brussels_obligation` on the day of registration.
        pub obliged: bool,
        /// Why not, when not obliged (e.g. `age`, `free_movement`).
        pub not_obliged_because: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A GGC report that a person registered in a GGC trajectory; unique per person, day and
/// language. Flagged when the person had a contract at Bon: both stay, nothing is
/// overwritten, and a Bon case worker is shown it.
pub mod ggc_registration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ggc_registration")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub person_id: Uuid,
        #[sea_orm(indexed)]
        pub registered_on: Date,
        /// `dutch` or `french`.
        pub language: String,
        pub reported_at: DateTimeUtc,
        pub reported_by: String,
        /// The Bon trajectory with a contract it contradicts.
        pub conflicting_trajectory_id: Option<Uuid>,
        pub conflicting_contract_signed_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every exchange with a Brussels partner: who, for which organisation, what for, which
/// persons, when.
pub mod exchange_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exchange_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub caller: String,
        pub organisation: String,
        pub purpose: String,
        /// The persons concerned, comma separated.
        pub person_ids: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every obligation check by another public body: who asked, why, and the yes/no.
pub mod obligation_check {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "obligation_check")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub checked_at: DateTimeUtc,
        /// The token's subject (a service account of the asking body).
        pub caller: String,
        #[sea_orm(indexed)]
        pub organisation: String,
        pub purpose: String,
        pub benefit: String,
        /// The person checked, when known; never the national number.
        pub person_id: Option<Uuid>,
        pub answer: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Each person the caseload import brought in: from which source and line, when, and a
/// fingerprint of what the line said (per part), so the same file again changes nothing
/// and a changed line is reported, not applied. Every imported fact of the person
/// (trajectory, registrations) belongs to this row.
pub mod caseload_import {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "caseload_import")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
        /// The import's label, e.g. the file's name.
        #[sea_orm(indexed)]
        pub source: String,
        pub line: i64,
        pub fingerprint: String,
        pub imported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
