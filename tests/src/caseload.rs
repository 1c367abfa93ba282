//! A caseload as an agency's export gives it, for the import's tests and its benchmark:
//! `n` persons in JSON lines, the same file for the same seed, with what the import must
//! report about it.
//!
//! The mix is the four agencies' (Atlas in Antwerp, In-Gent in Ghent, AgII in the other
//! Flemish municipalities, Bon in the 19 Brussels ones), mostly obliged persons, at every
//! stage: started without a contract, under contract with components open, completed with
//! their results and the attest (on the last component's day or later), the B1 follow-up
//! closed by a test or by six months of activity, suspended, resumed, stopped, closed by a
//! declaration of effort; Brussels residents with their register facts and GGC (or BAPA)
//! registrations; persons the register knows who never started. The expected counts are
//! the generator's own bookkeeping of what it wrote, never the import's code: a test holds
//! the two side by side. Each record is made from the seed and its index alone
//! ([`record`]), so a test can take one and change it; the file is streamed, so a million
//! records take the memory of one.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use chrono::{Datelike, Days, Months, NaiveDate};
use trajectories::caseload::{
    Reconciliation,
    record::{
        B1Record, ContractRecord, EffortRecord, GgcRecord, OfferHours, ParticipationRecord, Record,
        RegisterFacts, ResultRecord, StopRecord, SuspensionRecord, TrajectoryRecord,
    },
};

/// Every date of a generated record lies on or before this day.
pub const LATEST: NaiveDate = ymd(2026, 6, 30);
/// No trajectory starts before civic integration began.
const EARLIEST_START: NaiveDate = ymd(2004, 4, 1);
/// Before this day a Brussels newcomer's alternative to Bon was a French-speaking BAPA.
const GGC_SINCE: NaiveDate = ymd(2024, 1, 1);
/// Birth dates run over these days; the serial of the national number over 1..=997.
const FIRST_BIRTH: NaiveDate = ymd(1960, 1, 1);
const LAST_BIRTH: NaiveDate = ymd(2005, 12, 31);
const SERIALS: u64 = 997;
/// Course fees outside Brussels, unless exempted: 2 × €90.
const FEES_CENTS: i64 = 2 * 90_00;

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("a calendar date"),
    }
}

/// A written caseload and the counts the import must report for it.
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: PathBuf,
    pub records: u64,
    pub expected: Reconciliation,
}

/// Writes `n` records made from `seed` to `path` as JSON lines.
pub fn generate(path: &Path, n: u64, seed: u64) -> io::Result<Generated> {
    if n > max_records() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "at most {} records have distinct national numbers",
                max_records()
            ),
        ));
    }
    let mut out = BufWriter::with_capacity(1 << 16, File::create(path)?);
    let mut expected = Reconciliation::default();
    for index in 0..n {
        let (record, counted) = build(seed, index);
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
        expected.persons += 1;
        if let Some(c) = counted {
            c.add_to(&mut expected);
        }
    }
    out.flush()?;
    Ok(Generated {
        path: path.to_owned(),
        records: n,
        expected,
    })
}

/// The record at `index` of the file [`generate`] writes for `seed`.
pub fn record(seed: u64, index: u64) -> Record {
    build(seed, index).0
}

fn max_records() -> u64 {
    birth_days() * SERIALS
}

fn birth_days() -> u64 {
    (LAST_BIRTH - FIRST_BIRTH).num_days().unsigned_abs() + 1
}

/// SplitMix64: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// A day `lo..=hi` days after `from`.
    fn after(&mut self, from: NaiveDate, lo: u64, hi: u64) -> NaiveDate {
        plus(from, self.range(lo, hi))
    }
}

fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days))
        .expect("a date near today")
}

fn minus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days))
        .expect("a date after 1900")
}

fn months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n))
        .expect("a date near today")
}

/// Whole years from `birth` to `on`.
fn age(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// What the import must count of one trajectory.
#[derive(Debug, Clone)]
struct Counted {
    agency: &'static str,
    nis: String,
    status: &'static str,
    state: &'static str,
    contract_year: Option<i32>,
    attest_year: Option<i32>,
    components: Vec<&'static str>,
}

impl Counted {
    fn add_to(&self, r: &mut Reconciliation) {
        fn bump(map: &mut BTreeMap<String, u64>, key: String) {
            *map.entry(key).or_default() += 1;
        }
        r.trajectories += 1;
        bump(&mut r.per_agency, self.agency.to_owned());
        bump(&mut r.per_municipality, self.nis.clone());
        bump(&mut r.per_status, self.status.to_owned());
        bump(&mut r.per_status, format!("{}/{}", self.status, self.state));
        bump(
            &mut r.per_contract_year,
            self.contract_year
                .map_or_else(|| "none".to_owned(), |y| y.to_string()),
        );
        if let Some(y) = self.attest_year {
            bump(&mut r.per_attest_year, y.to_string());
        }
        for c in &self.components {
            bump(&mut r.per_component, (*c).to_owned());
        }
    }
}

/// The person's birth date and national number: the index runs over the birth days first
/// (scattered by a bijection), then over the serials, so every number is distinct.
fn person_number(seed: u64, index: u64) -> (NaiveDate, String) {
    let days = birth_days();
    let day = ((index % days) * 7919 + seed % days) % days;
    let serial = index / days + 1;
    let birth = plus(FIRST_BIRTH, day);
    let base = u64::from(birth.year().unsigned_abs() % 100) * 10_000_000
        + u64::from(birth.month()) * 100_000
        + u64::from(birth.day()) * 1_000
        + serial;
    let check = if birth.year() >= 2000 {
        97 - (2_000_000_000 + base) % 97
    } else {
        97 - base % 97
    };
    (birth, format!("{base:09}{check:02}"))
}

const GIVEN: &[&str] = &[
    "Amina", "Yusuf", "Olena", "Tesfay", "Mariam", "Ahmad", "Sofia", "Reza", "Fatima", "Dawit",
    "Iryna", "Omar", "Leila", "Bilal", "Nadia", "Samir",
];
const FAMILY: &[&str] = &[
    "Haddad",
    "Yilmaz",
    "Kovalenko",
    "Gebremedhin",
    "Rahimi",
    "Nowak",
    "El Amrani",
    "Popescu",
    "Hosseini",
    "Abdi",
    "Petrova",
    "Bakr",
    "Mansour",
    "Tekle",
    "Sahin",
    "Ivanova",
];
const TONGUES: &[&str] = &[
    "ar", "ti", "uk", "ps", "fa", "so", "ru", "es", "pl", "tr", "ro",
];
const AGII: &[&str] = &[
    "24062", "12025", "23062", "31005", "71016", "13040", "46021", "23002", "33011", "45041",
    "24011",
];
const CENTRES: &[&str] = &[
    "CVO Antwerpen",
    "Huis van het Nederlands Brussel",
    "CVO Gent",
    "Ligo Leuven",
    "CVO Mechelen",
    "Agentschap Integratie en Inburgering",
];

/// The stage a person's trajectory is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Known to the register only.
    NoTrajectory,
    Started,
    Open,
    Suspended,
    Effort,
    Stopped,
    Completed,
}

impl Kind {
    /// Days a trajectory of this kind needs between its start and [`LATEST`].
    fn span(self) -> u64 {
        match self {
            Kind::NoTrajectory | Kind::Started => 0,
            Kind::Open => 350,
            Kind::Suspended => 450,
            Kind::Stopped => 550,
            Kind::Effort => 590,
            Kind::Completed => 1250,
        }
    }
}

fn build(seed: u64, index: u64) -> (Record, Option<Counted>) {
    let mut rng = Rng::new(seed, index);
    let (birth, national_number) = person_number(seed, index);
    let mut record = Record {
        national_number,
        given_name: rng.pick(GIVEN).to_owned(),
        family_name: rng.pick(FAMILY).to_owned(),
        birth_date: rng.chance(10).then(|| birth.to_string()),
        mother_tongue: rng.pick(TONGUES).to_owned(),
        contact_language: rng
            .chance(60)
            .then(|| rng.pick(&["nl", "fr", "en"]).to_owned()),
        ..Record::default()
    };
    let (agency, nis) = match rng.range(0, 99) {
        0..=24 => ("atlas", "11002".to_owned()),
        25..=39 => ("in-gent", "44021".to_owned()),
        40..=79 => ("agii", rng.pick(AGII).to_owned()),
        _ => ("bon", format!("{}", 21001 + rng.range(0, 18))),
    };
    let brussels = agency == "bon";
    let mut kind = match rng.range(0, 99) {
        0..=7 => Kind::NoTrajectory,
        8..=14 => Kind::Started,
        15..=32 => Kind::Open,
        33..=40 => Kind::Suspended,
        41..=48 => Kind::Effort,
        49..=57 => Kind::Stopped,
        _ => Kind::Completed,
    };
    let earliest = EARLIEST_START.max(months(birth, 18 * 12));
    if kind == Kind::NoTrajectory {
        let from = earliest.max(ymd(2004, 1, 1));
        let on = rng.after(
            from,
            0,
            (minus(LATEST, 200) - from).num_days().unsigned_abs(),
        );
        // Brussels newcomers as the obligation there concerns them; elsewhere anyone.
        let (free_movement, foreigners_register) = if brussels && rng.chance(80) {
            (false, true)
        } else {
            (rng.chance(15), rng.chance(85))
        };
        record.register = Some(RegisterFacts {
            municipality_nis: nis,
            registered_on: on.to_string(),
            free_movement,
            foreigners_register,
        });
        if brussels && rng.chance(50) {
            let registered = rng.after(on, 10, 180);
            record.ggc_registrations = vec![ggc(&mut rng, registered)];
        }
        return (record, None);
    }
    let room = |k: Kind| (LATEST - earliest).num_days() - k.span() as i64;
    if room(kind) < 0 {
        kind = Kind::Started;
    }
    let start = rng.after(earliest, 0, room(kind).unsigned_abs());
    let status = match rng.range(0, 99) {
        0..=69 => "obliged",
        70..=84 => "entitled",
        _ => "voluntary",
    };
    let mut t = Trajectory {
        rng,
        birth,
        brussels,
        start,
        status,
        record: TrajectoryRecord {
            municipality_nis: nis.clone(),
            agency: agency.to_owned(),
            status: status.to_owned(),
            started_on: start.to_string(),
            ..TrajectoryRecord::default()
        },
        counted: Counted {
            agency,
            nis: nis.clone(),
            status,
            state: "active",
            contract_year: None,
            attest_year: None,
            components: Vec::new(),
        },
        signed: None,
        participation_required: false,
    };
    match kind {
        Kind::NoTrajectory | Kind::Started => t.started(),
        Kind::Open => t.open(false),
        Kind::Suspended => t.open(true),
        Kind::Effort => t.effort(),
        Kind::Stopped => t.stopped(),
        Kind::Completed => t.completed(),
    }
    t.record.results.sort_by(|a, b| a.taken_on.cmp(&b.taken_on));
    let mut rng = t.rng;
    if brussels || rng.chance(30) {
        record.register = Some(RegisterFacts {
            municipality_nis: nis,
            registered_on: minus(start, rng.range(10, 300)).to_string(),
            free_movement: false,
            foreigners_register: true,
        });
    }
    if brussels && rng.chance(25) {
        let on = rng.after(start, 0, 200);
        if on <= LATEST {
            record.ggc_registrations = vec![ggc(&mut rng, on)];
        }
    }
    record.trajectory = Some(t.record);
    (record, Some(t.counted))
}

/// A GGC registration on `on`: French before the GGC's own trajectories, either after.
fn ggc(rng: &mut Rng, on: NaiveDate) -> GgcRecord {
    let language = if on < GGC_SINCE || rng.chance(40) {
        "french"
    } else {
        "dutch"
    };
    GgcRecord {
        registered_on: on.to_string(),
        language: language.to_owned(),
    }
}

/// A trajectory being written, with its bookkeeping.
struct Trajectory {
    rng: Rng,
    birth: NaiveDate,
    brussels: bool,
    start: NaiveDate,
    status: &'static str,
    record: TrajectoryRecord,
    counted: Counted,
    signed: Option<NaiveDate>,
    participation_required: bool,
}

impl Trajectory {
    fn done(&mut self, component: &'static str) {
        self.counted.components.push(component);
    }

    fn started(&mut self) {
        if self.rng.chance(20) {
            let on = self.rng.after(self.start, 0, 30);
            if on <= LATEST {
                self.stop(on);
            }
        }
    }

    /// Signs the contract within 45 days of the start: deadlines, the VDAB deadline and
    /// the fees as the rules have them (given or not), a participation waiver or not.
    fn sign(&mut self, may_exempt: bool) -> NaiveDate {
        let r = &mut self.rng;
        let signed = r.after(self.start, 0, 45);
        let exempted = may_exempt && self.status == "obliged" && r.chance(10);
        if exempted {
            self.record.exemption = Some("serious-illness".to_owned());
        }
        let waived = self.status != "voluntary" && r.chance(20);
        if waived {
            self.record.participation_waiver = Some(r.pick(&["works", "studies"]).to_owned());
        }
        self.participation_required = self.status != "voluntary" && !waived;
        self.record.contract = Some(ContractRecord {
            signed_on: signed.to_string(),
            nt2_deadline: r.after(signed, 365, 730).to_string(),
            mo_deadline: r.after(signed, 180, 365).to_string(),
            vdab_deadline: r.chance(50).then(|| months(self.start, 2).to_string()),
            participation_deadline: self
                .participation_required
                .then(|| r.after(signed, 300, 540).to_string()),
        });
        if r.chance(60) {
            let paid = if self.brussels || exempted {
                0
            } else {
                FEES_CENTS
            };
            self.record.fees_paid_cents = Some(paid);
        }
        self.counted.contract_year = Some(signed.year());
        if waived {
            self.done("participation-waived");
        }
        self.signed = Some(signed);
        signed
    }

    fn result(&mut self, test: &str, on: NaiveDate, outcome: &str, level: Option<&str>) {
        let centre = self.rng.pick(CENTRES).to_owned();
        self.record.results.push(ResultRecord {
            test: test.to_owned(),
            taken_on: on.to_string(),
            outcome: outcome.to_owned(),
            level: level.map(str::to_owned),
            centre,
        });
    }

    fn failed(&mut self, test: &str, on: NaiveDate) {
        let outcome = if self.rng.chance(25) {
            "absent"
        } else {
            "failed"
        };
        self.result(test, on, outcome, None);
    }

    fn vdab(&mut self, on: NaiveDate) {
        self.record.vdab_registered_on = Some(on.to_string());
        self.done("economic-self-reliance");
    }

    fn participation(&mut self, on: NaiveDate) {
        let hours = 40 + self.rng.range(0, 12) as u32;
        let offers = if self.rng.chance(50) {
            vec![
                OfferHours {
                    offer: "Taalcafé".to_owned(),
                    hours: 24,
                },
                OfferHours {
                    offer: "Vrijwilligerswerk".to_owned(),
                    hours: hours - 24,
                },
            ]
        } else {
            Vec::new()
        };
        self.record.participation = Some(ParticipationRecord {
            hours,
            completed_on: Some(on.to_string()),
            offers,
        });
        self.done("participation");
    }

    fn suspend(&mut self, from: NaiveDate, to: Option<NaiveDate>) {
        let reason = self
            .rng
            .pick(&["illness", "stay abroad", "pregnancy"])
            .to_owned();
        self.record.suspensions.push(SuspensionRecord {
            from: from.to_string(),
            to: to.map(|d| d.to_string()),
            reason,
        });
        self.counted.state = if to.is_some() { "active" } else { "suspended" };
    }

    fn stop(&mut self, on: NaiveDate) {
        let reason = self
            .rng
            .pick(&["moved to Wallonia", "left the country", "deceased"])
            .to_owned();
        self.record.stopped = Some(StopRecord {
            on: on.to_string(),
            reason,
        });
        self.counted.state = "stopped";
    }

    /// Under contract with NT2 never passed (so no attest): some components done, perhaps
    /// a suspension that ended, and for `suspended` one that lasts.
    fn open(&mut self, suspended: bool) {
        let signed = self.sign(true);
        let r = &mut self.rng;
        let (failed, mo, vdab, part, paused) = (
            r.chance(50),
            r.chance(50),
            r.chance(60),
            r.chance(40),
            r.chance(20),
        );
        if failed {
            let on = self.rng.after(signed, 90, 300);
            self.failed("nt2-a2", on);
        }
        if mo {
            let on = self.rng.after(signed, 100, 300);
            self.result("mo", on, "passed", None);
            self.done("mo");
        }
        if vdab {
            let on = self.rng.after(signed, 0, 30);
            self.vdab(on);
        }
        if part && self.participation_required {
            let on = self.rng.after(signed, 60, 300);
            self.participation(on);
        }
        if paused {
            let from = self.rng.after(signed, 40, 60);
            let to = self.rng.after(from, 10, 60);
            self.suspend(from, Some(to));
        }
        if suspended {
            let from = self.rng.after(signed, 310, 400);
            self.suspend(from, None);
        }
    }

    /// NT2 failed twice, a declaration of effort after it.
    fn effort(&mut self) {
        let signed = self.sign(false);
        let first = self.rng.after(signed, 90, 200);
        self.failed("nt2-a2", first);
        let second = self.rng.after(signed, 250, 400);
        self.failed("nt2-a2", second);
        if self.rng.chance(60) {
            let on = self.rng.after(signed, 100, 300);
            self.result("mo", on, "passed", None);
            self.done("mo");
        }
        if self.rng.chance(70) {
            let on = self.rng.after(signed, 0, 30);
            self.vdab(on);
        }
        if self.participation_required && self.rng.chance(30) {
            let on = self.rng.after(signed, 60, 300);
            self.participation(on);
        }
        let on = self.rng.after(signed, 420, 540);
        self.record.effort_declaration = Some(EffortRecord {
            issued_on: on.to_string(),
            grounds: "NT2 A2 out of reach after two attempts and a learning assessment".to_owned(),
        });
        self.done("effort-declaration");
    }

    /// Stopped: under contract with some progress (perhaps suspended first), or before
    /// any contract.
    fn stopped(&mut self) {
        if self.rng.chance(30) {
            let on = self.rng.after(self.start, 10, 400);
            self.stop(on);
            return;
        }
        let signed = self.sign(false);
        if self.rng.chance(40) {
            let on = self.rng.after(signed, 100, 300);
            self.result("mo", on, "passed", None);
            self.done("mo");
        }
        if self.rng.chance(50) {
            let on = self.rng.after(signed, 0, 30);
            self.vdab(on);
        }
        if self.rng.chance(30) {
            let from = self.rng.after(signed, 301, 305);
            self.suspend(from, None);
        }
        let on = self.rng.after(signed, 310, 500);
        self.stop(on);
    }

    /// Every required component done, the attest on the last one's day or later, and the
    /// B1 follow-up after it.
    fn completed(&mut self) {
        let signed = self.sign(false);
        let vdab = self.rng.after(signed, 0, 20);
        self.vdab(vdab);
        if self.rng.chance(25) {
            let from = self.rng.after(signed, 25, 60);
            let to = self.rng.after(from, 14, 90);
            self.suspend(from, Some(to));
        }
        if self.rng.chance(20) {
            let on = self.rng.after(signed, 60, 120);
            self.failed("mo", on);
        }
        let mo = self.rng.after(signed, 150, 300);
        self.result("mo", mo, "passed", None);
        self.done("mo");
        if self.rng.chance(30) {
            let on = self.rng.after(signed, 90, 200);
            self.failed("nt2-a2", on);
        }
        let nt2 = self.rng.after(signed, 240, 480);
        let test = if self.rng.chance(10) {
            "nt2-a2-adapted"
        } else {
            "nt2-a2"
        };
        self.result(test, nt2, "passed", Some("A2"));
        self.done("nt2");
        let mut last = vdab.max(mo).max(nt2);
        if self.participation_required {
            let on = self.rng.after(signed, 60, 400);
            self.participation(on);
            last = last.max(on);
        }
        let attest = if self.rng.chance(70) {
            last
        } else {
            self.rng.after(last, 1, 120)
        };
        self.record.attest_issued_on = Some(attest.to_string());
        self.counted.attest_year = Some(attest.year());
        let follow_up = self.status == "obliged" && (18..=65).contains(&age(self.birth, attest));
        match self.rng.range(0, 99) {
            0..=34 => {
                if self.rng.chance(30) {
                    let on = self.rng.after(attest, 30, 59);
                    self.failed("b1-oral", on);
                }
                let on = self.rng.after(attest, 60, 600);
                self.result("b1-oral", on, "passed", Some("B1"));
                if follow_up {
                    self.done("b1-closed");
                }
            }
            35..=54 => {
                let from = self.rng.after(attest, 0, 60);
                let to = plus(months(from, 6), self.rng.range(0, 60));
                self.record.b1 = Some(B1Record {
                    activity_from: Some(from.to_string()),
                    activity_to: Some(to.to_string()),
                });
                if follow_up {
                    self.done("b1-closed");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_are_distinct_and_pass_mod_97() {
        let mut seen = std::collections::HashSet::new();
        for index in (0..2_000_000).step_by(97) {
            let (birth, number) = person_number(7, index);
            let parsed = platform::NationalNumber::parse(&number).unwrap();
            assert_eq!(parsed.birth_date(), Some(birth), "{number}");
            assert!(seen.insert(number));
        }
    }

    /// The register rows of the codes the generator uses.
    fn register() -> trajectories::caseload::Register {
        let row = |code: String, agency: &str, region: &str| wire::register::Municipality {
            current_nis: code.clone(),
            code,
            name_nl: String::new(),
            name_fr: String::new(),
            province_nis: String::new(),
            region: region.to_owned(),
            agency: Some(agency.to_owned()),
        };
        let mut rows = vec![
            row("11002".into(), "atlas", "Flanders"),
            row("44021".into(), "in-gent", "Flanders"),
        ];
        rows.extend(
            AGII.iter()
                .map(|c| row((*c).to_owned(), "agii", "Flanders")),
        );
        rows.extend((21001..=21019).map(|c| row(c.to_string(), "bon", "Brussels")));
        trajectories::caseload::Register::new(rows)
    }

    #[test]
    fn every_generated_record_passes_the_import_check() {
        let register = register();
        let today = plus(LATEST, 1);
        for index in 0..20_000 {
            let r = record(11, index);
            if let Err(e) = trajectories::caseload::check(index + 1, &r, &register, today) {
                panic!("{e:?}\n{}", serde_json::to_string_pretty(&r).unwrap());
            }
        }
    }

    #[test]
    fn a_thousand_records_hold_every_agency_state_and_component() {
        let path = std::env::temp_dir().join(format!("caseload-{}.jsonl", uuid::Uuid::now_v7()));
        let g = generate(&path, 1_000, 5).unwrap();
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            (g.records, g.expected.persons, lines),
            (1_000, 1_000, 1_000)
        );
        let e = &g.expected;
        assert!((800..950).contains(&e.trajectories), "{}", e.to_csv());
        for agency in ["atlas", "in-gent", "agii", "bon"] {
            assert!(e.per_agency[agency] > 50, "{agency}: {}", e.to_csv());
        }
        for status in [
            "obliged/active",
            "obliged/suspended",
            "obliged/stopped",
            "entitled/active",
            "voluntary/active",
        ] {
            assert!(e.per_status[status] > 5, "{status}: {}", e.to_csv());
        }
        for component in [
            "nt2",
            "mo",
            "economic-self-reliance",
            "participation",
            "participation-waived",
            "effort-declaration",
            "b1-closed",
        ] {
            assert!(
                e.per_component[component] > 20,
                "{component}: {}",
                e.to_csv()
            );
        }
        assert!(e.per_contract_year["none"] > 20, "{}", e.to_csv());
        assert!(e.per_attest_year.len() > 10, "{}", e.to_csv());
        eprintln!("{}", e.to_csv());
    }

    #[test]
    fn the_same_seed_makes_the_same_record() {
        assert_eq!(record(3, 41), record(3, 41));
        assert_ne!(record(3, 41), record(4, 41));
    }
}
