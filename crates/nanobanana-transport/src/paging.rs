//! Paginated lists (`pageSize`, `pageToken` → `nextPageToken`) as a `Stream` of items.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::Stream;
use nanobanana_wire::Endpoint;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::http::{Call, Transport};
use crate::urls::Endpoints;

/// One page: its items and the token of the next page (`None` or empty: the last page).
pub(crate) type Split<P, T> = fn(P) -> (Vec<T>, Option<String>);

/// Streams the items of every page of `list_url`, fetching pages as they are needed. An error
/// ends the stream after being yielded.
pub(crate) fn paginate<P, T>(
    transport: Arc<Transport>,
    list_url: String,
    endpoint: Endpoint,
    page_size: Option<u32>,
    split: Split<P, T>,
) -> impl Stream<Item = Result<T, Error>> + Send + Unpin + use<P, T>
where
    P: DeserializeOwned + Send + 'static,
    T: Send + 'static,
{
    let pager = Pager {
        transport,
        list_url,
        endpoint,
        page_size,
        split,
        items: VecDeque::new(),
        next: Next::First,
    };
    // Boxed so that the stream is `Unpin`: callers can `.next().await` it without pinning.
    Box::pin(futures_util::stream::unfold(
        pager,
        |mut pager| async move { pager.next_item().await.map(|item| (item, pager)) },
    ))
}

struct Pager<P, T> {
    transport: Arc<Transport>,
    list_url: String,
    endpoint: Endpoint,
    page_size: Option<u32>,
    split: Split<P, T>,
    items: VecDeque<T>,
    next: Next,
}

enum Next {
    First,
    Token(String),
    /// A broken page sequence, reported after the items of the last good page.
    Failed(Error),
    Done,
}

impl<P: DeserializeOwned, T> Pager<P, T> {
    async fn next_item(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(item) = self.items.pop_front() {
                return Some(Ok(item));
            }
            let token = match std::mem::replace(&mut self.next, Next::Done) {
                Next::Done => return None,
                Next::Failed(error) => return Some(Err(error)),
                Next::First => None,
                Next::Token(token) => Some(token),
            };
            let page = fetch::<P>(
                &self.transport,
                &self.list_url,
                self.endpoint,
                self.page_size,
                token.as_deref(),
            )
            .await;
            match page.map(self.split) {
                Ok((items, next)) => {
                    self.items = items.into();
                    self.next = match next.filter(|next| !next.is_empty()) {
                        None => Next::Done,
                        Some(next) if Some(&next) == token.as_ref() => {
                            Next::Failed(Error::protocol(format!(
                                "the service answered page token {next:?} with itself as the next one"
                            )))
                        }
                        Some(next) => Next::Token(next),
                    };
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// Fetches one page (with the client's retries and timeout; the key is sent only in the header).
async fn fetch<P: DeserializeOwned>(
    transport: &Transport,
    list_url: &str,
    endpoint: Endpoint,
    page_size: Option<u32>,
    token: Option<&str>,
) -> Result<P, Error> {
    let url = Endpoints::page(list_url, page_size, token)?;
    let call = Call::new(Method::GET, url.as_str(), endpoint);
    let config = &transport.config;
    let answer = transport
        .execute::<crate::http::Whole>(&call, &config.retry, config.timeout)
        .await?;
    transport.decode(&answer.body, &call)
}
