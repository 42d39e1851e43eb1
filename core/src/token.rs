//! [`Token`]: the caller's name for a registered source.

/// Identifies a registered source in the events the loop dispatches.
///
/// The caller picks it at registration. The [`EventLoop`](crate::EventLoop) indexes its
/// registry by it, so a token must be below the loop's `SOURCES` capacity; a raw
/// [`Selector`](crate::Selector) used on its own takes any value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

impl Token {
    /// The token of a selector's [waker](crate::Selector::waker) events: reserved, never
    /// given to a source by the [`EventLoop`](crate::EventLoop), never dispatched by it.
    pub const WAKER: Token = Token(usize::MAX);
}

impl From<usize> for Token {
    fn from(value: usize) -> Self {
        Token(value)
    }
}

impl From<Token> for usize {
    fn from(token: Token) -> Self {
        token.0
    }
}
