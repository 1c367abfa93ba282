//! The service's schema: the platform's outbox and inbox, then its own tables, each
//! migration as it shipped.

use platform::events::store::CreateEntities;
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::entities::{
    breach, brussels_newcomer, caseload_import, disclosure_audit, exchange_audit, fee,
    ggc_registration, obligation_check, person, trajectory,
};

/// The service's schema: the platform's outbox and inbox, then its own tables.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = platform::db::migrations([CreateEntities {
            name: "m0001_trajectories_person_trajectory_fee",
            entities: &[&person::Entity, &trajectory::Entity, &fee::Entity],
        }]);
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0002_trajectories_component_progress",
            columns: progress_columns,
        }));
        all.push(Box::new(CreateEntities {
            name: "m0003_trajectories_obligation_check_audit",
            entities: &[&obligation_check::Entity],
        }));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0004_trajectories_state",
            columns: state_columns,
        }));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0005_trajectories_b1_follow_up",
            columns: b1_columns,
        }));
        all.push(Box::new(AddBirthDate));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0007_trajectories_effort_declaration",
            columns: effort_columns,
        }));
        all.push(Box::new(CreateEntities {
            name: "m0008_trajectories_breach",
            entities: &[&breach::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0009_trajectories_municipality_register",
            entities: &[&wire::register::municipality::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0010_trajectories_disclosure_audit",
            entities: &[&disclosure_audit::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0011_trajectories_brussels_newcomer",
            entities: &[&brussels_newcomer::Entity],
        }));
        all.push(Box::new(CreateEntities {
            name: "m0012_trajectories_partner_exchange",
            entities: &[&ggc_registration::Entity, &exchange_audit::Entity],
        }));
        all.push(Box::new(GgcRegistrationOnce));
        all.push(Box::new(wire::register::MIGRATION));
        all.push(Box::new(AddTrajectoryColumns {
            name: "m0014_trajectories_imported_on",
            columns: import_columns,
        }));
        all.push(Box::new(CreateEntities {
            name: "m0015_trajectories_caseload_import",
            entities: &[&caseload_import::Entity],
        }));
        all
    }
}

/// Columns added to the trajectory table after m0001. A fresh database got them from the
/// entity in m0001; an older one needs them added.
struct AddTrajectoryColumns {
    name: &'static str,
    columns: fn() -> Vec<ColumnDef>,
}

impl MigrationName for AddTrajectoryColumns {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddTrajectoryColumns {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in (self.columns)() {
            let name = column.get_column_name();
            if !manager.has_column("trajectory", &name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(trajectory::Entity)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

fn progress_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::Nt2CompletedOn).date().null().to_owned(),
        ColumnDef::new(C::MoCompletedOn).date().null().to_owned(),
        ColumnDef::new(C::VdabRegisteredOn).date().null().to_owned(),
        ColumnDef::new(C::ParticipationHours)
            .integer()
            .not_null()
            .default(0)
            .to_owned(),
        ColumnDef::new(C::ParticipationCompletedOn)
            .date()
            .null()
            .to_owned(),
        ColumnDef::new(C::ParticipationWaiver)
            .string()
            .null()
            .to_owned(),
        ColumnDef::new(C::AttestIssuedOn).date().null().to_owned(),
        ColumnDef::new(C::Version)
            .integer()
            .not_null()
            .default(0)
            .to_owned(),
    ]
}

fn import_columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(trajectory::Column::ImportedOn)
            .date()
            .null()
            .to_owned(),
    ]
}

fn b1_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::B1DueBy).date().null().to_owned(),
        ColumnDef::new(C::B1ClosedOn).date().null().to_owned(),
    ]
}

fn effort_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::EffortDeclaredOn).date().null().to_owned(),
        ColumnDef::new(C::EffortGrounds).string().null().to_owned(),
    ]
}

/// The person's birth date, added after m0001 like the trajectory's columns.
struct AddBirthDate;

impl MigrationName for AddBirthDate {
    fn name(&self) -> &str {
        "m0006_trajectories_person_birth_date"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddBirthDate {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("person", "birth_date").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(person::Entity)
                        .add_column(ColumnDef::new(person::Column::BirthDate).date().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

fn state_columns() -> Vec<ColumnDef> {
    use trajectory::Column as C;
    vec![
        ColumnDef::new(C::State)
            .string()
            .not_null()
            .default("active")
            .to_owned(),
        ColumnDef::new(C::StateReason).string().null().to_owned(),
        ColumnDef::new(C::StateSince).date().null().to_owned(),
    ]
}

/// A GGC report is recorded once per person, day and language, however often it comes.
struct GgcRegistrationOnce;

impl MigrationName for GgcRegistrationOnce {
    fn name(&self) -> &str {
        "m0013_trajectories_ggc_registration_once"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for GgcRegistrationOnce {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "create unique index if not exists ggc_registration_once \
                 on ggc_registration (person_id, registered_on, language)",
            )
            .await?;
        Ok(())
    }
}
