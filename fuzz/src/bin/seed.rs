//! Writes the seed corpora: `seed [DIR]` (default `corpus`, run from `fuzz/`) writes a
//! handful of realistic valid and invalid inputs per target into `DIR/<target>/`, named
//! `seed-…` so they stay apart from what the fuzzer adds. Events are encoded with prost
//! from the generated proto types, tokens signed by the platform's dev issuer.
//!
//! Built with the targets by `cargo +nightly fuzz build`; it is an ordinary program.

use std::{
    fs,
    path::{Path, PathBuf},
};

use inburgering_fuzz::CONSUMERS;
use prost::{Message, Name};
use proto::{
    common::v1 as common, municipalities::v1 as muni, recruitment::v1 as rec, testing::v1 as tst,
    trajectories::v1 as traj,
};
use serde_json::json;

const TRAJECTORY: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const PERSON: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
const OTHER: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn put(&mut self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir).expect("corpus directory");
        fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed written");
        self.count += 1;
    }
}

/// A valid national number of someone born on `born` (YYMMDD) with serial `serial`.
fn number(born: &str, serial: u32, from_2000: bool) -> String {
    let base: u64 = format!("{born}{serial:03}").parse().expect("digits");
    let check = if from_2000 {
        97 - (2_000_000_000 + base) % 97
    } else {
        97 - base % 97
    };
    format!("{base:09}{check:02}")
}

fn dotted(n: &str) -> String {
    format!(
        "{}.{}.{}-{}.{}",
        &n[0..2],
        &n[2..4],
        &n[4..6],
        &n[6..9],
        &n[9..11]
    )
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

fn national_numbers(s: &mut Seeds) {
    let adult = number("850730", 33, false);
    let young = number("040215", 123, true);
    let bis = number("852730", 33, false);
    let unknown_day = number("850700", 33, false);
    let mut typo = adult.clone().into_bytes();
    typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
    for (name, v) in [
        ("plain", adult.clone()),
        ("dotted", dotted(&adult)),
        ("spaced", format!("{} {} {}", &adult[..6], &adult[6..9], &adult[9..])),
        ("from-2000", young.clone()),
        ("from-2000-dotted", dotted(&young)),
        ("bis", bis),
        ("day-00", unknown_day),
        ("typo", String::from_utf8(typo).expect("ascii")),
        ("short", "1234567890".into()),
        ("letter", "8507300336X".into()),
        ("empty", String::new()),
        ("example", "85.07.30-033.28".into()),
    ] {
        s.put("national_number", name, v);
    }
}

fn nis(s: &mut Seeds) {
    for (name, v) in [
        ("antwerpen", "11002"),
        ("gent", "44021"),
        ("brussel", "21004"),
        ("padded", " 21015 "),
        ("below-10000", "09999"),
        ("four", "2100"),
        ("space-inside", "21 04"),
        ("letter", "1100a"),
        ("first", "10000"),
        ("empty", ""),
    ] {
        s.put("nis", name, v);
    }
}

/// A `dates` input in the layout `arbitrary` reads: year, month, day (i32 LE), present
/// (a byte), seconds (i64 LE), nanos (i32 LE), then the date string.
fn dates(s: &mut Seeds) {
    let input = |y: i32, m: i32, d: i32, present: bool, secs: i64, nanos: i32, text: &str| {
        let mut v = Vec::new();
        v.extend(y.to_le_bytes());
        v.extend(m.to_le_bytes());
        v.extend(d.to_le_bytes());
        v.push(u8::from(present));
        v.extend(secs.to_le_bytes());
        v.extend(nanos.to_le_bytes());
        v.extend(text.as_bytes());
        v
    };
    let seeds = [
        ("valid", input(2024, 3, 31, true, 1_711_846_800, 0, "2024-03-31")),
        ("leap-day", input(2024, 2, 29, true, 1_709_164_800, 5, "2024-02-29")),
        ("not-leap", input(2023, 2, 29, true, 0, 0, "2023-02-29")),
        ("negative-month", input(2024, -1, 10, true, -1, 0, "2024-13-01")),
        ("zero-day", input(2024, 6, 0, true, 0, -1, "")),
        ("absent", input(2024, 6, 1, false, 0, 1_000_000_000, "1999-12-31")),
        ("far-future", input(262_000, 12, 31, true, 8_210_298_412_799, 0, "+262000-01-01")),
        ("far-past", input(-262_000, 1, 1, true, -8_334_632_851_200, 0, "-0001-01-01")),
        ("dst-change", input(2025, 10, 26, true, 1_761_440_400, 0, "2025-10-26")),
        // chrono's last and first instants: the Belgian time of the last one overflowed
        // (platform::clock::belgian_time, found by this target).
        ("last-instant", input(2024, 1, 1, true, 8_210_266_876_799, 0, "")),
        ("first-instant", input(2024, 1, 1, true, -8_334_632_851_200, 0, "")),
    ];
    for (name, v) in seeds {
        s.put("dates", name, v);
    }
}

fn ceremonies_import(s: &mut Seeds) {
    const HEAD: &str = "year,municipality,kind,invitations,participants,reported_rate\n";
    s.put(
        "ceremonies_import",
        "overview-2019",
        format!(
            "{HEAD}2019,Antwerpen,integration,120,40,33\n2019,Gent,integration,200,34,17%\n\
             2019,Brussel,integration,,,45\n2019,Schaerbeek,youth,80,30,\"16,7\"\n\
             2019,Genk,youth,100,98,98\n2019,11007,integration,60,,\n"
        ),
    );
    s.put(
        "ceremonies_import",
        "bad-cells",
        format!(
            "{HEAD}2019,Antwerpen,integration,abc,4,\n2019,Atlantis,integration,5,4,\n\
             2019,Gent,integration,-3,4,\n2019,Gent,youth,10,4,101\n2019,Gent,party,1,1,\n\
             2019,Gent,integration,10,11,\n1999,Gent,youth,1,1,1\n"
        ),
    );
    s.put(
        "ceremonies_import",
        "duplicate",
        format!("{HEAD}2020,Gent,integration,10,5,\n2020,44021,integration,10,5,\n"),
    );
    s.put(
        "ceremonies_import",
        "short-lines",
        format!("{HEAD}2021,Luik,youth\n\n  ,  , , , ,\n2021,Anvers,Inburgeringsceremonie,1,1,16.67%\n"),
    );
    s.put("ceremonies_import", "wrong-header", "year,municipality,kind\n");
    s.put("ceremonies_import", "empty", "");
}

fn register_feed(s: &mut Seeds) {
    const HEAD: &str = "national_number,register,registration_date,municipality_nis,nationality,languages,given_name,family_name,street,postal_code,city\n";
    let line = |nn: &str, register: &str, day: &str, nis: &str, nat: &str, langs: &str| {
        format!("{nn},{register},{day},{nis},{nat},{langs},Amina,Testfamilie,Wetstraat 1,1000,Brussel\n")
    };
    let mut good = String::from(HEAD);
    good += &line(&number("900512", 1, false), "foreigners", "2023-12-04", "21004", "MA", "en");
    good += &line(&dotted(&number("850101", 2, false)), "population", "2023-12-20", "21015", "BR", "pt;fr");
    good += &line(&number("100301", 1, true), "foreigners", "2023-12-05", "21004", "SY", "ar");
    good += &line(&number("800101", 9, false), "waiting", "2023-12-05", "44021", "AF", "ps");
    good += &line(&number("800101", 10, false), "Foreigners", "2023-12-05", "62063", "CD", "fr");
    good += &line(&number("750101", 11, false), "population", "2024-01-02", "11007", "BE", "nl");
    s.put("register_feed", "december.csv", &good);
    let mut bad = String::from(HEAD);
    bad += &line("85073003399", "foreigners", "2023-12-04", "21004", "MA", "en");
    bad += &line(&number("900512", 3, false), "asylum", "2023-13-01", "99999", "MAR", "eng");
    bad += &line(&number("900512", 4, false), "", "", "", "", "");
    bad += &format!("{},foreigners,2023-12-04,21004\n", number("900512", 5, false));
    s.put("register_feed", "bad-lines.csv", &bad);
    s.put("register_feed", "missing-header.csv", "national_number,register\n1,2\n");
    let record = |nn: String, langs: serde_json::Value| {
        json!({
            "national_number": nn, "register": "foreigners", "registration_date": "2024-02-01",
            "municipality_nis": "24062", "nationality": "UA", "languages": langs,
            "given_name": "Olena", "family_name": "Testfamilie", "street": "Bondgenotenlaan 1",
            "postal_code": "3000", "city": "Leuven"
        })
        .to_string()
    };
    let jsonl = format!(
        "{}\n{}\n\n{}\n",
        record(number("880808", 7, false), json!(["uk", "ru"])),
        record(dotted(&number("020202", 8, true)), json!("uk;en")),
        record(number("880808", 9, false), json!([1, null])),
    );
    s.put("register_feed", "feed.jsonl", &jsonl);
    s.put("register_feed", "truncated.jsonl", "{\"national_number\": \"85073003328\", \"regis");
}

fn events(s: &mut Seeds) {
    let trajectory_started = traj::TrajectoryStarted {
        trajectory_id: TRAJECTORY.into(),
        person_id: PERSON.into(),
        municipality_nis: "44021".into(),
        agency: common::Agency::InGent as i32,
        status: traj::ObligationStatus::Obliged as i32,
        exemption_reason: 0,
        started_on: date(2024, 3, 1),
    };
    let contract = traj::ContractSigned {
        trajectory_id: TRAJECTORY.into(),
        person_id: PERSON.into(),
        agency: common::Agency::Agii as i32,
        municipality_nis: "11002".into(),
        status: traj::ObligationStatus::Obliged as i32,
        signed_on: date(2024, 3, 15),
        deadlines: Vec::new(),
        fees_total: Some(common::Money { cents: 36_000 }),
    };
    let attest = traj::AttestIssued {
        trajectory_id: TRAJECTORY.into(),
        person_id: PERSON.into(),
        agency: common::Agency::Bon as i32,
        municipality_nis: "21004".into(),
        status: traj::ObligationStatus::Obliged as i32,
        issued_on: date(2024, 11, 30),
    };
    let municipality = |nis: &str, agency: i32, former: &[&str]| muni::Municipality {
        nis: nis.into(),
        name_nl: "Antwerpen".into(),
        name_fr: "Anvers".into(),
        province_nis: "10000".into(),
        province_name_nl: "Antwerpen".into(),
        region: muni::Region::Flanders as i32,
        agency,
        former_nis: former.iter().map(|s| s.to_string()).collect(),
    };
    let register = muni::RegisterPublished {
        valid_from: date(2025, 1, 1),
        municipalities: vec![
            municipality("11002", common::Agency::Agii as i32, &["11007"]),
            municipality("44021", common::Agency::InGent as i32, &[]),
            municipality("62063", common::Agency::Unspecified as i32, &[]),
        ],
    };
    let mut payloads: Vec<(String, Vec<u8>)> = vec![
        (traj::TrajectoryStarted::full_name(), trajectory_started.encode_to_vec()),
        (traj::ContractSigned::full_name(), contract.encode_to_vec()),
        (traj::AttestIssued::full_name(), attest.encode_to_vec()),
        (
            traj::AttestIssued::full_name(),
            traj::AttestIssued {
                issued_on: date(2024, 2, 30),
                person_id: "not-a-uuid".into(),
                ..attest.clone()
            }
            .encode_to_vec(),
        ),
        (
            traj::PersonRegistered::full_name(),
            traj::PersonRegistered {
                person_id: PERSON.into(),
                registered_at: Some(prost_types::Timestamp {
                    seconds: 1_709_290_000,
                    nanos: 0,
                }),
                mother_tongue: "ar".into(),
                contact_language: "fr".into(),
                agency: common::Agency::Atlas as i32,
            }
            .encode_to_vec(),
        ),
        (
            traj::ComponentCompleted::full_name(),
            traj::ComponentCompleted {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                component: 1,
                completed_on: date(2024, 6, 30),
                agency: common::Agency::Agii as i32,
            }
            .encode_to_vec(),
        ),
        (
            traj::ObligationBreached::full_name(),
            traj::ObligationBreached {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                component: 2,
                deadline: date(2025, 3, 1),
                agency: common::Agency::Agii as i32,
            }
            .encode_to_vec(),
        ),
        (
            traj::TrajectorySuspended::full_name(),
            traj::TrajectorySuspended {
                trajectory_id: TRAJECTORY.to_uppercase(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                suspended_on: date(2024, 7, 1),
            }
            .encode_to_vec(),
        ),
        (
            traj::TrajectoryResumed::full_name(),
            traj::TrajectoryResumed {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                resumed_on: date(2024, 8, 1),
                deadlines: Vec::new(),
                b1_due_by: None,
            }
            .encode_to_vec(),
        ),
        (
            traj::TrajectoryStopped::full_name(),
            traj::TrajectoryStopped {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                stopped_on: date(2024, 9, 1),
            }
            .encode_to_vec(),
        ),
        (
            traj::EffortDeclarationIssued::full_name(),
            traj::EffortDeclarationIssued {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                issued_on: date(2024, 12, 1),
                unreached_components: vec![1],
            }
            .encode_to_vec(),
        ),
        (
            traj::B1FollowUpDue::full_name(),
            traj::B1FollowUpDue {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                due_by: date(2025, 12, 1),
            }
            .encode_to_vec(),
        ),
        (
            traj::B1FollowUpClosed::full_name(),
            traj::B1FollowUpClosed {
                trajectory_id: TRAJECTORY.into(),
                person_id: PERSON.into(),
                agency: common::Agency::Agii as i32,
                closed_on: date(2025, 6, 1),
            }
            .encode_to_vec(),
        ),
        (muni::RegisterPublished::full_name(), register.encode_to_vec()),
        (
            muni::RegisterPublished::full_name(),
            muni::RegisterPublished {
                valid_from: None,
                municipalities: vec![municipality("1100", 9, &["abcde"])],
            }
            .encode_to_vec(),
        ),
        (
            muni::RegisterPublished::full_name(),
            muni::RegisterPublished::default().encode_to_vec(),
        ),
        (
            muni::ParticipationPlacementStarted::full_name(),
            muni::ParticipationPlacementStarted {
                placement_id: OTHER.into(),
                offer_id: OTHER.into(),
                person_id: PERSON.into(),
                trajectory_id: TRAJECTORY.into(),
                municipality_nis: "44021".into(),
                kind: 1,
                started_on: date(2024, 4, 1),
            }
            .encode_to_vec(),
        ),
        (
            muni::ParticipationHoursLogged::full_name(),
            muni::ParticipationHoursLogged {
                entry_id: OTHER.into(),
                placement_id: OTHER.into(),
                person_id: PERSON.into(),
                trajectory_id: TRAJECTORY.into(),
                municipality_nis: "44021".into(),
                done_on: date(2024, 4, 8),
                hours: 6,
                trajectory_hours: 12,
            }
            .encode_to_vec(),
        ),
        (
            muni::ParticipationCompleted::full_name(),
            muni::ParticipationCompleted {
                placement_id: OTHER.into(),
                person_id: PERSON.into(),
                trajectory_id: TRAJECTORY.into(),
                municipality_nis: "44021".into(),
                completed_on: date(2024, 5, 31),
                trajectory_hours: -40,
            }
            .encode_to_vec(),
        ),
        (
            tst::TestResultRecorded::full_name(),
            tst::TestResultRecorded {
                booking: Some(tst::Booking {
                    booking_id: OTHER.into(),
                    session_id: OTHER.into(),
                    person_id: PERSON.into(),
                    test_type: tst::TestType::Nt2A2 as i32,
                    status: 0,
                    fee: None,
                    level_reached: "A2".into(),
                }),
                trajectory_id: TRAJECTORY.into(),
                outcome: tst::Outcome::Passed as i32,
                session_starts_at: Some(prost_types::Timestamp {
                    seconds: 1_711_846_800,
                    nanos: 0,
                }),
            }
            .encode_to_vec(),
        ),
        (
            tst::TestResultRecorded::full_name(),
            tst::TestResultRecorded {
                booking: Some(tst::Booking {
                    test_type: tst::TestType::Mo as i32,
                    ..tst::Booking::default()
                }),
                trajectory_id: TRAJECTORY.into(),
                outcome: tst::Outcome::Passed as i32,
                // The last instant chrono represents: its Belgian day overflowed.
                session_starts_at: Some(prost_types::Timestamp {
                    seconds: 8_210_266_876_799,
                    nanos: 0,
                }),
            }
            .encode_to_vec(),
        ),
        (
            rec::NewcomerDetected::full_name(),
            rec::NewcomerDetected {
                registration_id: OTHER.into(),
                person_id: PERSON.into(),
                municipality_nis: "21004".into(),
                registered_on: date(2024, 2, 1),
                target_group: 1,
                free_movement: Some(false),
                foreigners_register: Some(true),
            }
            .encode_to_vec(),
        ),
        (
            rec::NewcomerDetected::full_name(),
            rec::NewcomerDetected {
                registration_id: OTHER.into(),
                person_id: PERSON.into(),
                municipality_nis: "21015".into(),
                registered_on: date(2022, 5, 31),
                target_group: 1,
                free_movement: None,
                foreigners_register: None,
            }
            .encode_to_vec(),
        ),
    ];
    payloads.push(("inburgering.other.v1.Unknown".into(), vec![0x0a, 0x03, b'x', b'y', b'z']));
    // For each consumer, every payload of a type it reads, with the bytes that select it.
    for (c, consumer) in CONSUMERS.iter().enumerate() {
        for (t, ce_type) in consumer.types.iter().enumerate() {
            for (p, (name, payload)) in payloads.iter().enumerate() {
                if name == ce_type {
                    let mut v = vec![c as u8, t as u8];
                    v.extend(payload);
                    s.put("events", &format!("{c:02}-{t}-{p:02}"), v);
                }
            }
        }
        // A type the consumer does not read, and a truncated payload.
        let other = consumer.types.len() as u8;
        s.put("events", &format!("{c:02}-other"), [c as u8, other, 0x0a, 0x01, b'x']);
        s.put("events", &format!("{c:02}-truncated"), [c as u8, 0, 0x0a, 0x24, b'0']);
    }
    // The Kafka-message path: a few starting points for `arbitrary`.
    let kafka = CONSUMERS.len() as u8;
    s.put("events", "kafka-empty", [kafka]);
    let mut v = vec![kafka];
    v.extend(format!("{TRAJECTORY}2024-03-01T10:00:00Z").as_bytes());
    v.extend([0, 1, 3, 2, 7, 5]);
    s.put("events", "kafka-headers", v);
}

fn jwt(s: &mut Seeds) {
    let issuer = platform::auth::DevIssuer::generate(
        "http://127.0.0.1:8180/realms/inburgering",
        "inburgering",
    )
    .expect("a dev issuer");
    s.put("jwt", "list-form", issuer.token("atlas", &["case-worker", "unknown-role"]));
    s.put("jwt", "municipality", issuer.token("municipality-44021", &["municipality-officer"]));
    let map = issuer.claims(
        "svc-bon",
        json!({"bon": {"id": "b1", "kind": ["agency"]}, "municipality-21004": {"nis": ["21004"]}}),
        &["partner-exchange", "platform-admin"],
        std::time::Duration::from_secs(60),
    );
    s.put("jwt", "map-form", issuer.sign(&map));
    s.put("jwt", "map-form-claims.json", map.to_string());
    let b64 = |v: serde_json::Value| {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims = b64(json!({"sub": "x", "organization": ["agii", "bon"]}));
    s.put("jwt", "alg-none", format!("{}.{claims}.", b64(json!({"alg": "none"}))));
    s.put(
        "jwt",
        "hs256",
        format!("{}.{claims}.c2ln", b64(json!({"alg": "HS256", "kid": issuer.kid()}))),
    );
    s.put(
        "jwt",
        "no-kid",
        format!("{}.{claims}.c2ln", b64(json!({"alg": "RS256", "typ": "JWT"}))),
    );
    s.put(
        "jwt",
        "claims-several.json",
        json!({"azp": "svc", "realm_access": {"roles": ["case-worker", 7]}, "organization": ["agii", "bon"]})
            .to_string(),
    );
    s.put("jwt", "claims-number.json", json!({"sub": "x", "organization": 42}).to_string());
    s.put("jwt", "claims-empty.json", "{}");
    s.put("jwt", "garbage", "not.a.token");
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("corpus"), PathBuf::from);
    let mut s = Seeds {
        dir: Path::new(&dir).to_path_buf(),
        count: 0,
    };
    national_numbers(&mut s);
    nis(&mut s);
    dates(&mut s);
    ceremonies_import(&mut s);
    register_feed(&mut s);
    events(&mut s);
    jwt(&mut s);
    println!("wrote {} seeds under {}", s.count, s.dir.display());
}
