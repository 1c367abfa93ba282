//! The ceremonies' rules with numbers (DESIGN.md §3 "Ceremonies", issue 9), each named and
//! tested at its edges.

/// The response rate: participants / invitations as a whole percent, rounded half up
/// (DESIGN.md §3: "rounded to a whole percent"; issue 9: "rounded half up"). `None` when
/// there were no invitations: a rate of nothing is not 0%.
pub fn response_rate_percent(participants: u32, invitations: u32) -> Option<u32> {
    if invitations == 0 {
        return None;
    }
    let (p, i) = (u64::from(participants), u64::from(invitations));
    // Half up in integers: floor((200p + i) / 2i) = floor(100p/i + 1/2).
    Some(((200 * p + i) / (2 * i)) as u32)
}

/// Largest gap between a published rate and its own counts that rounding explains: half a
/// percentage point, in hundredths of a percent (issue 9: "flags every row where they
/// disagree by more than rounding").
pub const ROUNDING_TOLERANCE_BASIS_POINTS: u64 = 50;

/// Whether a reported rate (in hundredths of a percent) disagrees with participants /
/// invitations by more than rounding. Exact in integers: |r·i − 10000·p| > 50·i.
pub fn disagrees(reported_basis_points: u32, participants: u32, invitations: u32) -> bool {
    if invitations == 0 {
        // Any rate reported over no invitations is not explained by its counts.
        return true;
    }
    let (r, p, i) = (
        u64::from(reported_basis_points),
        u64::from(participants),
        u64::from(invitations),
    );
    (r * i).abs_diff(10_000 * p) > ROUNDING_TOLERANCE_BASIS_POINTS * i
}

/// A rate is a share of the invited: at most 100% (issue 9: "a rate above 100%" is bad
/// input).
pub const MAX_RATE_BASIS_POINTS: u32 = 10_000;

/// Guests an invitee may bring (the good-practice sheet: the attest is handed over with
/// family present; a bound keeps the seating plan honest). Configuration in spirit: one
/// named place to change it.
pub const MAX_GUESTS_PER_INVITATION: u32 = 10;

/// Youth celebrations are for young newcomers: the age range a celebration sets lies
/// within 12 to 30 years on its day (the youth celebrations of 2019 were for teenagers and
/// young adults; an integration ceremony has no age range).
pub const YOUTH_MIN_AGE: u32 = 12;
/// See [`YOUTH_MIN_AGE`].
pub const YOUTH_MAX_AGE: u32 = 30;

/// Persons per read from trajectories (its `DiscloseForCeremony` takes at most 500).
pub const DISCLOSURE_BATCH: usize = 500;

/// Letters per printed batch: one PDF file and its index (issue 24: "in batches, e.g. 500
/// letters per PDF", as recruitment prints its letters). A ceremony of up to
/// [`MAX_CAPACITY`] invitees prints in at most ten batches.
pub const LETTERS_PER_BATCH: usize = 500;

/// The seats of a ceremony: at least one, at most what a large city hall holds.
pub const MAX_CAPACITY: u32 = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_rounds_half_up_to_a_whole_percent() {
        // 1/8 = 12.5% → 13; 1/3 = 33.33% → 33; 2/3 = 66.67% → 67.
        assert_eq!(response_rate_percent(1, 8), Some(13));
        assert_eq!(response_rate_percent(1, 3), Some(33));
        assert_eq!(response_rate_percent(2, 3), Some(67));
        // Just under and at the half: 49/200 = 24.5% → 25, 97/400 = 24.25% → 24.
        assert_eq!(response_rate_percent(49, 200), Some(25));
        assert_eq!(response_rate_percent(97, 400), Some(24));
        assert_eq!(response_rate_percent(0, 5), Some(0));
        assert_eq!(response_rate_percent(5, 5), Some(100));
    }

    #[test]
    fn no_invitations_have_no_rate() {
        assert_eq!(response_rate_percent(0, 0), None);
    }

    #[test]
    fn a_reported_rate_is_flagged_beyond_half_a_point() {
        // 1/3 = 33.333…%: 33% and 33.8% are rounding, 33.9% and 32.8% are not.
        assert!(!disagrees(3_300, 1, 3));
        assert!(!disagrees(3_383, 1, 3));
        assert!(disagrees(3_384, 1, 3));
        assert!(!disagrees(3_284, 1, 3));
        assert!(disagrees(3_283, 1, 3));
        // Exactly half a point off is still rounding: 12.5% reported as 13% or 12%.
        assert!(!disagrees(1_300, 1, 8));
        assert!(!disagrees(1_200, 1, 8));
        assert!(disagrees(1_301, 1, 8));
        assert!(disagrees(0, 0, 0));
    }
}
