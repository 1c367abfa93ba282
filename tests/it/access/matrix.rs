//! Who may call what (DESIGN.md §5 and the services' policies), written out per RPC and
//! organisation so that a change of the rules in code shows up here as a failing test.

use platform::Role;

/// One organisation of every kind that calls the platform.
pub const ORGANISATIONS: &[&str] = &[
    "agii",
    "bon",
    "atlas",
    "in-gent",
    "ggc",
    "huis-nl-brussel",
    "municipality-11002",
    "municipality-44021",
    "vlaamse-sociale-bescherming",
];

pub type Entry = (&'static str, &'static [(Role, &'static [&'static str])]);

const ANY: &[&str] = ORGANISATIONS;
const AGENCIES: &[&str] = &["agii", "bon", "atlas", "in-gent"];
const MUNICIPALITIES: &[&str] = &["municipality-11002", "municipality-44021"];

/// Every RPC and who may call it: a role and the organisations it may act for. Anyone
/// else is refused with PERMISSION_DENIED before the request is looked at; without a
/// valid token, UNAUTHENTICATED. What a permitted caller sees of another organisation's
/// data is checked in `bola`.
pub const MATRIX: &[Entry] = &[
    // trajectories
    (
        "inburgering.trajectories.v1.TrajectoryService/RegisterPerson",
        &[
            (Role::CaseWorker, AGENCIES),
            (Role::RecruitmentOfficer, AGENCIES),
        ],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/StartTrajectory",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/SignContract",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/GetTrajectory",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/ListTrajectories",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/RecordVdabRegistration",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/LogParticipation",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/WaiveParticipation",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/SuspendTrajectory",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/ResumeTrajectory",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/StopTrajectory",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/GetDvzAdvice",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/RecordActivity",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/ListB1FollowUpDue",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.TrajectoryService/DeclareEffort",
        &[(Role::CaseWorker, AGENCIES)],
    ),
    (
        "inburgering.trajectories.v1.ObligationCheckService/CheckObligation",
        &[(Role::ObligationCheck, ANY)],
    ),
    (
        "inburgering.trajectories.v1.DisclosureService/DiscloseForCeremony",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.trajectories.v1.PartnerExchangeService/ReportGgcRegistration",
        &[(Role::PartnerExchange, &["ggc"])],
    ),
    (
        "inburgering.trajectories.v1.PartnerExchangeService/ListBonRegistrations",
        &[(Role::PartnerExchange, &["ggc"])],
    ),
    (
        "inburgering.trajectories.v1.PartnerExchangeService/ListDutchRouteReferrals",
        &[(Role::PartnerExchange, &["huis-nl-brussel"])],
    ),
    (
        "inburgering.trajectories.v1.PartnerExchangeService/ListExchangeConflicts",
        &[(Role::CaseWorker, &["agii", "bon"])],
    ),
    (
        "inburgering.trajectories.v1.PartnerExchangeService/ListExchangeAudit",
        &[(Role::PlatformAdmin, ANY)],
    ),
    (
        "inburgering.trajectories.v1.BrusselsStatisticsService/GetBrusselsFigures",
        &[(Role::Monitor, ANY)],
    ),
    // testing
    (
        "inburgering.testing.v1.TestingService/GetCandidate",
        &[(Role::CaseWorker, AGENCIES), (Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/ListSessions",
        &[(Role::CaseWorker, AGENCIES), (Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/BookTest",
        &[(Role::CaseWorker, AGENCIES), (Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/CancelBooking",
        &[(Role::CaseWorker, AGENCIES), (Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/ListFees",
        &[(Role::CaseWorker, AGENCIES), (Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/PlanSession",
        &[(Role::TestAdmin, AGENCIES)],
    ),
    (
        "inburgering.testing.v1.TestingService/RecordResult",
        &[(Role::TestAdmin, AGENCIES)],
    ),
    // municipalities
    (
        "inburgering.municipalities.v1.MunicipalityService/GetMunicipality",
        &[
            (Role::CaseWorker, ANY),
            (Role::TestAdmin, ANY),
            (Role::CeremonyOrganiser, ANY),
            (Role::RecruitmentOfficer, ANY),
            (Role::InterpretingCoordinator, ANY),
            (Role::InterpretingRequester, ANY),
            (Role::MunicipalityOfficer, ANY),
            (Role::PartnerExchange, ANY),
            (Role::ObligationCheck, ANY),
            (Role::Monitor, ANY),
            (Role::PlatformAdmin, ANY),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListMunicipalities",
        &[
            (Role::CaseWorker, ANY),
            (Role::TestAdmin, ANY),
            (Role::CeremonyOrganiser, ANY),
            (Role::RecruitmentOfficer, ANY),
            (Role::InterpretingCoordinator, ANY),
            (Role::InterpretingRequester, ANY),
            (Role::MunicipalityOfficer, ANY),
            (Role::PartnerExchange, ANY),
            (Role::ObligationCheck, ANY),
            (Role::Monitor, ANY),
            (Role::PlatformAdmin, ANY),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ResolveNis",
        &[
            (Role::CaseWorker, ANY),
            (Role::TestAdmin, ANY),
            (Role::CeremonyOrganiser, ANY),
            (Role::RecruitmentOfficer, ANY),
            (Role::InterpretingCoordinator, ANY),
            (Role::InterpretingRequester, ANY),
            (Role::MunicipalityOfficer, ANY),
            (Role::PartnerExchange, ANY),
            (Role::ObligationCheck, ANY),
            (Role::Monitor, ANY),
            (Role::PlatformAdmin, ANY),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/AddContact",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/RemoveContact",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListContacts",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/RecordAgreement",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListAgreements",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/SaveLocalPlan",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListLocalPlans",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/CreateOffer",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/GetOffer",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListOffers",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/CloseOffer",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/PlacePerson",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/LogHours",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/EndPlacement",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/GetPlacement",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/ListPlacements",
        &[
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.municipalities.v1.MunicipalityService/GetLocalMonitor",
        &[
            (Role::Monitor, ANY),
            (Role::MunicipalityOfficer, MUNICIPALITIES),
        ],
    ),
    // ceremonies
    (
        "inburgering.ceremonies.v1.CeremonyService/PlanCeremony",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/ChangeCeremony",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/CancelCeremony",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/CloseCeremony",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/SendInvitations",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/ListInvitations",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/RecordRsvp",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/RecordAttendance",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/AddAmbassador",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/WithdrawAmbassadorConsent",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/ListAmbassadors",
        &[(Role::CeremonyOrganiser, MUNICIPALITIES)],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/GetCeremony",
        &[
            (Role::CeremonyOrganiser, MUNICIPALITIES),
            (Role::CeremonyOrganiser, AGENCIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/ListCeremonies",
        &[
            (Role::CeremonyOrganiser, MUNICIPALITIES),
            (Role::CeremonyOrganiser, AGENCIES),
            (Role::CaseWorker, AGENCIES),
        ],
    ),
    (
        "inburgering.ceremonies.v1.CeremonyService/GetReport",
        &[
            (Role::CeremonyOrganiser, MUNICIPALITIES),
            (Role::CeremonyOrganiser, AGENCIES),
            (Role::CaseWorker, AGENCIES),
            (Role::Monitor, ANY),
        ],
    ),
    // recruitment
    (
        "inburgering.recruitment.v1.RecruitmentService/ListNewcomers",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/UploadTemplate",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/ListTemplates",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/LaunchCampaign",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/ListCampaigns",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/RecordReferral",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/AddAmbassador",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/WithdrawAmbassadorConsent",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/ListAmbassadors",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/CreateLocalPlan",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/AddPlanAction",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/UpdatePlanAction",
        &[(Role::RecruitmentOfficer, AGENCIES)],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/GetLocalPlan",
        &[
            (Role::RecruitmentOfficer, AGENCIES),
            (Role::MunicipalityOfficer, MUNICIPALITIES),
        ],
    ),
    (
        "inburgering.recruitment.v1.RecruitmentService/GetFunnel",
        &[
            (Role::RecruitmentOfficer, AGENCIES),
            (Role::MunicipalityOfficer, MUNICIPALITIES),
            (Role::Monitor, ANY),
        ],
    ),
    // interpreting
    (
        "inburgering.interpreting.v1.InterpretingService/RegisterInterpreter",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/GetInterpreter",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ListInterpreters",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/SetAvailability",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/AddAbsence",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ListCandidates",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/AssignInterpreter",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ReassignInterpreter",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/RecordPerformance",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/RunBilling",
        &[(Role::InterpretingCoordinator, AGENCIES)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/RequestInterpreting",
        &[(Role::InterpretingRequester, ANY)],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/GetRequest",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ListRequests",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/CancelRequest",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ListRates",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ListInvoices",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
    (
        "inburgering.interpreting.v1.InterpretingService/ExportInvoices",
        &[
            (Role::InterpretingCoordinator, AGENCIES),
            (Role::InterpretingRequester, ANY),
        ],
    ),
];
