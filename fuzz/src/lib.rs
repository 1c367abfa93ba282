//! What the fuzz targets and the seed writer share: the table of event consumers (which
//! consumer reads which `ce_type`, and how to run its decoding and checking half) and the
//! small municipality registers the imports resolve against.

use std::collections::BTreeMap;

use platform::events::{Envelope, consumer::HandlerError};

/// One consumer of the platform: its group, the event types it reads, and its decoding
/// and checking half (everything up to, not including, the database write).
pub struct Consumer {
    pub group: &'static str,
    pub types: &'static [&'static str],
    pub decode: fn(&Envelope) -> Result<(), HandlerError>,
}

macro_rules! names {
    ($pkg:literal: $($t:literal),* $(,)?) => {
        &[$(concat!($pkg, ".", $t)),*]
    };
}

/// Every consumer a service runs (`ServiceModule::consumers`), in a fixed order: the first
/// byte of an `events` input picks one by index.
pub const CONSUMERS: &[Consumer] = &[
    Consumer {
        group: ceremonies::projection::ATTESTS_GROUP,
        types: names!("inburgering.trajectories.v1": "AttestIssued"),
        decode: |e| {
            if let Some((id, row)) = ceremonies::projection::attest_row(e)? {
                assert_eq!(row.trajectory_id.as_ref(), &id);
            }
            Ok(())
        },
    },
    Consumer {
        group: ceremonies::projection::REGISTER_GROUP,
        types: names!("inburgering.municipalities.v1": "RegisterPublished"),
        decode: |e| {
            if let Some(rows) = wire::register::rows(e)? {
                assert!(!rows.is_empty());
                for r in rows {
                    nis_shaped(r.code.as_ref());
                    nis_shaped(r.current_nis.as_ref());
                }
            }
            Ok(())
        },
    },
    Consumer {
        group: interpreting::projection::REGISTER_GROUP,
        types: names!("inburgering.municipalities.v1": "RegisterPublished"),
        decode: |e| {
            if let Some(rows) = wire::register::rows(e)? {
                assert!(!rows.is_empty());
                for r in rows {
                    nis_shaped(r.code.as_ref());
                    nis_shaped(r.current_nis.as_ref());
                }
            }
            Ok(())
        },
    },
    Consumer {
        group: interpreting::projection::TRAJECTORIES_GROUP,
        types: names!("inburgering.trajectories.v1":
            "TrajectoryStarted", "AttestIssued", "EffortDeclarationIssued", "TrajectoryStopped"),
        decode: |e| {
            if let Some(span) = interpreting::projection::span(e)? {
                // Each event gives exactly one of the two days.
                assert!(span.started_on.is_some() != span.ended_on.is_some());
            }
            Ok(())
        },
    },
    Consumer {
        group: municipalities::projection::RESIDENTS_GROUP,
        types: names!("inburgering.trajectories.v1":
            "TrajectoryStarted", "ContractSigned", "ComponentCompleted", "AttestIssued",
            "ObligationBreached", "TrajectorySuspended", "TrajectoryResumed",
            "TrajectoryStopped"),
        decode: |e| {
            use municipalities::projection::ResidentEvent as R;
            match municipalities::projection::resident_event(e)? {
                // The checks the handler makes after reading the database: their results
                // must be there, whatever they are.
                Some(R::Started {
                    person_id, agency, ..
                }) => {
                    let _ = person_id.map_err(|e| e.to_string());
                    let _ = agency.map_err(|e| e.to_string());
                }
                Some(R::ComponentCompleted { completed_on, .. }) => {
                    let _ = completed_on.map_err(|e| e.to_string());
                }
                Some(R::AttestIssued { issued_on, .. }) => {
                    let _ = issued_on.map_err(|e| e.to_string());
                }
                Some(R::ObligationBreached { deadline, .. }) => {
                    let _ = deadline.map_err(|e| e.to_string());
                }
                Some(R::State {
                    id, trajectory_id, ..
                }) => {
                    assert_eq!(uuid::Uuid::parse_str(&trajectory_id).ok(), Some(id));
                }
                Some(R::ContractSigned { .. }) | None => {}
            }
            Ok(())
        },
    },
    Consumer {
        group: municipalities::projection::MONITOR_GROUP,
        types: names!("inburgering.municipalities.v1":
            "ParticipationPlacementStarted", "ParticipationHoursLogged"),
        decode: |e| {
            if let Some(fact) = municipalities::projection::own_fact(e)? {
                // The quarter the handler files it under.
                use chrono::Datelike;
                let quarter = fact.on.month0() as i32 / 3 + 1;
                assert!((1..=4).contains(&quarter));
            }
            Ok(())
        },
    },
    Consumer {
        group: recruitment::projection::REGISTER_GROUP,
        types: names!("inburgering.municipalities.v1": "RegisterPublished"),
        decode: |e| {
            if let Some(rows) = wire::register::rows(e)? {
                assert!(!rows.is_empty());
                for r in rows {
                    nis_shaped(r.code.as_ref());
                    nis_shaped(r.current_nis.as_ref());
                }
            }
            Ok(())
        },
    },
    Consumer {
        group: recruitment::projection::CONVERSION_GROUP,
        types: names!("inburgering.trajectories.v1": "TrajectoryStarted", "ContractSigned"),
        decode: |e| {
            recruitment::projection::conversion_step(e)?;
            Ok(())
        },
    },
    Consumer {
        group: testing::PROJECTION_GROUP,
        types: names!("inburgering.trajectories.v1":
            "PersonRegistered", "TrajectoryStarted", "ContractSigned", "B1FollowUpDue",
            "B1FollowUpClosed"),
        decode: |e| {
            testing::projection::change(e)?;
            Ok(())
        },
    },
    Consumer {
        group: trajectories::results::GROUP,
        types: names!("inburgering.testing.v1": "TestResultRecorded"),
        decode: |e| {
            trajectories::results::passed(e)?;
            Ok(())
        },
    },
    Consumer {
        group: trajectories::brussels::GROUP,
        types: names!("inburgering.recruitment.v1": "NewcomerDetected"),
        decode: |e| {
            if let Some(newcomer) = trajectories::brussels::newcomer(e)? {
                assert!(trajectories::rules::BRUSSELS_NIS.contains(&newcomer.nis));
                // The rule on the person's birth date as trajectories knows it: unknown,
                // or a few ages around the registration.
                let on = newcomer.registered_on;
                for years in [None, Some(0), Some(17), Some(18), Some(64), Some(65), Some(200)] {
                    let born = years.and_then(|y| on.checked_sub_months(chrono::Months::new(12 * y)));
                    let (obliged, why) = trajectories::brussels::decide(&newcomer, born);
                    assert!(obliged != why.is_some());
                }
            }
            Ok(())
        },
    },
    Consumer {
        group: trajectories::municipalities::GROUP,
        types: names!("inburgering.municipalities.v1":
            "RegisterPublished", "ParticipationHoursLogged", "ParticipationCompleted"),
        decode: |e| {
            trajectories::municipalities::municipality_event(e)?;
            Ok(())
        },
    },
];

/// A code the projections keep: five ASCII digits.
fn nis_shaped(code: &str) {
    assert!(
        code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()),
        "kept {code:?}"
    );
}

/// Runs consumer `index`'s decoding and checking half on `envelope`; the error must be a
/// clean `HandlerError` with a message.
pub fn run_consumer(index: usize, envelope: &Envelope) {
    let consumer = &CONSUMERS[index % CONSUMERS.len()];
    if let Err(e) = (consumer.decode)(envelope) {
        assert!(!e.to_string().is_empty(), "{}: an empty error", consumer.group);
    }
}

/// The municipality rows the ceremonies projection keeps for a small register: Antwerpen
/// (with a code merged into it), Gent, Brussel, Schaerbeek, Luik and Genk, with names in
/// both languages.
pub fn ceremonies_register() -> ceremonies::import::Register {
    use wire::register::Municipality;
    let row = |code: &str, current: &str, nl: &str, fr: &str, agency: Option<&str>| Municipality {
        code: code.into(),
        current_nis: current.into(),
        name_nl: nl.into(),
        name_fr: fr.into(),
        province_nis: String::new(),
        region: String::new(),
        agency: agency.map(Into::into),
    };
    ceremonies::import::Register::from_rows(vec![
        row("11002", "11002", "Antwerpen", "Anvers", Some("agii")),
        row("11007", "11002", "Borsbeek", "", Some("agii")),
        row("44021", "44021", "Gent", "Gand", Some("in-gent")),
        row("21004", "21004", "Brussel", "Bruxelles", Some("bon")),
        row("21015", "21015", "Schaarbeek", "Schaerbeek", Some("bon")),
        row("62063", "62063", "Luik", "Liège", None),
        row("71016", "71016", "Genk", "", Some("agii")),
        // A corrupt stored row: the register skips it.
        row("9999", "9999", "Nergens", "", None),
    ])
}

/// The municipality register recruitment's feed resolves against.
pub fn recruitment_register() -> BTreeMap<String, recruitment::domain::Municipality> {
    use platform::{Agency, Nis};
    let m = |code: &str, current: &str, name: &str, agency: Option<Agency>| {
        (
            code.to_owned(),
            recruitment::domain::Municipality {
                nis: Nis::parse("nis", current).expect("a fixture code"),
                name_nl: name.to_owned(),
                agency,
            },
        )
    };
    [
        m("11002", "11002", "Antwerpen", Some(Agency::Agii)),
        m("11007", "11002", "Antwerpen", Some(Agency::Agii)),
        m("44021", "44021", "Gent", Some(Agency::InGent)),
        m("21004", "21004", "Brussel", Some(Agency::Bon)),
        m("21015", "21015", "Schaarbeek", Some(Agency::Bon)),
        m("62063", "62063", "Luik", None),
        m("24062", "24062", "Leuven", Some(Agency::Agii)),
    ]
    .into_iter()
    .collect()
}

/// The `Envelope` of a payload of type `ce_type`, as the consumer loop hands it over.
pub fn envelope(ce_type: &str, payload: &[u8]) -> Envelope {
    Envelope {
        id: uuid::Uuid::nil(),
        ce_type: ce_type.to_owned(),
        source: "/inburgering/fuzz".into(),
        time: chrono::DateTime::UNIX_EPOCH,
        topic: "fuzz.events.v1".into(),
        key: None,
        payload: payload.to_vec(),
        traceparent: None,
        history: None,
    }
}
