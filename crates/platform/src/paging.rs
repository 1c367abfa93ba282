//! Cursor paging, the same in every listing: a page size with a default and a maximum,
//! an opaque token that is the last item's key (a UUID, or a natural key such as a NIS
//! code), and one extra row fetched to know whether another page follows.

use uuid::Uuid;

use crate::error::FieldError;

/// Items per page when the caller names no size.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 500;

/// What a listing is ordered by and resumes after: the last item's key.
pub trait Cursor: Sized {
    /// The key in a token; `None` when the token cannot be one.
    fn from_token(token: &str) -> Option<Self>;
    /// The token of a key.
    fn token(&self) -> String;
}

impl Cursor for Uuid {
    fn from_token(token: &str) -> Option<Self> {
        Uuid::parse_str(token).ok()
    }

    fn token(&self) -> String {
        self.to_string()
    }
}

/// A natural key, e.g. a NIS code: any token of at most 64 visible ASCII characters.
impl Cursor for String {
    fn from_token(token: &str) -> Option<Self> {
        (token.len() <= 64 && token.bytes().all(|b| b.is_ascii_graphic())).then(|| token.to_owned())
    }

    fn token(&self) -> String {
        self.clone()
    }
}

/// A checked page request, resuming after a key of type `C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<C = Uuid> {
    /// Items to return.
    pub size: u64,
    /// Return items after this key.
    pub after: Option<C>,
}

impl<C: Cursor> Page<C> {
    /// Checks `page.page_size` and `page.page_token`.
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self, FieldError> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if (1..=MAX_PAGE_SIZE).contains(&n) => n as u64,
            n => {
                return Err(FieldError {
                    field: "page.page_size",
                    reason: format!("{n} is not between 1 and {MAX_PAGE_SIZE}"),
                });
            }
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(C::from_token(page_token).ok_or_else(|| FieldError {
                field: "page.page_token",
                reason: "is not a token from a previous response".into(),
            })?)
        };
        Ok(Self { size, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> u64 {
        self.size + 1
    }

    /// Cuts `rows` (fetched with [`Page::fetch`]) to the page and returns the next page's
    /// token, empty on the last page.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> C) -> String {
        if rows.len() as u64 > self.size {
            rows.truncate(self.size as usize);
            rows.last().map(|row| key(row).token()).unwrap_or_default()
        } else {
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_at_their_edges() {
        type Page = super::Page<Uuid>;
        assert_eq!(Page::parse(0, "").map(|p| p.size), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(Page::parse(1, "").map(|p| p.size), Ok(1));
        assert_eq!(Page::parse(500, "").map(|p| p.size), Ok(500));
        assert_eq!(
            Page::parse(501, "").map_err(|e| e.field),
            Err("page.page_size")
        );
        assert_eq!(
            Page::parse(-1, "").map_err(|e| e.field),
            Err("page.page_size")
        );
        assert_eq!(
            Page::parse(10, "x").map_err(|e| e.field),
            Err("page.page_token")
        );
    }

    #[test]
    fn natural_keys_page_too() {
        let page = Page::<String>::parse(1, "11002").expect("valid");
        assert_eq!(page.after.as_deref(), Some("11002"));
        let mut rows = vec!["11003".to_string(), "11004".to_string()];
        assert_eq!(page.finish(&mut rows, Clone::clone), "11003");
        assert!(Page::<String>::parse(1, "a b").is_err());
    }

    #[test]
    fn the_extra_row_makes_the_next_token() {
        let page = Page::<Uuid>::parse(2, "").expect("valid");
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let mut rows = ids.clone();
        assert_eq!(page.finish(&mut rows, |id| *id), ids[1].to_string());
        assert_eq!(rows.len(), 2);
        let mut last = ids[..2].to_vec();
        assert_eq!(page.finish(&mut last, |id| *id), "");
    }
}
