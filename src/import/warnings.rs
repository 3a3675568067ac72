//! What an import may do but the user should hear of, such as a file whose
//! last line has no line end (it may have been cut short). Collected in a
//! thread-local during one [`collect`] (one `import`), so that the row
//! reader needs no extra parameter; outside a collection nothing is kept.

use std::cell::RefCell;

thread_local! {
    static WARNINGS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `import`, returning its result and the warnings it made.
pub(crate) fn collect<T>(import: impl FnOnce() -> T) -> (T, Vec<String>) {
    let outer = WARNINGS.with(|w| w.borrow_mut().replace(Vec::new()));
    let result = import();
    let mine = WARNINGS.with(|w| std::mem::replace(&mut *w.borrow_mut(), outer));
    (result, mine.unwrap_or_default())
}

/// A warning for the import under way.
pub(crate) fn warn(message: String) {
    WARNINGS.with(|w| {
        if let Some(list) = w.borrow_mut().as_mut() {
            list.push(message);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_belong_to_their_collection() {
        warn("outside".into());
        let ((), inner) = collect(|| warn("inside".into()));
        assert_eq!(inner, ["inside"]);
    }
}
